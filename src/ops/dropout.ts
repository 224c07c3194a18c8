// Inverted dropout (torch.nn.functional.dropout): zero with probability p, scale the rest by 1/(1-p).
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../util/rng.js';
import { empty, fail } from './util.js';

export function dropout(x: Tensor, p: number, training: boolean, rng: Rng): Tensor {
  if (x.device !== 'cpu') return cudaOps.dropout(x, p, training, rng);
  if (!(p >= 0 && p <= 1)) fail('dropout', `probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const keep = new Float32Array(x.size);
  if (p < 1) {
    const s = 1 / (1 - p);
    for (let i = 0; i < keep.length; i++) keep[i] = rng.nextFloat() >= p ? s : 0;
  }
  const y = empty(x.shape);
  native.mul(x.f32, keep, y.f32);
  return record('dropout', y, [x], (g) => {
    const gx = empty(x.shape);
    native.mul(g.f32, keep, gx.f32);
    return [gx];
  });
}
