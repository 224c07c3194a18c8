// Reductions: sum and mean of all elements (scalar results), argmax over the last dimension.
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor } from '../tensor/tensor.js';
import { expectRank, fail } from './util.js';

export function sum(x: Tensor): Tensor {
  if (x.device !== 'cpu') return cudaOps.sum(x);
  const out = Tensor.from([native.sum(x.f32)], []);
  return record('sum', out, [x], (g) => [Tensor.full(x.shape, g.f32[0])]);
}

export function mean(x: Tensor): Tensor {
  if (x.device !== 'cpu') return cudaOps.mean(x);
  if (x.size === 0) fail('mean', 'empty tensor');
  const out = Tensor.from([native.sum(x.f32) / x.size], []);
  return record('mean', out, [x], (g) => [Tensor.full(x.shape, g.f32[0] / x.size)]);
}

/** Index of the largest value in each row of a [N, C] tensor (first one on ties). */
export function argmax(x: Tensor): Tensor {
  if (x.device !== 'cpu') return cudaOps.argmax(x);
  expectRank('argmax', 'input', x, 2);
  const [rows, cols] = x.shape;
  if (cols === 0) fail('argmax', 'rows are empty');
  const out = new Int32Array(rows);
  native.argmax(x.f32, out, rows, cols);
  return Tensor.ints(out, [rows]);
}
