// Ops that move elements along an index map computed on the host: permute (transpose), slice with
// steps, indexSelect (gather along an axis) and pad (constant, reflect, edge, wrap). The forward
// gathers, the gradient scatters back; maps are memoised by shape and arguments, so a training loop
// builds each map once.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import type { Backend } from '../backend/kernels.js';
import { Tensor, numel, shapeStr, type Shape } from '../tensor/tensor.js';
import { normAxis } from './reduce-axes.js';
import { fail } from './util.js';

const memo = new Map<string, Int32Array>();
let memoElements = 0;
const MEMO_LIMIT = 1 << 25; // int32 elements (128 MB) kept across calls

function memoised(key: string, build: () => Int32Array): Int32Array {
  const hit = memo.get(key);
  if (hit) {
    memo.delete(key);
    memo.set(key, hit); // most recently used last
    return hit;
  }
  const map = build();
  memo.set(key, map);
  memoElements += map.length;
  for (const [k, v] of memo) {
    if (memoElements <= MEMO_LIMIT || k === key) break;
    memo.delete(k);
    memoElements -= v.length;
  }
  return map;
}

function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

/** The map of an output of `outShape` whose element along axis d at coordinate c reads input
 *  coordinate src[d][c] (-1: the fill value). */
function separableMap(inShape: Shape, outShape: Shape, src: Int32Array[]): Int32Array {
  const strides = stridesOf(inShape);
  const map = new Int32Array(numel(outShape));
  const rank = outShape.length;
  if (map.length === 0) return map;
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < map.length; k++) {
    let off = 0;
    for (let d = 0; d < rank; d++) {
      const s = src[d][idx[d]];
      if (s < 0) {
        off = -1;
        break;
      }
      off += s * strides[d];
    }
    map[k] = off;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return map;
}

function anyBuffer(be: Backend, t: Tensor): unknown {
  return t.dtype === 'f32' ? be.f(t) : be.i(t);
}

/** y[k] = x[map[k]] (map[k] < 0: `fill`), shaped `shape`; the gradient scatters back to x. */
export function gatherMap(op: string, x: Tensor, map: Int32Array, shape: Shape, fill = 0): Tensor {
  const be = backendOf(op, { input: x });
  if (map.length !== numel(shape)) fail(op, `index map of ${map.length} elements for shape ${shapeStr(shape)}`);
  const y = be.uninit(shape, x.dtype);
  be.k.gatherFill(anyBuffer(be, x) as never, map, fill, anyBuffer(be, y) as never);
  return record(op, y, [x], (g) => {
    const gx = be.zeros(x.shape);
    be.k.scatterTaps(be.f(g), map, ones(map.length), 1, be.f(gx));
    return [gx];
  });
}

let onesCache = new Float32Array(0);
function ones(n: number): Float32Array {
  if (onesCache.length < n) onesCache = new Float32Array(n).fill(1);
  return onesCache.subarray(0, n);
}

/** x with its axes reordered: output axis i is input axis perm[i] (torch.permute, ONNX Transpose). */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const op = 'permute';
  if (perm.length !== x.ndim || new Set(perm.map((p) => normAxis(op, p, x.ndim))).size !== x.ndim) {
    fail(op, `[${perm}] is not a permutation of the ${x.ndim} axes of ${shapeStr(x.shape)}`);
  }
  const p = perm.map((a) => normAxis(op, a, x.ndim));
  if (p.every((a, i) => a === i)) return x;
  const outShape = p.map((a) => x.shape[a]);
  const map = memoised(`permute|${x.shape}|${p}`, () => {
    const strides = stridesOf(x.shape).map((_, d, all) => all[p[d]]); // input stride of output axis d
    const m = new Int32Array(numel(outShape));
    const idx = new Array<number>(p.length).fill(0);
    for (let k = 0; k < m.length; k++) {
      let off = 0;
      for (let d = 0; d < p.length; d++) off += idx[d] * strides[d];
      m[k] = off;
      for (let d = p.length - 1; d >= 0; d--) {
        if (++idx[d] < outShape[d]) break;
        idx[d] = 0;
      }
    }
    return m;
  });
  return gatherMap(op, x, map, outShape);
}

export interface SliceSpec {
  axis: number;
  start: number;
  end: number;
  step?: number;
}

/** numpy / ONNX Slice: start and end clamped to the axis (negative values count from its end),
 *  any non-zero step (negative walks backwards). */
