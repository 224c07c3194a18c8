// The compact file (issue 6, item 1d): a state_dict that stores only the kept (nonzero) weights.
// Layout (little-endian):
//   "SEAMCMP1" | u32 header length H | u32 0 | H bytes of JSON header (space-padded to 8) | data
// The header lists the tensors in state_dict order: { name, dtype, shape, encoding, offset, bytes, nnz }
// with offsets relative to the data start. Float32 tensors are stored, whichever is smallest, as
//   dense:   the raw values;
//   bitmask: ceil(n/8) bytes (bit i = element i is kept, LSB first), padded to 4, then the kept values;
//   csr:     rows = shape[0], u32 row pointers (rows+1), u16 (u32 when a row is longer than 65536)
//            column indices, padded to 4, then the kept values.
// "Kept" means a bit pattern other than +0.0, so -0.0 and NaN round-trip; other dtypes are stored dense.
// Reading restores the dense state_dict bit for bit.
import { readFileSync, writeFileSync } from 'node:fs';
import { bytesOf, dtypeSize } from '../io/dtype.js';
import { serializeSafetensors } from '../io/safetensors.js';
import type { DType, RawData, RawTensor, StateDict } from '../io/types.js';

const MAGIC = 'SEAMCMP1';
const VERSION = 1;

export type CompactEncoding = 'dense' | 'bitmask' | 'csr';

export interface CompactEntry {
  name: string;
  dtype: DType;
  shape: number[];
  encoding: CompactEncoding;
  offset: number;
  bytes: number;
  nnz?: number;
  index?: 'u16' | 'u32';
}

interface Header {
  format: 'seam-compact';
  version: number;
  metadata: Record<string, string>;
  tensors: CompactEntry[];
}

const pad4 = (n: number): number => (n + 3) & ~3;
const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function encodeF32(t: RawTensor): { encoding: CompactEncoding; parts: Uint8Array; nnz?: number; index?: 'u16' | 'u32' } {
  const bits = new Uint32Array((t.data as Float32Array).buffer, t.data.byteOffset, t.data.length);
  const n = bits.length;
  const rows = t.shape.length >= 2 ? t.shape[0] : 1;
  const cols = rows ? n / rows : 0;
  let nnz = 0;
  let widest = 0;
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (let i = r * cols; i < (r + 1) * cols; i++) if (bits[i] !== 0) c++;
    nnz += c;
    widest = Math.max(widest, c);
  }
  const index: 'u16' | 'u32' = cols <= 65536 ? 'u16' : 'u32';
  const sizes = {
    dense: 4 * n,
    bitmask: pad4(Math.ceil(n / 8)) + 4 * nnz,
    csr: 4 * (rows + 1) + pad4((index === 'u16' ? 2 : 4) * nnz) + 4 * nnz,
  };
  const best = (Object.keys(sizes) as CompactEncoding[]).reduce((a, b) => (sizes[b] < sizes[a] ? b : a), 'dense');
  const out = new Uint8Array(sizes[best]);
  if (best === 'dense') {
    out.set(bytesOf(t.data));
    return { encoding: best, parts: out };
  }
  const dv = new DataView(out.buffer);
  const valuesAt = sizes[best] - 4 * nnz;
  let v = 0;
  if (best === 'bitmask') {
    for (let i = 0; i < n; i++) {
      if (bits[i] === 0) continue;
      out[i >> 3] |= 1 << (i & 7);
      dv.setUint32(valuesAt + 4 * v++, bits[i], true);
    }
    return { encoding: best, parts: out, nnz };
  }
  const idxAt = 4 * (rows + 1);
  for (let r = 0; r < rows; r++) {
    dv.setUint32(4 * r, v, true);
    for (let c = 0; c < cols; c++) {
      const b = bits[r * cols + c];
      if (b === 0) continue;
      if (index === 'u16') dv.setUint16(idxAt + 2 * v, c, true);
      else dv.setUint32(idxAt + 4 * v, c, true);
      dv.setUint32(valuesAt + 4 * v++, b, true);
    }
  }
  dv.setUint32(4 * rows, v, true);
  return { encoding: best, parts: out, nnz, index };
}

