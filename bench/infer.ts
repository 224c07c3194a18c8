// Inference workloads through the planner (src/infer): the dense model planned (BN folded, ReLU
// fused, buffers reused) and the model with a seeded random unstructured mask keeping a fraction
// of every conv/linear weight tensor (BENCHMARKS.md `infer_*_b16_keep10_ms`).
import { planModel, type PlanOptions } from '../src/infer/index.js';
import { manualSeed, type Module } from '../src/nn/index.js';
import { attachMasks } from '../src/seam/masks.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/util/rng.js';
import { MODELS, keepRandomWeights, type Workload } from './workloads.js';

/** Sets every weight mask to keep exactly round(keep * size) random entries (seeded); biases are kept. */
export function randomMasks(model: Module, keep: number, seed = 10): void {
  keepRandomWeights(attachMasks(model), keep, seed);
}

export function plannedInferWorkload(arch: string, batch: number, keep: number | null, opts: PlanOptions = {}): Workload {
  manualSeed(0);
  const model = MODELS[arch]().eval();
  if (keep !== null) randomMasks(model, keep);
  const engine = planModel(model, [3, 32, 32], opts);
  const x = Tensor.randn([batch, 3, 32, 32], new Rng(3)).f32;
  return () => void engine.run(x, batch);
}
