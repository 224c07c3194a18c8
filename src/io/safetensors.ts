/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON header
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, padded with
 * spaces), then the tensor bytes. Offsets are relative to the end of the header, and the reference
 * implementation requires them to tile the data section exactly (no overlaps, no holes).
 *
 * The file readers read the header, then each tensor straight into its own typed array (no copy of the
 * whole file in memory). The writers stream tensor by tensor.
 */
import { closeSync, openSync, fstatSync, readSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { DType, RawTensor, StateDict } from './types.js';
import { allocDataUninit, bytesOf, checkTensor, dtypeSize, numel } from './dtype.js';

export { toFloat32 } from './dtype.js';

export interface SafetensorsFile {
  tensors: StateDict;
  metadata: Record<string, string>;
}

/** Header limit of the reference implementation (100 MB). */
const MAX_HEADER = 100_000_000;

const FROM_ST: Record<string, DType> = {
  F32: 'f32', F64: 'f64', F16: 'f16', BF16: 'bf16', I64: 'i64', I32: 'i32', I16: 'i16', I8: 'i8', U8: 'u8', BOOL: 'bool',
};
const TO_ST: Record<DType, string> = {
  f32: 'F32', f64: 'F64', f16: 'F16', bf16: 'BF16', i64: 'I64', i32: 'I32', i16: 'I16', i8: 'I8', u8: 'U8', bool: 'BOOL',
};
/** The reference's Dtype enum order; it writes larger-alignment dtypes first, then by name. */
const ST_ORDER = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'];

interface Entry { key: string; dtype: DType; shape: number[]; begin: number; end: number }
interface Header { entries: Entry[]; metadata: Record<string, string> }

/** Reads the header length from the first 8 bytes and checks it against the file size. */
function headerLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8) throw new Error(`safetensors ${file}: file is ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) throw new Error(`safetensors ${file}: header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  if (n > BigInt(fileSize - 8)) throw new Error(`safetensors ${file}: header length ${n} runs past the end of the ${fileSize}-byte file`);
  return Number(n);
}

/** Parses and validates the JSON header against a data section of `dataLen` bytes. */
function parseHeader(headerBytes: Uint8Array, dataLen: number, file: string): Header {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new Error(`safetensors ${file}: header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`safetensors ${file}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`safetensors ${file}: header is not a JSON object`);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [key, v] of Object.entries(json as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`safetensors ${file}: __metadata__ is not an object`);
      for (const [mk, mv] of Object.entries(v as Record<string, unknown>)) {
        if (typeof mv !== 'string') throw new Error(`safetensors ${file}: __metadata__ value for "${mk}" is not a string`);
        metadata[mk] = mv;
      }
      continue;
    }
    entries.push(parseEntry(key, v, dataLen, file));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of entries) {
    if (e.begin < pos) throw new Error(`safetensors ${file}: tensor "${e.key}" data [${e.begin}, ${e.end}) overlaps the previous tensor (ends at ${pos})`);
    if (e.begin > pos) throw new Error(`safetensors ${file}: hole in the data section before tensor "${e.key}" (bytes ${pos}..${e.begin})`);
    pos = e.end;
  }
  if (pos !== dataLen) throw new Error(`safetensors ${file}: tensors cover ${pos} bytes but the data section holds ${dataLen}`);
  return { entries, metadata };
}

