// SeaM's masks: a weight used as W * bin(M) with bin(M) = (M > 0), and the retained-weight ratio
// mean(bin(all masks)). Both pass gradients to M with the straight-through estimator
// dL/dM = hardtanh(dL/dbin(M)).
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor } from '../tensor/tensor.js';
import { expectSameShape, fail, uninit as empty } from './util.js';

/** W * (M > 0); gradient to M: clamp(dL/dWeff * W, -1, 1); to W (if it requires grad): dL/dWeff * bin(M). */
export function maskedWeight(w: Tensor, m: Tensor): Tensor {
  if (cudaOps.anyDevice(w, m)) return cudaOps.maskedWeight(w, m);
  expectSameShape('maskedWeight', w, m);
  const out = empty(w.shape);
  native.maskedWeight(w.f32, m.f32, out.f32);
  return record('maskedWeight', out, [w, m], (g, needs) => {
    const gw = needs[0] ? empty(w.shape) : null;
    const gm = needs[1] ? empty(m.shape) : null;
    if (gw) native.maskedWeight(g.f32, m.f32, gw.f32);
    if (gm) native.maskGrad(g.f32, w.f32, gm.f32);
    return [gw, gm];
  });
}

/** Fraction of mask elements > 0 over all masks; each mask element receives hardtanh(g / N). */
export function retainedRatio(masks: Tensor[]): Tensor {
  if (masks.some((m) => m.device !== 'cpu')) return cudaOps.retainedRatio(masks);
  if (masks.length === 0) fail('retainedRatio', 'no masks given');
  let total = 0;
  let kept = 0;
  for (const m of masks) {
    total += m.size;
    kept += native.countPositive(m.f32);
  }
  if (total === 0) fail('retainedRatio', 'the masks hold no elements');
  const r = Tensor.from([kept / total], []);
  return record('retainedRatio', r, masks, (g) => {
    const v = Math.max(-1, Math.min(1, g.f32[0] / total));
    return masks.map((m) => Tensor.full(m.shape, v));
  });
}
