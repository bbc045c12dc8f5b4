/** Paths shared by the unit tests (compiled to out-test/test/unit/, so the extension root is three up). */
import * as path from 'node:path';

export const EXTENSION_ROOT = path.resolve(__dirname, '..', '..', '..');
