// The remaining BENCHMARKS.md / issue workloads: loading the VGG16 .pt, onnxruntime-node on the
// dense ONNX models (the reference runtime for pruned-model inference), and one SeaM epoch on the
// Fashion-MNIST binary problem with the real data pipeline.
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { backward } from '../src/autograd/backward.js';
import { binaryProblem, dataSpecFromArgs, openData, trainLoader } from '../src/data/index.js';
import { exportOnnx } from '../src/export/onnx.js';
import { loadModel } from '../src/models/load.js';
import { Linear, ReLU, Sequential, manualSeed } from '../src/nn/index.js';
import * as ops from '../src/ops/index.js';
import { Adam } from '../src/optim/index.js';
import { batchTensor } from '../src/seam/evaluate.js';
import { attachMasks, maskRatio, seamTrain } from '../src/seam/masks.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/util/rng.js';
import { MODELS, type Workload } from './workloads.js';

const shared = ['../shared', '../../shared'].map((p) => join(process.cwd(), p)).find((p) => existsSync(p)) ?? join(process.cwd(), '..', 'shared');

export function loadVgg16Workload(): Workload {
  const file = join(shared, 'golden', 'cifar100_vgg16_bn.pt');
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
  const modelFile = join(shared, 'data', 'fmnist_resnet20.pt');
  if (!existsSync(modelFile)) return null;
  const { model } = loadModel(modelFile);
  const data = await openData(dataSpecFromArgs({ data: `fashion-mnist:${join(shared, 'data', 'fashion-mnist')}` }));
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
