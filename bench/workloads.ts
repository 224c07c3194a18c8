// The engine workloads of ../shared/BENCHMARKS.md: GEMM, a SeaM step and dense inference.
import { backward } from '../src/autograd/backward.js';
import { noGrad } from '../src/autograd/node.js';
import { cudaNative } from '../src/backend/cuda-native.js';
import { deviceScope } from '../src/backend/storage.js';
import { cifarResNet20 } from '../src/models/cifar-resnet.js';
import { cifarVgg16bn } from '../src/models/cifar-vgg.js';
import { native } from '../src/native.js';
import { Linear, Module, manualSeed } from '../src/nn/index.js';
import * as ops from '../src/ops/index.js';
import { Adam } from '../src/optim/index.js';
import { attachMasks, maskRatio, seamTrain, type MaskEntry } from '../src/seam/masks.js';
import { Tensor, type Device } from '../src/tensor/tensor.js';
import { Rng } from '../src/util/rng.js';

export type Workload = () => void;

export function gemmWorkload(n = 1024): { run: Workload; flops: number } {
  const rng = new Rng(1);
  const a = Tensor.randn([n, n], rng).f32;
  const b = Tensor.randn([n, n], rng).f32;
  const c = new Float32Array(n * n);
  return { run: () => native.gemm(false, false, n, n, n, 1, a, b, 0, c), flops: 2 * n ** 3 };
}

export const MODELS: Record<string, () => Module & { numClasses: number }> = {
  resnet20: () => cifarResNet20(10),
  vgg16: () => cifarVgg16bn(10),
};

/** Waits for queued device work so a timing covers it (nothing to wait for on the CPU). */
function finish(device: Device): void {
  if (device !== 'cpu') cudaNative.cudaSynchronize();
}

/** Sets every weight mask to keep exactly round(keep * size) random entries (seeded): +1 kept, -1
 *  dropped (far from 0, so the Adam steps of a benchmark do not flip them); bias masks keep all. */
export function keepRandomWeights(masks: MaskEntry[], keep: number, seed = 10): void {
  const rng = new Rng(seed);
  for (const e of masks) {
    const m = e.mask.f32;
    if (e.param.endsWith('.bias')) {
      m.fill(1);
      continue;
    }
    const idx = Int32Array.from({ length: m.length }, (_, i) => i);
    const k = Math.round(keep * m.length);
    for (let i = 0; i < k; i++) {
      const j = i + rng.int(m.length - i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    m.fill(-1);
    for (let i = 0; i < k; i++) m[idx[i]] = 1;
  }
}

/** One SeaM step: forward, CE + 1.0 * ratio, backward to masks and head, one Adam update of both groups;
 *  with `keep`, random masks keeping that fraction of each weight tensor (what a late search step costs).
 *  On a device the batch stays resident (as in a search whose loader uploads ahead) and each step
 *  runs in a deviceScope, so device memory is flat across steps. */
export function seamStepWorkload(arch: string, batch: number, device: Device = 'cpu', keep: number | null = null): Workload {
  manualSeed(0);
  const model = MODELS[arch]();
  const masks = attachMasks(model);
  if (keep !== null) keepRandomWeights(masks, keep);
  model.to(device);
  seamTrain(model);
  const head = new Linear(model.numClasses, 2).to(device);
  const opt = new Adam([
    { params: masks.map((m) => m.mask), lr: 0.05 },
    { params: head.parameters(), lr: 0.1 },
  ]);
  const rng = new Rng(2);
  const x = Tensor.randn([batch, 3, 32, 32], rng).moveTo_(device);
  const y = Tensor.ints(Array.from({ length: batch }, () => rng.int(2))).moveTo_(device);
  const step = (): void => {
    opt.zeroGrad();
    const logits = head.forward(ops.relu(model.forward(x)));
    const loss = ops.add(ops.crossEntropy(logits, y), maskRatio(masks));
    backward(loss);
    opt.step();
  };
  if (device === 'cpu') return step;
  return () => {
    deviceScope(step);
    finish(device);
  };
}

export function inferWorkload(arch: string, batch: number, device: Device = 'cpu'): Workload {
  manualSeed(0);
  const model = MODELS[arch]().eval().to(device);
  const x = Tensor.randn([batch, 3, 32, 32], new Rng(3)).moveTo_(device);
  if (device === 'cpu') return () => noGrad(() => model.forward(x));
  return () => {
    deviceScope(() => void noGrad(() => model.forward(x)));
    finish(device);
  };
}

/** n x n x n GEMM on device buffers (FP32, or TF32 when SEAM_CUDA_TF32=1). */
export function gemmCudaWorkload(n = 1024): { run: Workload; flops: number } {
  const rng = new Rng(1);
  const [a, b, c] = [Tensor.randn([n, n], rng), Tensor.randn([n, n], rng), Tensor.zeros([n, n])].map((t) => t.moveTo_('cuda'));
  const [ha, hb, hc] = [a, b, c].map((t) => t.liveStorage('gemm').handle);
  return {
    run: () => {
      cudaNative.cudaGemm(false, false, n, n, n, 1, ha, hb, 0, hc);
      cudaNative.cudaSynchronize();
    },
    flops: 2 * n ** 3,
  };
}
