import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { barChartSvg, barLength, escapeXml, parseUsage, usageHtml } from '../../src/usageChart';

// Shaped as the server answers `promptls.showUsage` (server/promptls/lsp/assist_features.py `_show_usage`): money
// already written by figures.py `format_cost`, the series summed by router/cli.py `usage_series`
// (tests/e2e/assist/test_actions_e2e.py checks the server side of this shape).
const ANSWER = {
  ok: true, sessionCostUsd: 0.0000405, sessionCostText: '$0.000041', sessionCalls: 3, totalCostUsd: 0.0180405,
  totalCostText: '$0.018', uri: 'file:///tmp/usage-1.md',
  rows: [
    { day: '2026-12-05', provider: 'fast', model: 'gpt-4o-mini', calls: 1, cache_hits: 0, errors: 0,
      input_tokens: 40000, output_tokens: 20000, cost_usd: 0.018, unpriced_calls: 0, costText: '$0.018' },
    { day: '2026-12-07', provider: 'claude', model: 'claude-<x>&"y"', calls: 1, cache_hits: 0, errors: 0,
      input_tokens: 20, output_tokens: 5, cost_usd: 0, unpriced_calls: 1, costText: '$0' },
    { day: '2026-12-07', provider: 'fast', model: 'gpt-4o-mini', calls: 2, cache_hits: 1, errors: 0,
      input_tokens: 40, output_tokens: 10, cost_usd: 0.0000405, unpriced_calls: 0, costText: '$0.000041' },
  ],
  series: {
    day: [
      { key: '2026-12-05', cost_usd: 0.018, calls: 1, unpriced_calls: 0, costText: '$0.018' },
      { key: '2026-12-07', cost_usd: 0.0000405, calls: 3, unpriced_calls: 1, costText: '$0.000041' },
    ],
    provider: [
      { key: 'fast', cost_usd: 0.0180405, calls: 3, unpriced_calls: 0, costText: '$0.018' },
      { key: 'claude', cost_usd: 0, calls: 1, unpriced_calls: 1, costText: '$0' },
    ],
    model: [
      { key: 'gpt-4o-mini', cost_usd: 0.0180405, calls: 3, unpriced_calls: 0, costText: '$0.018' },
      { key: 'claude-<x>&"y"', cost_usd: 0, calls: 1, unpriced_calls: 1, costText: '$0' },
    ],
  },
};

describe('parseUsage', () => {
  test('takes the series and money strings as the server sent them', () => {
    const u = parseUsage(ANSWER)!;
    assert.deepEqual(u.series.day.map((i) => [i.key, i.calls, i.costText]), [['2026-12-05', 1, '$0.018'],
      ['2026-12-07', 3, '$0.000041']]);
    assert.deepEqual(u.series.model.map((i) => [i.key, i.unpricedCalls]), [['gpt-4o-mini', 0], ['claude-<x>&"y"', 1]]);
    assert.equal(u.sessionCostText, '$0.000041');
  });

  test('refuses what is not an answer', () => {
    assert.equal(parseUsage(undefined), undefined);
    assert.equal(parseUsage({ ok: false, message: 'no router' }), undefined);
    assert.deepEqual(parseUsage({ rows: [{ nonsense: 1 }] })!.rows, []);
  });
});

describe('barChartSvg', () => {
  test('scales bars to the largest value; a tiny non-zero spend is still drawn, zero is not', () => {
    assert.equal(barLength(10, 10, 360), 360);
    assert.equal(barLength(5, 10, 360), 180);
    assert.equal(barLength(0.0000405, 0.018, 360), 1);
    assert.equal(barLength(0, 0.018, 360), 0);
    assert.equal(barLength(1, 0, 360), 0);
  });

  test('one row per item with its label, bar and money; text escaped', () => {
    const svg = barChartSvg('Spend per model', parseUsage(ANSWER)!.series.model);
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const bars = [...svg.matchAll(/<rect class="bar"[^>]* width="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(bars, [360, 0]);
    assert.ok(svg.includes('>$0.018 <tspan'), svg);
    assert.ok(svg.includes('>$0* <tspan'), 'an unpriced model is marked');
    assert.ok(svg.includes('claude-&lt;x&gt;&amp;&quot;y&quot;'));
    assert.ok(!svg.includes('<x>'));
    assert.equal((svg.match(/<g class="row"/g) ?? []).length, 2);
  });

  test('per day: the small day keeps its non-zero money', () => {
    const svg = barChartSvg('Spend per day', parseUsage(ANSWER)!.series.day);
    assert.ok(svg.includes('>$0.000041* <tspan'), svg);
    assert.ok(svg.includes('(3 calls)') && svg.includes('(1 call)'));
  });
});

describe('usageHtml', () => {
  test('a strict CSP: no scripts, only the nonce’d style; three charts and the table', () => {
    const html = usageHtml(parseUsage(ANSWER)!, 'abc123');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'nonce-abc123'/);
    assert.doesNotMatch(csp, /script-src|unsafe/);
    assert.doesNotMatch(html, /<script/i);
    assert.ok(html.includes('<style nonce="abc123">'));
    for (const name of ['day', 'provider', 'model']) {
      assert.ok(html.includes(`<h2>Spend per ${name}</h2><svg`), name);
    }
    assert.equal((html.match(/<tr>/g) ?? []).length, 1 + 3);
    assert.ok(html.includes('This session: $0.000041 over 3 call(s)'));
    assert.ok(html.includes('<td>40,000</td><td>20,000</td><td>$0.018</td>'), 'token counts with separators');
  });

  test('no rows: no charts, a sentence', () => {
    const html = usageHtml({ sessionCostText: '$0', sessionCalls: 0, totalCostText: '$0', rows: [],
      series: { day: [], provider: [], model: [] } }, 'n');
    assert.ok(!html.includes('<svg') && html.includes('No calls recorded yet.'));
  });

  test('escapeXml', () => {
    assert.equal(escapeXml(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });
});
