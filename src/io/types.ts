/**
 * Plain data types shared by every reader and writer in src/io.
 * Nothing here knows about Tensors, autograd or the addon: a RawTensor is bytes plus a shape.
 */

/** Element types the io layer understands (PyTorch / safetensors / ONNX names mapped onto these). */
export type DType = 'f32' | 'f64' | 'f16' | 'bf16' | 'i64' | 'i32' | 'i16' | 'i8' | 'u8' | 'bool';

/**
 * Backing arrays. f16 and bf16 are kept as their raw bit patterns in a Uint16Array;
 * bool is a Uint8Array of 0/1; i64 is a BigInt64Array.
 */
export type RawData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/** A dense tensor: contiguous, row-major, little-endian host order. `data.length === product(shape)`. */
export interface RawTensor {
  dtype: DType;
  shape: number[];
  data: RawData;
}

/** Parameter / buffer name -> tensor, in file order. */
export type StateDict = Map<string, RawTensor>;
