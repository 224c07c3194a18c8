// SeaM's masks: a weight used as W * bin(M) with bin(M) = (M > 0), and the retained-weight ratio.
// Gradients reach M through the straight-through estimator dL/dM = hardtanh(dL/dbin(M)).
// A mask may cover its weight in blocks: one element per kernel ([O, C/g, 1, 1] for a conv weight
// [O, C/g, KH, KW]) or per output channel ([O, 1, 1, 1], or [O]); its shape without trailing 1s is a
// leading part of the weight's shape, and each element covers the `block` consecutive weights the
// remaining dimensions hold. Its gradient is then the sum over the block of dL/dWeff * W.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { fail } from './util.js';

/** How many consecutive weights of `w` one element of `m` covers (an error naming `op` when m does
 *  not cover w in blocks). */
export function maskBlock(op: string, w: Tensor, m: Tensor): number {
  let lead = m.ndim;
  while (lead > 0 && m.shape[lead - 1] === 1) lead--;
  const fits = lead <= w.ndim && m.shape.slice(0, lead).every((d, i) => d === w.shape[i]);
  if (!fits) {
    fail(op, `mask ${shapeStr(m.shape)} does not cover weight ${shapeStr(w.shape)} in blocks (its shape without trailing 1s must lead the weight's)`);
  }
  return w.shape.slice(lead).reduce((a, d) => a * d, 1);
}

/** w * (m > 0) over blocks; the gradient to m is the block sums of g * w clamped to +-bound. */
function blockMasked(op: string, w: Tensor, m: Tensor, bound: number): Tensor {
  const be = backendOf(op, { weight: w, mask: m });
  const block = maskBlock(op, w, m);
  const { k, f } = be;
  const out = be.uninit(w.shape);
  k.maskedWeightBlocks(f(w), f(m), block, f(out));
  return record(op, out, [w, m], (g, needs) => {
    const gw = needs[0] ? be.uninit(w.shape) : null;
    const gm = needs[1] ? be.uninit(m.shape) : null;
    if (gw) k.maskedWeightBlocks(f(g), f(m), block, f(gw));
    if (gm) k.maskGradBlocks(f(g), f(w), block, bound, f(gm));
    return [gw, gm];
  });
}

/** W * (M > 0), M of W's shape or covering it in blocks. Gradient to M: SeaM's straight-through
 *  clamp(sum over the block of dL/dWeff * W, -1, 1); to W (if it requires grad): dL/dWeff * bin(M). */
export function maskedWeight(w: Tensor, m: Tensor): Tensor {
  return blockMasked('maskedWeight', w, m, 1);
}

/** SeaM's Bin: (m > 0) as 0 / 1, with the straight-through gradient hardtanh(g). One gate shared by
 *  several parameters (gatedWeight) receives the sum of their contributions before the clamp. */
export function binarize(m: Tensor): Tensor {
  const op = 'binarize';
  const be = backendOf(op, { mask: m });
  const { k, f } = be;
  const ones = be.full(m.shape, 1);
  const out = be.uninit(m.shape);
  k.maskedWeightBlocks(f(ones), f(m), 1, f(out));
  return record(op, out, [m], (g) => {
    const gm = be.uninit(m.shape);
    k.maskGradBlocks(f(g), f(ones), 1, 1, f(gm)); // clamp(g * 1, -1, 1)
    return [gm];
  });
}

/** w * (gate > 0) with `gate` (a binarize output) covering w in blocks; the gradient to the gate is
 *  the raw block sums of dL/dWeff * w (binarize clamps the total). */
export function gatedWeight(w: Tensor, gate: Tensor): Tensor {
  return blockMasked('gatedWeight', w, gate, Infinity);
}

/** y = x * gate per channel (x [N, C, ...], gate [C], a binarize output): SeaM's channel gate on a
 *  unit's output. Gradients: x gets g * gate, the gate the sums of g * x over everything but C.
 *  Runs as an eval-mode BatchNorm with mean 0, variance 1, eps 0 and beta 0, which is exactly that. */
export function gateChannels(x: Tensor, gate: Tensor): Tensor {
  const op = 'gateChannels';
  const be = backendOf(op, { input: x, gate });
  if (x.ndim < 2 || gate.ndim !== 1 || gate.shape[0] !== x.shape[1]) fail(op, `gate ${shapeStr(gate.shape)} does not match the channels of ${shapeStr(x.shape)}`);
  const [n, c] = x.shape;
  const hw = x.size / (n * c);
  const { k, f } = be;
  const [beta, mean, variance] = [be.zeros([c]), be.zeros([c]), be.full([c], 1)];
  const y = be.uninit(x.shape);
  const saveMean = be.uninit([c]);
  const saveInvstd = be.uninit([c]);
  k.batchNorm2dForward(f(x), f(gate), f(beta), f(mean), f(variance), f(y), f(saveMean), f(saveInvstd), n, c, hw, false, 0, 0);
  return record(op, y, [x, gate], (g, needs) => {
    const gx = be.uninit(x.shape);
    const gg = needs[1] ? be.uninit([c]) : null;
    k.batchNorm2dBackward(f(x), f(g), f(gate), f(saveMean), f(saveInvstd), f(gx), gg && f(gg), null, n, c, hw, false);
    if (!needs[0]) be.release(gx);
    return [needs[0] ? gx : null, gg];
  });
}

/** Fraction of weights kept: sum_i cover_i * #(mask_i > 0) / sum_i cover_i * size(mask_i), where
 *  cover_i is how many weights one element of mask i stands for (1 when omitted). Each element of
 *  mask i receives hardtanh(g * cover_i / total): d r / d bin(element) = cover_i / total. */
export function retainedRatio(masks: Tensor[], cover?: readonly number[]): Tensor {
  const op = 'retainedRatio';
  if (masks.length === 0) fail(op, 'no masks given');
  if (cover && cover.length !== masks.length) fail(op, `${cover.length} cover counts for ${masks.length} masks`);
  const weights = cover ?? masks.map(() => 1);
  weights.forEach((c, i) => {
    if (!Number.isInteger(c) || c < 1) fail(op, `cover of mask ${i} must be an integer >= 1, got ${c}`);
  });
  const be = backendOf(op, Object.fromEntries(masks.map((m, i) => [`mask ${i}`, m])));
  let total = 0;
  let kept = 0;
  masks.forEach((m, i) => {
    total += m.size * weights[i];
    kept += be.k.countPositive(be.f(m)) * weights[i];
  });
  if (total === 0) fail(op, 'the masks hold no elements');
  return record(op, be.full([], kept / total), masks, (g) => {
    const gv = g.item();
    return masks.map((m, i) => be.full(m.shape, Math.max(-1, Math.min(1, (gv * weights[i]) / total))));
  });
}
