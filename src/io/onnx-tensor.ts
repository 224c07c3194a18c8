/** ONNX TensorProto <-> RawTensor (raw_data, the typed *_data fields, external data files). */
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { isAbsolute, join, normalize } from 'node:path';
import type { DType, RawData, RawTensor } from './types.js';
import { allocData, bytesOf, dtypeSize, numel } from './dtype.js';
import { OnnxDataType, type Int64, type PbTensor } from './onnx-schema.js';

const DTYPE_OF: Record<number, DType> = {
  [OnnxDataType.FLOAT]: 'f32', [OnnxDataType.DOUBLE]: 'f64', [OnnxDataType.FLOAT16]: 'f16', [OnnxDataType.BFLOAT16]: 'bf16',
  [OnnxDataType.INT64]: 'i64', [OnnxDataType.INT32]: 'i32', [OnnxDataType.INT16]: 'i16', [OnnxDataType.INT8]: 'i8',
  [OnnxDataType.UINT8]: 'u8', [OnnxDataType.BOOL]: 'bool',
};
export const ONNX_TYPE_OF: Record<DType, number> = {
  f32: OnnxDataType.FLOAT, f64: OnnxDataType.DOUBLE, f16: OnnxDataType.FLOAT16, bf16: OnnxDataType.BFLOAT16, i64: OnnxDataType.INT64,
  i32: OnnxDataType.INT32, i16: OnnxDataType.INT16, i8: OnnxDataType.INT8, u8: OnnxDataType.UINT8, bool: OnnxDataType.BOOL,
};

function toInt(v: Int64, where: string): number {
  const n = typeof v === 'number' ? v : Number(v.toString());
  if (!Number.isSafeInteger(n)) throw new Error(`${where}: integer ${String(v)} is out of range`);
  return n;
}

export function tensorFromProto(t: PbTensor, where: string, baseDir: string | undefined): RawTensor {
  const type = t.data_type ?? 0;
  const dtype = DTYPE_OF[type];
  if (!dtype) {
    const name = Object.entries(OnnxDataType).find(([, v]) => v === type)?.[0] ?? 'unknown';
    throw new Error(`${where}: unsupported tensor data type ${type} (${name}); supported: float, double, float16, bfloat16, int8-64, uint8, bool`);
  }
  const shape = (t.dims ?? []).map((d) => {
    const n = toInt(d, where);
    if (n < 0) throw new Error(`${where}: negative dimension ${n}`);
    return n;
  });
  const n = numel(shape, where);
  const nbytes = n * dtypeSize(dtype);
  // Sizes are checked against what the file holds before anything is allocated.
  if (t.data_location === 1) {
    return { dtype, shape, data: readExternal(t, where, baseDir, dtype, n) };
  }
  if (t.raw_data && t.raw_data.byteLength > 0) {
    if (t.raw_data.byteLength !== nbytes) throw new Error(`${where}: raw_data holds ${t.raw_data.byteLength} bytes, ${dtype} [${shape.join(', ')}] needs ${nbytes}`);
    const data = allocData(dtype, n);
    bytesOf(data).set(t.raw_data);
    return { dtype, shape, data };
  }
  const data = allocData(dtype, typedCount(t, dtype) === n ? n : 0);
  if (n > 0) fillTyped(t, dtype, data, n, where);
  return { dtype, shape, data };
}

function typedSource(t: PbTensor, dtype: DType): readonly (number | Int64)[] {
  return dtype === 'f32' ? t.float_data ?? [] : dtype === 'f64' ? t.double_data ?? [] : dtype === 'i64' ? t.int64_data ?? [] : t.int32_data ?? [];
}

function typedCount(t: PbTensor, dtype: DType): number {
  return typedSource(t, dtype).length;
}

function fillTyped(t: PbTensor, dtype: DType, data: RawData, n: number, where: string): void {
  const src = typedSource(t, dtype);
  if (src.length !== n) throw new Error(`${where}: typed data holds ${src.length} values, shape needs ${n}`);
  if (data instanceof BigInt64Array) {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      data[i] = BigInt(typeof v === 'number' ? v : v.toString());
    }
  } else {
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      data[i] = typeof v === 'number' ? v : toInt(v, where);
    }
  }
}

function readExternal(t: PbTensor, where: string, baseDir: string | undefined, dtype: DType, n: number): RawData {
  const nbytes = n * dtypeSize(dtype);
  const kv = new Map((t.external_data ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) throw new Error(`${where}: external data without a location`);
  if (baseDir === undefined) throw new Error(`${where}: external data "${location}" needs the model's folder (read the model from a path)`);
  const rel = normalize(location);
  if (isAbsolute(rel) || rel.startsWith('..')) throw new Error(`${where}: external data location "${location}" leaves the model's folder`);
  const offset = Number(kv.get('offset') ?? '0');
  const length = kv.has('length') ? Number(kv.get('length')) : nbytes;
  if (!Number.isSafeInteger(offset) || offset < 0 || length !== nbytes) throw new Error(`${where}: external data offset ${offset} / length ${length} do not match ${nbytes} bytes`);
  const path = join(baseDir, rel);
  const fd = openSync(path, 'r');
  try {
    if (offset + length > fstatSync(fd).size) throw new Error(`${where}: external data [${offset}, +${length}) runs past the end of ${path}`);
    const data = allocData(dtype, n);
    const dst = bytesOf(data);
    let done = 0;
    while (done < length) {
      const got = readSync(fd, dst, done, length - done, offset + done);
      if (got === 0) throw new Error(`${where}: unexpected end of ${path}`);
      done += got;
    }
    return data;
  } finally {
    closeSync(fd);
  }
}

/** A RawTensor as a TensorProto with raw_data. */
export function tensorToProto(name: string, t: RawTensor): PbTensor {
  return { name, dims: t.shape.slice(), data_type: ONNX_TYPE_OF[t.dtype], raw_data: bytesOf(t.data).slice() };
}
