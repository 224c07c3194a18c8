// A re-engineered model (model file + SeaM mask file) timed at one batch size in every engine:
// ours dense (the original model), sparse (masks applied, sparse kernels where the planner finds
// them faster), compacted (dead channels removed, dense kernels) and compacted + sparse; and, when
// onnxruntime-node is installed, the original model and the exported compacted ONNX in onnxruntime
// at 1 and 2 threads. Shared by `seam bench-model` and `seam compare`.
import { compactSizeReport, serializeCompact } from '../export/compact-file.js';
import { compactModel, ONNX_CHANNEL_MULTIPLE } from '../export/compaction/index.js';
import { buildOnnxExport } from '../export/onnx.js';
import { applyMaskFile, prunedStateDict, reengineeredLogits } from '../export/pruned.js';
import { planModel, type InferenceEngine } from '../infer/index.js';
import { loadOnnxRuntime, onnxRunner, type OrtRunner } from '../infer/ort.js';
import { serializeOnnx } from '../io/onnx-write.js';
import { loadModel } from '../models/load.js';
import type { Module } from '../nn/index.js';
import { countFlops } from '../seam/flops.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';

export interface EngineTiming {
  /** dense | sparse | compacted | compacted+sparse (ours), ort original | ort exported (onnxruntime) */
  name: string;
  /** intra-op threads (onnxruntime only; ours use the addon's pool) */
  threads?: number;
  ms: number;
  /** FLOPs per sample this variant computes (dense count for dense kernels, nonzero weights for sparse) */
  flops: number;
  /** parameters that do work */
  parameters: number;
  sparseLayers?: number;
  layers?: number;
}

export interface ModelBench {
  arch: string;
  batch: number;
  sample: number[];
  engines: EngineTiming[];
  /** why onnxruntime timings are absent ('' when present) */
  ortMissing: string;
  /** max |onnxruntime(exported) - seam's re-engineered logits| on the timing input */
  ortMaxAbsDiff: number | null;
  channelsRemoved: number;
  /** channel multiples the compactions kept: ours, and the ONNX timed in onnxruntime */
  channelMultiple: { ours: number; ort: number };
  flops: { original: number; effective: number; compacted: number };
  files: { denseBytes: number; compactBytes: number; onnxOriginalBytes: number; onnxExportedBytes: number };
}

export interface ModelBenchOptions {
  model: string;
  arch?: string;
  masks: string;
  batch?: number;
  /** one sample's shape; default [in channels, input size, input size] */
  sample?: number[];
  inputSize?: number;
  reps?: number;
  /** onnxruntime thread counts (default 1 and 2; [] skips onnxruntime) */
  ortThreads?: number[];
  /** compaction keeps multiples of this many channels (CompactOptions.channelMultiple) in our
   *  compacted engines (default 1) */
  channelMultiple?: number;
  /** the same for the exported ONNX onnxruntime runs (default ONNX_CHANNEL_MULTIPLE, as `seam export
   *  --format onnx --compact-channels` writes it) */
  ortChannelMultiple?: number;
}

/** Median ms per call of each runner, timed in rounds (one call of each runner per round, after 3
 *  warm-up rounds) so that a change of load on the machine affects every runner alike. */
export async function interleavedMedians(runners: (() => unknown)[], reps: number): Promise<number[]> {
  const times = runners.map(() => [] as number[]);
  for (let round = -3; round < reps; round++) {
    for (const [i, run] of runners.entries()) {
      const t0 = process.hrtime.bigint();
      await run();
      if (round >= 0) times[i].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]);
}

