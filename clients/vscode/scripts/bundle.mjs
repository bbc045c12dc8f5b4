// Bundles the extension and its runtime dependencies into out/extension.js (esbuild), so the .vsix
// ships one file instead of node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['vscode'],
  outfile: 'out/extension.js',
  sourcemap: true,
  minify: process.argv.includes('--minify'),
  logLevel: 'warning',
});
