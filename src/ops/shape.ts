// Shape ops with gradients: numpy-style broadcasting (broadcastTo, broadcastShapes) and concat.
// Integer tensors pass through unchanged in dtype (they never record gradients).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import type { Backend } from '../backend/kernels.js';
import { Tensor, numel, shapeStr, type Shape } from '../tensor/tensor.js';
import { fail } from './util.js';

/** The buffer of a float32 or int32 tensor, for kernels that only move 4-byte elements. */
function anyBuffer(be: Backend, t: Tensor): unknown {
  return t.dtype === 'f32' ? be.f(t) : be.i(t);
}

/** The broadcast result of two shapes (numpy rules), or an error naming both. */
export function broadcastShapes(a: Shape, b: Shape, op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(op, `shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** For each element of `out`, the flat index of the element of `inp` it reads. */
function broadcastIndex(inp: Shape, out: Shape): Int32Array {
  const n = out.length;
  const inStrides = new Array<number>(n).fill(0);
  let s = 1;
  for (let i = inp.length - 1; i >= 0; i--) {
    const j = n - inp.length + i;
    inStrides[j] = inp[i] === 1 ? 0 : s;
    s *= inp[i];
  }
  const map = new Int32Array(numel(out));
  const idx = new Array<number>(n).fill(0);
  let src = 0;
  for (let k = 0; k < map.length; k++) {
    map[k] = src;
    for (let d = n - 1; d >= 0; d--) {
      idx[d]++;
      src += inStrides[d];
      if (idx[d] < out[d]) break;
      src -= inStrides[d] * idx[d];
      idx[d] = 0;
    }
  }
  return map;
}

export function broadcastTo(x: Tensor, shape: Shape): Tensor {
  const be = backendOf('broadcastTo', { input: x });
  const target = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    fail('broadcastTo', `cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  }
  if (x.ndim === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const map = broadcastIndex(x.shape, shape);
  const y = be.uninit(shape, x.dtype);
  be.k.gather(anyBuffer(be, x), map, anyBuffer(be, y));
  return record('broadcastTo', y, [x], (g) => {
    const gx = be.zeros(x.shape);
    be.k.scatterAdd(be.f(g), map, be.f(gx));
    return [gx];
  });
}

/** Joins tensors of one dtype along `axis` (negative counts from the end). */
export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.length === 0) fail('concat', 'no inputs');
  const be = backendOf('concat', Object.fromEntries(xs.map((t, i) => [`input ${i}`, t])));
  const rank = xs[0].ndim;
  const ax = axis < 0 ? axis + rank : axis;
  if (ax < 0 || ax >= rank) fail('concat', `axis ${axis} out of range for rank ${rank}`);
  const dtype = xs[0].dtype;
  for (const t of xs) {
    if (t.dtype !== dtype) fail('concat', `mixed dtypes ${dtype} and ${t.dtype}`);
    if (t.ndim !== rank || t.shape.some((d, i) => i !== ax && d !== xs[0].shape[i])) {
      fail('concat', `shapes ${xs.map((u) => shapeStr(u.shape)).join(', ')} differ outside axis ${ax}`);
    }
  }
  // Each input is `outer` rows of `chunks[j]` elements; an output row holds one row of each.
  const outer = numel(xs[0].shape.slice(0, ax));
  const chunks = xs.map((t) => numel(t.shape.slice(ax)));
  const offsets = chunks.map((_, j) => chunks.slice(0, j).reduce((a, b) => a + b, 0));
  const row = chunks.reduce((a, b) => a + b, 0);
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((a, t) => a + t.shape[ax], 0);
  const { k } = be;
  const out = be.uninit(shape, dtype);
  xs.forEach((t, j) => k.copyRows(anyBuffer(be, t), chunks[j], 0, anyBuffer(be, out), row, offsets[j], outer, chunks[j]));
  return record('concat', out, xs, (g, needs) => xs.map((t, j) => {
    if (!needs[j]) return null;
    const gx = be.uninit(t.shape);
    k.copyRows(be.f(g), row, offsets[j], be.f(gx), chunks[j], 0, outer, chunks[j]);
    return gx;
  }));
}
