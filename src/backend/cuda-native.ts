// Typed view of the addon's CUDA functions (native/bindings/cuda.rs, cuda_ops.rs). They live on the
// same addon object as the CPU ops of src/native.ts; this file only adds their types.
// Device buffers are numeric handles (CudaBuffer) of 4-byte elements (f32, or i32 for labels and
// argmax) with an explicit cudaFree. Each launcher takes the CPU op's arguments in the same order,
// with device handles in place of typed arrays (conv / pool params stay host Int32Arrays), checks
// every handle and length, and queues its kernels on one stream; ops returning numbers, downloads
// and cudaSynchronize wait for the stream. Without a usable GPU every function except
// cudaAvailable throws "<op>: CUDA is not available: <reason>".
import { native, type ConvParams, type PoolParams } from '../native.js';

/** A device buffer handle (an id in the addon's registry, never a raw pointer). */
export type CudaBuffer = number;
type B = CudaBuffer;

export interface CudaStatus {
  available: boolean;
  /** why CUDA is unavailable ('' when available) */
  reason: string;
  device: string | null;
  /** compute capability, "9.0" */
  cc: string | null;
  /** which embedded image was loaded: "cubin sm_90" or "ptx compute_80" */
  image: string | null;
  tf32: boolean;
  /** build.rs's note when the kernels were not compiled ('' when they were) */
  build: string;
  /** nvcc was found but failed to compile kernels/*.cu (`build` holds its error): a broken build,
   *  unlike kernels left out for want of nvcc or with SEAM_NO_CUDA=1 */
  nvccFailed: boolean;
}

export interface CudaNativeBinding {
  /** JSON CudaStatus; never throws. */
  cudaAvailable(): string;
  /** Opt into the TF32 tensor-core GEMM (sm_80+); off by default (results differ from FP32 ~1e-3). */
  cudaSetTf32(enabled: boolean): void;
  /** Returns {kernel: [launches, ms]} gathered since the last call, then turns the sync-timed profiler on or off. */
  cudaProfile(enabled: boolean): string;

  // --- buffers ---
  /** A new device buffer of len 4-byte elements (contents undefined). */
  cudaAlloc(len: number): B;
  cudaFree(buf: B): void;
  cudaLength(buf: B): number;
  cudaLiveBuffers(): number;
  cudaSynchronize(): void;
  /** src.length must equal the buffer's length. */
  cudaUpload(buf: B, src: Float32Array): void;
  cudaUploadI32(buf: B, src: Int32Array): void;
  /** Waits for the stream, then copies; dst.length must equal the buffer's length. */
  cudaDownload(buf: B, dst: Float32Array): void;
  cudaDownloadI32(buf: B, dst: Int32Array): void;
  cudaFill(buf: B, value: number): void;

  // --- the CPU ops of NativeBinding, over device buffers ---
  cudaGemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: B, b: B, beta: number, c: B): void;
  cudaConv2dForward(x: B, w: B, bias: B | null, y: B, p: ConvParams): void;
  cudaConv2dBackwardData(gy: B, w: B, gx: B, p: ConvParams): void;
  cudaConv2dBackwardWeight(x: B, gy: B, gw: B, gb: B | null, p: ConvParams): void;
  cudaMaskedWeight(w: B, m: B, out: B): void;
  cudaMaskGrad(gWeff: B, w: B, gm: B): void;
  cudaCountPositive(x: B): number;
  cudaRelu(x: B, y: B): void;
  cudaReluBackward(y: B, gy: B, gx: B): void;
  cudaAdd(a: B, b: B, out: B): void;
  cudaMul(a: B, b: B, out: B): void;
  cudaScale(a: B, s: number, out: B): void;
  cudaAxpy(alpha: number, x: B, y: B): void;
  cudaAddScalar(x: B, s: number): void;
  cudaAddRowBias(y: B, b: B, rows: number, cols: number): void;
  cudaSumRows(g: B, out: B, rows: number, cols: number): void;
  cudaSum(x: B): number;
  /** out is an i32 device buffer */
  cudaArgmax(x: B, out: B, rows: number, cols: number): void;
  cudaBatchNorm2dForward(x: B, gamma: B, beta: B, runningMean: B, runningVar: B, y: B, saveMean: B, saveInvstd: B,
    n: number, c: number, hw: number, training: boolean, momentum: number, eps: number): void;
  cudaBatchNorm2dBackward(x: B, gy: B, gamma: B, saveMean: B, saveInvstd: B, gx: B, ggamma: B | null, gbeta: B | null,
    n: number, c: number, hw: number, training: boolean): void;
  /** argmax is an i32 device buffer */
  cudaMaxPool2dForward(x: B, y: B, argmax: B, p: PoolParams): void;
  cudaMaxPool2dBackward(gy: B, argmax: B, gx: B, p: PoolParams): void;
  cudaAvgPool2dForward(x: B, y: B, p: PoolParams): void;
  cudaAvgPool2dBackward(gy: B, gx: B, p: PoolParams): void;
  cudaGlobalAvgPoolForward(x: B, y: B, nc: number, hw: number): void;
  cudaGlobalAvgPoolBackward(gy: B, gx: B, nc: number, hw: number): void;
  /** labels is an i32 device buffer; throws when a label is outside [0, classes). */
  cudaCrossEntropyForward(logits: B, labels: B, probs: B, rows: number, classes: number): number;
  cudaCrossEntropyBackward(probs: B, labels: B, gx: B, rows: number, classes: number, scale: number): void;
  cudaAdamStep(p: B, g: B, m: B, v: B, step: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number): void;
  cudaSgdStep(p: B, g: B, buf: B | null, lr: number, momentum: number, dampening: number, weightDecay: number,
    nesterov: boolean, firstStep: boolean): void;
}

/** The addon, typed with its CUDA functions. */
export const cudaNative = native as unknown as CudaNativeBinding;

/** Whether CUDA works in this process, and why not; never throws. */
export function cudaStatus(): CudaStatus {
  if (typeof cudaNative.cudaAvailable !== 'function') {
    return { available: false, reason: 'the loaded addon predates CUDA support; rebuild it (npm run build:native)', device: null,
      cc: null, image: null, tf32: false, build: '', nvccFailed: false };
  }
  return JSON.parse(cudaNative.cudaAvailable()) as CudaStatus;
}
