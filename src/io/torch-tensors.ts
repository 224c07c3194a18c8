/**
 * Turns the TensorRefs of an unpickled torch checkpoint into contiguous RawTensors: honours storage
 * offsets and strides, reads each storage once (shared storages), reads a tensor that covers its whole
 * storage straight into its own array, and widens f16/bf16/f64 to f32 unless asked to keep them.
 */
import type { DType, RawData, RawTensor } from './types.js';
import { allocData, allocDataUninit, bytesOf, dtypeSize, numel, toFloat32 } from './dtype.js';
import { TensorRef } from './pickle-globals.js';

/** A storage named by a persistent id: `numel` elements of `dtype`, bytes supplied by `read`. */
export class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
    /** Fills `dst` (exactly numel * size bytes) with the storage's bytes. */
    readonly fill: (dst: Uint8Array) => void,
    /** For legacy views of another storage: element offset into `base`. */
    readonly base?: { storage: StorageRef; offset: number },
  ) {}
}

/** Largest view (elements) allowed to exceed its storage through zero strides (expanded tensors). */
const MAX_EXPANDED = 1 << 26;

export interface MaterializeOptions {
  /** Keep f16/bf16/f64 as stored instead of widening to f32. */
  keepDtype?: boolean;
}

export class TensorMaterializer {
  private readonly cache = new Map<StorageRef, RawData>();
  private readonly uses = new Map<StorageRef, number>();

  constructor(private readonly file: string, private readonly opts: MaterializeOptions = {}) {}

  /** Counts how many tensors use each storage (call for every tensor before materializing). */
  note(t: TensorRef): void {
    const s = root(t.storage);
    if (s) this.uses.set(s.storage, (this.uses.get(s.storage) ?? 0) + 1);
  }

  private storageData(s: StorageRef): RawData {
    let d = this.cache.get(s);
    if (!d) {
      d = allocDataUninit(s.dtype, s.numel);
      s.fill(bytesOf(d));
      this.cache.set(s, d);
    }
    return d;
  }

  materialize(t: TensorRef, key: string): RawTensor {
    const where = `torch ${this.file}: tensor "${key}"`;
    const r = root(t.storage);
    if (!r) throw new Error(`${where}: its storage is not a storage reference`);
    const { storage } = r;
    const offset = r.offset + t.offset;
    const shape = t.size;
    if (shape.length !== t.stride.length) throw new Error(`${where}: size has ${shape.length} dims but stride has ${t.stride.length}`);
    const n = numel(shape, where);
    let maxIndex = offset;
    for (let d = 0; d < shape.length; d++) {
      if (t.stride[d]! < 0) throw new Error(`${where}: negative stride ${t.stride[d]}`);
      maxIndex += (shape[d]! - 1) * t.stride[d]!;
    }
    const limit = r.storage.numel;
    if (n > 0 && (offset < 0 || maxIndex >= limit)) {
      throw new Error(`${where}: view (offset ${offset}, size [${shape.join(', ')}], stride [${t.stride.join(', ')}]) reaches element ${maxIndex} of a ${limit}-element storage`);
    }
    if (n > limit && n > MAX_EXPANDED) {
      throw new Error(`${where}: view expands a ${limit}-element storage to ${n} elements; refusing to materialize it`);
    }
    let data: RawData;
    const contiguous = isContiguous(shape, t.stride);
    if (contiguous && offset === 0 && n === limit && (this.uses.get(storage) ?? 0) <= 1 && !this.cache.has(storage)) {
      data = allocDataUninit(storage.dtype, n);
      storage.fill(bytesOf(data));
    } else {
      const src = this.storageData(storage);
      data = contiguous ? copyRange(src, offset, n) : gather(src, storage.dtype, offset, shape, t.stride);
    }
    const raw: RawTensor = { dtype: storage.dtype, shape: [...shape], data };
    return this.widen(raw);
  }

  private widen(t: RawTensor): RawTensor {
    if (this.opts.keepDtype || (t.dtype !== 'f16' && t.dtype !== 'bf16' && t.dtype !== 'f64')) return t;
    return { dtype: 'f32', shape: t.shape, data: toFloat32(t) };
  }
}

function root(s: unknown): { storage: StorageRef; offset: number } | undefined {
  if (!(s instanceof StorageRef)) return undefined;
  return s.base ? { storage: s.base.storage, offset: s.base.offset } : { storage: s, offset: 0 };
}

function isContiguous(shape: number[], stride: number[]): boolean {
  let expect = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) return false;
    expect *= shape[d]!;
  }
  return true;
}

function copyRange(src: RawData, offset: number, n: number): RawData {
  return src.slice(offset, offset + n);
}

function gather(src: RawData, dtype: DType, offset: number, shape: number[], stride: number[]): RawData {
  const n = numel(shape);
  const out = allocData(dtype, n);
  const size = dtypeSize(dtype);
  const sb = bytesOf(src);
  const ob = bytesOf(out);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    ob.set(sb.subarray(p * size, p * size + size), i * size);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      p += stride[d]!;
      if (idx[d]! < shape[d]!) break;
      p -= stride[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
