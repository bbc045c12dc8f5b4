/**
 * The usage page as HTML for a webview: spend per day, per provider and per model as inline SVG bar charts, and the
 * ledger's rows as a table, all from the answer of the server's `promptls.showUsage` command
 * (server/promptls/lsp/assist_features.py `_show_usage`: `{sessionCostText, sessionCalls, totalCostText, rows, series}`).
 * Money is shown exactly as the server wrote it (`costText`, from figures.py `format_cost`, the one formatter);
 * amounts are used only to scale the bars.
 * No script and no dependency: the page is static markup under a Content-Security-Policy that allows only its own
 * nonce'd style. Pure (no vscode import), so it is unit-tested.
 */

/** One ledger row as the server sends it (router/ledger.py `Ledger.summary`). */
export interface UsageRow {
  day: string;
  provider: string;
  model: string;
  calls: number;
  cache_hits?: number | null;
  errors?: number | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  cost_usd?: number | null;
  unpriced_calls?: number | null;
  costText?: string;
}

export interface UsageResult {
  sessionCostText: string;
  sessionCalls: number;
  totalCostText: string;
  rows: UsageRow[];
  series: UsageSeries;
}

/** Spend of one day, provider or model. */
export interface SeriesItem {
  key: string;
  costUsd: number;
  costText: string;
  calls: number;
  unpricedCalls: number;
}

export interface UsageSeries {
  day: SeriesItem[];
  provider: SeriesItem[];
  model: SeriesItem[];
}

