/**
 * Finds the promptls language server executable: the `promptls.server.path` setting, then the active
 * Python interpreter's environment, then PATH (`promptls`, or `python3 -m promptls`). For development
 * (.vscode/launch.json) the environment variable PROMPTLS_SERVER_COMMAND, a JSON array, overrides all
 * of them, so the server can run under a debugger. Pure: every
 * look-up at the file system or PATH is injected, so the order and the error text are unit-tested.
 */
import * as path from 'node:path';

export type ServerSource = 'environment' | 'setting' | 'python-environment' | 'path' | 'python-module';

export interface ServerCommand {
  command: string;
  args: string[];
  source: ServerSource;
}

export interface ResolveInputs {
  /** Value of PROMPTLS_SERVER_COMMAND: a JSON array `[command, ...args]` used as is. */
  envCommand?: string;
  /** Value of `promptls.server.path` (may be empty, relative, start with `~` or hold `${workspaceFolder}`). */
  settingPath?: string;
  /** Value of `promptls.server.args`: extra arguments appended after `serve`. */
  extraArgs?: string[];
  /** Executable of the active Python interpreter, from the ms-python extension when installed. */
  pythonInterpreter?: string;
  workspaceFolder?: string;
  homeDir: string;
  platform: NodeJS.Platform;
  /** Returns the absolute path of `name` found on PATH, or undefined. */
  which: (name: string) => string | undefined;
  isExecutable: (file: string) => boolean;
  /** True when `python -c "import promptls"` succeeds. */
  pythonHasPromptls: (python: string) => boolean;
  /** The extension host's PATH (under code-server and GUI launches it is not the shell's), for the message. */
  searchPath?: string;
}

export type Resolution = { ok: true; server: ServerCommand } | { ok: false; message: string; tried: string[] };

const PYTHON_NAME = /^python(\d+(\.\d+)?)?(\.exe)?$/i;

export function expandSettingPath(raw: string, inputs: Pick<ResolveInputs, 'workspaceFolder' | 'homeDir'>): string {
  let value = raw.trim();
  if (inputs.workspaceFolder) {
    value = value.split('${workspaceFolder}').join(inputs.workspaceFolder);
  }
  value = value.split('${userHome}').join(inputs.homeDir);
  if (value === '~' || value.startsWith('~/')) {
    value = path.join(inputs.homeDir, value.slice(1));
  }
  if (!path.isAbsolute(value) && inputs.workspaceFolder) {
    value = path.join(inputs.workspaceFolder, value);
  }
  return value;
}

/** The `promptls` script that pip puts next to (POSIX) or beside the Scripts dir of (Windows) an interpreter. */
export function scriptNextToInterpreter(python: string, platform: NodeJS.Platform): string[] {
  const dir = path.dirname(python);
  if (platform === 'win32') {
    return [path.join(dir, 'promptls.exe'), path.join(dir, 'Scripts', 'promptls.exe')];
  }
  return [path.join(dir, 'promptls')];
}

function serveCommand(executable: string, extraArgs: string[], source: ServerSource): ServerCommand {
  if (PYTHON_NAME.test(path.basename(executable))) {
    return { command: executable, args: ['-m', 'promptls', 'serve', ...extraArgs], source };
  }
  return { command: executable, args: ['serve', ...extraArgs], source };
}

export function resolveServer(inputs: ResolveInputs): Resolution {
  const extraArgs = inputs.extraArgs ?? [];
  const tried: string[] = [];

  if (inputs.envCommand && inputs.envCommand.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(inputs.envCommand);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((part) => typeof part === 'string')) {
      return {
        ok: false,
        tried: ['environment PROMPTLS_SERVER_COMMAND'],
        message:
          'PROMPTLS_SERVER_COMMAND must be a JSON array of strings such as ["/path/to/python", "-m", ' +
          `"promptls", "serve"]; got ${inputs.envCommand}. Fix or unset it.`,
      };
    }
    const [command, ...args] = parsed as string[];
    return { ok: true, server: { command, args, source: 'environment' } };
  }

  // A setting that points nowhere is an error of its own: falling back silently would run a
  // different server than the one the user asked for.
  if (inputs.settingPath && inputs.settingPath.trim() !== '') {
    const file = expandSettingPath(inputs.settingPath, inputs);
    if (inputs.isExecutable(file)) {
      return { ok: true, server: serveCommand(file, extraArgs, 'setting') };
    }
    return {
      ok: false,
      tried: [`setting promptls.server.path: ${file}`],
      message:
        `promptls.server.path is set to "${inputs.settingPath}", but ${file} is not an executable file. ` +
        'Fix the setting (it should point at the `promptls` executable or at a Python interpreter that has ' +
        'promptls installed), or clear it to let the extension find promptls by itself.',
    };
  }

  if (inputs.pythonInterpreter) {
    for (const candidate of scriptNextToInterpreter(inputs.pythonInterpreter, inputs.platform)) {
      tried.push(`active Python environment: ${candidate}`);
      if (inputs.isExecutable(candidate)) {
        return { ok: true, server: serveCommand(candidate, extraArgs, 'python-environment') };
      }
    }
    tried.push(`active Python interpreter: ${inputs.pythonInterpreter} -m promptls`);
    if (inputs.isExecutable(inputs.pythonInterpreter) && inputs.pythonHasPromptls(inputs.pythonInterpreter)) {
      return { ok: true, server: serveCommand(inputs.pythonInterpreter, extraArgs, 'python-environment') };
    }
  }

  tried.push('PATH: promptls');
  const onPath = inputs.which(inputs.platform === 'win32' ? 'promptls.exe' : 'promptls');
  if (onPath) {
    return { ok: true, server: serveCommand(onPath, extraArgs, 'path') };
  }

  for (const name of inputs.platform === 'win32' ? ['python.exe', 'py.exe'] : ['python3', 'python']) {
    const python = inputs.which(name);
    if (!python) {
      continue;
    }
    tried.push(`PATH: ${python} -m promptls`);
    if (inputs.pythonHasPromptls(python)) {
      return { ok: true, server: serveCommand(python, extraArgs, 'python-module') };
    }
  }

  return {
    ok: false,
    tried,
    message:
      'promptls: the language server was not found. Install it into your Python environment with ' +
      '`pip install promptls` (or `pipx install promptls`), or set `promptls.server.path` to the ' +
      '`promptls` executable. Looked in: ' +
      tried.join('; ') +
      '.' +
      (inputs.searchPath !== undefined
        ? ` The editor's extension host searched PATH=${inputs.searchPath || '(empty)'} ` +
          '(it can differ from your shell\'s PATH when the editor is started from a desktop launcher or by code-server).'
        : ''),
  };
}
