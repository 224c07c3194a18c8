// The CPU buffer pool: uninitialised float32 buffers for kernel outputs, and the recycling of the
// large ones that a backward sweep consumed (src/autograd/backward.ts), which spares the allocation
// and the V8 garbage collections that large external buffers trigger.
import { Tensor, numel, type Shape } from '../tensor/tensor.js';
import { heldByResult } from './scope-result.js';

/** A float32 tensor whose contents are unspecified (no zero-fill pass), for outputs that a kernel
 *  overwrites completely. Large ones come from Buffer.allocUnsafeSlow (an ArrayBuffer of their
 *  own, never a shared pool slice, not zeroed), or are a recycled gradient buffer of that size. */
export function uninitF32(shape: Shape): Tensor {
  const n = numel(shape);
  if (n < 4096) return Tensor.zeros(shape);
  const list = spare.get(n);
  let a = list?.pop();
  if (a) {
    spareFloats -= n;
    markUsed(n, list!);
  } else {
    const buf = Buffer.allocUnsafeSlow(n * 4);
    a = new Float32Array(buf.buffer, buf.byteOffset, n);
  }
  handedOut?.add(a.buffer);
  stepScopes[stepScopes.length - 1]?.add(a.buffer);
  return new Tensor(a, shape);
}

// Buffers of intermediate gradients that the backward sweep saw consumed and never escape, by
// length: uninitF32 hands them out again. Bounded; when full, the sizes used least recently go
// first (a Map keeps insertion order; a size moves to the end when used), so that the buffers of
// an earlier phase (another batch size: evaluation, an attack) never crowd out the current one's.
// Without eviction one phase's sizes could fill it for good: when seam defect also recycled its
// evaluation batches, its later phases ran 1.2-2x slower (PGD attack 9.2 -> 18.9 s).
const spare = new Map<number, Float32Array[]>();
let spareFloats = 0;
let spareMaxFloats = 64 << 20;
let handedOut: Set<ArrayBufferLike> | null = null;

/** Runs fn with the set of the large buffers uninitF32 hands out meanwhile (the only ones a CPU
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

/** Sets how many floats the pool may hold (default 64M = 256 MB; tests use small ones), evicting
 *  down to it; returns the previous limit. */
export function setSpareFloatLimit(floats: number): number {
  if (!Number.isInteger(floats) || floats < 0) throw new Error(`setSpareFloatLimit: a limit must be an integer >= 0, got ${floats}`);
  const prev = spareMaxFloats;
  spareMaxFloats = floats;
  while (spareFloats > spareMaxFloats) evictLeastRecent();
  return prev;
}

/** Floats held for reuse (diagnostics and tests). */
export function spareFloatCount(): number {
  return spareFloats;
}

/** Gives a buffer from uninitF32 back for reuse: its caller guarantees that no tensor or array
 *  still reading it will ever be used again. */
export function recycle(buffer: ArrayBufferLike): void {
  keepCpuBuffer(buffer); // out of every recycling scope: never given back twice
  const n = buffer.byteLength / 4;
  if (n > spareMaxFloats) return;
  while (spareFloats + n > spareMaxFloats) evictLeastRecent();
  spareFloats += n;
  const list = spare.get(n) ?? [];
  list.push(new Float32Array(buffer));
  markUsed(n, list);
}

/** Moves size n to the end of the pool's order (used most recently; eviction starts from the
 *  other end); an emptied size leaves the pool. */
function markUsed(n: number, list: Float32Array[]): void {
  spare.delete(n);
  if (list.length) spare.set(n, list);
}

/** Drops one buffer of the size used least recently (the garbage collector takes it). */
function evictLeastRecent(): void {
  const [n, list] = spare.entries().next().value!;
  list.pop();
  spareFloats -= n;
  if (!list.length) spare.delete(n);
}

// Recycling scopes (a training step): the large buffers handed out inside one go back to the pool
// at its end, except those of the tensors it returns and those kept (keepCpuBuffer: parameters,
// optimizer state, leaf gradients). Activations are the bulk: without this every step allocates
// ~100 MB of fresh ArrayBuffers for a CIFAR ResNet20 at batch 64, and V8 answers that external
// memory with a full garbage collection about every 40 ms.
const stepScopes: Set<ArrayBufferLike>[] = [];

/** Keeps a buffer out of every open recycling scope (it outlives them). */
export function keepCpuBuffer(buffer: ArrayBufferLike): void {
  for (const scope of stepScopes) scope.delete(buffer);
}

/** Runs fn, then recycles the large buffers it was handed and let go of: every one not under a
 *  tensor or typed array of its result (either, or arrays / maps / plain objects of them, as
 *  deviceScope takes) and not kept. Only for code that holds none of them afterwards: a training
 *  step of the search. On an exception nothing is recycled. Returned buffers move to the enclosing
 *  scope, if any. fn must be synchronous. */
export function recyclingScope<T>(fn: () => T): T {
  const mine = new Set<ArrayBufferLike>();
  stepScopes.push(mine);
  let result: T;
  try {
    result = fn();
  } finally {
    stepScopes.splice(stepScopes.lastIndexOf(mine), 1);
  }
  if (result instanceof Promise) {
    throw new Error('recyclingScope: fn must be synchronous (its buffers would be recycled while it still runs)');
  }
  const bufferOf = (x: Tensor | ArrayBufferView): ArrayBufferLike | null =>
    ArrayBuffer.isView(x) ? x.buffer : x.device === 'cpu' ? x.data.buffer : null;
  const returned = new Set(heldByResult(result).map(bufferOf));
  const parent = stepScopes[stepScopes.length - 1];
  for (const buffer of mine) {
    if (!returned.has(buffer)) recycle(buffer);
    else parent?.add(buffer);
  }
  return result;
}
