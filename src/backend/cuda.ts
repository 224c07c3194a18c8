// The CUDA backend: the addon's CUDA launchers (cuda-native.ts) over device buffer handles, and
// device allocation from the caching allocator. Kernels the device does not have run on the host
// (onHost below), the one place where that happens; the ResNet/VGG zoo models never take it.
import { Tensor, numel, shapeStr, type DType, type Shape } from '../tensor/tensor.js';
import { cpu } from './cpu.js';
import { cudaNative as cu, cudaStatus } from './cuda-native.js';
import type { Backend, Kernels } from './kernels.js';
import { DeviceStorage } from './storage.js';

type H = number;

const warned = new Set<string>();

/** A kernel run on the host: the buffers it reads are downloaded, the CPU kernel runs, the
 *  buffers it writes are uploaded. `sig` has a letter per argument: 'r' a buffer it reads, 'w' one
 *  it overwrites, 'u' one it reads and updates, '.' a value passed as it is. Copies 4-byte
 *  elements as float32 bits, so int32 buffers pass through unchanged. */
function onHost<K extends keyof Kernels<H, H>>(name: K, sig: string): Kernels<H, H>[K] {
  const hostKernel = cpu.k[name] as unknown as (...args: unknown[]) => void;
  const run = (...args: unknown[]): void => {
    if (!warned.has(name)) {
      warned.add(name);
      process.emitWarning(`seam: ${name} has no CUDA kernel; it runs on the host (device buffers copied there and back)`);
    }
    const host = args.map((a, i) => {
      if (sig[i] === '.') return a;
      const buf = new Float32Array(cu.cudaLength(a as H));
      if (sig[i] !== 'w') cu.cudaDownload(a as H, buf);
      return buf;
    });
    hostKernel(...host);
    args.forEach((a, i) => {
      if (sig[i] === 'w' || sig[i] === 'u') cu.cudaUpload(a as H, host[i] as Float32Array);
    });
  };
  return run as unknown as Kernels<H, H>[K];
}

const kernels: Kernels<H, H> = {
  gemm: cu.cudaGemm,
  conv2dForward: cu.cudaConv2dForward,
  conv2dBackwardData: cu.cudaConv2dBackwardData,
  conv2dBackwardWeight: cu.cudaConv2dBackwardWeight,
  maskedWeight: cu.cudaMaskedWeight,
  maskGrad: cu.cudaMaskGrad,
  countPositive: cu.cudaCountPositive,
  relu: cu.cudaRelu,
  reluBackward: cu.cudaReluBackward,
  sigmoid: onHost('sigmoid', 'rw'),
  sigmoidBackward: onHost('sigmoidBackward', 'rrw'),
  clip: onHost('clip', 'r..w'),
  clipBackward: onHost('clipBackward', 'rr..w'),
  add: cu.cudaAdd,
  mul: cu.cudaMul,
  scale: cu.cudaScale,
  fill: cu.cudaFill,
  addRowBias: cu.cudaAddRowBias,
  sumRows: cu.cudaSumRows,
  sum: cu.cudaSum,
  argmax: cu.cudaArgmax,
  gather: onHost('gather', 'r.w'),
  scatterAdd: onHost('scatterAdd', 'r.u'),
  copyRows: onHost('copyRows', 'r..u....'),
  batchNorm2dForward: cu.cudaBatchNorm2dForward,
  batchNorm2dBackward: cu.cudaBatchNorm2dBackward,
  maxPool2dForward: cu.cudaMaxPool2dForward,
  maxPool2dBackward: cu.cudaMaxPool2dBackward,
  avgPool2dForward: cu.cudaAvgPool2dForward,
  avgPool2dBackward: cu.cudaAvgPool2dBackward,
  globalAvgPoolForward: cu.cudaGlobalAvgPoolForward,
  globalAvgPoolBackward: cu.cudaGlobalAvgPoolBackward,
  crossEntropyForward: cu.cudaCrossEntropyForward,
  crossEntropyBackward: cu.cudaCrossEntropyBackward,
  adamStep: cu.cudaAdamStep,
  sgdStep: cu.cudaSgdStep,
};

function buffer(t: Tensor, dtype: DType): H {
  if (t.dtype !== dtype) throw new Error(`expected a ${dtype === 'f32' ? 'float32' : 'int32'} tensor, got ${t.dtype} ${shapeStr(t.shape)}`);
  return t.liveStorage('cuda kernel').handle;
}

function uninit(shape: Shape, dtype: DType = 'f32'): Tensor {
  return new Tensor(DeviceStorage.alloc(numel(shape), dtype), shape);
}

function upload(t: Tensor, values: Float32Array | Int32Array): void {
  const h = t.liveStorage('upload').handle;
  if (values instanceof Int32Array) cu.cudaUploadI32(h, values);
  else cu.cudaUpload(h, values);
}

const cuda: Backend<H, H> = {
  device: 'cuda',
  k: kernels,
  fused: null,
  f: (t) => buffer(t, 'f32'),
  i: (t) => buffer(t, 'i32'),
  uninit,
  zeros: (shape, dtype = 'f32') => {
    const t = uninit(shape, dtype);
    cu.cudaFill(t.liveStorage('zeros').handle, 0); // all-zero bits: 0 as int32 too
    return t;
  },
  full: (shape, value) => {
    const t = uninit(shape);
    cu.cudaFill(t.liveStorage('full').handle, value);
    return t;
  },
  fromHost: (values, shape) => {
    const t = uninit(shape, values instanceof Int32Array ? 'i32' : 'f32');
    upload(t, values);
    return t;
  },
  write: upload,
  release: (t) => t.dispose(),
};

let available = false;

/** The CUDA backend; "<op>: CUDA is not available: <reason>" when the addon has no usable device. */
export function cudaBackend(op: string): Backend<H, H> {
  if (!available) {
    const s = cudaStatus();
    if (!s.available) throw new Error(`${op}: CUDA is not available: ${s.reason}`);
    available = true;
  }
  return cuda;
}
