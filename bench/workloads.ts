// The workloads of ../shared/BENCHMARKS.md: GEMM, a SeaM step, dense and planned (dense or pruned)
// inference, onnxruntime on the same models, loading the VGG16 checkpoint, a SeaM epoch and the data
// pipeline on Fashion-MNIST (the last three read ../shared, SEAM_SHARED overrides); the start-up cost
// of importing the package.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InferenceSession } from 'onnxruntime-node';
import { backward } from '../src/autograd/backward.js';
import { noGrad } from '../src/autograd/node.js';
import { cudaNative } from '../src/backend/cuda-native.js';
import { recyclingScope } from '../src/backend/cpu-pool.js';
import { deviceScope } from '../src/backend/storage.js';
import { cifarResNet20 } from '../src/models/cifar-resnet.js';
import { cifarVgg16bn } from '../src/models/cifar-vgg.js';
import { binaryProblem, DataLoader, dataSpecFromArgs, loadIdxDir, NORMALIZATION, openData, trainLoader, type TransformSpec } from '../src/data/index.js';
import { exportOnnx } from '../src/export/onnx.js';
import { planModel, type PlanOptions } from '../src/infer/index.js';
import { loadModel } from '../src/models/load.js';
import { native } from '../src/native.js';
import { Linear, Module, ReLU, Sequential, manualSeed } from '../src/nn/index.js';
import * as ops from '../src/ops/index.js';
import { Adam } from '../src/optim/index.js';
import { batchTensor } from '../src/seam/evaluate.js';
import { attachMasks, maskRatio, seamTrain, type MaskEntry } from '../src/seam/masks.js';
import { Tensor, type Device } from '../src/tensor/tensor.js';
import { Rng } from '../src/util/rng.js';
import { epochRates, median } from './timing.js';

/** The shared folder: SEAM_SHARED, ../shared beside the checkout, or shared/ inside it. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SHARED = [process.env['SEAM_SHARED'], join(ROOT, '..', 'shared'), join(ROOT, 'shared')]
  .filter((d): d is string => !!d).find((d) => existsSync(join(d, 'data'))) ?? join(ROOT, '..', 'shared');

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
  // As the search runs a step (src/seam/search.ts): its large CPU buffers go back to the pool.
  if (device === 'cpu') return () => recyclingScope(step);
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

// Planned inference (src/infer): the dense model planned (BN folded, ReLU fused, buffers reused) and the
// model with a seeded random unstructured mask keeping a fraction of every conv/linear weight tensor.
/** Sets every weight mask to keep exactly round(keep * size) random entries (seeded); biases are kept. */
export function randomMasks(model: Module, keep: number, seed = 10): void {
  keepRandomWeights(attachMasks(model), keep, seed);
}

export function plannedInferWorkload(arch: string, batch: number, keep: number | null, opts: PlanOptions = {}): Workload {
  manualSeed(0);
  const model = MODELS[arch]().eval();
  if (keep !== null) randomMasks(model, keep);
  const engine = planModel(model, [3, 32, 32], opts);
  const x = Tensor.randn([batch, 3, 32, 32], new Rng(3)).f32;
  return () => void engine.run(x, batch);
}

export function loadVgg16Workload(): Workload {
  const file = join(SHARED, 'golden', 'cifar100_vgg16_bn.pt');
  return () => void loadModel(file);
}

type Ort = typeof import('onnxruntime-node');

/** onnxruntime-node on the dense model exported to ONNX, batch 16; null when it is not installed. */
export async function ortInferWorkload(arch: string, batch: number, threads: number): Promise<(() => Promise<void>) | null> {
  let ort: Ort;
  try {
    ort = createRequire(import.meta.url)('onnxruntime-node') as Ort;
  } catch {
    return null;
  }
  manualSeed(0);
  const model = MODELS[arch]().eval();
  const dir = mkdtempSync(join(tmpdir(), 'seam-ort-'));
  const file = join(dir, `${arch}.onnx`);
  exportOnnx(model, null, [batch, 3, 32, 32], file);
  const session: InferenceSession = await ort.InferenceSession.create(file, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  rmSync(dir, { recursive: true, force: true });
  const x = Tensor.randn([batch, 3, 32, 32], new Rng(3)).f32;
  const feeds = { input: new ort.Tensor('float32', x, [batch, 3, 32, 32]) };
  return async () => void (await session.run(feeds));
}

/** Seconds for one 'both' epoch (masks + head) of SeaM on Fashion-MNIST class 0 vs rest (12,000 images). */
export async function seamEpochFmnistSeconds(): Promise<number | null> {
  const modelFile = join(SHARED, 'data', 'fmnist_resnet20.pt');
  if (!existsSync(modelFile)) return null;
  const { model } = loadModel(modelFile);
  const data = await openData(dataSpecFromArgs({ data: `fashion-mnist:${join(SHARED, 'data', 'fashion-mnist')}` }));
  const problem = binaryProblem(data, 0);
  const masks = attachMasks(model);
  seamTrain(model);
  manualSeed(0);
  const head = new Sequential(new ReLU(), new Linear(10, 2));
  const opt = new Adam([{ params: masks.map((m) => m.mask), lr: 0.05 }, { params: head.parameters(), lr: 0.1 }]);
  const loader = trainLoader(data, problem.train, { batchSize: 64 });
  const t0 = process.hrtime.bigint();
  for await (const b of loader.epoch(1)) {
    opt.zeroGrad();
    const loss = ops.add(ops.crossEntropy(head.forward(model.forward(batchTensor(b))), Tensor.ints(b.y)), maskRatio(masks));
    backward(loss);
    opt.step();
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Images per second of a shuffled Fashion-MNIST training epoch: random crop 28 pad 4 + flip +
 *  normalise, batches of 64 (median over `reps` epochs after `warmup`). */
export async function benchFmnist(o: { warmup?: number; reps?: number } = {}): Promise<number> {
  const { train } = await loadIdxDir(join(SHARED, 'data', 'fashion-mnist'), { name: 'fashion-mnist' });
  const spec: TransformSpec = { height: 28, width: 28, crop: 'random', padding: 4, flip: true, normalization: NORMALIZATION['fashion-mnist'] };
  const dl = new DataLoader(train, { batchSize: 64, transform: spec, shuffle: true, seed: 0 });
  const rates = await epochRates(dl, o.warmup ?? 3, o.reps ?? 10);
  process.stderr.write(`fmnist crop+flip+normalise b64: median ${median(rates).toFixed(0)} img/s over ${rates.length} epochs\n`);
  return median(rates);
}

/** Median wall ms of fresh `node` processes, interleaved: a bare start (`node -e ""`) and one that imports
 *  the package as a user does (`import 'seam'`: the built dist/ and its addon). */
export function importTimes(reps = 10, warmup = 2): { bare: number; imported: number } {
  const start = (args: string[]): number => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench: node ${args.join(' ')} failed (is dist/ built? npm run build:ts): ${r.stderr}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const bare: number[] = [];
  const imported: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const b = start(['-e', '']);
    const m = start(['--input-type=module', '-e', "import 'seam'"]);
    if (i >= warmup) [bare[bare.length], imported[imported.length]] = [b, m];
  }
  return { bare: median(bare), imported: median(imported) };
}
