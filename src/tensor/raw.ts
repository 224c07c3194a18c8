// Conversion between the I/O layer's RawTensor (any stored dtype) and engine Tensors
// (float32, or int32 for integer buffers such as num_batches_tracked and labels).
import { toFloat32 } from '../io/dtype.js';
import type { RawTensor } from '../io/types.js';
import { Tensor } from './tensor.js';

const INT_DTYPES = new Set(['i64', 'i32', 'i16', 'i8', 'u8', 'bool']);

export function fromRaw(raw: RawTensor, what = 'tensor'): Tensor {
  if (!INT_DTYPES.has(raw.dtype)) return new Tensor(toFloat32(raw), raw.shape);
  const out = new Int32Array(raw.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = Number(raw.data[i]);
    if (v > 2147483647 || v < -2147483648) throw new Error(`${what}: integer value ${v} at index ${i} does not fit in int32`);
    out[i] = v;
  }
  return new Tensor(out, raw.shape);
}

/** Integer tensors become i64 (PyTorch's default integer type) unless asked otherwise. */
export function toRaw(t: Tensor, intDtype: 'i64' | 'i32' = 'i64'): RawTensor {
  if (t.dtype === 'f32') return { dtype: 'f32', shape: [...t.shape], data: t.f32 };
  if (intDtype === 'i32') return { dtype: 'i32', shape: [...t.shape], data: t.i32 };
  return { dtype: 'i64', shape: [...t.shape], data: BigInt64Array.from(t.i32, (v) => BigInt(v)) };
}
