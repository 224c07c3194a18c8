// Reductions: sum and mean of all elements (scalar results), argmax over the last dimension.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor } from '../tensor/tensor.js';
import { expectRank, fail } from './util.js';

export function sum(x: Tensor): Tensor {
  const be = backendOf('sum', { input: x });
  return record('sum', be.full([], be.k.sum(be.f(x))), [x], (g) => [be.full(x.shape, g.item())]);
}

export function mean(x: Tensor): Tensor {
  const be = backendOf('mean', { input: x });
  if (x.size === 0) fail('mean', 'empty tensor');
  return record('mean', be.full([], be.k.sum(be.f(x)) / x.size), [x], (g) => [be.full(x.shape, g.item() / x.size)]);
}

/** Index of the largest value in each row of a [N, C] tensor (first one on ties), as int32 [N]. */
export function argmax(x: Tensor): Tensor {
  const be = backendOf('argmax', { input: x });
  expectRank('argmax', 'input', x, 2);
  const [rows, cols] = x.shape;
  if (cols === 0) fail('argmax', 'rows are empty');
  const out = be.uninit([rows], 'i32');
  be.k.argmax(be.f(x), be.i(out), rows, cols);
  return out;
}
