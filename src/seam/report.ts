// The search's report: report.json (everything measured) and a self-contained report.html with
// inline SVG charts (accuracy and retention per epoch, retention per layer).
import type { EpochLog, FlopsReport, LayerRetention } from './report-types.js';

export interface Report {
  model: { file: string; arch: string; format: string; parameters: number };
  problem: { description: string; classes: number[]; trainSamples: number; testSamples: number };
  /** the [C, H, W] of the samples the search ran on */
  inputShape: number[];
  options: Record<string, unknown>;
  originalAccuracy: number;
  accuracy: number;
  retention: number;
  bestEpoch: number;
  epochsRun: number;
  seconds: number;
  cancelled: boolean;
  flops: FlopsReport;
  layers: LayerRetention[];
  epochs: EpochLog[];
  /** one input sample's shape ([C, H, W]) */
  sampleShape?: number[];
}

export const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
export const pct = (x: number, d = 2): string => `${(100 * x).toFixed(d)}%`;

interface Series {
  name: string;
  color: string;
  values: number[];
}

function lineChart(title: string, xs: number[], series: Series[], marker?: number): string {
  const W = 640;
  const H = 240;
  const L = 48;
  const B = 28;
  const T = 24;
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  const sx = (x: number): number => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - 12);
  const sy = (y: number): number => T + (1 - y) * (H - T - B);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((g) =>
    `<line x1="${L}" x2="${W - 12}" y1="${sy(g)}" y2="${sy(g)}" stroke="#ddd"/><text x="${L - 6}" y="${sy(g) + 4}" text-anchor="end" font-size="11">${pct(g, 0)}</text>`).join('');
  const lines = series.map((s) => {
    const pts = s.values.map((v, i) => `${sx(xs[i]).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`;
  }).join('');
  const legend = series.map((s, i) => `<rect x="${L + 10 + i * 150}" y="6" width="12" height="4" fill="${s.color}"/><text x="${L + 26 + i * 150}" y="12" font-size="11">${esc(s.name)}</text>`).join('');
  const mark = marker !== undefined && marker >= 0
    ? `<line x1="${sx(marker)}" x2="${sx(marker)}" y1="${T}" y2="${H - B}" stroke="#999" stroke-dasharray="4 3"/><text x="${sx(marker) + 4}" y="${T + 12}" font-size="11">chosen</text>`
    : '';
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${grid}${mark}${lines}${legend}
<text x="${(W + L) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">epoch</text></svg></figure>`;
}

/** What the elements of a layer's mask are: weights, kernels or channels. */
export function unitName(l: LayerRetention): string {
  return l.granularity === 'channel' ? 'channels' : l.granularity === 'kernel' && (l.cover ?? 1) > 1 ? 'kernels' : 'weights';
}

function barChart(title: string, layers: LayerRetention[]): string {
  const rowH = 16;
  const W = 640;
  const L = 220;
  const H = layers.length * rowH + 10;
  const bars = layers.map((l, i) => {
    const y = 4 + i * rowH;
    const w = Math.max(1, l.retention * (W - L - 60));
    const count = unitName(l) === 'weights' ? '' : ` (${l.kept}/${l.total} ${unitName(l)})`;
    return `<text x="${L - 6}" y="${y + 11}" text-anchor="end" font-size="11">${esc(l.param)}</text><rect x="${L}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="#4c78a8"/><text x="${L + w + 4}" y="${y + 11}" font-size="11">${pct(l.retention, 1)}${count}</text>`;
  }).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">${bars}</svg></figure>`;
}

