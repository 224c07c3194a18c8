// Loads the Rust addon (build/Release/*.node or prebuilds/) through node-gyp-build and types it.
// Every function validates its arguments natively and throws an Error naming the op on bad input.
// Outputs are caller-allocated typed arrays written in place (zero-copy); "overwrite" unless noted.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type F32 = Float32Array;
type I32 = Int32Array;

/** conv params: [N, C, H, W, O, KH, KW, strideH, strideW, padH, padW, dilH, dilW, groups] */
export type ConvParams = Int32Array;
/** pool params: [N, C, H, W, KH, KW, strideH, strideW, padH, padW, dilH, dilW, ceilMode(0/1), countIncludePad(0/1)] */
export type PoolParams = Int32Array;

export interface NativeBinding {
  /** JSON: {"threads","simd","version"} */
  info(): string;
  panicForTest(): void;

  // --- blas ---
  /** C[m,n] = alpha * op(A) * op(B) + beta * C, row-major contiguous; op(A) is m x k (A stored k x m if transA). */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: F32, b: F32, beta: number, c: F32): void;

  // --- conv ---
  conv2dForward(x: F32, w: F32, bias: F32 | null, y: F32, p: ConvParams): void;
  /** y = relu(bn_eval(conv(x, w) + bias) + res): conv with eval BatchNorm (running stats), optional
   *  residual and ReLU applied to the outputs in cache; saveMean/saveInvstd as batchNorm2dForward (eval). */
  conv2dForwardBnRelu(x: F32, w: F32, bias: F32 | null, y: F32, p: ConvParams, gamma: F32, beta: F32,
    runningMean: F32, runningVar: F32, eps: number, res: F32 | null, saveMean: F32, saveInvstd: F32): void;
  conv2dBackwardData(gy: F32, w: F32, gx: F32, p: ConvParams): void;
  /** Whether training convolutions may run over the kept weights only: 0 auto (by density and
   *  shape), 1 never, 2 whenever the shape allows. Returns the previous mode. */
  convSparseMode(mode: number): number;
  /** JSON {"forward":[denseFlops, sparseFlops], "dataGrad":[...]} since the last reset. */
  convSparseStats(reset: boolean): string;
  /** JSON rows [pass, params, density, sparse] of the conv calls since the last call; tracing on iff enable. */
  convTrace(enable: boolean): string;
  /** gw (and gb when given) are overwritten. */
  conv2dBackwardWeight(x: F32, gy: F32, gw: F32, gb: F32 | null, p: ConvParams): void;

  // --- nn: elementwise and masks ---
  /** out = w * (m > 0) */
  maskedWeight(w: F32, m: F32, out: F32): void;
  /** gm = clamp(gWeff * w, -1, 1): SeaM's straight-through mask gradient */
  maskGrad(gWeff: F32, w: F32, gm: F32): void;
  /** number of elements > 0 */
  countPositive(x: F32): number;
  relu(x: F32, y: F32): void;
  /** gx = y > 0 ? gy : 0 */
  reluBackward(y: F32, gy: F32, gx: F32): void;
  add(a: F32, b: F32, out: F32): void;
  mul(a: F32, b: F32, out: F32): void;
  /** out = a * s */
  scale(a: F32, s: number, out: F32): void;
  /** y += alpha * x (in place on y) */
  axpy(alpha: number, x: F32, y: F32): void;
  /** x += s (in place) */
  addScalar(x: F32, s: number): void;
  /** y[r, c] += b[c] for a rows x cols matrix (in place on y) */
  addRowBias(y: F32, b: F32, rows: number, cols: number): void;
  /** out[c] = sum_r g[r, c] */
  sumRows(g: F32, out: F32, rows: number, cols: number): void;
  /** deterministic sum of all elements (fixed partitioning, float64 accumulation) */
  sum(x: F32): number;
  /** out[i] = argmax_c x[i, c] (first maximum) */
  argmax(x: F32, out: I32, rows: number, cols: number): void;

  // --- nn: normalisation, pooling, loss ---
  /** training: batch statistics into saveMean/saveInvstd and running stats updated in place (unbiased var);
   *  eval: running statistics used, saveMean/saveInvstd receive them. */
  batchNorm2dForward(x: F32, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, y: F32,
    saveMean: F32, saveInvstd: F32, n: number, c: number, hw: number, training: boolean, momentum: number, eps: number): void;
  /** gx always; ggamma / gbeta when given (overwritten). training selects the batch-stat gradient. */
  batchNorm2dBackward(x: F32, gy: F32, gamma: F32, saveMean: F32, saveInvstd: F32, gx: F32,
    ggamma: F32 | null, gbeta: F32 | null, n: number, c: number, hw: number, training: boolean): void;
  /** y = relu(bn_eval(x) + res): eval-mode BatchNorm (running stats), optional residual, ReLU in one pass. */
  batchNormReluEvalForward(x: F32, res: F32 | null, gamma: F32, beta: F32, runningMean: F32, runningVar: F32, y: F32,
    saveMean: F32, saveInvstd: F32, n: number, c: number, hw: number, eps: number): void;
  /** gres = y > 0 ? gy : 0; gx = gres * gamma * saveInvstd (each when given). */
  batchNormReluEvalBackward(y: F32, gy: F32, gamma: F32, saveInvstd: F32, gx: F32 | null, gres: F32 | null,
    n: number, c: number, hw: number): void;
  maxPool2dForward(x: F32, y: F32, argmax: I32, p: PoolParams): void;
  maxPool2dBackward(gy: F32, argmax: I32, gx: F32, p: PoolParams): void;
  avgPool2dForward(x: F32, y: F32, p: PoolParams): void;
  avgPool2dBackward(gy: F32, gx: F32, p: PoolParams): void;
  /** y[nc] = mean over hw of x[nc, :] */
  globalAvgPoolForward(x: F32, y: F32, nc: number, hw: number): void;
  globalAvgPoolBackward(gy: F32, gx: F32, nc: number, hw: number): void;
  /** softmax into probs; returns the mean negative log-likelihood. Labels must be in [0, classes). */
  crossEntropyForward(logits: F32, labels: I32, probs: F32, rows: number, classes: number): number;
  /** gx = (probs - onehot(labels)) * scale */
  crossEntropyBackward(probs: F32, labels: I32, gx: F32, rows: number, classes: number, scale: number): void;

  // --- inference (src/infer): sparse conv over a CSR of the kept weights, fused epilogues ---
  /** The lowering and tile the sparse conv runs best with for these params: mode * 256 + tile (mode 0 direct, 1 panel). */
  sparseConvChoose(p: ConvParams): number;
  sparseCountNonzero(w: F32): number;
  /** Packs the nonzeros of w (O x C x KH x KW, groups 1) per output channel: rowPtr (O+1), offs and vals (nnz each). */
  sparseConvPack(w: F32, p: ConvParams, mode: number, tile: number, rowPtr: I32, offs: I32, vals: F32): void;
  /** y = relu?(sparseConv(x) + bias + residual); the CSR must come from sparseConvPack with the same geometry, mode and tile. */
  sparseConvForward(x: F32, rowPtr: I32, offs: I32, vals: F32, bias: F32 | null, residual: F32 | null, y: F32,
    p: ConvParams, mode: number, tile: number, relu: boolean): void;
  /** y = relu?(conv2d(x, w) + bias + residual) with the dense packed-GEMM conv. */
  denseConvFused(x: F32, w: F32, bias: F32 | null, residual: F32 | null, y: F32, p: ConvParams, relu: boolean): void;
  /** max pooling without argmax for the 2x2 / stride 2 / no padding / floor case only (throws otherwise). */
  maxPool2x2Infer(x: F32, y: F32, p: PoolParams): void;

  // --- optim (PyTorch semantics, in place on p and the state buffers) ---
  /** step is 1-based (bias correction). weightDecay is L2 added to the gradient (torch.optim.Adam). */
  adamStep(p: F32, g: F32, m: F32, v: F32, step: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number): void;
  /** buf may be null when momentum == 0; firstStep: buf = g (torch initialises the buffer with the first gradient). */
  sgdStep(p: F32, g: F32, buf: F32 | null, lr: number, momentum: number, dampening: number, weightDecay: number,
    nesterov: boolean, firstStep: boolean): void;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function load(): { binding: NativeBinding; path: string } {
  const require = createRequire(import.meta.url);
  const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
  try {
    const path = nodeGypBuild.resolve(root);
    return { binding: require(path) as NativeBinding, path };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `seam: the native addon could not be loaded (${why}).\n` +
        `  Looked in ${join(root, 'build', 'Release')} and ${join(root, 'prebuilds')}.\n` +
        '  Build it with `npm run build:native` (needs cargo, the Rust toolchain).',
    );
  }
}

const loaded = load();
export const native: NativeBinding = loaded.binding;
/** The addon file loaded: `build/Release/*.node` (built from source here) or `prebuilds/<platform>-<arch>/*.node`
 *  (the prebuilt one shipped in the package); node-gyp-build prefers a local build. */
export const addonPath: string = loaded.path;

export interface NativeInfo {
  threads: number;
  simd: string;
  version: string;
}

export function nativeInfo(): NativeInfo {
  return JSON.parse(native.info()) as NativeInfo;
}
