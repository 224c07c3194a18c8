// The kernel interface every backend implements (cpu.ts over the addon's CPU functions, cuda.ts
// over its CUDA launchers), generic in the buffer types: F for float32 buffers and I for int32 ones
// (typed arrays on the CPU, buffer handles on the device). The ops (src/ops) validate their
// arguments, compute the geometry, pick the backend of their inputs (dispatch.ts) and call these,
// in the forward and in their gradient closures alike, so each op and each gradient is written once.
// Kernels write their outputs in place and overwrite them unless a comment says otherwise; each
// checks the lengths of what it is given.
import type { ConvParams, PoolParams } from '../native.js';
import type { DType, Device, Shape, Tensor } from '../tensor/tensor.js';

export interface Kernels<F, I> {
  // --- blas and convolution ---
  /** C[m,n] = alpha * op(A) * op(B) + beta * C, row-major; op(A) is m x k (A stored k x m if transA). */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: F, b: F, beta: number, c: F): void;
  conv2dForward(x: F, w: F, bias: F | null, y: F, p: ConvParams): void;
  conv2dBackwardData(gy: F, w: F, gx: F, p: ConvParams): void;
  /** gw, and gb when given */
  conv2dBackwardWeight(x: F, gy: F, gw: F, gb: F | null, p: ConvParams): void;

  // --- SeaM's masks ---
  /** out = w * (m > 0) */
  maskedWeight(w: F, m: F, out: F): void;
  /** gm = clamp(gWeff * w, -1, 1): the straight-through mask gradient */
  maskGrad(gWeff: F, w: F, gm: F): void;
  /** how many elements are > 0 */
  countPositive(x: F): number;

  // --- elementwise, rows, reductions ---
  relu(x: F, y: F): void;
  /** gx = y > 0 ? gy : 0 */
  reluBackward(y: F, gy: F, gx: F): void;
  sigmoid(x: F, y: F): void;
  /** gx = gy * y * (1 - y) */
  sigmoidBackward(y: F, gy: F, gx: F): void;
  /** y = min(max(x, lo), hi) */
  clip(x: F, lo: number, hi: number, y: F): void;
  /** gx = lo <= x <= hi ? gy : 0 (torch.clamp's gradient) */
  clipBackward(x: F, gy: F, lo: number, hi: number, gx: F): void;
  add(a: F, b: F, out: F): void;
  mul(a: F, b: F, out: F): void;
  /** out = a * s */
  scale(a: F, s: number, out: F): void;
  /** every element = value */
  fill(x: F, value: number): void;
  /** y[r, c] += b[c] for a rows x cols matrix (accumulates into y) */
  addRowBias(y: F, b: F, rows: number, cols: number): void;
  /** out[c] = sum_r g[r, c] */
  sumRows(g: F, out: F, rows: number, cols: number): void;
  /** the sum of all elements, deterministic */
  sum(x: F): number;
  /** out[r] = the first index of the largest value of row r */
  argmax(x: F, out: I, rows: number, cols: number): void;
  /** y[k] = x[index[k]] (index: a host array as long as y) */
  gather(x: F, index: Int32Array, y: F): void;
  /** gx[index[k]] += g[k] (accumulates into gx) */
  scatterAdd(g: F, index: Int32Array, gx: F): void;
  /** dst[dstOff + r * dstStride + j] = src[srcOff + r * srcStride + j] for r < rows, j < len (other
   *  elements of dst are left as they are); copies 4-byte elements, so int32 data passes unchanged */
  copyRows(src: F, srcStride: number, srcOff: number, dst: F, dstStride: number, dstOff: number, rows: number, len: number): void;

  // --- normalisation, pooling, loss ---
  /** training: batch statistics into saveMean/saveInvstd and the running stats updated in place;
   *  eval: the running statistics are used and copied to saveMean/saveInvstd */
  batchNorm2dForward(x: F, gamma: F, beta: F, runningMean: F, runningVar: F, y: F, saveMean: F, saveInvstd: F,
    n: number, c: number, hw: number, training: boolean, momentum: number, eps: number): void;
  batchNorm2dBackward(x: F, gy: F, gamma: F, saveMean: F, saveInvstd: F, gx: F, ggamma: F | null, gbeta: F | null,
    n: number, c: number, hw: number, training: boolean): void;
  maxPool2dForward(x: F, y: F, argmax: I, p: PoolParams): void;
  maxPool2dBackward(gy: F, argmax: I, gx: F, p: PoolParams): void;
  avgPool2dForward(x: F, y: F, p: PoolParams): void;
  avgPool2dBackward(gy: F, gx: F, p: PoolParams): void;
  /** y[i] = mean of x[i, :] over hw (global average pooling of nc planes) */
  globalAvgPoolForward(x: F, y: F, nc: number, hw: number): void;
  globalAvgPoolBackward(gy: F, gx: F, nc: number, hw: number): void;
  /** softmax into probs; returns the mean negative log-likelihood (labels in [0, classes)) */
  crossEntropyForward(logits: F, labels: I, probs: F, rows: number, classes: number): number;
  /** gx = (probs - onehot(labels)) * scale */
  crossEntropyBackward(probs: F, labels: I, gx: F, rows: number, classes: number, scale: number): void;

  // --- optimisers (PyTorch semantics; in place on p and the state buffers) ---
  adamStep(p: F, g: F, m: F, v: F, step: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number): void;
  sgdStep(p: F, g: F, buf: F | null, lr: number, momentum: number, dampening: number, weightDecay: number,
    nesterov: boolean, firstStep: boolean): void;
}

