import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { type ResolveInputs, resolveServer } from '../../src/resolveServer';
import { isExecutable, which } from '../../src/systemLookups';

/** Inputs over a fake file system: `files` are the executables that exist, `modules` the Pythons with promptls. */
function inputs(files: string[], overrides: Partial<ResolveInputs> = {}, modules: string[] = []): ResolveInputs {
  const onPath = new Map(files.filter((f) => f.startsWith('/usr/bin/')).map((f) => [path.basename(f), f]));
  return {
    homeDir: '/home/ada',
    platform: 'linux',
    which: (name) => onPath.get(name),
    isExecutable: (file) => files.includes(file),
    pythonHasPromptls: (python) => modules.includes(python),
    ...overrides,
  };
}

describe('resolveServer', () => {
  test('PROMPTLS_SERVER_COMMAND (development) overrides the setting and is used as is', () => {
    const result = resolveServer(
      inputs(['/usr/bin/promptls'], {
        envCommand: '["/repo/.venv/bin/python", "-m", "debugpy", "--listen", "5678", "-m", "promptls", "serve"]',
        settingPath: '/usr/bin/promptls',
      }),
    );
    assert.deepEqual(result, {
      ok: true,
      server: {
        command: '/repo/.venv/bin/python',
        args: ['-m', 'debugpy', '--listen', '5678', '-m', 'promptls', 'serve'],
        source: 'environment',
      },
    });
    const broken = resolveServer(inputs(['/usr/bin/promptls'], { envCommand: '/usr/bin/promptls serve' }));
    assert.equal(broken.ok, false);
    assert.match(broken.ok ? '' : broken.message, /PROMPTLS_SERVER_COMMAND must be a JSON array/);
  });

  test('the setting wins over everything else', () => {
    const result = resolveServer(
      inputs(['/opt/promptls/bin/promptls', '/usr/bin/promptls'], { settingPath: '/opt/promptls/bin/promptls' }),
    );
    assert.deepEqual(result, {
      ok: true,
      server: { command: '/opt/promptls/bin/promptls', args: ['serve'], source: 'setting' },
    });
  });

  test('a setting naming a Python interpreter runs the module', () => {
    const result = resolveServer(inputs(['/venv/bin/python3.12'], { settingPath: '/venv/bin/python3.12' }));
    assert.ok(result.ok);
    assert.deepEqual(result.server.args, ['-m', 'promptls', 'serve']);
  });

  test('a broken setting is reported, not silently replaced by PATH', () => {
    const result = resolveServer(inputs(['/usr/bin/promptls'], { settingPath: '/nowhere/promptls' }));
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /promptls\.server\.path/);
    assert.match(result.ok ? '' : result.message, /\/nowhere\/promptls is not an executable/);
  });

  test('~, ${workspaceFolder} and relative settings are expanded', () => {
    const home = resolveServer(inputs(['/home/ada/.local/bin/promptls'], { settingPath: '~/.local/bin/promptls' }));
    assert.ok(home.ok && home.server.command === '/home/ada/.local/bin/promptls');
    const folder = resolveServer(
      inputs(['/ws/.venv/bin/promptls'], { settingPath: '${workspaceFolder}/.venv/bin/promptls', workspaceFolder: '/ws' }),
    );
    assert.ok(folder.ok && folder.server.command === '/ws/.venv/bin/promptls');
    const relative = resolveServer(
      inputs(['/ws/.venv/bin/promptls'], { settingPath: '.venv/bin/promptls', workspaceFolder: '/ws' }),
    );
    assert.ok(relative.ok && relative.server.command === '/ws/.venv/bin/promptls');
  });

  test('the active Python environment comes before PATH', () => {
    const result = resolveServer(
      inputs(['/proj/.venv/bin/python', '/proj/.venv/bin/promptls', '/usr/bin/promptls'], {
        pythonInterpreter: '/proj/.venv/bin/python',
      }),
    );
    assert.deepEqual(result, {
      ok: true,
      server: { command: '/proj/.venv/bin/promptls', args: ['serve'], source: 'python-environment' },
    });
  });

  test('an interpreter without the script but with the module runs python -m promptls', () => {
    const result = resolveServer(
      inputs(['/proj/.venv/bin/python', '/usr/bin/promptls'], { pythonInterpreter: '/proj/.venv/bin/python' }, [
        '/proj/.venv/bin/python',
      ]),
    );
    assert.deepEqual(result, {
      ok: true,
      server: { command: '/proj/.venv/bin/python', args: ['-m', 'promptls', 'serve'], source: 'python-environment' },
    });
  });

  test('an interpreter without promptls falls through to PATH', () => {
    const result = resolveServer(
      inputs(['/proj/.venv/bin/python', '/usr/bin/promptls'], { pythonInterpreter: '/proj/.venv/bin/python' }),
    );
    assert.ok(result.ok);
    assert.equal(result.server.command, '/usr/bin/promptls');
    assert.equal(result.server.source, 'path');
  });

  test('python3 -m promptls on PATH when there is no promptls script', () => {
    const noModule = resolveServer(inputs(['/usr/bin/python3']));
    assert.equal(noModule.ok, false);
    const withModule = resolveServer(inputs(['/usr/bin/python3'], {}, ['/usr/bin/python3']));
    assert.deepEqual(withModule, {
      ok: true,
      server: { command: '/usr/bin/python3', args: ['-m', 'promptls', 'serve'], source: 'python-module' },
    });
  });

  test('extra arguments go after serve', () => {
    const result = resolveServer(inputs(['/usr/bin/promptls'], { extraArgs: ['--log-level', 'debug'] }));
    assert.ok(result.ok);
    assert.deepEqual(result.server.args, ['serve', '--log-level', 'debug']);
  });

  test('nothing found: the message says how to fix it and where it looked', () => {
    const result = resolveServer(inputs(['/usr/bin/python3', '/env/bin/python'], { pythonInterpreter: '/env/bin/python' }));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.match(result.message, /pip install promptls/);
    assert.match(result.message, /promptls\.server\.path/);
    assert.ok(result.tried.includes('active Python environment: /env/bin/promptls'), result.tried.join('\n'));
    assert.ok(result.tried.includes('PATH: /usr/bin/python3 -m promptls'), result.tried.join('\n'));
    for (const place of result.tried) {
      assert.ok(result.message.includes(place), `message lists ${place}`);
    }
  });

  test('nothing found: the message shows the PATH the extension host searched', () => {
    const result = resolveServer(inputs([], { searchPath: '/usr/local/bin:/usr/bin' }));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.match(result.message, /extension host searched PATH=\/usr\/local\/bin:\/usr\/bin /);
  });

  test('Windows looks in Scripts\\ and for promptls.exe', () => {
    const exe = path.join(path.dirname('C:/env/python.exe'), 'Scripts', 'promptls.exe');
    const result = resolveServer(
      inputs(['C:/env/python.exe', exe], { platform: 'win32', pythonInterpreter: 'C:/env/python.exe' }),
    );
    assert.ok(result.ok);
    assert.equal(result.server.command, exe);
  });
});

describe('system look-ups', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'promptls-which-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('which finds an executable file on PATH and skips non-executable ones', () => {
    const script = path.join(dir, 'promptls');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    assert.equal(isExecutable(script), false);
    assert.equal(which('promptls', `/nonexistent${path.delimiter}${dir}`), undefined);
    chmodSync(script, 0o755);
    assert.equal(isExecutable(script), true);
    assert.equal(which('promptls', `/nonexistent${path.delimiter}${dir}`), script);
    assert.equal(isExecutable(dir), false, 'a directory is not an executable');
  });
});
