// Inference workloads through the planner (src/infer): the dense model planned (BN folded, ReLU
// fused, buffers reused) and the model with a seeded random unstructured mask keeping a fraction
// of every conv/linear weight tensor (BENCHMARKS.md `infer_*_b16_keep10_ms`).
import { planModel, type PlanOptions } from '../src/infer/index.js';
import { manualSeed, type Module } from '../src/nn/index.js';
import { attachMasks } from '../src/seam/masks.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/util/rng.js';
import { MODELS, type Workload } from './workloads.js';

/** Sets every weight mask to keep exactly round(keep * size) random entries (seeded); biases are kept. */
export function randomMasks(model: Module, keep: number, seed = 10): void {
  const rng = new Rng(seed);
  for (const e of attachMasks(model)) {
    const m = e.mask.f32;
    if (e.param.endsWith('.bias')) {
      m.fill(1);
      continue;
    }
    const idx = Int32Array.from({ length: m.length }, (_, i) => i);
    const k = Math.round(keep * m.length);
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(m.length - i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    m.fill(-1);
    for (let i = 0; i < k; i++) m[idx[i]] = 1;
  }
}

export function plannedInferWorkload(arch: string, batch: number, keep: number | null, opts: PlanOptions = {}): Workload {
  manualSeed(0);
  const model = MODELS[arch]().eval();
  if (keep !== null) randomMasks(model, keep);
  const engine = planModel(model, [3, 32, 32], opts);
  const x = Tensor.randn([batch, 3, 32, 32], new Rng(3)).f32;
  return () => void engine.run(x, batch);
}