export function slice(x: Tensor, specs: readonly SliceSpec[]): Tensor {
  const op = 'slice';
  const src: Int32Array[] = x.shape.map((d) => Int32Array.from({ length: d }, (_, c) => c));
  const seen = new Set<number>();
  for (const s of specs) {
    const a = normAxis(op, s.axis, x.ndim);
    if (seen.has(a)) fail(op, `axis ${s.axis} is sliced twice`);
    seen.add(a);
    const n = x.shape[a];
    const step = s.step ?? 1;
    if (!Number.isInteger(step) || step === 0) fail(op, `step ${step} must be a non-zero integer`);
    const clampTo = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    const start = step > 0 ? clampTo(s.start, 0, n) : clampTo(s.start, -1, n - 1);
    const end = step > 0 ? clampTo(s.end, 0, n) : clampTo(s.end, -1, n - 1);
    const coords: number[] = [];
    for (let c = start; step > 0 ? c < end : c > end; c += step) coords.push(c);
    src[a] = Int32Array.from(coords);
  }
  const outShape = src.map((s) => s.length);
  if (outShape.every((d, i) => d === x.shape[i]) && src.every((s) => s.every((c, i) => c === i))) return x;
  const map = memoised(`slice|${x.shape}|${src.map((s) => `${s[0]}:${s.length}:${s[1] - s[0]}`)}`, () => separableMap(x.shape, outShape, src));
  return gatherMap(op, x, map, outShape);
}

/** Elements of x at `indices` along `axis` (negative indices count from the end): the output's
 *  shape is x's with that axis replaced by `indexShape` (torch.index_select, ONNX Gather). */
export function indexSelect(x: Tensor, axis: number, indices: Int32Array, indexShape: Shape = [indices.length]): Tensor {
  const op = 'indexSelect';
  const a = normAxis(op, axis, x.ndim);
  const n = x.shape[a];
  if (numel(indexShape) !== indices.length) fail(op, `index shape ${shapeStr(indexShape)} does not hold ${indices.length} indices`);
  const norm = Int32Array.from(indices, (i) => {
    const j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) fail(op, `index ${i} out of range for axis ${a} of ${shapeStr(x.shape)}`);
    return j;
  });
  const flatShape = x.shape.map((d, i) => (i === a ? norm.length : d));
  const src = x.shape.map((d, i) => (i === a ? norm : Int32Array.from({ length: d }, (_, c) => c)));
  const map = separableMap(x.shape, flatShape, src);
  return gatherMap(op, x, map, [...x.shape.slice(0, a), ...indexShape, ...x.shape.slice(a + 1)]);
}

export type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

/** Pads (or, with negative amounts, crops) every axis: pads = [begin_0, ..., begin_r-1, end_0, ...,
 *  end_r-1] as in ONNX Pad. reflect mirrors without repeating the edge, as often as the pad needs
 *  (numpy's 'reflect'). */
export function pad(x: Tensor, pads: readonly number[], mode: PadMode = 'constant', value = 0): Tensor {
  const op = 'pad';
  const r = x.ndim;
  if (pads.length !== 2 * r || !pads.every(Number.isInteger)) fail(op, `expected ${2 * r} integer pads for ${shapeStr(x.shape)}, got [${pads}]`);
  const outShape = x.shape.map((d, i) => d + pads[i] + pads[i + r]);
  if (outShape.some((d) => d < 0)) fail(op, `pads [${pads}] crop more than ${shapeStr(x.shape)} holds`);
  const src = x.shape.map((n, i) => Int32Array.from({ length: outShape[i] }, (_, o) => {
    let c = o - pads[i];
    if (c >= 0 && c < n) return c;
    if (mode === 'constant') return -1;
    if (n === 0) fail(op, `cannot ${mode}-pad the empty axis ${i} of ${shapeStr(x.shape)}`);
    if (mode === 'edge') return Math.min(Math.max(c, 0), n - 1);
    if (mode === 'wrap') return ((c % n) + n) % n;
    if (n === 1) return 0;
    const period = 2 * (n - 1);
    c = ((c % period) + period) % period;
    return c < n ? c : period - c;
  }));
  const map = memoised(`pad|${x.shape}|${pads}|${mode}`, () => separableMap(x.shape, outShape, src));
  return gatherMap(op, x, map, outShape, value);
}
