import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatStatus, parseStatus } from '../../src/status';

const FILE = {
  uri: 'file:///a.prompt',
  tokens: 285,
  costUsd: 0.0000675,
  exact: false,
  text: '~285 tokens · $0.000068/call',
  detail: '~285 tokens (29 input + 256 output) · $0.000068/call',
  model: 'gpt-4o',
};

describe('status bar', () => {
  test('shows the figures exactly as the server wrote them', () => {
    const view = formatStatus(
      { state: 'idle', provider: 'anthropic', sessionCostUsd: 0.5, sessionCostText: '$0.50', activeFile: FILE },
      'file:///a.prompt',
    );
    assert.equal(view.text, '$(symbol-string) ~285 tokens · $0.000068/call');
    assert.match(view.tooltip, /This call \(gpt-4o\): ~285 tokens \(29 input \+ 256 output\) · \$0\.000068\/call/);
    assert.match(view.tooltip, /estimate/);
    assert.match(view.tooltip, /Provider: anthropic \(idle\)/);
    assert.match(view.tooltip, /Session cost: \$0\.50/);
  });

  test('another document (a Markdown page) never shows a stale prompt', () => {
    const view = formatStatus(
      { state: 'busy', provider: null, sessionCostUsd: 0, sessionCostText: '$0', activeFile: FILE },
      'file:///README.md',
    );
    assert.equal(view.text, '$(sync~spin) promptls');
    assert.doesNotMatch(view.tooltip, /285/);
    assert.match(view.tooltip, /No LLM provider configured \(busy\)/);
  });

  test('no active file shows the name only', () => {
    const view = formatStatus({ state: 'idle', provider: 'openai', sessionCostUsd: 1.234, sessionCostText: '$1.23', activeFile: null });
    assert.equal(view.text, '$(symbol-string) promptls');
    assert.match(view.tooltip, /\$1\.23/);
  });

  test('parseStatus rejects payloads without the contract shape and fills defaults', () => {
    assert.equal(parseStatus(null), undefined);
    assert.equal(parseStatus({ state: 'sleeping' }), undefined);
    assert.deepEqual(parseStatus({ state: 'idle' }), {
      state: 'idle',
      provider: null,
      sessionCostUsd: 0,
      sessionCostText: null,
      activeFile: null,
    });
    assert.deepEqual(
      parseStatus({ state: 'busy', provider: 'ollama', sessionCostUsd: 0.1, activeFile: { uri: 'u', tokens: 3, text: '3 tokens' } }),
      {
        state: 'busy',
        provider: 'ollama',
        sessionCostUsd: 0.1,
        sessionCostText: null,
        activeFile: { uri: 'u', tokens: 3, costUsd: null, exact: false, text: '3 tokens', detail: '3 tokens', model: null },
      },
    );
  });
});
