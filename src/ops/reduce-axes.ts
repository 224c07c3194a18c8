// Reductions over chosen axes (sum, mean, max, min; keepdims or not), softmax and log-softmax
// over one axis. Each reduced run of adjacent axes is one kernel call over an [outer, r, inner] view.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, numel, shapeStr, type Shape } from '../tensor/tensor.js';
import { reshape } from './elementwise.js';
import { expectFloat, fail } from './util.js';

export type ReduceKind = 'sum' | 'mean' | 'max' | 'min';

/** axis (negative counts from the end) as an index, or an error naming the op and shape */
export function normAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(op, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** [outer, r, inner] of the axes [from, to) of shape */
export function axisView(shape: Shape, from: number, to = from + 1): [number, number, number] {
  return [numel(shape.slice(0, from)), numel(shape.slice(from, to)), numel(shape.slice(to))];
}

/** Reduces axes [from, to) of x (kept as size 1). */
function reduceRun(kind: ReduceKind, x: Tensor, from: number, to: number): Tensor {
  const op = `reduce${kind[0].toUpperCase()}${kind.slice(1)}`;
  const be = backendOf(op, { input: x });
  const [outer, r, inner] = axisView(x.shape, from, to);
  const shape = x.shape.map((d, i) => (i >= from && i < to ? 1 : d));
  const { k, f, i } = be;
  const y = be.uninit(shape);
  if (kind === 'max' || kind === 'min') {
    if (r === 0) fail(op, `cannot take the ${kind} of an empty axis of ${shapeStr(x.shape)}`);
    const arg = be.uninit(shape, 'i32');
    k.maxAxis(f(x), f(y), i(arg), outer, r, inner, kind === 'min');
    return record(op, y, [x], (g) => {
      const gx = be.uninit(x.shape);
      k.maxAxisBackward(f(g), i(arg), f(gx), outer, r, inner);
      return [gx];
    });
  }
  const scale = kind === 'mean' ? 1 / r : 1;
  k.sumAxis(f(x), f(y), outer, r, inner, scale);
  return record(op, y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.expandAxis(f(g), f(gx), outer, r, inner, scale);
    return [gx];
  });
}

/** Reduces `axes` of x (all when empty); keeps them as size 1 when keepdims. */
export function reduce(kind: ReduceKind, x: Tensor, axes: readonly number[], keepdims: boolean): Tensor {
  const op = `reduce ${kind}`;
  expectFloat(op, 'input', x);
  const set = new Set((axes.length ? axes : x.shape.map((_, i) => i)).map((a) => normAxis(op, a, x.ndim)));
  if (set.size < (axes.length || x.ndim)) fail(op, `axes [${axes}] repeat an axis`);
  const sorted = [...set].sort((a, b) => b - a);
  let y = x;
  // runs of adjacent axes, highest first (a max over two axes is the max of maxes; means multiply out)
  for (let j = 0; j < sorted.length;) {
    let from = sorted[j];
    const to = from + 1;
    while (j + 1 < sorted.length && sorted[j + 1] === from - 1) from = sorted[++j];
    j++;
    y = reduceRun(kind, y, from, to);
  }
  return keepdims ? y : reshape(y, x.shape.filter((_, i) => !set.has(i)));
}

/** softmax (or log-softmax) over one axis */
export function softmax(x: Tensor, axis: number, log = false): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  const be = backendOf(op, { input: x });
  expectFloat(op, 'input', x);
  const [outer, r, inner] = axisView(x.shape, normAxis(op, axis, x.ndim));
  const { k, f } = be;
  const y = be.uninit(x.shape);
  k.softmax(f(x), f(y), outer, r, inner, log);
  return record(op, y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.softmaxBackward(f(y), f(g), f(gx), outer, r, inner, log);
    return [gx];
  });
}
