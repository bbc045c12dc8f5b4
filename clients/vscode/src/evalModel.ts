/**
 * The prompt tests as the Testing view shows them, from what the server says: `promptls/evalCases` (prompts and
 * their cases, read by the server from `NAME.tests.yaml` files and promptfoo configs) and the answer of the
 * `promptls.eval` command (one result per model × case, with its failures and their lines). All the logic of
 * reading case files stays on the server; this module only reshapes its answers. Pure (no vscode import), so it
 * is unit-tested.
 */

export interface EvalCase {
  /** `/real/path/of/NAME.tests.yaml:LINE`, the same id in the list and in a run's results. */
  id: string;
  label: string;
  /** 1-based line of the case in its file. */
  line: number;
  /** The case file's URI. */
  uri: string;
}

export interface EvalPrompt {
  /** The prompt file's URI: its cases run with `promptls.eval <uri>`. */
  id: string;
  label: string;
  uri: string;
  cases: EvalCase[];
}

export interface FailureMessage {
  text: string;
  uri: string | undefined;
  /** 1-based, as the server writes it. */
  line: number | undefined;
}

export interface CaseOutcome {
  passed: boolean;
  /** Mean latency over the models that answered (ms), when any did. */
  durationMs: number | undefined;
  messages: FailureMessage[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function basename(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** The `promptls/evalCases` answer as prompts with their cases; a prompt named by several case files (a
 * `NAME.tests.yaml` and a promptfoo config) is listed once with all of its cases. */
export function promptsFromCases(raw: unknown): EvalPrompt[] {
  const byUri = new Map<string, EvalPrompt>();
  for (const entry of Array.isArray(raw) ? raw : []) {
    if (!isObject(entry)) {
      continue;
    }
    const uri = str(entry.promptUri);
    const fileUri = str(entry.uri);
    if (!uri || !fileUri) {
      continue;
    }
    let prompt = byUri.get(uri);
    if (!prompt) {
      prompt = { id: uri, uri, label: basename(str(entry.promptPath) ?? str(entry.prompt) ?? uri), cases: [] };
      byUri.set(uri, prompt);
    }
    for (const c of Array.isArray(entry.cases) ? entry.cases : []) {
      const id = isObject(c) ? str(c.id) : undefined;
      const line = isObject(c) ? num(c.line) : undefined;
      if (!id || line === undefined || prompt.cases.some((known) => known.id === id)) {
        continue;
      }
      prompt.cases.push({ id, label: str((c as Json).label) ?? id, line, uri: fileUri });
    }
  }
  return [...byUri.values()].sort((a, b) => a.label.localeCompare(b.label));
}

/** A `promptls.eval` answer as one outcome per case id: passed when every model passed it; one message per
 * failing assertion (or error), prefixed with the model, at its line in the case file. */
export function outcomesFromRun(raw: unknown): Map<string, CaseOutcome> {
  const out = new Map<string, CaseOutcome>();
  const latencies = new Map<string, number[]>();
  const results = isObject(raw) && Array.isArray(raw.results) ? raw.results : [];
  for (const r of results) {
    if (!isObject(r)) {
      continue;
    }
    const id = str(r.id);
    if (!id) {
      continue;
    }
    const outcome = out.get(id) ?? { passed: true, durationMs: undefined, messages: [] };
    out.set(id, outcome);
    const latency = num(r.latency_ms);
    if (latency !== undefined) {
      latencies.set(id, [...(latencies.get(id) ?? []), latency]);
    }
    if (r.pass === true) {
      continue;
    }
    outcome.passed = false;
    const model = str(r.model) || str(r.provider) || 'model';
    const failures = Array.isArray(r.failures) ? r.failures.filter(isObject) : [];
    if (failures.length === 0) {
      failures.push({ type: 'score', message: `score ${String(r.score)} is below the case's threshold` });
    }
    for (const f of failures) {
      const file = str(f.file);
      outcome.messages.push({
        text: `[${model}] ${str(f.type) ?? 'failure'}: ${str(f.message) ?? ''}`.trim(),
        uri: file ? fileUri(file) : str(r.uri),
        line: num(f.line) ?? num(r.line),
      });
    }
  }
  for (const [id, values] of latencies) {
    const outcome = out.get(id);
    if (outcome && values.length > 0) {
      outcome.durationMs = values.reduce((a, b) => a + b, 0) / values.length;
    }
  }
  return out;
}

/** A file URI for an absolute path the server wrote (POSIX or Windows). */
export function fileUri(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    return path;
  }
  const slashed = path.replace(/\\/g, '/');
  const withRoot = slashed.startsWith('/') ? slashed : `/${slashed}`;
  return `file://${withRoot.split('/').map((part) => encodeURIComponent(part).replace(/%3A/g, ':')).join('/')}`;
}

/** The prompts a run request needs: those requested directly, and the prompts of requested cases. */
export function promptsToRun(requested: string[], prompts: EvalPrompt[]): EvalPrompt[] {
  if (requested.length === 0) {
    return prompts;
  }
  const wanted = new Set(requested);
  return prompts.filter((p) => wanted.has(p.id) || p.cases.some((c) => wanted.has(c.id)));
}