export function renderHtml(r: Report): string {
  const xs = r.epochs.map((e) => e.epoch);
  const granularity = String(r.options.granularity ?? 'weight');
  const rows: [string, string, string][] = [
    ['accuracy on the target problem', pct(r.originalAccuracy), pct(r.accuracy)],
    ['weights kept', '100%', pct(r.retention)],
    ...units(r.layers).map(([name, kept, total]): [string, string, string] => [`${name} kept`, `${total}`, `${kept} (${pct(kept / total)})`]),
    ['FLOPs per sample', r.flops.dense.toExponential(3), r.flops.effective.toExponential(3)],
  ];
  return `<!doctype html><html><head><meta charset="utf-8"><title>seam report: ${esc(r.problem.description)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:720px;margin:24px auto;color:#222}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child{text-align:left}figure{margin:18px 0}figcaption{font-weight:600;margin-bottom:4px}</style>
</head><body><h1>SeaM re-engineering report</h1>
<p>Model <code>${esc(r.model.file)}</code> (${esc(r.model.arch)}, ${r.model.parameters.toLocaleString('en')} parameters); problem: ${esc(r.problem.description)}
(${r.problem.trainSamples} training, ${r.problem.testSamples} test samples). Chosen epoch ${r.bestEpoch} of ${r.epochsRun}${r.cancelled ? ' (cancelled)' : ''}, ${r.seconds.toFixed(1)} s.</p>
<table><tr><th></th><th>original</th><th>re-engineered</th></tr>${rows.map((row) => `<tr><td>${row[0]}</td><td>${row[1]}</td><td>${row[2]}</td></tr>`).join('')}</table>
${lineChart('Test accuracy and retained weights per epoch', xs, [
    { name: 'accuracy', color: '#e45756', values: r.epochs.map((e) => e.accuracy) },
    { name: 'retained', color: '#4c78a8', values: r.epochs.map((e) => e.ratio) },
    { name: 'forward FLOPs run sparse', color: '#72b7b2', values: r.epochs.map((e) => e.sparseForward ?? 0) },
    { name: 'original accuracy', color: '#bbb', values: r.epochs.map(() => r.originalAccuracy) },
  ], r.bestEpoch)}
${barChart(`Retained per layer at ${granularity} granularity (chosen epoch)`, r.layers)}
<h2>Options</h2><pre>${esc(JSON.stringify(r.options, null, 2))}</pre>
</body></html>
`;
}

/** Kernels and channels kept over all layers masked at those granularities: [name, kept, total]. */
function units(layers: LayerRetention[]): [string, number, number][] {
  const sums = new Map<string, [number, number]>();
  for (const l of layers) {
    const u = unitName(l);
    if (u === 'weights') continue;
    const [k, t] = sums.get(u) ?? [0, 0];
    sums.set(u, [k + l.kept, t + l.total]);
  }
  return [...sums].map(([u, [k, t]]) => [u, k, t]);
}

/** Per-layer retention as text lines: "layer1.0.conv1.weight  5/16 channels (31.2%)". */
export function layerTable(layers: LayerRetention[]): string {
  const w = Math.max(...layers.map((l) => l.param.length));
  return layers.map((l) => `${l.param.padEnd(w)}  ${`${l.kept}/${l.total}`.padStart(13)} ${unitName(l).padEnd(8)} ${pct(l.retention, 1).padStart(7)}`).join('\n');
}

/** The before/after table printed at the end of a run. */
export function summaryTable(r: Pick<Report, 'originalAccuracy' | 'accuracy' | 'retention' | 'flops' | 'bestEpoch' | 'epochsRun' | 'seconds'>): string {
  const rows = [
    ['', 'original', 're-engineered'],
    ['accuracy', pct(r.originalAccuracy), pct(r.accuracy)],
    ['weights kept', '100.00%', pct(r.retention)],
    ['FLOPs/sample', r.flops.dense.toExponential(2), r.flops.effective.toExponential(2)],
  ];
  const w = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]): string => row.map((cell, c) => (c === 0 ? cell.padEnd(w[c]) : cell.padStart(w[c]))).join('   ');
  return [...rows.map(line), `chosen epoch ${r.bestEpoch} (epochs count from 0) of ${r.epochsRun} run, ${r.seconds.toFixed(1)} s`].join('\n');
}
