import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileUri, outcomesFromRun, promptsFromCases, promptsToRun } from '../../src/evalModel';

// Shaped as the server answers (server/promptls/lsp/eval_features.py: `promptls/evalCases`, `promptls.eval`).
const CASES = [
  {
    prompt: 'capital.prompt', promptPath: '/ws/capital.prompt', promptUri: 'file:///ws/capital.prompt',
    file: '/ws/capital.tests.yaml', uri: 'file:///ws/capital.tests.yaml',
    cases: [{ id: '/ws/capital.tests.yaml:4', label: 'France', line: 4 },
      { id: '/ws/capital.tests.yaml:10', label: 'Japan', line: 10 }],
  },
  {
    prompt: 'capital.prompt', promptPath: '/ws/capital.prompt', promptUri: 'file:///ws/capital.prompt',
    file: '/ws/promptfooconfig.yaml', uri: 'file:///ws/promptfooconfig.yaml',
    cases: [{ id: '/ws/promptfooconfig.yaml:7', label: 'Peru', line: 7 }],
  },
  { prompt: 'x', promptUri: 'file:///ws/a/haiku.prompt', promptPath: '/ws/a/haiku.prompt', uri: 'file:///ws/a/haiku.tests.yaml',
    cases: [{ id: '/ws/a/haiku.tests.yaml:2', label: 'autumn', line: 2 }] },
  { nonsense: true },
  'not an object',
];

const RUN = {
  ok: false, passed: 2, total: 4, passRate: 0.5,
  results: [
    { id: '/ws/capital.tests.yaml:4', file: '/ws/capital.tests.yaml', uri: 'file:///ws/capital.tests.yaml', line: 4,
      case: 'France', model: 'gpt-4o-mini', provider: 'openai', pass: true, latency_ms: 100, failures: [] },
    { id: '/ws/capital.tests.yaml:4', file: '/ws/capital.tests.yaml', uri: 'file:///ws/capital.tests.yaml', line: 4,
      case: 'France', model: 'claude-haiku-4-5', provider: 'anthropic', pass: true, latency_ms: 300, failures: [] },
    { id: '/ws/capital.tests.yaml:10', file: '/ws/capital.tests.yaml', uri: 'file:///ws/capital.tests.yaml',
      line: 10, case: 'Japan', model: 'gpt-4o-mini', pass: true, latency_ms: null, failures: [] },
    { id: '/ws/capital.tests.yaml:10', file: '/ws/capital.tests.yaml', uri: 'file:///ws/capital.tests.yaml',
      line: 10, case: 'Japan', model: 'claude-haiku-4-5', pass: false, latency_ms: 50, score: 0.5,
      failures: [{ type: 'not-contains', message: "output contains 'Kyoto'", file: '/ws/capital.tests.yaml', line: 14 },
        { type: 'error', message: 'call failed: 429', file: null, line: null }] },
  ],
};

describe('prompt tests (Testing view)', () => {
  test('lists each prompt once with the cases of all its case files', () => {
    const prompts = promptsFromCases(CASES);
    assert.deepEqual(prompts.map((p) => [p.label, p.uri, p.cases.map((c) => c.label)]), [
      ['capital.prompt', 'file:///ws/capital.prompt', ['France', 'Japan', 'Peru']],
      ['haiku.prompt', 'file:///ws/a/haiku.prompt', ['autumn']],
    ]);
    const peru = prompts[0].cases[2];
    assert.equal(peru.uri, 'file:///ws/promptfooconfig.yaml');
    assert.equal(peru.line, 7);
    assert.deepEqual(promptsFromCases(null), []);
    assert.deepEqual(promptsFromCases({ results: [] }), []);
  });

  test('a case passes only when every model passed it; failures keep their model and line', () => {
    const outcomes = outcomesFromRun(RUN);
    const france = outcomes.get('/ws/capital.tests.yaml:4');
    assert.ok(france?.passed);
    assert.equal(france?.durationMs, 200);
    assert.deepEqual(france?.messages, []);
    const japan = outcomes.get('/ws/capital.tests.yaml:10');
    assert.equal(japan?.passed, false);
    assert.equal(japan?.durationMs, 50);
    assert.deepEqual(japan?.messages, [
      { text: "[claude-haiku-4-5] not-contains: output contains 'Kyoto'", uri: 'file:///ws/capital.tests.yaml', line: 14 },
      { text: '[claude-haiku-4-5] error: call failed: 429', uri: 'file:///ws/capital.tests.yaml', line: 10 },
    ]);
    assert.equal(outcomesFromRun({ ok: false, error: 'no cases', results: [] }).size, 0);
    assert.equal(outcomesFromRun(undefined).size, 0);
  });

  test('a failing case without failures (below its threshold) still says why', () => {
    const outcomes = outcomesFromRun({ results: [{ id: 'a:1', line: 1, uri: 'file:///a', pass: false, score: 0.4,
      provider: 'run', failures: [] }] });
    assert.deepEqual(outcomes.get('a:1')?.messages, [
      { text: "[run] score: score 0.4 is below the case's threshold", uri: 'file:///a', line: 1 }]);
  });

  test('runs the prompts of requested prompts and cases, or all', () => {
    const prompts = promptsFromCases(CASES);
    assert.deepEqual(promptsToRun([], prompts).length, 2);
    assert.deepEqual(promptsToRun(['/ws/a/haiku.tests.yaml:2'], prompts).map((p) => p.label), ['haiku.prompt']);
    assert.deepEqual(promptsToRun(['file:///ws/capital.prompt'], prompts).map((p) => p.label), ['capital.prompt']);
  });

  test('file URIs for the paths the server writes', () => {
    assert.equal(fileUri('/ws/my cases.tests.yaml'), 'file:///ws/my%20cases.tests.yaml');
    assert.equal(fileUri('C:\\ws\\a.tests.yaml'), 'file:///C:/ws/a.tests.yaml');
    assert.equal(fileUri('file:///already'), 'file:///already');
  });
});
