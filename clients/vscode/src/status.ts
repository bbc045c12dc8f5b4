/**
 * Turns the server's `promptls/status` notification into the status bar item's text and tooltip.
 * The figures are shown exactly as the server wrote them (`text`, `detail`, `sessionCostText`): the lens, the
 * hover, `promptls check` and this status bar say the same thing. Pure (no vscode import) so it is unit-tested.
 */

export interface ActiveFileStatus {
  uri: string;
  tokens: number;
  costUsd: number | null;
  exact: boolean;
  /** The server's short form, e.g. `~285 tokens · $0.000068/call` (or why the call fails). */
  text: string;
  /** The server's long form, e.g. `~285 tokens (29 input + 256 output) · $0.000068/call`. */
  detail: string;
  model: string | null;
}

export interface StatusParams {
  state: 'idle' | 'busy';
  provider: string | null;
  sessionCostUsd: number;
  sessionCostText: string | null;
  activeFile: ActiveFileStatus | null;
}

export interface StatusView {
  text: string;
  tooltip: string;
}

/**
 * The status bar for the active editor's document (`activeUri`): the prompt's figures only while that prompt is
 * the active document, so a Markdown page or another file never shows a stale prompt's numbers.
 */
export function formatStatus(params: StatusParams, activeUri?: string): StatusView {
  const icon = params.state === 'busy' ? '$(sync~spin)' : '$(symbol-string)';
  const tooltip: string[] = [];
  const file = params.activeFile && (activeUri === undefined || params.activeFile.uri === activeUri)
    ? params.activeFile
    : null;
  if (file) {
    tooltip.push(`This call${file.model ? ` (${file.model})` : ''}: ${file.detail}`);
    if (!file.exact) {
      tooltip.push('Tokens are an estimate: no exact tokenizer for this model.');
    }
  }
  tooltip.push(
    params.provider
      ? `Provider: ${params.provider} (${params.state})`
      : `No LLM provider configured (${params.state})`,
  );
  if (params.sessionCostText) {
    tooltip.push(`Session cost: ${params.sessionCostText}`);
  }
  tooltip.push('Click to show usage');
  const text = file ? `${icon} ${file.text}` : `${icon} promptls`;
  return { text, tooltip: tooltip.join('\n') };
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** Narrows an untyped notification payload; returns undefined when it does not have the contract's shape. */
export function parseStatus(raw: unknown): StatusParams | undefined {
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const value = raw as Record<string, unknown>;
  if (value.state !== 'idle' && value.state !== 'busy') {
    return undefined;
  }
  const provider = str(value.provider);
  const sessionCostUsd = typeof value.sessionCostUsd === 'number' ? value.sessionCostUsd : 0;
  let activeFile: ActiveFileStatus | null = null;
  const file = value.activeFile as Record<string, unknown> | null | undefined;
  if (file && typeof file === 'object' && typeof file.uri === 'string' && typeof file.text === 'string') {
    activeFile = {
      uri: file.uri,
      tokens: typeof file.tokens === 'number' ? file.tokens : 0,
      costUsd: typeof file.costUsd === 'number' ? file.costUsd : null,
      exact: file.exact === true,
      text: file.text,
      detail: str(file.detail) ?? file.text,
      model: str(file.model),
    };
  }
  return { state: value.state, provider, sessionCostUsd, sessionCostText: str(value.sessionCostText), activeFile };
}
