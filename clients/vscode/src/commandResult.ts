/** Renders what a server command (run prompt, show usage) returned as text for the output channel. */

const TEXT_FIELDS = ['text', 'markdown', 'output', 'content', 'message'];

export function describeCommandResult(result: unknown): string | undefined {
  if (result === undefined || result === null) {
    return undefined;
  }
  if (typeof result === 'string') {
    return result;
  }
  if (typeof result === 'object' && !Array.isArray(result)) {
    const record = result as Record<string, unknown>;
    for (const field of TEXT_FIELDS) {
      if (typeof record[field] === 'string') {
        return record[field] as string;
      }
    }
  }
  return JSON.stringify(result, null, 2);
}
