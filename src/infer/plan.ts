// planModel: walks the model (graph.ts), folds BatchNorm and masks (fold.ts), and chooses per
// conv/linear a dense kernel (packed-GEMM conv with folded weights) or a sparse one (CSR of the
// kept weights, native/kernels/sparse*.rs) from its density and shape; packs the sparse weights (pack.ts).
import type { Module } from '../nn/index.js';
import { buildGraph, convParams, type ConvGeometry, type ConvStep } from './graph.js';
import { InferenceEngine } from './engine.js';
import { packSparse, type SparseWeights } from './pack.js';

export { convParams, packSparse, type SparseWeights };

export type KernelChoice = 'auto' | 'dense' | 'sparse';

export interface PlanOptions {
  /** force every conv/linear to one kernel; 'auto' (default) decides per layer */
  kernel?: KernelChoice;
  /** override the density below which 'auto' picks the sparse kernel (for every shape) */
  sparseBelow?: number;
}

export interface LayerPlan {
  step: ConvStep;
  kernel: 'dense' | 'sparse';
  /** why this kernel, e.g. "density 0.10 < 0.40 (3x3, 32x32)" */
  reason: string;
  /** packed for the batch of the plan's sample shape (1 when it has none); see engine.ts */
  sparse: SparseWeights | null;
}

/**
 * The density below which the sparse kernel beats the dense one, for a layer's shape. Measured per
 * layer of VGG16-BN at batch 16 on the 2-core Zen 4 build machine (CPU ms, 1 thread; dense vs sparse
 * at keep 0.2 / 0.3 / 0.4): stride-1 maps >= 8x8 (direct lowering): 13.5 vs 6.1 / 8.4 / 10.4 ms
 * (crossover ~0.5); 4x4 and 2x2 maps (im2col panels): 13.4 vs 8.6 / 16.3 / 15.2 and 4.6 vs
 * 2.9 / 5.1 / 4.7 ms (crossover ~0.25). Thin layers (K = C*KH*KW <= 64) run the dense GEMM far
 * below its peak, so they go sparse earlier. ResNet20 at batch 16, keep 0.1 (wall ms, 2 threads):
 * the 1x1 stride-2 downsamples cost 0.11 dense vs 0.14-0.16 sparse (the copy of the source
 * dominates), so they stay dense; 3x3 stride-2 (direct lowering over phase planes) 0.37 / 0.43
 * dense vs 0.29 / 0.21 sparse.
 */
export function sparseCrossover(g: ConvGeometry): number {
  const k = g.c * g.kh * g.kw;
  if (g.h === 1 && g.w === 1 && g.kh === 1) return 0.5; // Linear: memory bound either way, fewer bytes win
  if (g.kh === 1 && g.kw === 1 && (g.sh !== 1 || g.sw !== 1)) return 0.05; // strided 1x1: a subsampling copy + tiny GEMM
  if (k <= 64) return 0.5;
  if (g.oh * g.ow < 64) return 0.25; // panel lowering
  return 0.45; // direct lowering
}

export function chooseKernel(g: ConvGeometry, density: number, opts: PlanOptions = {}): { kernel: 'dense' | 'sparse'; reason: string } {
  const what = `${g.kh}x${g.kw}/${g.sh}, ${g.c}->${g.o}, ${g.oh}x${g.ow}`;
  if (g.groups !== 1) return { kernel: 'dense', reason: `groups=${g.groups}: the sparse kernel needs groups=1 (${what})` };
  const forced = opts.kernel ?? 'auto';
  if (forced !== 'auto') return { kernel: forced, reason: `forced ${forced} (${what})` };
  const limit = opts.sparseBelow ?? sparseCrossover(g);
  const d = density.toFixed(3);
  return density < limit
    ? { kernel: 'sparse', reason: `density ${d} < ${limit} (${what})` }
    : { kernel: 'dense', reason: `density ${d} >= ${limit} (${what})` };
}

/**
 * Plans the model for inference on images of sampleShape ([C, H, W] or [N, C, H, W]; the batch is
 * given per run, N only picks the sparse packing made up front, see pack.ts). The model's weights
 * are copied (folded) now: later changes to the model do not reach the engine; plan again after
 * changing masks or weights.
 */
export function planModel(model: Module, sampleShape: readonly number[], opts: PlanOptions = {}): InferenceEngine {
  const graph = buildGraph(model, sampleShape);
  const batch = sampleShape.length === 4 ? sampleShape[0] : 1;
  const layers = new Map<ConvStep, LayerPlan>();
  for (const step of graph.steps) {
    if (step.kind !== 'conv') continue;
    const { kernel, reason } = chooseKernel(step.geom, step.layer.density, opts);
    layers.set(step, { step, kernel, reason, sparse: kernel === 'sparse' ? packSparse(step.geom, step.layer.weight, batch) : null });
  }
  return new InferenceEngine(graph, layers);
}
