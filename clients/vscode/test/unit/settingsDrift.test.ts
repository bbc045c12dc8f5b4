/**
 * The settings in package.json must be exactly what `promptls schema` describes (plus the client-only
 * keys). Deliberately not skipped when the command is missing: drift must fail loudly.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CLIENT_SETTINGS } from '../../src/clientSettings';
import { settingsFromSchema } from '../../src/settingsSchema';
import { EXTENSION_ROOT } from './paths';

const promptls = process.env.PROMPTLS_BIN ?? 'promptls';

function contributed(): Record<string, unknown> {
  const pkg = JSON.parse(readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8'));
  return pkg.contributes.configuration.properties;
}

test('package.json settings match `promptls schema`', () => {
  const run = spawnSync(promptls, ['schema'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.error, undefined, `could not run \`${promptls} schema\`: ${run.error}`);
  assert.equal(run.status, 0, `\`${promptls} schema\` exited ${run.status}:\n${run.stderr}`);
  const expected = settingsFromSchema(JSON.parse(run.stdout));
  const actual = { ...contributed() };
  for (const key of Object.keys(CLIENT_SETTINGS)) {
    delete actual[key];
  }
  assert.deepEqual(
    actual,
    expected,
    'package.json contributes.configuration drifted from `promptls schema`: run `npm run sync-settings`',
  );
});

test('the client-only settings are contributed as declared', () => {
  const properties = contributed();
  for (const [key, value] of Object.entries(CLIENT_SETTINGS)) {
    assert.deepEqual(properties[key], value, key);
  }
});