/** Fused eval-mode kernels a backend may have on top (the CPU has them); ops/fused.ts is the one
 *  place that decides when they run instead of the separate ops. */
export interface FusedKernels<F> {
  /** y = relu(bn_eval(conv(x, w) + bias) + res), saveMean/saveInvstd as batchNorm2dForward in eval */
  conv2dForwardBnRelu(x: F, w: F, bias: F | null, y: F, p: ConvParams, gamma: F, beta: F, runningMean: F, runningVar: F,
    eps: number, res: F | null, saveMean: F, saveInvstd: F): void;
  /** y = relu(bn_eval(x) + res) */
  batchNormReluEvalForward(x: F, res: F | null, gamma: F, beta: F, runningMean: F, runningVar: F, y: F,
    saveMean: F, saveInvstd: F, n: number, c: number, hw: number, eps: number): void;
  /** gres = y > 0 ? gy : 0; gx = gres * gamma * saveInvstd (each when given) */
  batchNormReluEvalBackward(y: F, gy: F, gamma: F, saveInvstd: F, gx: F | null, gres: F | null, n: number, c: number, hw: number): void;
}

/** A device's kernels plus what the ops need around them: the buffers of its tensors and
 *  allocation. The ops see it with unknown buffer types; only the backend knows them. */
export interface Backend<F = unknown, I = unknown> {
  readonly device: Device;
  readonly k: Kernels<F, I>;
  readonly fused: FusedKernels<F> | null;
  /** the float32 buffer of a tensor of this backend */
  f(t: Tensor): F;
  /** the int32 buffer of a tensor of this backend */
  i(t: Tensor): I;
  /** a tensor whose contents are unspecified: for outputs a kernel overwrites completely */
  uninit(shape: Shape, dtype?: DType): Tensor;
  /** a zero-filled tensor */
  zeros(shape: Shape, dtype?: DType): Tensor;
  /** a float32 tensor filled with value (a scalar for shape []) */
  full(shape: Shape, value: number): Tensor;
  /** a tensor of this backend holding a copy of host values */
  fromHost(values: Float32Array | Int32Array, shape: Shape): Tensor;
  /** overwrites a tensor of this backend with host values of the same length and dtype */
  write(t: Tensor, values: Float32Array | Int32Array): void;
  /** t was made by the caller and nothing will read it again: its buffer may be reused */
  release(t: Tensor): void;
}
