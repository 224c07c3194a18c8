// What the ONNX op families share: the op function type, input access with errors naming the node,
// and conversions between ONNX tensors (any stored dtype) and graph values (float32 tensors for
// floating types, int32 tensors for integer and boolean types).
import type { OnnxNode } from '../io/onnx.js';
import type { DType as RawDType, RawTensor } from '../io/types.js';
import { toFloat32 } from '../io/dtype.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { nodeError } from './onnx-attrs.js';

export interface OpContext {
  /** the graph's ai.onnx opset */
  opset: number;
}

export type Inputs = (Tensor | undefined)[];
/** One tensor, or one per node output (undefined for an optional output not computed). */
export type OpResult = Tensor | (Tensor | undefined)[];
export type OpFn = (node: OnnxNode, inputs: Inputs, ctx: OpContext) => OpResult;

export function need(node: OnnxNode, inputs: Inputs, i: number): Tensor {
  const t = inputs[i];
  if (!t) throw nodeError(node, `input ${i} is missing`);
  return t;
}

/** The values of a host integer tensor (shapes, axes, indices). */
export function ints(node: OnnxNode, t: Tensor, what: string): number[] {
  if (t.dtype !== 'i32') throw nodeError(node, `${what} must be an integer tensor, got ${t.dtype} ${shapeStr(t.shape)}`);
  return Array.from(t.hostValues(what));
}

/** The value of a one-element tensor, or `dflt` when the input is absent. */
export function scalar(node: OnnxNode, t: Tensor | undefined, dflt: number, what: string): number {
  if (!t) return dflt;
  if (t.size !== 1) throw nodeError(node, `${what} must be a scalar, got ${shapeStr(t.shape)}`);
  return t.hostValues(what)[0];
}

export function floatInput(node: OnnxNode, inputs: Inputs, i: number, what = `input ${i}`): Tensor {
  const t = need(node, inputs, i);
  if (t.dtype !== 'f32') throw nodeError(node, `${what} must be a float tensor, got ${t.dtype} ${shapeStr(t.shape)}`);
  return t;
}

const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/** A graph value from an ONNX tensor: floats as float32; integers and booleans as int32, with
 *  64-bit values saturated to the int32 range (INT64_MAX as a slice end means "to the end"). */
export function graphValue(raw: RawTensor, what: string): Tensor {
  switch (raw.dtype) {
    case 'f32': case 'f64': case 'f16': case 'bf16':
      return new Tensor(toFloat32(raw), raw.shape);
    case 'i64': {
      const src = raw.data as BigInt64Array;
      const out = new Int32Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const v = src[i];
        out[i] = v > BigInt(INT_MAX) ? INT_MAX : v < BigInt(INT_MIN) ? INT_MIN : Number(v);
      }
      return new Tensor(out, raw.shape);
    }
    case 'i32': case 'i16': case 'i8': case 'u8': case 'bool':
      return new Tensor(Int32Array.from(raw.data as ArrayLike<number>), raw.shape);
    default:
      throw new Error(`${what}: unsupported tensor type ${raw.dtype as string}`);
  }
}

/** ONNX TensorProto.DataType codes -> the stored dtype a value of that type is written back as. */
export const ONNX_ELEM_DTYPE: Record<number, RawDType> = {
  1: 'f32', 2: 'u8', 3: 'i8', 5: 'i16', 6: 'i32', 7: 'i64', 9: 'bool', 10: 'f16', 11: 'f64', 16: 'bf16',
};

/** A graph value back as an ONNX tensor of `dtype` (the dtype the graph declared for it). */
export function rawValue(t: Tensor, dtype: RawDType): RawTensor {
  const v = t.hostValues('export');
  const shape = [...t.shape];
  switch (dtype) {
    case 'f32': return { dtype, shape, data: Float32Array.from(v) };
    case 'i64': return { dtype, shape, data: BigInt64Array.from(v, (x) => BigInt(Math.trunc(x))) };
    case 'i32': return { dtype, shape, data: Int32Array.from(v) };
    case 'i16': return { dtype, shape, data: Int16Array.from(v) };
    case 'i8': return { dtype, shape, data: Int8Array.from(v) };
    case 'u8': case 'bool': return { dtype, shape, data: Uint8Array.from(v) };
    default: return { dtype: 'f32', shape, data: Float32Array.from(v) }; // f16 / f64 constants are kept as float32
  }
}
