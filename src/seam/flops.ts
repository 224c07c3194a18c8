// FLOPs of a model's conv and linear layers, dense and effective (a zero weight does no work),
// counted as 2 * multiply-adds on one input sample. How often each weight is used comes from one
// probe forward that records every layer's input shape (Conv2d.forward is its only entry point,
// fused epilogue or not).
import { noGrad } from '../autograd/node.js';
import { Conv2d, ConvTranspose2d, Linear, Module } from '../nn/index.js';
import { conv2dOutputSize } from '../ops/index.js';
import { Tensor, type Shape } from '../tensor/tensor.js';
import type { FlopsReport } from './report-types.js';

type Layer = Conv2d | ConvTranspose2d | Linear;

/** Weights that do work: nonzero after SeaM's masks (per weight, kernel or channel) are applied. */
function nonZeroWeights(m: Layer): number {
  const w = noGrad(() => m.effectiveWeight());
  const v = w.device === 'cpu' ? w.f32 : w.cpu().f32;
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) n++;
  return n;
}

/** Dense and effective FLOPs per sample for an input of shape [C, H, W] (or [features]). */
export function countFlops(model: Module, sampleShape: readonly number[]): FlopsReport & { layers: { name: string; dense: number; effective: number }[] } {
  const inputs = new Map<Module, Shape>();
  const layers = [...model.namedModules()].filter((e): e is [string, Layer] => e[1] instanceof Conv2d || e[1] instanceof ConvTranspose2d || e[1] instanceof Linear);
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
    // each weight is used once per output position (conv), per input position (transposed conv)
    // or per input row (linear)
    const uses = m instanceof Conv2d
      ? [2, 3].reduce((p, d) => p * conv2dOutputSize(x[d], m.kernelShape[d - 2], m.strides[d - 2], m.pads[d - 2], m.dilations[d - 2]), 1)
      : m instanceof ConvTranspose2d ? x[2] * x[3] : x.slice(0, -1).reduce((a, b) => a * b, 1);
    return { name, dense: 2 * m.weight.size * uses, effective: 2 * nonZeroWeights(m) * uses };
  });
  return { dense: rows.reduce((a, r) => a + r.dense, 0), effective: rows.reduce((a, r) => a + r.effective, 0), layers: rows };
}
