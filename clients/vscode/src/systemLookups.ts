/** The real file-system and PATH look-ups that resolveServer takes as inputs (no vscode import, so tested). */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

export function isExecutable(file: string): boolean {
  try {
    if (!statSync(file).isFile()) {
      return false;
    }
    accessSync(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function which(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) {
      return path.join(dir, name);
    }
  }
  return undefined;
}

export function pythonHasPromptls(python: string): boolean {
  const result = spawnSync(python, ['-c', 'import promptls'], { timeout: 10_000, stdio: 'ignore' });
  return result.status === 0;
}
