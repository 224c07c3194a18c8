// SeaM's masks: a weight used as W * bin(M) with bin(M) = (M > 0), and the retained-weight ratio
// mean(bin(all masks)). Both pass gradients to M with the straight-through estimator
// dL/dM = hardtanh(dL/dbin(M)).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor } from '../tensor/tensor.js';
import { expectSameShape, fail } from './util.js';

/** W * (M > 0); gradient to M: clamp(dL/dWeff * W, -1, 1); to W (if it requires grad): dL/dWeff * bin(M). */
export function maskedWeight(w: Tensor, m: Tensor): Tensor {
  const op = 'maskedWeight';
  const be = backendOf(op, { weight: w, mask: m });
  expectSameShape(op, w, m);
  const { k, f } = be;
  const out = be.uninit(w.shape);
  k.maskedWeight(f(w), f(m), f(out));
  return record(op, out, [w, m], (g, needs) => {
    const gw = needs[0] ? be.uninit(w.shape) : null;
    const gm = needs[1] ? be.uninit(m.shape) : null;
    if (gw) k.maskedWeight(f(g), f(m), f(gw));
    if (gm) k.maskGrad(f(g), f(w), f(gm));
    return [gw, gm];
  });
}

/** Fraction of mask elements > 0 over all masks; each mask element receives hardtanh(g / N). */
export function retainedRatio(masks: Tensor[]): Tensor {
  const op = 'retainedRatio';
  if (masks.length === 0) fail(op, 'no masks given');
  const be = backendOf(op, Object.fromEntries(masks.map((m, i) => [`mask ${i}`, m])));
  let total = 0;
  let kept = 0;
  for (const m of masks) {
    total += m.size;
    kept += be.k.countPositive(be.f(m));
  }
  if (total === 0) fail(op, 'the masks hold no elements');
  return record(op, be.full([], kept / total), masks, (g) => {
    const v = Math.max(-1, Math.min(1, g.item() / total));
    return masks.map((m) => be.full(m.shape, v));
  });
}