/** Serializes a state_dict to the compact format (bytes). */
export function serializeCompact(sd: StateDict, metadata: Record<string, string> = {}): Uint8Array {
  const entries: CompactEntry[] = [];
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of sd) {
    if (t.data.length !== numel(t.shape)) throw new Error(`compact file: tensor "${name}" has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const enc = t.dtype === 'f32' ? encodeF32(t) : { encoding: 'dense' as const, parts: bytesOf(t.data).slice() };
    const e: CompactEntry = { name, dtype: t.dtype, shape: [...t.shape], encoding: enc.encoding, offset, bytes: enc.parts.byteLength };
    if ('nnz' in enc && enc.nnz !== undefined) e.nnz = enc.nnz;
    if ('index' in enc && enc.index) e.index = enc.index;
    entries.push(e);
    blobs.push(enc.parts);
    offset = pad4(offset + enc.parts.byteLength);
  }
  const header: Header = { format: 'seam-compact', version: VERSION, metadata, tensors: entries };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.byteLength / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.byteLength, 0x20)]);
  const out = new Uint8Array(16 + padded + offset);
  out.set(Buffer.from(MAGIC, 'ascii'), 0);
  new DataView(out.buffer).setUint32(8, padded, true);
  out.set(json, 16);
  entries.forEach((e, i) => out.set(blobs[i], 16 + padded + e.offset));
  return out;
}

export function writeCompactFile(path: string, sd: StateDict, metadata: Record<string, string> = {}): number {
  const bytes = serializeCompact(sd, metadata);
  writeFileSync(path, bytes);
  return bytes.byteLength;
}

const ARRAYS: Partial<Record<DType, new (buf: ArrayBuffer) => RawData>> = {
  f32: Float32Array, f64: Float64Array, f16: Uint16Array, bf16: Uint16Array, i64: BigInt64Array, i32: Int32Array,
  i16: Int16Array, i8: Int8Array, u8: Uint8Array, bool: Uint8Array,
};

function decode(e: CompactEntry, blob: Uint8Array, what: string): RawTensor {
  const n = numel(e.shape);
  const Ctor = ARRAYS[e.dtype];
  if (!Ctor) throw new Error(`${what}: unknown dtype ${e.dtype}`);
  const bad = (why: string): Error => new Error(`${what}: tensor "${e.name}" is corrupt (${why})`);
  if (e.encoding === 'dense') {
    if (blob.byteLength !== n * dtypeSize(e.dtype)) throw bad(`${blob.byteLength} bytes for ${n} values`);
    return { dtype: e.dtype, shape: [...e.shape], data: new Ctor(blob.slice().buffer) };
  }
  if (e.dtype !== 'f32') throw bad(`${e.encoding} encoding for dtype ${e.dtype}`);
  const nnz = e.nnz ?? -1;
  const out = new Uint32Array(n);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const valuesAt = blob.byteLength - 4 * nnz;
  if (nnz < 0 || valuesAt < 0) throw bad(`nnz ${nnz}`);
  if (e.encoding === 'bitmask') {
    if (valuesAt !== pad4(Math.ceil(n / 8))) throw bad('bitmask size');
    let v = 0;
    for (let i = 0; i < n; i++) if (blob[i >> 3] & (1 << (i & 7))) {
      if (v >= nnz) throw bad('more set bits than values');
      out[i] = dv.getUint32(valuesAt + 4 * v++, true);
    }
    if (v !== nnz) throw bad(`${v} set bits for ${nnz} values`);
  } else if (e.encoding === 'csr') {
    const rows = e.shape.length >= 2 ? e.shape[0] : 1;
    const cols = rows ? n / rows : 0;
    const wide = e.index === 'u32';
    const idxAt = 4 * (rows + 1);
    if (valuesAt !== idxAt + pad4((wide ? 4 : 2) * nnz)) throw bad('csr size');
    for (let r = 0; r < rows; r++) {
      const a = dv.getUint32(4 * r, true);
      const b = dv.getUint32(4 * (r + 1), true);
      if (a > b || b > nnz) throw bad(`row pointers of row ${r}`);
      for (let v = a; v < b; v++) {
        const c = wide ? dv.getUint32(idxAt + 4 * v, true) : dv.getUint16(idxAt + 2 * v, true);
        if (c >= cols) throw bad(`column ${c} in row ${r}`);
        out[r * cols + c] = dv.getUint32(valuesAt + 4 * v, true);
      }
    }
  } else {
    throw bad(`unknown encoding ${String(e.encoding)}`);
  }
  return { dtype: 'f32', shape: [...e.shape], data: new Float32Array(out.buffer) };
}

/** Reads a compact file (path or bytes) back into the dense state_dict, bit for bit. */
export function parseCompact(input: string | Uint8Array): { stateDict: StateDict; metadata: Record<string, string>; entries: CompactEntry[] } {
  const what = typeof input === 'string' ? input : 'compact file';
  const buf = typeof input === 'string' ? new Uint8Array(readFileSync(input)) : input;
  if (buf.byteLength < 16 || Buffer.from(buf.subarray(0, 8)).toString('ascii') !== MAGIC) throw new Error(`${what}: not a seam compact file (no ${MAGIC} magic)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const h = dv.getUint32(8, true);
  if (16 + h > buf.byteLength) throw new Error(`${what}: truncated header (${h} bytes announced, file has ${buf.byteLength})`);
  let header: Header;
  try {
    header = JSON.parse(Buffer.from(buf.subarray(16, 16 + h)).toString('utf8')) as Header;
  } catch (err) {
    throw new Error(`${what}: the header is not JSON (${(err as Error).message})`);
  }
  if (header.format !== 'seam-compact' || header.version !== VERSION) throw new Error(`${what}: unsupported format ${header.format} version ${header.version}`);
  const data = 16 + h;
  const stateDict: StateDict = new Map();
  for (const e of header.tensors) {
    const start = data + e.offset;
    if (start + e.bytes > buf.byteLength) throw new Error(`${what}: tensor "${e.name}" runs past the end of the file`);
    stateDict.set(e.name, decode(e, buf.subarray(start, start + e.bytes), what));
  }
  return { stateDict, metadata: header.metadata ?? {}, entries: header.tensors };
}

export function isCompactFile(head: Uint8Array): boolean {
  return head.byteLength >= 8 && Buffer.from(head.subarray(0, 8)).toString('ascii') === MAGIC;
}

export interface CompactSizeReport {
  compactBytes: number;
  /** the same state_dict as dense safetensors */
  denseBytes: number;
  ratio: number;
  encodings: Record<CompactEncoding, number>;
}

/** The compact file's size against the dense (safetensors) file of the same state_dict. */
export function compactSizeReport(sd: StateDict, compact?: Uint8Array): CompactSizeReport {
  const bytes = compact ?? serializeCompact(sd);
  const denseBytes = serializeSafetensors(sd).byteLength;
  const encodings: Record<CompactEncoding, number> = { dense: 0, bitmask: 0, csr: 0 };
  for (const e of parseCompactHeader(bytes)) encodings[e.encoding]++;
  return { compactBytes: bytes.byteLength, denseBytes, ratio: bytes.byteLength / denseBytes, encodings };
}

function parseCompactHeader(buf: Uint8Array): CompactEntry[] {
  const h = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(8, true);
  return (JSON.parse(Buffer.from(buf.subarray(16, 16 + h)).toString('utf8')) as Header).tensors;
}
