import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { barChartSvg, barLength, escapeXml, formatCost, parseUsage, usageHtml, usageSeries } from '../../src/usageChart';

// Shaped as the server answers `promptls.showUsage` (server/promptls/lsp/assist_features.py `_show_usage`).
const ANSWER = {
  ok: true, sessionCostUsd: 0.0000405, sessionCalls: 3, totalCostUsd: 0.0180405, uri: 'file:///tmp/usage-1.md',
  rows: [
    { day: '2026-12-05', provider: 'fast', model: 'gpt-4o-mini', calls: 1, cache_hits: 0, errors: 0,
      input_tokens: 40000, output_tokens: 20000, cost_usd: 0.018, unpriced_calls: 0 },
    { day: '2026-12-07', provider: 'claude', model: 'claude-<x>&"y"', calls: 1, cache_hits: 0, errors: 0,
      input_tokens: 20, output_tokens: 5, cost_usd: 0, unpriced_calls: 1 },
    { day: '2026-12-07', provider: 'fast', model: 'gpt-4o-mini', calls: 2, cache_hits: 1, errors: 0,
      input_tokens: 40, output_tokens: 10, cost_usd: 0.0000405, unpriced_calls: 0 },
  ],
};

describe('formatCost', () => {
  test('writes money as server/promptls/figures.py format_cost does (its docstring examples)', () => {
    const cases: [number, string][] = [
      [0, '$0'], [12.5, '$12.50'], [1234, '$1,234.00'], [0.5, '$0.50'], [0.068, '$0.068'], [0.0012, '$0.0012'],
      [0.000068, '$0.000068'], [0.000003, '$0.0000030'], [0.0099996, '$0.010'], [0.996, '$1.00'],
      [1e-9, '<$0.00000001'], [-0.5, '-$0.50'],
    ];
    for (const [usd, text] of cases) {
      assert.equal(formatCost(usd), text, String(usd));
    }
  });
});

describe('usageSeries', () => {
  test('sums rows per day in date order, per provider and model by spend', () => {
    const s = usageSeries(parseUsage(ANSWER)!.rows);
    assert.deepEqual(s.day.map((i) => [i.key, i.calls]), [['2026-12-05', 1], ['2026-12-07', 3]]);
    assert.deepEqual(s.provider.map((i) => i.key), ['fast', 'claude']);
    assert.equal(s.provider[0]!.calls, 3);
    assert.ok(Math.abs(s.provider[0]!.costUsd - 0.0180405) < 1e-12);
    assert.deepEqual(s.model.map((i) => [i.key, i.unpricedCalls]), [['gpt-4o-mini', 0], ['claude-<x>&"y"', 1]]);
  });

  test('parseUsage refuses what is not an answer', () => {
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
    const svg = barChartSvg('Spend per model', usageSeries(ANSWER.rows).model);
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
    const svg = barChartSvg('Spend per day', usageSeries(ANSWER.rows).day);
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
    const html = usageHtml({ sessionCostUsd: 0, sessionCalls: 0, totalCostUsd: 0, rows: [] }, 'n');
    assert.ok(!html.includes('<svg') && html.includes('No calls recorded yet.'));
  });

  test('escapeXml', () => {
    assert.equal(escapeXml(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  });
});
