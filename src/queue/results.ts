// `seam queue results`: one row per target of an output root, from each job's report.json (written
// by the worker into <out-root>/<job id>/) and the job's state in the queue; as a table and as CSV.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Report } from '../seam/report.js';
import type { SeamQueue } from './connection.js';
import { STATES } from './status.js';

export interface ResultRow {
  id: string;
  target: string;
  state: string;
  originalAccuracy: number | null;
  accuracy: number | null;
  /** fraction of mask elements kept */
  kept: number | null;
  flopsDense: number | null;
  flopsEffective: number | null;
  bestEpoch: number | null;
  epochsRun: number | null;
  seconds: number | null;
  worker: string | null;
  /** the target's report.html, relative to the output root, when it exists */
  report: string | null;
  /** why a failed job failed */
  reason: string | null;
}

function readReport(file: string): Report | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Report;
  } catch {
    return null; // a report being written right now (a resumed job): treated as absent
  }
}

/** The rows of every job whose output root is `outRoot`, in the order they were added. */
export async function collectResults(queue: SeamQueue, outRoot: string): Promise<ResultRow[]> {
  const root = resolve(outRoot);
  const rows: ResultRow[] = [];
  const jobs = (await queue.getJobs([...STATES], 0, -1, true)).filter((j) => resolve(j.data.outRoot) === root);
  jobs.sort((a, b) => a.timestamp - b.timestamp);
  for (const job of jobs) {
    const state = await job.getState();
    const r = state === 'completed' ? readReport(join(root, job.id!, 'report.json')) : null;
    const ret = state === 'completed' ? job.returnvalue : null;
    rows.push({
      id: job.id!, target: job.data.target, state,
      originalAccuracy: r?.originalAccuracy ?? ret?.original_accuracy ?? null,
      accuracy: r?.accuracy ?? ret?.accuracy ?? null,
      kept: r?.retention ?? ret?.retention ?? null,
      flopsDense: r?.flops.dense ?? ret?.flops_dense ?? null,
      flopsEffective: r?.flops.effective ?? ret?.flops_effective ?? null,
      bestEpoch: r?.bestEpoch ?? ret?.best_epoch ?? null,
      epochsRun: r?.epochsRun ?? ret?.epochs_run ?? null,
      seconds: r?.seconds ?? ret?.seconds ?? null,
      worker: ret?.worker ?? job.processedBy ?? null,
      report: r && existsSync(join(root, job.id!, 'report.html')) ? `${job.id}/report.html` : null,
      reason: state === 'failed' ? job.failedReason ?? null : null,
    });
  }
  return rows;
}

const COLUMNS: [keyof ResultRow, string][] = [
  ['target', 'target'], ['id', 'job'], ['state', 'state'], ['originalAccuracy', 'original_accuracy'], ['accuracy', 'accuracy'],
  ['kept', 'kept'], ['flopsDense', 'flops_dense'], ['flopsEffective', 'flops_effective'], ['bestEpoch', 'best_epoch'],
  ['epochsRun', 'epochs_run'], ['seconds', 'seconds'], ['worker', 'worker'], ['report', 'report'], ['reason', 'reason'],
];

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function resultsCsv(rows: ResultRow[]): string {
  return [COLUMNS.map(([, h]) => h).join(','), ...rows.map((r) => COLUMNS.map(([k]) => csvCell(r[k])).join(','))].join('\n') + '\n';
}

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);

/** The rows as an aligned text table. */
export function resultsTable(rows: ResultRow[]): string {
  const head = ['target', 'state', 'original', 'accuracy', 'kept', 'FLOPs', 'best', 'seconds', 'worker'];
  const body = rows.map((r) => [
    r.target, r.state, pct(r.originalAccuracy), pct(r.accuracy), pct(r.kept),
    r.flopsDense && r.flopsEffective !== null ? pct(r.flopsEffective / r.flopsDense) : '-',
    r.bestEpoch === null ? '-' : String(r.bestEpoch), r.seconds === null ? '-' : r.seconds.toFixed(1), r.worker ?? '-',
  ]);
  const all = [head, ...body];
  const w = head.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  return all.map((row) => row.map((cell, c) => (c < 2 || c === 8 ? cell.padEnd(w[c]!) : cell.padStart(w[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}
