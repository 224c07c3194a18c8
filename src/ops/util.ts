// Shared argument checks for the public ops: errors name the op and the shapes involved.
import { Tensor, numel, shapeStr, type Shape } from '../tensor/tensor.js';

export function fail(op: string, msg: string): never {
  throw new Error(`${op}: ${msg}`);
}

export function expectRank(op: string, name: string, t: Tensor, rank: number): void {
  if (t.ndim !== rank) fail(op, `${name} must have ${rank} dimensions, got ${shapeStr(t.shape)}`);
}

export function expectFloat(op: string, name: string, t: Tensor): void {
  if (t.dtype !== 'f32') fail(op, `${name} must be float32, got ${t.dtype} ${shapeStr(t.shape)}`);
}

export function expectSameShape(op: string, a: Tensor, b: Tensor): void {
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    fail(op, `shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ`);
  }
}

/** A pair from a number or a [h, w] tuple. */
export type Pair = number | readonly [number, number];

export function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  for (const x of p) {
    if (!Number.isInteger(x) || x < min) fail(op, `${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** The target shape of a reshape of `x` (one dimension may be -1); an error when sizes differ. */
export function reshapeDims(x: Tensor, shape: Shape): number[] {
  const dims = [...shape];
  const free = dims.indexOf(-1);
  if (free >= 0) {
    const known = dims.reduce((p, d, i) => (i === free ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0) fail('reshape', `cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
    dims[free] = x.size / known;
  }
  if (numel(dims) !== x.size) fail('reshape', `cannot reshape ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  return dims;
}
