// `seam bench-model`: a re-engineered model (model + SeaM mask file) run three ways at batch 16:
// dense (the original model through the planned engine), compacted (dead channels removed) and
// sparse (masks applied, sparse kernels where the planner finds them faster); with ms per batch,
// speedup, FLOPs, parameters and file sizes.
import { serializeCompact, compactSizeReport } from '../export/compact-file.js';
import { compactModel } from '../export/compaction/index.js';
import { applyMaskFile, prunedStateDict } from '../export/pruned.js';
import { planModel, type InferenceEngine } from '../infer/index.js';
import { loadModel } from '../models/load.js';
import type { Module } from '../nn/index.js';
import { countFlops } from '../seam/flops.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';
import { intFlag } from './args.js';
import { COMMON_OPTIONS, parseCommand, type CommandSpec } from './command.js';

export const BENCH_MODEL = {
  name: 'bench-model',
  summary: 'time a re-engineered model dense, sparse, compacted and compacted + sparse: ms per batch, speedup, FLOPs, parameters, file sizes',
  options: {
    model: COMMON_OPTIONS.model,
    arch: COMMON_OPTIONS.arch,
    masks: COMMON_OPTIONS.masks,
    batch: { value: 'N', help: 'images per batch', default: '16' },
    'input-size': { value: 'N', help: 'input height and width', default: '32 for CIFAR models, else 224' },
    reps: { value: 'N', help: 'timed runs per variant (the median is reported)', default: '20' },
    json: { help: 'print the results as one JSON object' },
  },
  example: 'seam bench-model --model model.pt --masks runs/c0/masks.pt --batch 16',
} as const satisfies CommandSpec;

interface Variant {
  name: string;
  ms: number;
  flops: number;
  parameters: number;
  sparseLayers: number;
  layers: number;
}

function medianMs(engine: InferenceEngine, x: Float32Array, batch: number, reps: number): number {
  for (let i = 0; i < 3; i++) engine.run(x, batch);
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    engine.run(x, batch);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

/** Parameters that do work: non-zero and, where a SeaM mask is attached, kept by it. */
function effectiveParameters(model: Module): number {
  let n = 0;
  for (const [, m] of model.namedModules()) {
    for (const name of ['weight', 'bias']) {
      const p = m.getParameter(name);
      if (!p) continue;
      const mask = m.getParameter(`${name}_mask`)?.f32;
      const v = p.f32;
      for (let i = 0; i < v.length; i++) if (v[i] !== 0 && (!mask || mask[i] > 0)) n++;
    }
  }
  return n;
}

export async function benchModelCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(BENCH_MODEL, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const batch = intFlag(v.batch, 'batch', 16);
  const reps = intFlag(v.reps, 'reps', 20);
  const load = () => loadModel(v.model, { arch: v.arch });
  const dense = load();
  const size = intFlag(v['input-size'], 'input-size', dense.arch.startsWith('cifar_') ? 32 : 224);
  const sample = [dense.options.inChannels ?? 3, size, size];
  const x = Tensor.randn([batch, ...sample], new Rng(1)).f32;

  const variants: Variant[] = [];
  const measure = (name: string, model: Module, engine: InferenceEngine, flops: number): void => {
    variants.push({
      name, ms: medianMs(engine, x, batch, reps), flops, parameters: effectiveParameters(model),
      sparseLayers: engine.layers.filter((l) => l.kernel === 'sparse').length, layers: engine.layers.length,
    });
  };
  measure('dense', dense.model, planModel(dense.model, sample, { kernel: 'dense' }), countFlops(dense.model, sample).dense);

  const masked = load();
  const { head } = applyMaskFile(masked.model, v.masks);
  const sd = prunedStateDict(masked.model, head);
  const files = compactSizeReport(sd, serializeCompact(sd));
  measure('sparse', masked.model, planModel(masked.model, sample), countFlops(masked.model, sample).effective);

  const compacted = load();
  const c = applyMaskFile(compacted.model, v.masks);
  const report = compactModel(compacted.model, c.head, { sampleShape: sample });
  measure('compacted', compacted.model, planModel(compacted.model, sample, { kernel: 'dense' }), countFlops(compacted.model, sample).dense);
  measure('compacted+sparse', compacted.model, planModel(compacted.model, sample), countFlops(compacted.model, sample).effective);

  const base = variants[0].ms;
  const rows = variants.map((r) => ({ ...r, speedup: base / r.ms }));
  if (v.json) {
    console.log(JSON.stringify({ batch, sample, variants: rows, channelsRemoved: report.channelsRemoved,
      files: { denseBytes: files.denseBytes, compactBytes: files.compactBytes } }));
    return 0;
  }
  console.log(`${dense.arch}, batch ${batch}, input ${sample.join('x')}; ${report.channelsRemoved} dead channels removed by compaction`);
  console.log(`${'variant'.padEnd(18)} ${'ms/batch'.padStart(9)} ${'speedup'.padStart(8)} ${'MFLOPs/img'.padStart(11)} ${'params'.padStart(10)} ${'sparse layers'.padStart(14)}`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(18)} ${r.ms.toFixed(2).padStart(9)} ${`${r.speedup.toFixed(2)}x`.padStart(8)} ${(r.flops / 1e6).toFixed(1).padStart(11)} ` +
      `${r.parameters.toLocaleString('en').padStart(10)} ${`${r.sparseLayers}/${r.layers}`.padStart(14)}`);
  }
  console.log(`files: dense safetensors ${files.denseBytes.toLocaleString('en')} B, compact ${files.compactBytes.toLocaleString('en')} B (${(100 * files.ratio).toFixed(1)}%)`);
  return 0;
}
