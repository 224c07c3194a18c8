// Activations beyond ReLU that imported graphs use: sigmoid and clip (ReLU6 is clip(0, 6)).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor } from '../tensor/tensor.js';
import { expectFloat, fail } from './util.js';

export function sigmoid(x: Tensor): Tensor {
  const be = backendOf('sigmoid', { input: x });
  expectFloat('sigmoid', 'input', x);
  const { k, f } = be;
  const y = be.uninit(x.shape);
  k.sigmoid(f(x), f(y));
  return record('sigmoid', y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.sigmoidBackward(f(y), f(g), f(gx));
    return [gx];
  });
}

/** min(max(x, lo), hi); the gradient passes where lo <= x <= hi (as torch.clamp). */
export function clip(x: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  const be = backendOf('clip', { input: x });
  expectFloat('clip', 'input', x);
  if (Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) fail('clip', `invalid range [${lo}, ${hi}]`);
  const { k, f } = be;
  const y = be.uninit(x.shape);
  k.clip(f(x), lo, hi, f(y));
  return record('clip', y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.clipBackward(f(x), f(g), lo, hi, f(gx));
    return [gx];
  });
}
