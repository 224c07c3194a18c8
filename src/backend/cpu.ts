// The CPU backend: the addon's SIMD kernels (src/native.ts) over typed arrays, a few small kernels
// written here in JS, the fused eval-mode kernels, and allocation from the CPU buffer pool.
import { native } from '../native.js';
import { Tensor, numel, type DType, type Shape } from '../tensor/tensor.js';
import { recycle, uninitF32 } from './cpu-pool.js';
import type { Backend, FusedKernels, Kernels } from './kernels.js';

type F32 = Float32Array;

/** Kernels the addon does not have: elementwise maps and index copies used by imported graphs. */
const jsKernels = {
  sigmoid(x: F32, y: F32): void {
    for (let i = 0; i < x.length; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
  },
  sigmoidBackward(y: F32, gy: F32, gx: F32): void {
    for (let i = 0; i < gx.length; i++) gx[i] = gy[i] * y[i] * (1 - y[i]);
  },
  clip(x: F32, lo: number, hi: number, y: F32): void {
    for (let i = 0; i < x.length; i++) y[i] = Math.min(Math.max(x[i], lo), hi);
  },
  clipBackward(x: F32, gy: F32, lo: number, hi: number, gx: F32): void {
    for (let i = 0; i < gx.length; i++) gx[i] = x[i] >= lo && x[i] <= hi ? gy[i] : 0;
  },
  fill(x: F32, value: number): void {
    x.fill(value);
  },
  gather(x: F32, index: Int32Array, y: F32): void {
    for (let k = 0; k < y.length; k++) y[k] = x[index[k]];
  },
  scatterAdd(g: F32, index: Int32Array, gx: F32): void {
    for (let k = 0; k < g.length; k++) gx[index[k]] += g[k];
  },
  copyRows(src: F32, srcStride: number, srcOff: number, dst: F32, dstStride: number, dstOff: number, rows: number, len: number): void {
    for (let r = 0; r < rows; r++) {
      const s = srcOff + r * srcStride;
      dst.set(src.subarray(s, s + len), dstOff + r * dstStride);
    }
  },
};

const kernels: Kernels<F32, Int32Array> = { ...native, ...jsKernels };
const fused: FusedKernels<F32> = native;

export const cpu: Backend<F32, Int32Array> = {
  device: 'cpu',
  k: kernels,
  fused,
  f: (t) => t.f32,
  i: (t) => t.i32,
  uninit: (shape: Shape, dtype: DType = 'f32') => (dtype === 'f32' ? uninitF32(shape) : cpu.zeros(shape, dtype)),
  zeros: (shape: Shape, dtype: DType = 'f32') => (dtype === 'f32' ? Tensor.zeros(shape) : Tensor.ints(new Int32Array(numel(shape)), shape)),
  full: (shape, value) => Tensor.full(shape, value),
  fromHost: (values, shape) => new Tensor(values.slice(), shape),
  write: (t, values) => t.data.set(values),
  release: (t) => {
    if (t.size >= 4096 && t.data.buffer.byteLength === t.size * 4) recycle(t.data.buffer);
  },
};
