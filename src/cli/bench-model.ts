// `seam bench-model`: a re-engineered model (model + SeaM mask file) timed at batch 16 in our
// engines (dense, sparse, compacted, compacted + sparse) and, when onnxruntime-node is installed, in
// onnxruntime (the original model and the exported compacted ONNX, 1 and 2 threads); with ms per
// batch, speedup over our dense run, FLOPs, parameters and file sizes.
import { intFlag, UsageError } from './args.js';
import { COMMON_OPTIONS, parseCommand, type CommandSpec } from './command.js';
import { benchModel } from './model-bench.js';

/** Options bench-model and compare share. */
export const TIMING_OPTIONS = {
  batch: { value: 'N', help: 'images per batch', default: '16' },
  'input-size': { value: 'N', help: 'input height and width', default: '32 for CIFAR models, else 224' },
  reps: { value: 'N', help: 'timed rounds (the median is reported; engines interleaved round by round)', default: '20' },
  'ort-threads': { value: 'T,T|none', help: 'onnxruntime intra-op thread counts (when onnxruntime-node is installed)', default: '1,2' },
  'channel-multiple': { value: 'N', help: 'compaction keeps multiples of N channels per layer (exact zero channels added)',
    default: '1 in our engines, 16 in the ONNX timed in onnxruntime (as seam export writes it)' },
  json: { help: 'print the results as one JSON object' },
} as const;

export const BENCH_MODEL = {
  name: 'bench-model',
  summary: 'time a re-engineered model in our dense, sparse, compacted and compacted + sparse engines and in onnxruntime: ms per batch, speedup, FLOPs, parameters, file sizes',
  options: {
    model: COMMON_OPTIONS.model,
    arch: COMMON_OPTIONS.arch,
    masks: COMMON_OPTIONS.masks,
    ...TIMING_OPTIONS,
  },
  example: 'seam bench-model --model model.pt --masks runs/c0/masks.pt --batch 16 --channel-multiple 8',
} as const satisfies CommandSpec;

/** --channel-multiple: one multiple for every compaction when given, else each engine's default. */
export function channelMultiples(v: string | undefined): { channelMultiple?: number; ortChannelMultiple?: number } {
  if (v === undefined) return {};
  const m = intFlag(v, 'channel-multiple', 1);
  return { channelMultiple: m, ortChannelMultiple: m };
}

/** What the compactions kept, for the printed report. */
export function multiplesText(m: { ours: number; ort: number }): string {
  return m.ours === m.ort ? `compaction keeps multiples of ${m.ours} channels` : `compaction keeps multiples of ${m.ours} channels, ${m.ort} in the ONNX for onnxruntime`;
}

/** --ort-threads: comma-separated positive thread counts, or "none". */
export function ortThreadsFlag(v: string | undefined): number[] {
  if (v === undefined) return [1, 2];
  if (v === 'none') return [];
  const t = v.split(',').map((s) => Number(s.trim()));
  if (t.some((n) => !Number.isInteger(n) || n < 1)) throw new UsageError(`--ort-threads must be thread counts like 1,2 or "none", got ${JSON.stringify(v)}`);
  return t;
}

export async function benchModelCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(BENCH_MODEL, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const r = await benchModel({
    model: v.model, arch: v.arch, masks: v.masks, batch: intFlag(v.batch, 'batch', 16), reps: intFlag(v.reps, 'reps', 20),
    inputSize: v['input-size'] === undefined ? undefined : intFlag(v['input-size'], 'input-size', 32), ortThreads: ortThreadsFlag(v['ort-threads']),
    ...channelMultiples(v['channel-multiple']),
  });
  const base = r.engines[0].ms;
  const rows = r.engines.map((e) => ({ ...e, speedup: base / e.ms }));
  if (v.json) {
    const { engines: _all, ...rest } = r;
    console.log(JSON.stringify({ ...rest, variants: rows.filter((e) => !e.threads), ort: rows.filter((e) => e.threads) }));
    return 0;
  }
  console.log(`${r.arch}, batch ${r.batch}, input ${r.sample.join('x')}; ${r.channelsRemoved} dead channels removed by compaction ` +
    `(${multiplesText(r.channelMultiple)})`);
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
