/**
 * DType helpers: element sizes, typed-array allocation and checks, widening to float32.
 */
import type { DType, RawData, RawTensor } from './types.js';

export const DTYPES: readonly DType[] = ['f32', 'f64', 'f16', 'bf16', 'i64', 'i32', 'i16', 'i8', 'u8', 'bool'];

const SIZES: Record<DType, number> = { f32: 4, f64: 8, f16: 2, bf16: 2, i64: 8, i32: 4, i16: 2, i8: 1, u8: 1, bool: 1 };

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(SIZES, s);
}

/** Bytes per element. */
export function dtypeSize(dtype: DType): number {
  return SIZES[dtype];
}

/** Number of elements of a shape; throws on negative, fractional or unsafe sizes. */
export function numel(shape: readonly number[], what = 'tensor'): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${what}: bad dimension ${String(d)} in shape [${shape.join(', ')}]`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new Error(`${what}: shape [${shape.join(', ')}] has too many elements`);
  }
  return n;
}

/** A zero-filled array of `n` elements of `dtype`. */
export function allocData(dtype: DType, n: number): RawData {
  switch (dtype) {
    case 'f32': return new Float32Array(n);
    case 'f64': return new Float64Array(n);
    case 'f16': case 'bf16': return new Uint16Array(n);
    case 'i64': return new BigInt64Array(n);
    case 'i32': return new Int32Array(n);
    case 'i16': return new Int16Array(n);
    case 'i8': return new Int8Array(n);
    case 'u8': case 'bool': return new Uint8Array(n);
  }
}

/**
 * Like allocData but without zero-filling (large arrays come from Buffer.allocUnsafeSlow, which skips
 * the memset). Only for callers that overwrite every byte straight away.
 */
export function allocDataUninit(dtype: DType, n: number): RawData {
  const nbytes = n * SIZES[dtype];
  if (nbytes < 1 << 16) return allocData(dtype, n);
  const buf = Buffer.allocUnsafeSlow(nbytes).buffer;
  switch (dtype) {
    case 'f32': return new Float32Array(buf, 0, n);
    case 'f64': return new Float64Array(buf, 0, n);
    case 'f16': case 'bf16': return new Uint16Array(buf, 0, n);
    case 'i64': return new BigInt64Array(buf, 0, n);
    case 'i32': return new Int32Array(buf, 0, n);
    case 'i16': return new Int16Array(buf, 0, n);
    case 'i8': return new Int8Array(buf, 0, n);
    case 'u8': case 'bool': return new Uint8Array(buf, 0, n);
  }
}

/** A typed array of `dtype` holding a copy of `bytes` (little-endian; length must be a multiple of the size). */
export function dataFromBytes(dtype: DType, bytes: Uint8Array): RawData {
  const size = SIZES[dtype];
  if (bytes.byteLength % size !== 0) throw new Error(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  const out = allocData(dtype, bytes.byteLength / size);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

/** The bytes of a typed array (a view, no copy). */
export function bytesOf(data: RawData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** True when `data` is the array type that holds `dtype`. */
export function dataMatches(dtype: DType, data: RawData): boolean {
  switch (dtype) {
    case 'f32': return data instanceof Float32Array;
    case 'f64': return data instanceof Float64Array;
    case 'f16': case 'bf16': return data instanceof Uint16Array;
    case 'i64': return data instanceof BigInt64Array;
    case 'i32': return data instanceof Int32Array;
    case 'i16': return data instanceof Int16Array;
    case 'i8': return data instanceof Int8Array;
    case 'u8': case 'bool': return data instanceof Uint8Array;
  }
}

/** Throws unless `t` is a well-formed RawTensor (right array type, length = product of shape). */
export function checkTensor(t: RawTensor, what: string): void {
  if (!isDType(t.dtype)) throw new Error(`${what}: unknown dtype ${String(t.dtype)}`);
  const n = numel(t.shape, what);
  if (!dataMatches(t.dtype, t.data)) throw new Error(`${what}: dtype ${t.dtype} does not match its ${t.data.constructor.name}`);
  if (t.data.length !== n) throw new Error(`${what}: shape [${t.shape.join(', ')}] needs ${n} elements, data has ${t.data.length}`);
}

let f16Table: Float32Array | undefined;

/** IEEE half bits -> float32 value (exact). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function halfTable(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = halfToFloat(i);
  }
  return f16Table;
}

/** float32 value -> IEEE half bits, round to nearest even. */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/**
 * Widens any tensor to float32 values (f16/bf16/f64/ints/bool). A f32 tensor's own array is returned
 * as is (no copy); everything else is a new array.
 */
export function toFloat32(t: RawTensor): Float32Array {
  const d = t.data;
  switch (t.dtype) {
    case 'f32': return d as Float32Array;
    case 'f16': {
      const table = halfTable();
      const src = d as Uint16Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
      return out;
    }
    case 'bf16': {
      const src = d as Uint16Array;
      const out = new Float32Array(src.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
      return out;
    }
    case 'i64': {
      const src = d as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]!);
      return out;
    }
    default:
      return Float32Array.from(d as Exclude<RawData, BigInt64Array>);
  }
}
