// Writes package.json `contributes.configuration.properties` from `promptls schema` plus the
// client-only settings, or with --check reports drift and exits 1. Needs `npm run compile` first
// (it uses the compiled src/settingsSchema.ts). Usage: node scripts/sync_settings.mjs [--check] [--promptls PATH]
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const { settingsFromSchema } = require(path.join(root, 'out-test/src/settingsSchema.js'));
const { CLIENT_SETTINGS } = require(path.join(root, 'out-test/src/clientSettings.js'));

const args = process.argv.slice(2);
const check = args.includes('--check');
const binIndex = args.indexOf('--promptls');
const promptls = binIndex >= 0 ? args[binIndex + 1] : (process.env.PROMPTLS_BIN ?? 'promptls');

const run = spawnSync(promptls, ['schema'], { encoding: 'utf8', timeout: 60_000 });
if (run.status !== 0) {
  console.error(`\`${promptls} schema\` failed (${run.error ?? `exit ${run.status}`}):\n${run.stderr ?? ''}`);
  process.exit(2);
}
const properties = { ...CLIENT_SETTINGS, ...settingsFromSchema(JSON.parse(run.stdout)) };

const pkgPath = path.join(root, 'package.json');
const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'));
const current = pkg.contributes.configuration.properties;
if (check) {
  if (!isDeepStrictEqual(current, properties)) {
    const keys = new Set([...Object.keys(current), ...Object.keys(properties)]);
    for (const key of [...keys].sort()) {
      if (!isDeepStrictEqual(current[key], properties[key])) {
        console.error(`drift: ${key}\n  package.json: ${JSON.stringify(current[key])}\n  schema:       ${JSON.stringify(properties[key])}`);
      }
    }
    console.error('package.json settings drifted from `promptls schema`: run `npm run sync-settings`.');
    process.exit(1);
  }
  console.log(`package.json settings match \`promptls schema\` (${Object.keys(properties).length} settings).`);
} else {
  pkg.contributes.configuration.properties = properties;
  writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
  console.log(`wrote ${Object.keys(properties).length} settings to package.json`);
}
