// Folds a layer's parameters into what the inference kernels run: the effective weight (SeaM
// masks applied: W * (M > 0), via effectiveWeight()) scaled per output channel by the following
// eval-mode BatchNorm, and the matching bias:  w' = w * g / sqrt(v + eps),  b' = (b - m) * g / sqrt(v + eps) + beta.
// The running statistics are used whatever the module's train/eval flag (this is inference).
import { noGrad } from '../autograd/node.js';
import type { BatchNorm2d, Conv2d, Linear } from '../nn/index.js';
import type { Tensor } from '../tensor/tensor.js';

export interface FoldedLayer {
  /** O x (C/G) x KH x KW (a Linear: O x In), masks and BatchNorm folded in */
  weight: Float32Array;
  /** O, always present (zeros when the layer had no bias and no BatchNorm) */
  bias: Float32Array;
  /** fraction of nonzero weights */
  density: number;
}

function density(w: Float32Array): number {
  let nz = 0;
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) nz++;
  return w.length ? nz / w.length : 0;
}

function fold(name: string, w: Tensor, b: Tensor | null, outChannels: number, bn: BatchNorm2d | null): FoldedLayer {
  const weight = Float32Array.from(w.f32);
  const bias = new Float32Array(outChannels);
  if (b) bias.set(b.f32);
  if (bn) {
    if (bn.numFeatures !== outChannels) throw new Error(`planModel: ${name}: BatchNorm2d(${bn.numFeatures}) after a layer with ${outChannels} outputs`);
    const per = weight.length / outChannels;
    const [gamma, shift] = bn.affine(true); // SeaM's channel gate, if the conv before has one
    const [g, beta, mean, v] = [gamma.f32, shift.f32, bn.runningMean.f32, bn.runningVar.f32];
    for (let o = 0; o < outChannels; o++) {
      const scale = g[o] / Math.sqrt(v[o] + bn.eps);
      for (let i = o * per; i < (o + 1) * per; i++) weight[i] = weight[i] * scale;
      bias[o] = (bias[o] - mean[o]) * scale + beta[o];
    }
  }
  return { weight, bias, density: density(weight) };
}

export function foldConv(name: string, conv: Conv2d, bn: BatchNorm2d | null): FoldedLayer {
  return noGrad(() => fold(name, conv.effectiveWeight(), conv.effectiveBias(), conv.outChannels, bn));
}

export function foldLinear(name: string, lin: Linear): FoldedLayer {
  return noGrad(() => fold(name, lin.effectiveWeight(), lin.effectiveBias(), lin.outFeatures, null));
}
