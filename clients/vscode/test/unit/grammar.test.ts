/** Tokenizes sample prompt files with the real TextMate engine (vscode-textmate + oniguruma wasm). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import { EXTENSION_ROOT } from './paths';

const GRAMMARS: Record<string, string> = {
  'source.dotprompt': 'syntaxes/dotprompt.tmLanguage.json',
  'source.prompty': 'syntaxes/prompty.tmLanguage.json',
  'source.jinja': 'syntaxes/jinja.tmLanguage.json',
  // A stand-in for VS Code's built-in YAML grammar, so the embedding is visible in the scopes.
  'source.yaml': '',
};

let registry: textmate.Registry;

before(async () => {
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      const file = GRAMMARS[scopeName];
      if (file === '') {
        return textmate.parseRawGrammar(
          JSON.stringify({ scopeName, patterns: [{ match: '^\\s*([\\w-]+)(:)', captures: { 1: { name: 'entity.name.tag.yaml' } } }] }),
          'yaml.json',
        );
      }
      if (file === undefined) {
        return null;
      }
      return textmate.parseRawGrammar(readFileSync(path.join(EXTENSION_ROOT, file), 'utf8'), file);
    },
  });
});

/** Returns, for each line, [token text, scopes joined by a space] pairs. */
async function tokenize(scope: string, text: string): Promise<Array<Array<[string, string]>>> {
  const grammar = await registry.loadGrammar(scope);
  assert.ok(grammar, scope);
  let state = textmate.INITIAL;
  return text.split('\n').map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((t) => [line.slice(t.startIndex, t.endIndex), t.scopes.join(' ')] as [string, string]);
  });
}

/** Scopes of the token holding the first character of `text` on that line. */
function scopeOf(lines: Array<Array<[string, string]>>, lineNo: number, text: string): string {
  const line = lines[lineNo].map(([t]) => t).join('');
  const at = line.indexOf(text);
  assert.ok(at >= 0, `${JSON.stringify(text)} on line ${lineNo}: ${line}`);
  let offset = 0;
  for (const [token, scopes] of lines[lineNo]) {
    if (at < offset + token.length) {
      return scopes;
    }
    offset += token.length;
  }
  throw new Error('unreachable');
}

describe('dotprompt grammar', () => {
  const sample = [
    '---',
    'model: googleai/gemini-2.0-flash',
    'input:',
    '---',
    '{{role "system"}}',
    'You help {{name}} with {{#if topic}}{{topic}}{{else}}anything{{/if}}.',
    '{{!-- a comment --}}',
    '{{> footer style="short"}}',
    '{{media url=photoUrl}}',
    'model: plain text after the frontmatter',
  ].join('\n');

  test('frontmatter is YAML embedded between the fences', async () => {
    const lines = await tokenize('source.dotprompt', sample);
    assert.match(scopeOf(lines, 1, 'model'), /meta\.embedded\.block\.frontmatter source\.yaml entity\.name\.tag\.yaml/);
    assert.match(scopeOf(lines, 0, '---'), /punctuation\.definition\.frontmatter\.begin/);
    assert.match(scopeOf(lines, 3, '---'), /punctuation\.definition\.frontmatter\.end/);
    assert.doesNotMatch(scopeOf(lines, 9, 'model: plain text after the frontmatter'), /yaml/);
  });

  test('handlebars body: roles, variables, blocks, comments, partials, helpers', async () => {
    const lines = await tokenize('source.dotprompt', sample);
    assert.match(scopeOf(lines, 4, 'role'), /support\.function\.builtin\.dotprompt/);
    assert.match(scopeOf(lines, 4, '"system"'), /markup\.heading\.role\.dotprompt/);
    assert.match(scopeOf(lines, 5, 'name'), /variable\.other\.handlebars/);
    assert.match(scopeOf(lines, 5, 'if'), /keyword\.control\.handlebars/);
    assert.match(scopeOf(lines, 5, 'else'), /keyword\.control\.handlebars/);
    assert.match(scopeOf(lines, 5, 'anything'), /^source\.dotprompt$/);
    assert.match(scopeOf(lines, 6, '{{!-- a comment --}}'), /comment\.block\.handlebars/);
    assert.match(scopeOf(lines, 7, 'footer'), /entity\.name\.function\.partial/);
    assert.match(scopeOf(lines, 7, 'style'), /entity\.other\.attribute-name/);
    assert.match(scopeOf(lines, 8, 'media'), /support\.function\.builtin\.dotprompt/);
  });
});

describe('prompty grammar', () => {
  const sample = [
    '---',
    'name: Basic',
    '---',
    'system:',
    'You are {{ persona | default("kind") }}.',
    '{% for item in items %}- {{ item.name }}{% endfor %}',
    '{# note #}',
    'user[name="bob"]:',
    'Not a role: system: here',
  ].join('\n');

  test('role marker lines, jinja tags and the embedded frontmatter', async () => {
    const lines = await tokenize('source.prompty', sample);
    assert.match(scopeOf(lines, 1, 'name'), /meta\.embedded\.block\.frontmatter/);
    assert.match(scopeOf(lines, 3, 'system'), /markup\.heading\.role\.prompty/);
    assert.match(scopeOf(lines, 4, 'persona'), /variable\.other\.jinja/);
    assert.match(scopeOf(lines, 4, 'default'), /support\.function\.filter\.jinja/);
    assert.match(scopeOf(lines, 4, '"kind"'), /string\.quoted\.double\.jinja/);
    assert.match(scopeOf(lines, 5, 'for'), /keyword\.control\.jinja/);
    assert.match(scopeOf(lines, 5, 'in'), /keyword\.operator\.word\.jinja/);
    assert.match(scopeOf(lines, 5, 'endfor'), /keyword\.control\.jinja/);
    assert.match(scopeOf(lines, 6, '{# note #}'), /comment\.block\.jinja/);
    assert.match(scopeOf(lines, 7, 'user'), /markup\.heading\.role\.prompty/);
    assert.match(scopeOf(lines, 7, '[name="bob"]'), /entity\.other\.attribute-name\.role/);
    assert.doesNotMatch(lines[8].map(([, s]) => s).join(' '), /role\.prompty/);
  });
});
