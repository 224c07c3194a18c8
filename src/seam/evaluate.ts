// Evaluation on a target problem: the original model's accuracy (scored as SEAM.md §1 says) and
// the re-engineered model's accuracy (head on top), both in eval mode without gradients.
import { noGrad } from '../autograd/node.js';
import { recyclingScope } from '../backend/cpu-pool.js';
import { deviceScope } from '../backend/storage.js';
import type { Batch, TargetProblem } from '../data/index.js';
import { scoreOriginal } from '../data/index.js';
import type { Module } from '../nn/index.js';
import { argmax } from '../ops/index.js';
import { Tensor, type Device } from '../tensor/tensor.js';

export function batchTensor(b: Batch): Tensor {
  return new Tensor(b.x, b.shape);
}

/** Class predictions of f on every batch, run on `device` (batches uploaded, predictions downloaded). */
async function predictions(loader: AsyncIterable<Batch>, total: number, f: (x: Tensor) => Tensor, device: Device = 'cpu'): Promise<Int32Array> {
  const out = new Int32Array(total);
  let n = 0;
  for await (const b of loader) {
    const pred = deviceScope(() => noGrad(() => argmax(f(batchTensor(b).to(device))).cpu()));
    out.set(pred.i32, n);
    n += b.y.length;
  }
  if (n !== total) throw new Error(`evaluation saw ${n} samples, expected ${total}`);
  return out;
}

/** Runs `fn` with the modules in eval mode and restores their modes after. */
export async function inEvalMode<T>(modules: Module[], fn: () => Promise<T>): Promise<T> {
  const saved = modules.map((m) => m.trainingFlags());
  modules.forEach((m) => m.eval());
  try {
    return await fn();
  } finally {
    modules.forEach((m, i) => m.restoreTrainingFlags(saved[i]));
  }
}

/** The original model's accuracy on the problem's test split. */
export async function originalAccuracy(model: Module, problem: TargetProblem, loader: AsyncIterable<Batch>, device: Device = 'cpu'): Promise<number> {
  return inEvalMode([model], async () => {
    const pred = await predictions(loader, problem.test.length, (x) => model.forward(x), device);
    return scoreOriginal(problem, problem.test, pred);
  });
}

/** Accuracy of head(model(x)) against the labels the loader yields (a problem split's labels). */
export async function problemAccuracy(model: Module, head: Module, loader: AsyncIterable<Batch>, device: Device = 'cpu'): Promise<number> {
  return inEvalMode([model, head], async () => {
    let ok = 0;
    let n = 0;
    for await (const b of loader) {
      const predict = (): Tensor => noGrad(() => argmax(head.forward(model.forward(batchTensor(b).to(device)))).cpu());
      const pred = deviceScope(() => recyclingScope(predict)).i32;
      for (let i = 0; i < pred.length; i++) if (pred[i] === b.y[i]) ok++;
      n += pred.length;
    }
    return n ? ok / n : 0;
  });
}
