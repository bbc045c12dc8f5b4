/** Checks the extension manifest against the server contract and the files it points at. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { EXTENSION_ROOT } from './paths';

const pkg = JSON.parse(readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8'));

describe('package.json', () => {
  test('languages use the server contract ids and extensions', () => {
    const byId = new Map<string, { extensions: string[]; configuration: string }>(
      pkg.contributes.languages.map((l: { id: string }) => [l.id, l]),
    );
    assert.deepEqual(byId.get('dotprompt')?.extensions, ['.prompt']);
    assert.deepEqual(byId.get('prompty')?.extensions, ['.prompty']);
    for (const language of byId.values()) {
      const file = path.join(EXTENSION_ROOT, language.configuration);
      assert.ok(existsSync(file), `${file} exists`);
      const conf = JSON.parse(readFileSync(file, 'utf8'));
      assert.ok(conf.comments?.blockComment?.length === 2, `${language.configuration} declares block comments`);
    }
  });

  test('grammars exist, parse and carry their scope name', () => {
    for (const grammar of pkg.contributes.grammars) {
      const json = JSON.parse(readFileSync(path.join(EXTENSION_ROOT, grammar.path), 'utf8'));
      assert.equal(json.scopeName, grammar.scopeName);
    }
  });

  test('commands from the issue are contributed', () => {
    const ids = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(ids, [
      'promptls.restart',
      'promptls.runPrompt',
      'promptls.showOutput',
      'promptls.showTrace',
      'promptls.showUsage',
    ]);
  });

  test('menus offer server commands only when the running server provides them', () => {
    const gated: Record<string, string> = {
      'promptls.runPrompt': 'promptls.canRunPrompt',
      'promptls.showUsage': 'promptls.canShowUsage',
    };
    const entries = Object.values(pkg.contributes.menus).flat() as Array<{ command: string; when?: string }>;
    assert.ok(entries.length > 0);
    for (const entry of entries) {
      const key = gated[entry.command];
      if (key) {
        assert.match(entry.when ?? '', new RegExp(`\\b${key.replace('.', '\\.')}\\b`), entry.command);
      }
    }
    const extension = readFileSync(path.join(EXTENSION_ROOT, 'src', 'extension.ts'), 'utf8');
    for (const key of Object.values(gated)) {
      assert.ok(extension.includes(`'${key}'`), `extension.ts sets the context key ${key}`);
    }
  });

  test('the bundle is the entry point and activation covers the languages', () => {
    assert.equal(pkg.main, './out/extension.js');
    for (const id of ['dotprompt', 'prompty']) {
      assert.ok(pkg.activationEvents.includes(`onLanguage:${id}`), id);
    }
    assert.equal(pkg.dependencies['vscode-languageclient'].split('.')[0], '11');
  });
});
