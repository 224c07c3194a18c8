// The results page of an output root: a self-contained HTML file with one table row per target
// (linking the target's report.html) and inline SVG charts of accuracy and of what each target kept.
import { esc, pct } from '../seam/report.js';
import type { ResultRow } from './results.js';

interface Bar {
  name: string;
  color: string;
  value: (r: ResultRow) => number | null;
}

/** Horizontal grouped bars, one group per target, values in [0, 1]. */
function groupedBars(title: string, rows: ResultRow[], bars: Bar[]): string {
  const W = 720;
  const L = 180;
  const R = 60;
  const barH = 10;
  const groupH = bars.length * barH + 8;
  const H = 24 + rows.length * groupH;
  const sx = (v: number): number => Math.max(1, v * (W - L - R));
  const grid = [0, 0.25, 0.5, 0.75, 1].map((g) => `<line x1="${L + g * (W - L - R)}" x2="${L + g * (W - L - R)}" y1="20" y2="${H}" stroke="#eee"/>`).join('');
  const legend = bars.map((b, i) => `<rect x="${L + i * 170}" y="4" width="12" height="8" fill="${b.color}"/><text x="${L + 16 + i * 170}" y="12" font-size="11">${esc(b.name)}</text>`).join('');
  const groups = rows.map((r, gi) => {
    const y0 = 24 + gi * groupH;
    const label = `<text x="${L - 6}" y="${y0 + groupH / 2}" text-anchor="end" font-size="11">${esc(r.target)}</text>`;
    return label + bars.map((b, bi) => {
      const v = b.value(r);
      const y = y0 + bi * barH;
      if (v === null) return `<text x="${L + 4}" y="${y + barH - 1}" font-size="10" fill="#999">${esc(r.state)}</text>`;
      return `<rect x="${L}" y="${y}" width="${sx(v).toFixed(1)}" height="${barH - 2}" fill="${b.color}"/><text x="${L + sx(v) + 4}" y="${y + barH - 2}" font-size="10">${pct(v, 1)}</text>`;
    }).join('');
  }).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${grid}${legend}${groups}</svg></figure>`;
}

const num = (x: number | null, f: (v: number) => string): string => (x === null ? '-' : f(x));

export function renderResultsPage(rows: ResultRow[], o: { outRoot: string; queue: string }): string {
  const done = rows.filter((r) => r.state === 'completed');
  const cells = (r: ResultRow): string[] => [
    r.report ? `<a href="${esc(r.report)}">${esc(r.target)}</a>` : esc(r.target),
    r.reason ? `<span title="${esc(r.reason)}">${esc(r.state)}</span>` : esc(r.state),
    num(r.originalAccuracy, (v) => pct(v)), num(r.accuracy, (v) => pct(v)), num(r.kept, (v) => pct(v)),
    r.flopsDense && r.flopsEffective !== null ? pct(r.flopsEffective / r.flopsDense) : '-',
    num(r.bestEpoch, String), num(r.seconds, (v) => v.toFixed(1)), esc(r.worker ?? '-'), `<code>${esc(r.id)}</code>`,
  ];
  const table = `<table><thead><tr><th>target</th><th>state</th><th>original accuracy</th><th>accuracy</th><th>weights kept</th><th>FLOPs kept</th><th>best epoch</th><th>seconds</th><th>worker</th><th>job</th></tr></thead>
<tbody>${rows.map((r) => `<tr>${cells(r).map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
  const failed = rows.filter((r) => r.state === 'failed');
  return `<!doctype html><html><head><meta charset="utf-8"><title>seam results: ${esc(o.outRoot)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:980px;margin:24px auto;color:#222}table{border-collapse:collapse}td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child,td:nth-child(2),th:nth-child(2),td:nth-child(9),th:nth-child(9),td:nth-child(10),th:nth-child(10){text-align:left}code{white-space:nowrap}figure{margin:18px 0}figcaption{font-weight:600;margin-bottom:4px}</style>
</head><body><h1>SeaM re-engineering: ${rows.length} target${rows.length === 1 ? '' : 's'}</h1>
<p>Queue <code>${esc(o.queue)}</code>, output root <code>${esc(o.outRoot)}</code>: ${done.length} completed${failed.length ? `, ${failed.length} failed` : ''}${rows.length - done.length - failed.length ? `, ${rows.length - done.length - failed.length} not finished` : ''}.
Each target's name links its report.</p>
${table}
${groupedBars('Accuracy on each target problem', rows, [
    { name: 'original model', color: '#bbb', value: (r) => r.originalAccuracy },
    { name: 're-engineered', color: '#e45756', value: (r) => r.accuracy },
  ])}
${groupedBars('What each re-engineered model keeps', rows, [
    { name: 'weights kept', color: '#4c78a8', value: (r) => r.kept },
    { name: 'FLOPs kept', color: '#72b7b2', value: (r) => (r.flopsDense && r.flopsEffective !== null ? r.flopsEffective / r.flopsDense : null) },
  ])}
${failed.length ? `<h2>Failed</h2><ul>${failed.map((r) => `<li><code>${esc(r.id)}</code> (${esc(r.target)}): ${esc(r.reason ?? '')}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
