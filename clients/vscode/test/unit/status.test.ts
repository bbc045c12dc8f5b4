import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatStatus, formatUsd, parseStatus } from '../../src/status';

describe('status bar', () => {
  test('idle with an active file shows tokens and cost', () => {
    const view = formatStatus({
      state: 'idle',
      provider: 'anthropic',
      sessionCostUsd: 0.5,
      activeFile: { uri: 'file:///a.prompt', tokens: 12345, costUsd: 0.0031, exact: true },
    });
    assert.equal(view.text, '$(symbol-string) 12,345 tok · $0.0031');
    assert.match(view.tooltip, /Provider: anthropic \(idle\)/);
    assert.match(view.tooltip, /Session cost: \$0\.50/);
  });

  test('estimates are marked and unknown cost is said', () => {
    const view = formatStatus({
      state: 'busy',
      provider: null,
      sessionCostUsd: 0,
      activeFile: { uri: 'file:///a.prompt', tokens: 80, costUsd: null, exact: false },
    });
    assert.equal(view.text, '$(sync~spin) ~80 tok');
    assert.match(view.tooltip, /cost unknown/);
    assert.match(view.tooltip, /estimate/);
    assert.match(view.tooltip, /No LLM provider configured \(busy\)/);
  });

  test('no active file shows the name only', () => {
    const view = formatStatus({ state: 'idle', provider: 'openai', sessionCostUsd: 1.234, activeFile: null });
    assert.equal(view.text, '$(symbol-string) promptls');
    assert.match(view.tooltip, /\$1\.23/);
  });

  test('formatUsd keeps two significant digits below a cent', () => {
    assert.equal(formatUsd(0), '$0');
    assert.equal(formatUsd(0.000123456), '$0.00012');
    assert.equal(formatUsd(0.5), '$0.50');
    assert.equal(formatUsd(12), '$12.00');
  });

  test('parseStatus rejects payloads without the contract shape and fills defaults', () => {
    assert.equal(parseStatus(null), undefined);
    assert.equal(parseStatus({ state: 'sleeping' }), undefined);
    assert.deepEqual(parseStatus({ state: 'idle' }), {
      state: 'idle',
      provider: null,
      sessionCostUsd: 0,
      activeFile: null,
    });
    assert.deepEqual(
      parseStatus({ state: 'busy', provider: 'ollama', sessionCostUsd: 0.1, activeFile: { uri: 'u', tokens: 3 } }),
      { state: 'busy', provider: 'ollama', sessionCostUsd: 0.1, activeFile: { uri: 'u', tokens: 3, costUsd: null, exact: false } },
    );
  });
});
