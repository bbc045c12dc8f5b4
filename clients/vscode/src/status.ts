/**
 * Turns the server's `promptls/status` notification into the status bar item's text and tooltip.
 * Pure (no vscode import) so the formatting is unit-tested.
 */

export interface ActiveFileStatus {
  uri: string;
  tokens: number;
  costUsd: number | null;
  exact: boolean;
}

export interface StatusParams {
  state: 'idle' | 'busy';
  provider: string | null;
  sessionCostUsd: number;
  activeFile: ActiveFileStatus | null;
}

export interface StatusView {
  text: string;
  tooltip: string;
}

export function formatUsd(value: number): string {
  if (value === 0) {
    return '$0';
  }
  // Prompt costs are often fractions of a cent; keep two significant digits below a cent.
  if (Math.abs(value) < 0.01) {
    return `$${Number(value.toPrecision(2))}`;
  }
  return `$${value.toFixed(2)}`;
}

export function formatTokens(tokens: number): string {
  return tokens.toLocaleString('en-US');
}

export function formatStatus(params: StatusParams): StatusView {
  const icon = params.state === 'busy' ? '$(sync~spin)' : '$(symbol-string)';
  const parts: string[] = [];
  const tooltip: string[] = [];
  if (params.activeFile) {
    const file = params.activeFile;
    const approx = file.exact ? '' : '~';
    parts.push(`${approx}${formatTokens(file.tokens)} tok`);
    if (file.costUsd !== null) {
      parts.push(`${approx}${formatUsd(file.costUsd)}`);
    }
    tooltip.push(
      `Active prompt: ${file.exact ? '' : 'about '}${formatTokens(file.tokens)} tokens` +
        (file.costUsd !== null ? `, ${formatUsd(file.costUsd)} per call` : ', cost unknown for this model') +
        (file.exact ? '' : ' (estimate: no exact tokenizer for this model)'),
    );
  }
  tooltip.push(
    params.provider
      ? `Provider: ${params.provider} (${params.state})`
      : `No LLM provider configured (${params.state})`,
  );
  tooltip.push(`Session cost: ${formatUsd(params.sessionCostUsd)}`);
  tooltip.push('Click to show usage');
  const text = parts.length > 0 ? `${icon} ${parts.join(' · ')}` : `${icon} promptls`;
  return { text, tooltip: tooltip.join('\n') };
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
  const provider = typeof value.provider === 'string' ? value.provider : null;
  const sessionCostUsd = typeof value.sessionCostUsd === 'number' ? value.sessionCostUsd : 0;
  let activeFile: ActiveFileStatus | null = null;
  const file = value.activeFile as Record<string, unknown> | null | undefined;
  if (file && typeof file === 'object' && typeof file.uri === 'string' && typeof file.tokens === 'number') {
    activeFile = {
      uri: file.uri,
      tokens: file.tokens,
      costUsd: typeof file.costUsd === 'number' ? file.costUsd : null,
      exact: file.exact === true,
    };
  }
  return { state: value.state, provider, sessionCostUsd, activeFile };
}
