// Per-channel statistics that a kernel must write but nothing will read: the batch mean and inverse
// std of an op that records no gradient (autograd's willRecord: an eval forward under noGrad, or
// frozen inputs). On the CPU these go to reused buffers instead of two small allocations per call,
// which in an eval forward of a ResNet cost more than the op's own JS (device buffers are not
// cached: a deviceScope may free them).
import type { Backend } from '../backend/kernels.js';
import { keepTensor } from '../backend/storage.js';
import type { Tensor } from '../tensor/tensor.js';

/** by length: two buffers (mean and invstd must not alias) */
const unread = new Map<number, [Tensor, Tensor]>();

/** Buffers for the saved batch mean and inverse std of c channels: fresh when a backward will read
 *  them, else shared ones (valid only until the next call). */
export function savedStats(be: Backend, c: number, recorded: boolean): [mean: Tensor, invstd: Tensor] {
  if (recorded || be.device !== 'cpu') return [be.uninit([c]), be.uninit([c])];
  let pair = unread.get(c);
  if (!pair) unread.set(c, (pair = [keepTensor(be.uninit([c])), keepTensor(be.uninit([c]))]));
  return pair;
}
