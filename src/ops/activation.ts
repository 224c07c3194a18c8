// Activations beyond ReLU that imported graphs use: sigmoid and clip (ReLU6 is clip(0, 6)).
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { Tensor } from '../tensor/tensor.js';
import { empty, expectFloat, fail } from './util.js';

export function sigmoid(x: Tensor): Tensor {
  if (x.device !== 'cpu') return cudaOps.viaHost('sigmoid', [x], ([h]) => sigmoid(h));
  expectFloat('sigmoid', 'input', x);
  const y = empty(x.shape);
  const xs = x.f32;
  const ys = y.f32;
  for (let i = 0; i < xs.length; i++) ys[i] = 1 / (1 + Math.exp(-xs[i]));
  return record('sigmoid', y, [x], (g) => {
    const gx = empty(x.shape);
    const gs = g.f32;
    const out = gx.f32;
    for (let i = 0; i < out.length; i++) out[i] = gs[i] * ys[i] * (1 - ys[i]);
    return [gx];
  });
}

/** min(max(x, lo), hi); the gradient passes where lo <= x <= hi (as torch.clamp). */
export function clip(x: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  if (x.device !== 'cpu') return cudaOps.viaHost('clip', [x], ([h]) => clip(h, lo, hi));
  expectFloat('clip', 'input', x);
  if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) fail('clip', `invalid range [${lo}, ${hi}]`);
  const y = empty(x.shape);
  const xs = x.f32;
  const ys = y.f32;
  for (let i = 0; i < xs.length; i++) ys[i] = Math.min(Math.max(xs[i], lo), hi);
  return record('clip', y, [x], (g) => {
    const gx = empty(x.shape);
    const gs = g.f32;
    const out = gx.f32;
    for (let i = 0; i < out.length; i++) out[i] = xs[i] >= lo && xs[i] <= hi ? gs[i] : 0;
    return [gx];
  });
}
