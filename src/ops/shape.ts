// Shape ops with gradients: numpy-style broadcasting (broadcastTo, broadcastShapes) and concat.
// Integer tensors pass through unchanged in dtype (they never record gradients).
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { Tensor, numel, shapeStr, type Shape } from '../tensor/tensor.js';
import { fail } from './util.js';

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
  if (x.device !== 'cpu') return cudaOps.viaHost('broadcastTo', [x], ([h]) => broadcastTo(h, shape));
  const target = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (target.length !== shape.length || target.some((d, i) => d !== shape[i])) {
    fail('broadcastTo', `cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  }
  if (x.ndim === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  const map = broadcastIndex(x.shape, shape);
  const data = x.dtype === 'f32' ? new Float32Array(map.length) : new Int32Array(map.length);
  const src = x.data;
  for (let k = 0; k < map.length; k++) data[k] = src[map[k]];
  return record('broadcastTo', new Tensor(data, shape), [x], (g) => {
    const gx = Tensor.zeros(x.shape);
    const gs = g.f32;
    const out = gx.f32;
    for (let k = 0; k < map.length; k++) out[map[k]] += gs[k];
    return [gx];
  });
}

/** Joins tensors of one dtype along `axis` (negative counts from the end). */
export function concat(xs: Tensor[], axis: number): Tensor {
  if (xs.some((t) => t.device !== 'cpu')) return cudaOps.viaHost('concat', xs, (hs) => concat(hs, axis));
  if (xs.length === 0) fail('concat', 'no inputs');
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
  const outer = numel(xs[0].shape.slice(0, ax));
  const chunks = xs.map((t) => numel(t.shape.slice(ax)));
  const row = chunks.reduce((a, b) => a + b, 0);
  const shape = [...xs[0].shape];
  shape[ax] = xs.reduce((a, t) => a + t.shape[ax], 0);
  const data = dtype === 'f32' ? new Float32Array(outer * row) : new Int32Array(outer * row);
  let off = 0;
  xs.forEach((t, j) => {
    const c = chunks[j];
    for (let o = 0; o < outer; o++) data.set(t.data.subarray(o * c, (o + 1) * c), o * row + off);
    off += c;
  });
  return record('concat', new Tensor(data, shape), xs, (g, needs) => {
    let start = 0;
    return xs.map((t, j) => {
      const c = chunks[j];
      const s = start;
      start += c;
      if (!needs[j]) return null;
      const gx = Tensor.zeros(t.shape);
      for (let o = 0; o < outer; o++) gx.f32.set(g.f32.subarray(o * row + s, o * row + s + c), o * c);
      return gx;
    });
  });
}
