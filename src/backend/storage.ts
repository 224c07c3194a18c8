// Device storage behind CUDA tensors: a reference-counted device buffer (views such as reshape
// and detach share one), returned to the caching allocator when the last tensor using it is
// disposed or garbage collected (a FinalizationRegistry is the safety net), and deviceScope(),
// which disposes every device tensor created inside it except those it returns or that were kept.
import type { DType, DeviceBuffer, Tensor } from '../tensor/tensor.js';
import { allocator } from './allocator.js';
import { keepCpuBuffer } from './cpu-pool.js';
import { heldByResult } from './scope-result.js';
import { cudaNative as cu } from './cuda-native.js';

export class DeviceStorage implements DeviceBuffer {
  readonly device = 'cuda' as const;
  private refs = 0;
  private released = false;

  constructor(readonly handle: number, readonly length: number, readonly dtype: DType) {}

  /** A fresh buffer from the caching allocator (no references yet: a Tensor takes the first). */
  static alloc(length: number, dtype: DType): DeviceStorage {
    return new DeviceStorage(allocator.alloc(length), length, dtype);
  }

  /** One more tensor uses this buffer: a reference, a finalizer, and the innermost deviceScope. */
  adopt(t: Tensor): void {
    this.retain();
    finalizer.register(t, this, t);
    if (scopes.length > 0) scopes[scopes.length - 1].add(t);
  }

  /** Tensor.dispose(): drops the tensor's reference (once). */
  abandon(t: Tensor): void {
    finalizer.unregister(t);
    this.release();
  }

  read(): Float32Array | Int32Array {
    if (this.dtype === 'i32') {
      const out = new Int32Array(this.length);
      cu.cudaDownloadI32(this.handle, out);
      return out;
    }
    const out = new Float32Array(this.length);
    cu.cudaDownload(this.handle, out);
    return out;
  }

  retain(): void {
    if (this.released) throw new Error('device storage used after it was freed');
    this.refs++;
  }

  release(): void {
    if (this.released || --this.refs > 0) return;
    this.released = true;
    allocator.release(this.handle, this.length);
  }
}

// Tensors garbage collected without dispose() give their reference back here.
const finalizer = new FinalizationRegistry<DeviceStorage>((s) => {
  try {
    s.release();
  } catch {
    // never throw from a finalizer
  }
});

const scopes: Set<Tensor>[] = [];

/** Removes a tensor from every open scope (parameters, optimizer state, leaf gradients): device
 *  scopes, and on the CPU the recycling scopes of cpu-pool.ts. */
export function keepTensor(t: Tensor): Tensor {
  if (t.device !== 'cpu') for (const s of scopes) s.delete(t);
  else keepCpuBuffer(t.data.buffer);
  return t;
}

/** Runs fn and disposes every device tensor it created, except the tensors in its result (a
 *  tensor, or arrays / maps / plain objects of them) and those passed to keepTensor(). Those move
 *  to the enclosing scope, if any. Run a whole training step (forward, backward, update) in one. */
export function deviceScope<T>(fn: () => T): T {
  const mine = new Set<Tensor>();
  scopes.push(mine);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    closeScope(mine, new Set());
    throw err;
  }
  if (result instanceof Promise) {
    closeScope(mine, new Set());
    throw new Error('deviceScope: fn must be synchronous (device tensors made after an await would escape the scope)');
  }
  const keep = new Set(heldByResult(result).filter((x): x is Tensor => !ArrayBuffer.isView(x)));
  closeScope(mine, keep);
  return result;
}

function closeScope(mine: Set<Tensor>, keep: Set<Tensor>): void {
  const i = scopes.lastIndexOf(mine);
  if (i >= 0) scopes.splice(i, 1);
  const parent = scopes[scopes.length - 1];
  for (const t of mine) {
    if (keep.has(t)) parent?.add(t);
    else t.dispose();
  }
}

/** Records the device tensors created while fn runs (still owned by the enclosing scope). */
export function trackCreated<T>(fn: (created: Set<Tensor>) => T): T {
  const mine = new Set<Tensor>();
  scopes.push(mine);
  try {
    return fn(mine);
  } finally {
    const i = scopes.lastIndexOf(mine);
    if (i >= 0) scopes.splice(i, 1);
    const parent = scopes[scopes.length - 1];
    if (parent) for (const t of mine) if (t.device !== 'cpu' && !t.disposed) parent.add(t);
  }
}