/** A server answer, or undefined when it is not one (an older server, an error). */
export function parseUsage(raw: unknown): UsageResult | undefined {
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { rows?: unknown }).rows)) {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  const rows = (r.rows as unknown[]).filter(
    (row): row is UsageRow => typeof row === 'object' && row !== null && typeof (row as UsageRow).day === 'string',
  );
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const rawSeries = (typeof r.series === 'object' && r.series !== null ? r.series : {}) as Record<string, unknown>;
  const items = (name: string): SeriesItem[] =>
    (Array.isArray(rawSeries[name]) ? (rawSeries[name] as Record<string, unknown>[]) : [])
      .filter((i) => typeof i === 'object' && i !== null && typeof i.key === 'string')
      .map((i) => ({ key: i.key as string, costUsd: num(i.cost_usd), costText: text(i.costText), calls: num(i.calls),
        unpricedCalls: num(i.unpriced_calls) }));
  return {
    sessionCostText: text(r.sessionCostText), sessionCalls: num(r.sessionCalls), totalCostText: text(r.totalCostText),
    rows, series: { day: items('day'), provider: items('provider'), model: items('model') },
  };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface BarGeometry {
  /** Width of the bar area in px, the largest value's bar. */
  barWidth: number;
  labelWidth: number;
  rowHeight: number;
}

const GEOMETRY: BarGeometry = { barWidth: 360, labelWidth: 200, rowHeight: 22 };
const VALUE_WIDTH = 160;

/** A bar's width for `value`, `largest` filling `barWidth`; a non-zero value is at least 1px (never drawn as none). */
export function barLength(value: number, largest: number, barWidth: number): number {
  if (value <= 0 || largest <= 0) {
    return 0;
  }
  return Math.max(1, Math.round((Math.min(value, largest) / largest) * barWidth * 10) / 10);
}

/** One horizontal bar chart as an SVG element: a row per item, bars scaled to the largest spend. */
export function barChartSvg(title: string, items: SeriesItem[], geometry: BarGeometry = GEOMETRY): string {
  const { barWidth, labelWidth, rowHeight } = geometry;
  const largest = Math.max(0, ...items.map((i) => i.costUsd));
  const width = labelWidth + barWidth + VALUE_WIDTH;
  const height = Math.max(1, items.length) * rowHeight + 4;
  const rows = items.map((item, index) => {
    const y = index * rowHeight + 2;
    const len = barLength(item.costUsd, largest, barWidth);
    const label = item.key.length > 30 ? `${item.key.slice(0, 29)}…` : item.key;
    const money = item.costText + (item.unpricedCalls ? '*' : '');
    const calls = `${item.calls} call${item.calls === 1 ? '' : 's'}`;
    return (
      `<g class="row" data-key="${escapeXml(item.key)}" data-cost="${item.costUsd}">` +
      `<title>${escapeXml(`${item.key}: ${money} (${calls})`)}</title>` +
      `<text class="label" x="${labelWidth - 8}" y="${y + rowHeight * 0.68}" text-anchor="end">${escapeXml(label)}</text>` +
      `<rect class="bar" x="${labelWidth}" y="${y + 3}" width="${len}" height="${rowHeight - 6}" rx="2"/>` +
      `<text class="value" x="${labelWidth + len + 6}" y="${y + rowHeight * 0.68}">${escapeXml(money)}` +
      ` <tspan class="calls">(${calls})</tspan></text></g>`
    );
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${escapeXml(title)}" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${rows.join('')}</svg>`
  );
}

/** The whole page: CSP (no scripts; only the nonce'd style), totals, three charts and the rows' table. */
export function usageHtml(usage: UsageResult, nonce: string): string {
  const series = usage.series;
  const calls = usage.rows.reduce((n, r) => n + Number(r.calls ?? 0), 0);
  const sections = (['day', 'provider', 'model'] as const)
    .filter((name) => series[name].length > 0)
    .map((name) => `<section><h2>Spend per ${name}</h2>${barChartSvg(`Spend per ${name}`, series[name])}</section>`)
    .join('\n');
  const cell = (v: unknown) =>
    `<td>${escapeXml(typeof v === 'number' ? v.toLocaleString('en-US') : String(v ?? 0))}</td>`;
  const table = usage.rows.length
    ? '<table><thead><tr><th>day</th><th>provider</th><th>model</th><th>calls</th><th>cache hits</th><th>errors</th>' +
      '<th>input</th><th>output</th><th>cost</th></tr></thead><tbody>' +
      usage.rows
        .map((r) => `<tr>${cell(r.day)}${cell(r.provider)}${cell(r.model)}${cell(r.calls)}${cell(r.cache_hits)}` +
          `${cell(r.errors)}${cell(r.input_tokens)}${cell(r.output_tokens)}` +
          `${cell((r.costText ?? '') + (r.unpriced_calls ? '*' : ''))}</tr>`)
        .join('') +
      '</tbody></table>'
    : '<p>No calls recorded yet.</p>';
  const unpriced = usage.rows.some((r) => r.unpriced_calls)
    ? '<p class="note">* some calls used models without a known price; they count as $0</p>'
    : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; img-src data:;">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>promptls usage</title>
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 16px 16px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin: 18px 0 6px; }
.chart text { fill: var(--vscode-foreground); font-size: 12px; font-family: var(--vscode-font-family); }
.chart .calls { fill: var(--vscode-descriptionForeground); }
.chart .bar { fill: var(--vscode-charts-blue, #3794ff); }
.chart .row:hover .bar { fill: var(--vscode-charts-orange, #d18616); }
table { border-collapse: collapse; margin-top: 8px; }
th, td { padding: 2px 10px; border-bottom: 1px solid var(--vscode-panel-border, #8884); text-align: left; }
td:nth-child(n+4) { text-align: right; font-variant-numeric: tabular-nums; }
.note, .totals { color: var(--vscode-descriptionForeground); }
</style></head>
<body>
<h1>promptls usage</h1>
<p class="totals">This session: ${escapeXml(usage.sessionCostText)} over ${usage.sessionCalls} call(s). ` +
    `Ledger: ${escapeXml(usage.totalCostText)} over ${calls} call(s).</p>
${sections}
<h2>Ledger</h2>
${table}
${unpriced}
</body></html>
`;
}
