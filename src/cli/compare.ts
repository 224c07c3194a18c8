// `seam compare RUN_DIR...`: the research table. For each run of `seam reengineer` (its report.json
// and masks.pt) one row: granularity, accuracy, weights and FLOPs kept, epochs to the chosen model,
// file sizes and ms per batch in every engine (model-bench.ts), printed and written as CSV and HTML.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { nativeInfo } from '../native.js';
import type { Report } from '../seam/report.js';
import { intFlag } from './args.js';
import { channelMultiples, multiplesText, ortThreadsFlag, TIMING_OPTIONS } from './bench-model.js';
import { parseCommand, type CommandSpec } from './command.js';
import { renderCsv, renderHtml, renderText, type CompareRow } from './compare-render.js';
import { benchModel, type ModelBenchOptions } from './model-bench.js';

export const COMPARE = {
  name: 'compare',
  summary: 'the research table: one row per `seam reengineer` run (granularity, accuracy, weights and FLOPs kept, epochs, file sizes, ms per batch in every engine), printed and written as CSV and HTML',
  positional: 'RUN_DIR',
  variadic: true,
  options: {
    model: { value: 'FILE', help: 'the model the runs re-engineered', default: 'the file named in each report.json' },
    ...TIMING_OPTIONS,
    out: { value: 'DIR', help: 'where compare.csv and compare.html go', default: '.' },
  },
  example: 'seam compare runs/weight runs/kernel runs/channel --out runs/table',
} as const satisfies CommandSpec;

function readReport(dir: string): Report {
  const file = join(dir, 'report.json');
  if (!existsSync(file)) throw new Error(`${dir}: no report.json (not a seam reengineer output folder)`);
  const masks = join(dir, 'masks.pt');
  if (!existsSync(masks)) throw new Error(`${dir}: no masks.pt`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Report;
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
}

/** The run's model file: --model, else the report's path as given, else beside the run folder. */
function modelFile(dir: string, report: Report, override: string | undefined): string {
  if (override) return override;
  const given = report.model.file;
  for (const p of [given, resolve(dir, given), resolve(dir, '..', given)]) if (existsSync(p)) return p;
  throw new Error(`${dir}: the model ${given} named in report.json is not found (give --model FILE)`);
}

export async function compareCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(COMPARE, argv);
  if (!parsed) return 0;
  const { values: v, positionals: dirs } = parsed;
  const common: Omit<ModelBenchOptions, 'model' | 'masks'> = {
    batch: intFlag(v.batch, 'batch', 16), reps: intFlag(v.reps, 'reps', 20), ortThreads: ortThreadsFlag(v['ort-threads']),
    ...channelMultiples(v['channel-multiple']),
  };
  const reports = dirs.map((d) => readReport(d));
  const rows: CompareRow[] = [];
  for (const [i, dir] of dirs.entries()) {
    const r = reports[i];
    process.stderr.write(`timing ${dir} ...\n`);
    const bench = await benchModel({
      ...common, model: modelFile(dir, r, v.model), arch: r.model.arch, masks: join(dir, 'masks.pt'),
      sample: r.sampleShape, inputSize: v['input-size'] === undefined ? undefined : intFlag(v['input-size'], 'input-size', 32),
    });
    rows.push({
      run: basename(resolve(dir)), granularity: String(r.options.granularity ?? 'weight'), originalAccuracy: r.originalAccuracy, accuracy: r.accuracy,
      weightsKept: r.retention, flopsKept: r.flops.effective / r.flops.dense, flopsCompacted: bench.flops.compacted / bench.flops.original,
      epochsToChosen: r.bestEpoch + 1, epochsRun: r.epochsRun, bench,
    });
  }
  const info = nativeInfo();
  const ort = rows[0].bench.ortMissing ? `onnxruntime: ${rows[0].bench.ortMissing}` : 'onnxruntime-node, sequential execution';
  const note = `Measured ${new Date().toISOString()} on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores, load average ${loadavg()[0].toFixed(2)}); ` +
    `batch ${common.batch}, median of ${common.reps} rounds (engines interleaved); seam engines on ${info.threads ?? '?'} threads (${info.simd ?? '?'}); ${ort}; ` +
    `${multiplesText(rows[0].bench.channelMultiple)}.`;
  const out = v.out ?? '.';
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'compare.csv'), renderCsv(rows));
  writeFileSync(join(out, 'compare.html'), renderHtml(rows, note));
  if (v.json) console.log(JSON.stringify({ note, rows: rows.map(({ bench, ...rest }) => ({ ...rest, ...bench })) }));
  else console.log(`${renderText(rows)}\n${note}\nwrote ${join(out, 'compare.csv')}, ${join(out, 'compare.html')}`);
  return 0;
}
