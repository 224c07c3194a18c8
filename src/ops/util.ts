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

export function empty(shape: Shape): Tensor {
  return Tensor.zeros(shape);
}

/** A tensor whose contents are unspecified (no zero-fill pass), for outputs that a kernel
 *  overwrites completely. Large ones come from Buffer.allocUnsafeSlow (an ArrayBuffer of their
 *  own, never a shared pool slice, not zeroed), or are a recycled gradient buffer of that size. */
export function uninit(shape: Shape): Tensor {
  const n = numel(shape);
  if (n < 4096) return Tensor.zeros(shape);
  let a = spare.get(n)?.pop();
  if (a) spareFloats -= n;
  else {
    const buf = Buffer.allocUnsafeSlow(n * 4);
    a = new Float32Array(buf.buffer, buf.byteOffset, n);
  }
  handedOut?.add(a.buffer);
  return new Tensor(a, shape);
}

// Buffers of intermediate gradients that the backward sweep saw consumed and never escape (see
// autograd/backward.ts), by length: uninit hands them out again, which spares the allocation and
// the V8 garbage collections that large external buffers trigger. Bounded.
const spare = new Map<number, Float32Array[]>();
let spareFloats = 0;
const SPARE_MAX_FLOATS = 64 << 20;
let handedOut: Set<ArrayBufferLike> | null = null;

/** Runs fn with the set of the large buffers uninit hands out meanwhile (the only ones a CPU
 *  backward sweep may recycle). */
export function trackHandedOut<T>(fn: (out: Set<ArrayBufferLike>) => T): T {
  const outer = handedOut;
  const mine = new Set<ArrayBufferLike>();
  handedOut = mine;
  try {
    return fn(mine);
  } finally {
    handedOut = outer; // what an inner sweep handed out is never the outer one's to recycle
  }
}

/** Floats held for reuse (diagnostics and tests). */
export function spareFloatCount(): number {
  return spareFloats;
}

/** Gives a buffer from uninit back for reuse: its caller guarantees that no tensor or array
 *  still reading it will ever be used again. */
export function recycle(buffer: ArrayBufferLike): void {
  const n = buffer.byteLength / 4;
  if (spareFloats + n > SPARE_MAX_FLOATS) return;
  spareFloats += n;
  const list = spare.get(n);
  if (list) list.push(new Float32Array(buffer));
  else spare.set(n, [new Float32Array(buffer)]);
}

const scratch = new Map<number, Float32Array>();

/** A reusable buffer of n floats (contents unspecified) for a value that one op's backward makes
 *  and consumes itself, never returned or kept: the same buffer comes back on the next call for
 *  the same size, which spares an allocation (and the GC work it causes) per call. */
export function scratchF32(n: number): Float32Array {
  let b = scratch.get(n);
  if (!b) scratch.set(n, (b = uninit([n]).f32));
  return b;
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
