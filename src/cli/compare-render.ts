// The research table of `seam compare`: one row per re-engineering run, printed as text and written
// as CSV and as a self-contained HTML page.
import type { ModelBench } from './model-bench.js';

export interface CompareRow {
  run: string;
  granularity: string;
  originalAccuracy: number;
  accuracy: number;
  /** fraction of weights kept (SeaM's retained ratio) */
  weightsKept: number;
  /** FLOPs per sample with zero weights skipped, over the original model's */
  flopsKept: number;
  /** dense FLOPs per sample of the compacted model, over the original model's */
  flopsCompacted: number;
  /** epochs until the chosen model (its epoch + 1) and epochs run */
  epochsToChosen: number;
  epochsRun: number;
  bench: ModelBench;
}

interface Column {
  name: string;
  value: (r: CompareRow) => number | string | null;
  /** text formatting (CSV gets the raw value) */
  fmt?: (v: number) => string;
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
const ms = (v: number): string => v.toFixed(2);
const kb = (v: number): string => `${(v / 1024).toFixed(0)}`;

function engineMs(r: CompareRow, name: string, threads?: number): number | null {
  return r.bench.engines.find((e) => e.name === name && e.threads === threads)?.ms ?? null;
}

/** The columns: the run, its quality and size, then ms per batch in every engine measured. */
export function compareColumns(rows: CompareRow[]): Column[] {
  const cols: Column[] = [
    { name: 'run', value: (r) => r.run },
    { name: 'granularity', value: (r) => r.granularity },
    { name: 'original accuracy', value: (r) => r.originalAccuracy, fmt: pct },
    { name: 'accuracy', value: (r) => r.accuracy, fmt: pct },
    { name: 'weights kept', value: (r) => r.weightsKept, fmt: pct },
    { name: 'FLOPs kept (nonzero weights)', value: (r) => r.flopsKept, fmt: pct },
    { name: 'FLOPs after compaction', value: (r) => r.flopsCompacted, fmt: pct },
    { name: 'channels removed', value: (r) => r.bench.channelsRemoved },
    { name: 'epochs to chosen', value: (r) => r.epochsToChosen },
    { name: 'epochs run', value: (r) => r.epochsRun },
    { name: 'compact file KB', value: (r) => r.bench.files.compactBytes, fmt: kb },
    { name: 'ONNX exported KB', value: (r) => r.bench.files.onnxExportedBytes, fmt: kb },
  ];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const e of r.bench.engines) {
      const key = `${e.name}|${e.threads ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      cols.push({ name: `ms ${e.name}${e.threads ? ` ${e.threads}t` : ''}`, value: (x) => engineMs(x, e.name, e.threads), fmt: ms });
    }
  }
  return cols;
}

const cell = (c: Column, r: CompareRow): string => {
  const v = c.value(r);
  return v === null ? '-' : typeof v === 'number' && c.fmt ? c.fmt(v) : String(v);
};

export function renderText(rows: CompareRow[]): string {
  const cols = compareColumns(rows);
  const table = [cols.map((c) => c.name), ...rows.map((r) => cols.map((c) => cell(c, r)))];
  const w = cols.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table.map((row) => row.map((v, i) => (i < 2 ? v.padEnd(w[i]) : v.padStart(w[i]))).join('  ')).join('\n');
}

const csvField = (v: string): string => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

export function renderCsv(rows: CompareRow[]): string {
  const cols = compareColumns(rows);
  const lines = [cols.map((c) => csvField(c.name)).join(',')];
  for (const r of rows) lines.push(cols.map((c) => { const v = c.value(r); return v === null ? '' : csvField(String(v)); }).join(','));
  return `${lines.join('\n')}\n`;
}

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A self-contained page: the table, then how it was measured (`note`: machine, batch, threads). */
export function renderHtml(rows: CompareRow[], note: string): string {
  const cols = compareColumns(rows);
  const head = cols.map((c) => `<th>${esc(c.name)}</th>`).join('');
  const body = rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(cell(c, r))}</td>`).join('')}</tr>`).join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>seam compare</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse}td,th{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}th{vertical-align:bottom;max-width:7em;white-space:normal}</style>
</head><body><h1>SeaM re-engineering runs compared</h1>
<table><tr>${head}</tr>
${body}</table>
<p>${esc(note)}</p>
</body></html>
`;
}