function parseEntry(key: string, v: unknown, dataLen: number, file: string): Entry {
  const where = `safetensors ${file}: tensor "${key}"`;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: entry is not an object`);
  const { dtype: st, shape, data_offsets: offs } = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof st !== 'string') throw new Error(`${where}: missing dtype`);
  const dtype = FROM_ST[st];
  if (!dtype) throw new Error(`${where}: unsupported dtype ${JSON.stringify(st)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${where}: bad shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${where}: bad data_offsets ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as [number, number];
  if (begin > end || end > dataLen) throw new Error(`${where}: data_offsets [${begin}, ${end}] out of range (data section is ${dataLen} bytes)`);
  const n = numel(shape as number[], where);
  const want = n * dtypeSize(dtype);
  if (end - begin !== want) throw new Error(`${where}: data_offsets span ${end - begin} bytes but ${st} [${shape.join(', ')}] needs ${want}`);
  return { key, dtype, shape: shape as number[], begin, end };
}

/** Parses a whole safetensors file held in memory. Each tensor gets its own (copied, aligned) array. */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsFile {
  const n = headerLength(buf.subarray(0, 8), buf.byteLength, file);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(buf.subarray(8, dataStart), buf.byteLength - dataStart, file);
  const tensors: StateDict = new Map();
  for (const e of entries) {
    const data = allocDataUninit(e.dtype, numel(e.shape));
    bytesOf(data).set(buf.subarray(dataStart + e.begin, dataStart + e.end));
    tensors.set(e.key, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

function readFully(fd: number, dst: Uint8Array, pos: number, file: string): void {
  let done = 0;
  while (done < dst.byteLength) {
    const got = readSync(fd, dst, done, dst.byteLength - done, pos + done);
    if (got === 0) throw new Error(`safetensors ${file}: unexpected end of file at byte ${pos + done}`);
    done += got;
  }
}

/** Reads a safetensors file: header first, then each tensor directly into its own typed array. */
export function readSafetensorsSync(path: string): SafetensorsFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const first = new Uint8Array(8);
    if (size >= 8) readFully(fd, first, 0, path);
    const n = headerLength(first, size, path);
    const hb = new Uint8Array(n);
    readFully(fd, hb, 8, path);
    const dataStart = 8 + n;
    const { entries, metadata } = parseHeader(hb, size - dataStart, path);
    const tensors: StateDict = new Map();
    for (const e of entries) {
      const data = allocDataUninit(e.dtype, numel(e.shape));
      readFully(fd, bytesOf(data), dataStart + e.begin, path);
      tensors.set(e.key, { dtype: e.dtype, shape: e.shape, data });
    }
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

/** Async twin of readSafetensorsSync. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const readAt = async (dst: Uint8Array, pos: number): Promise<void> => {
      let done = 0;
      while (done < dst.byteLength) {
        const { bytesRead } = await fh.read(dst, done, dst.byteLength - done, pos + done);
        if (bytesRead === 0) throw new Error(`safetensors ${path}: unexpected end of file at byte ${pos + done}`);
        done += bytesRead;
      }
    };
    const first = new Uint8Array(8);
    if (size >= 8) await readAt(first, 0);
    const n = headerLength(first, size, path);
    const hb = new Uint8Array(n);
    await readAt(hb, 8);
    const dataStart = 8 + n;
    const { entries, metadata } = parseHeader(hb, size - dataStart, path);
    const tensors: StateDict = new Map();
    for (const e of entries) {
      const data = allocDataUninit(e.dtype, numel(e.shape));
      await readAt(bytesOf(data), dataStart + e.begin);
      tensors.set(e.key, { dtype: e.dtype, shape: e.shape, data });
    }
    return { tensors, metadata };
  } finally {
    await fh.close();
  }
}

export type TensorsIn = StateDict | Record<string, RawTensor>;

function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Builds the padded header and the write order (reference order: dtype descending, then name). */
function planWrite(tensors: TensorsIn, metadata?: Record<string, string>): { header: Uint8Array; order: [string, RawTensor][] } {
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [k, t] of list) {
    if (k === '__metadata__') throw new Error('safetensors: "__metadata__" cannot be a tensor name');
    checkTensor(t, `safetensors: tensor "${k}"`);
  }
  const rank = (t: RawTensor): number => ST_ORDER.indexOf(TO_ST[t.dtype]);
  list.sort(([ka, a], [kb, b]) => rank(b) - rank(a) || compareUtf8(ka, kb));
  const head: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata value for "${k}" is not a string`);
    }
    head['__metadata__'] = metadata;
  }
  let off = 0;
  for (const [k, t] of list) {
    head[k] = { dtype: TO_ST[t.dtype], shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  // Object key order is insertion order except for integer-like keys; write the JSON by hand to keep ours.
  const parts = '__metadata__' in head ? [`"__metadata__":${JSON.stringify(metadata)}`] : [];
  for (const [k] of list) parts.push(`${JSON.stringify(k)}:${JSON.stringify(head[k])}`);
  const json = Buffer.from(`{${parts.join(',')}}`, 'utf8');
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + padded).fill(0x20);
  new DataView(header.buffer).setBigUint64(0, BigInt(padded), true);
  header.set(json, 8);
  return { header, order: list };
}

/** Serializes to one buffer in memory (small files, tests). */
export function serializeSafetensors(tensors: TensorsIn, metadata?: Record<string, string>): Uint8Array {
  const { header, order } = planWrite(tensors, metadata);
  const total = header.byteLength + order.reduce((s, [, t]) => s + t.data.byteLength, 0);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let pos = header.byteLength;
  for (const [, t] of order) {
    out.set(bytesOf(t.data), pos);
    pos += t.data.byteLength;
  }
  return out;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
}

/** Writes a safetensors file, streaming tensor by tensor. */
export function writeSafetensorsSync(path: string, tensors: TensorsIn, metadata?: Record<string, string>): void {
  const { header, order } = planWrite(tensors, metadata);
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, header);
    for (const [, t] of order) writeAll(fd, bytesOf(t.data));
  } finally {
    closeSync(fd);
  }
}

/** Async twin of writeSafetensorsSync. */
export async function writeSafetensors(path: string, tensors: TensorsIn, metadata?: Record<string, string>): Promise<void> {
  const { header, order } = planWrite(tensors, metadata);
  const fh = await open(path, 'w');
  try {
    await fh.write(header);
    for (const [, t] of order) await fh.write(bytesOf(t.data));
  } finally {
    await fh.close();
  }
}
