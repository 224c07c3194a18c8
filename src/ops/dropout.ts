// Inverted dropout (torch.nn.functional.dropout): zero with probability p, scale the rest by 1/(1-p).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../util/rng.js';
import { fail } from './util.js';

/** The keep mask is drawn on the host from `rng` (the same draws on every device). */
export function dropout(x: Tensor, p: number, training: boolean, rng: Rng): Tensor {
  if (!(p >= 0 && p <= 1)) fail('dropout', `probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const be = backendOf('dropout', { input: x });
  const keepHost = new Float32Array(x.size);
  if (p < 1) {
    const s = 1 / (1 - p);
    for (let i = 0; i < keepHost.length; i++) keepHost[i] = rng.nextFloat() >= p ? s : 0;
  }
  const { k, f } = be;
  const keep = be.fromHost(keepHost, x.shape);
  const y = be.uninit(x.shape);
  k.mul(f(x), f(keep), f(y));
  return record('dropout', y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.mul(f(g), f(keep), f(gx));
    return [gx];
  });
}
