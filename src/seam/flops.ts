// FLOPs of a model's conv and linear layers, dense and effective (a zero weight does no work),
// counted as 2 * multiply-adds on one input sample. How often each weight is used comes from one
// probe forward that records every layer's input shape (Conv2d.forward is its only entry point,
// fused epilogue or not).
import { noGrad } from '../autograd/node.js';
import { Conv2d, Linear, Module } from '../nn/index.js';
import { conv2dOutputSize } from '../ops/index.js';
import { Tensor, type Shape } from '../tensor/tensor.js';
import type { FlopsReport } from './report-types.js';

function nonZeroWeights(m: Conv2d | Linear): number {
  const w = m.weight.f32;
  const mask = m.getParameter('weight_mask')?.f32;
  let n = 0;
  for (let i = 0; i < w.length; i++) if (w[i] !== 0 && (!mask || mask[i] > 0)) n++;
  return n;
}

/** Dense and effective FLOPs per sample for an input of shape [C, H, W] (or [features]). */
export function countFlops(model: Module, sampleShape: readonly number[]): FlopsReport & { layers: { name: string; dense: number; effective: number }[] } {
  const inputs = new Map<Module, Shape>();
  const layers = [...model.namedModules()].filter((e): e is [string, Conv2d | Linear] => e[1] instanceof Conv2d || e[1] instanceof Linear);
  for (const [, m] of layers) {
    const target = m as unknown as { forward: (x: Tensor, ...rest: unknown[]) => Tensor };
    const orig = target.forward;
    target.forward = (x: Tensor, ...rest: unknown[]): Tensor => {
      inputs.set(m, x.shape);
      return orig.call(m, x, ...rest);
    };
  }
  const flags = model.trainingFlags();
  try {
    model.eval();
    noGrad(() => model.forward(Tensor.zeros([1, ...sampleShape])));
  } finally {
    for (const [, m] of layers) delete (m as unknown as Record<string, unknown>).forward;
    model.restoreTrainingFlags(flags);
  }
  const rows = layers.map(([name, m]) => {
    const x = inputs.get(m);
    if (!x) return { name, dense: 0, effective: 0 };
    // each weight is used once per output position (conv) or once per input row (linear)
    const uses = m instanceof Conv2d
      ? conv2dOutputSize(x[2], m.kernelSize, m.stride, m.padding, m.dilation) * conv2dOutputSize(x[3], m.kernelSize, m.stride, m.padding, m.dilation)
      : x.slice(0, -1).reduce((a, b) => a * b, 1);
    return { name, dense: 2 * m.weight.size * uses, effective: 2 * nonZeroWeights(m) * uses };
  });
  return { dense: rows.reduce((a, r) => a + r.dense, 0), effective: rows.reduce((a, r) => a + r.effective, 0), layers: rows };
}
