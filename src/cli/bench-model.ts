// `seam bench-model`: a re-engineered model (model + SeaM mask file) timed at batch 16 in our
// engines (dense, sparse, compacted, compacted + sparse) and, when onnxruntime-node is installed, in
// onnxruntime (the original model and the exported compacted ONNX, 1 and 2 threads); with ms per
// batch, speedup over our dense run, FLOPs, parameters and file sizes.
import { parseArgs } from 'node:util';
import { intFlag, UsageError } from './args.js';
import { benchModel } from './model-bench.js';

export const BENCH_MODEL_USAGE = 'seam bench-model --model FILE [--arch NAME] --masks DIR/masks.pt [--batch 16] [--input-size N] [--reps 20] [--ort-threads 1,2] [--channel-multiple N] [--json]';

/** --ort-threads: comma-separated positive thread counts, or "none". */
export function ortThreadsFlag(v: string | undefined): number[] {
  if (v === undefined) return [1, 2];
  if (v === 'none') return [];
  const t = v.split(',').map((s) => Number(s.trim()));
  if (t.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--ort-threads must be thread counts like 1,2 or "none", got ${JSON.stringify(v)}`);
  return t;
}

export async function benchModelCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, arch: { type: 'string' }, masks: { type: 'string' }, batch: { type: 'string' },
      'input-size': { type: 'string' }, reps: { type: 'string' }, 'ort-threads': { type: 'string' }, 'channel-multiple': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!v.model || !v.masks) throw new UsageError(`missing --model or --masks\n${BENCH_MODEL_USAGE}`);
  const r = await benchModel({
    model: v.model, arch: v.arch, masks: v.masks, batch: intFlag(v.batch, 'batch', 16), reps: intFlag(v.reps, 'reps', 20),
    inputSize: v['input-size'] === undefined ? undefined : intFlag(v['input-size'], 'input-size', 32), ortThreads: ortThreadsFlag(v['ort-threads']),
    channelMultiple: intFlag(v['channel-multiple'], 'channel-multiple', 1),
  });
  const base = r.engines[0].ms;
  const rows = r.engines.map((e) => ({ ...e, speedup: base / e.ms }));
  if (v.json) {
    const { engines: _all, ...rest } = r;
    console.log(JSON.stringify({ ...rest, variants: rows.filter((e) => !e.threads), ort: rows.filter((e) => e.threads) }));
    return 0;
  }
  console.log(`${r.arch}, batch ${r.batch}, input ${r.sample.join('x')}; ${r.channelsRemoved} dead channels removed by compaction`);
  console.log(`${'engine'.padEnd(22)} ${'ms/batch'.padStart(9)} ${'speedup'.padStart(8)} ${'MFLOPs/img'.padStart(11)} ${'params'.padStart(10)} ${'sparse layers'.padStart(14)}`);
  for (const e of rows) {
    const name = e.threads ? `${e.name} (${e.threads} thr)` : e.name;
    const sparse = e.layers === undefined ? '-' : `${e.sparseLayers}/${e.layers}`;
    console.log(`${name.padEnd(22)} ${e.ms.toFixed(2).padStart(9)} ${`${e.speedup.toFixed(2)}x`.padStart(8)} ${(e.flops / 1e6).toFixed(1).padStart(11)} ` +
      `${e.parameters.toLocaleString('en').padStart(10)} ${sparse.padStart(14)}`);
  }
  for (const t of new Set(r.engines.filter((e) => e.threads).map((e) => e.threads))) {
    const [orig, exp] = ['ort original', 'ort exported'].map((n) => r.engines.find((e) => e.name === n && e.threads === t)!);
    console.log(`onnxruntime, ${t} thread${t === 1 ? '' : 's'}: exported model ${(orig.ms / exp.ms).toFixed(2)}x faster than the original`);
  }
  if (r.ortMissing) console.log(`onnxruntime: skipped (${r.ortMissing})`);
  if (r.ortMaxAbsDiff !== null) console.log(`onnxruntime reproduces the re-engineered logits: max |diff| ${r.ortMaxAbsDiff.toExponential(2)}`);
  const kb = (b: number): string => `${(b / 1024).toFixed(0)} KB`;
  console.log(`files: dense safetensors ${kb(r.files.denseBytes)}, compact ${kb(r.files.compactBytes)}, ONNX original ${kb(r.files.onnxOriginalBytes)}, ` +
    `ONNX exported (compacted) ${kb(r.files.onnxExportedBytes)}`);
  return 0;
}