/** Parameters that do work: non-zero and, where a SeaM mask is attached, kept by it. */
export function effectiveParameters(model: Module): number {
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

export async function benchModel(o: ModelBenchOptions): Promise<ModelBench> {
  const batch = o.batch ?? 16;
  const reps = o.reps ?? 20;
  const load = () => loadModel(o.model, { arch: o.arch });
  const dense = load();
  const size = o.inputSize ?? (dense.arch.startsWith('cifar_') ? 32 : 224);
  const sample = o.sample ?? [dense.options.inChannels ?? 3, size, size];
  const shape = [batch, ...sample];
  const x = Tensor.randn(shape, new Rng(1)).f32;
  const engines: EngineTiming[] = [];
  // Timed in phases: ours, then onnxruntime at each thread count (its idle pool threads spin for a
  // while after a run, which would slow whatever ran next).
  const phases: (() => unknown)[][] = [[]];
  const ours = (name: string, model: Module, engine: InferenceEngine, flops: number): void => {
    engines.push({ name, ms: 0, flops, parameters: effectiveParameters(model),
      sparseLayers: engine.layers.filter((l) => l.kernel === 'sparse').length, layers: engine.layers.length });
    phases[0].push(() => engine.run(x, batch));
  };
  const originalFlops = countFlops(dense.model, sample).dense;
  ours('dense', dense.model, planModel(dense.model, sample, { kernel: 'dense' }), originalFlops);

  const masked = load();
  const { head } = applyMaskFile(masked.model, o.masks);
  const sd = prunedStateDict(masked.model, head);
  const files = compactSizeReport(sd, serializeCompact(sd));
  const effectiveFlops = countFlops(masked.model, sample).effective;
  ours('sparse', masked.model, planModel(masked.model, sample), effectiveFlops);
  const reference = reengineeredLogits(masked.model, head, new Tensor(x, shape)).f32;

  /** A fresh copy of the re-engineered model, compacted keeping multiples of `multiple` channels. */
  const compactedCopy = (multiple: number) => {
    const { model } = load();
    const { head: h } = applyMaskFile(model, o.masks);
    const report = compactModel(model, h, { sampleShape: sample, channelMultiple: multiple });
    return { model, head: h, report };
  };
  const oursMultiple = o.channelMultiple ?? 1;
  const compacted = compactedCopy(oursMultiple);
  const compactedFlops = countFlops(compacted.model, sample);
  ours('compacted', compacted.model, planModel(compacted.model, sample, { kernel: 'dense' }), compactedFlops.dense);
  ours('compacted+sparse', compacted.model, planModel(compacted.model, sample), compactedFlops.effective);

  const threads = o.ortThreads ?? [1, 2];
  const { ort, reason } = threads.length ? await loadOnnxRuntime() : { ort: null, reason: 'not asked for' };
  const ortMultiple = o.ortChannelMultiple ?? ONNX_CHANNEL_MULTIPLE;
  const forOrt = ort && ortMultiple !== oursMultiple ? compactedCopy(ortMultiple) : compacted;
  const onnxOriginal = serializeOnnx(buildOnnxExport(dense.model, null, shape), { producerName: 'seam' });
  const onnxExported = serializeOnnx(buildOnnxExport(forOrt.model, forOrt.head, shape), { producerName: 'seam' });
  const ortFlops = forOrt.model === compacted.model ? compactedFlops.dense : countFlops(forOrt.model, sample).dense;
  const sessions: OrtRunner[] = [];
  let ortMaxAbsDiff: number | null = null;
  try {
    if (ort) {
      for (const t of threads) {
        const orig = await onnxRunner(ort, onnxOriginal, x, shape, t);
        const exp = await onnxRunner(ort, onnxExported, x, shape, t);
        sessions.push(orig, exp);
        engines.push({ name: 'ort original', threads: t, ms: 0, flops: originalFlops, parameters: effectiveParameters(dense.model) });
        engines.push({ name: 'ort exported', threads: t, ms: 0, flops: ortFlops, parameters: effectiveParameters(forOrt.model) });
        phases.push([() => orig.run(), () => exp.run()]);
        const y = await exp.run();
        ortMaxAbsDiff = y.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), ortMaxAbsDiff ?? 0);
      }
    }
    let i = 0;
    for (const phase of phases) for (const t of await interleavedMedians(phase, reps)) engines[i++].ms = t;
  } finally {
    for (const s of sessions) await s.release();
  }
  return {
    arch: dense.arch, batch, sample, engines, ortMissing: reason, ortMaxAbsDiff, channelsRemoved: compacted.report.channelsRemoved,
    channelMultiple: { ours: oursMultiple, ort: ort ? ortMultiple : oursMultiple },
    flops: { original: originalFlops, effective: effectiveFlops, compacted: compactedFlops.dense },
    files: { denseBytes: files.denseBytes, compactBytes: files.compactBytes, onnxOriginalBytes: onnxOriginal.byteLength, onnxExportedBytes: onnxExported.byteLength },
  };
}
