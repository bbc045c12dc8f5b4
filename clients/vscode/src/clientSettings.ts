/**
 * The settings only the VS Code client reads (how to start the server, LSP tracing), as they appear in
 * package.json, and the helper that removes them before settings are sent to the server.
 */

export const CLIENT_SETTINGS: Record<string, Record<string, unknown>> = {
  'promptls.server.path': {
    type: 'string',
    default: '',
    scope: 'machine-overridable',
    markdownDescription:
      'Path to the `promptls` executable, or to a Python interpreter that has promptls installed. ' +
      'Empty: use the active Python environment (Python extension), then `promptls` or ' +
      '`python3 -m promptls` on PATH. `~` and `${workspaceFolder}` are expanded.',
  },
  'promptls.server.args': {
    type: 'array',
    items: { type: 'string' },
    default: [],
    scope: 'machine-overridable',
    markdownDescription: 'Extra arguments passed after `promptls serve`.',
  },
  'promptls.trace.server': {
    type: 'string',
    enum: ['messages', 'verbose'],
    default: 'messages',
    markdownDescription:
      'Detail of the LSP trace. The trace is recorded only while the "promptls (LSP trace)" output ' +
      "channel's log level is Trace (run **promptls: Show LSP Trace**, then set the level with the gear " +
      'in the Output panel).',
  },
};

/** What `WorkspaceConfiguration.inspect` reports for one key (language-specific values are not used). */
export interface InspectedValue {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/**
 * The settings the user actually set (folder over workspace over user), nested as the server expects them
 * (`promptls.router.completion` becomes `{router: {completion: ...}}`), without the client-only keys.
 * VS Code's defaults are deliberately not sent: the server has its own, and a default sent from here would
 * override the workspace's promptls.toml.
 */
export function explicitSettings(
  keys: string[],
  inspect: (key: string) => InspectedValue | undefined,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const key of keys) {
    if (!key.startsWith('promptls.') || key in CLIENT_SETTINGS) {
      continue;
    }
    const inspected = inspect(key);
    const value = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    if (value === undefined) {
      continue;
    }
    const path = key.slice('promptls.'.length).split('.');
    let node = result;
    for (const part of path.slice(0, -1)) {
      const child = node[part];
      node = (typeof child === 'object' && child !== null ? child : (node[part] = {})) as Record<string, unknown>;
    }
    node[path[path.length - 1]] = JSON.parse(JSON.stringify(value));
  }
  return result;
}
