// Fine-tuning (SEAM.md §4): SGD with momentum and weight decay over two parameter groups (hidden
// layers and the output layer, each with its own learning rate), validation accuracy after every
// epoch, early stopping with patience, and the best epoch's weights restored at the end.
// `trainable: 'output'` trains the output layer alone on the frozen rest of the model (eval mode);
// its penultimate features are then computed once per sample and reused while the loader does not
// augment.
import { EpochStats } from './epoch-stats.js';
import { backward } from '../autograd/backward.js';
import { recyclingScope } from '../backend/cpu-pool.js';
import { noGrad } from '../autograd/node.js';
import type { Batch, DataLoader } from '../data/index.js';
import type { Module } from '../nn/index.js';
import * as ops from '../ops/index.js';
import { SGD } from '../optim/index.js';
import { Tensor } from '../tensor/tensor.js';
import { batchTensor } from './evaluate.js';
import { findOutputLayer, penultimate } from './output-layer.js';

export interface FinetuneOptions {
  epochs?: number;
  /** learning rate of every layer but the output layer */
  lrHidden?: number;
  /** learning rate of the output layer */
  lrOutput?: number;
  momentum?: number;
  weightDecay?: number;
  /** 'all': every parameter (model in train mode); 'output': the output layer only, the rest frozen in eval mode */
  trainable?: 'all' | 'output';
  /** epochs without a better validation accuracy before stopping; <= 0 = never stop early */
  earlyStop?: number;
  /** called after every optimizer step (e.g. to keep pruned weights at zero) */
  afterStep?: () => void;
  signal?: AbortSignal;
  onEvent?: (e: FinetuneEvent) => void;
}

export const FINETUNE_DEFAULTS = {
  epochs: 100, lrHidden: 0.005, lrOutput: 0.05, momentum: 0, weightDecay: 1e-4, trainable: 'all' as 'all' | 'output', earlyStop: 30,
};

export interface FinetuneEpoch {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  /** validation accuracy after the epoch */
  accuracy: number;
  seconds: number;
  /** this epoch is the best so far */
  best: boolean;
}

export type FinetuneEvent =
  | { type: 'start'; epochs: number; batchesPerEpoch: number; initialAccuracy: number }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; accuracy: number }
  | { type: 'epoch'; log: FinetuneEpoch; bestEpoch: number };

export interface FinetuneData {
  /** shuffled training batches (epoch e reproducible) */
  train: DataLoader;
  /** validation batches: decide the best epoch and early stopping */
  val: DataLoader;
}

export interface FinetuneResult {
  /** validation accuracy before the first epoch */
  initialAccuracy: number;
  /** the epoch whose weights the model holds at the end (-1 only when no epoch ran) */
  bestEpoch: number;
  bestAccuracy: number;
  epochsRun: number;
  stoppedEarly: boolean;
  cancelled: boolean;
  seconds: number;
  log: FinetuneEpoch[];
}

/** Early stopping on validation accuracy: the first epoch reaching the maximum is the best; stop after
 *  `patience` epochs in a row without a strictly better accuracy. Pure state, tested alone. */
export interface EarlyStopState {
  patience: number;
  bestEpoch: number;
  bestAccuracy: number;
  wait: number;
}

export function newEarlyStop(patience: number): EarlyStopState {
  return { patience, bestEpoch: -1, bestAccuracy: -Infinity, wait: 0 };
}

export function observeFinetuneEpoch(s: EarlyStopState, epoch: number, accuracy: number): { best: boolean; stop: boolean } {
  if (accuracy > s.bestAccuracy) {
    s.bestAccuracy = accuracy;
    s.bestEpoch = epoch;
    s.wait = 0;
    return { best: true, stop: false };
  }
  s.wait += 1;
  return { best: false, stop: s.patience > 0 && s.wait >= s.patience };
}

/** Copies of every parameter and buffer (BatchNorm running statistics included). */
export function snapshotState(model: Module): (Float32Array | Int32Array)[] {
  return [...model.stateDict().values()].map((t) => t.data.slice());
}

export function restoreState(model: Module, snap: (Float32Array | Int32Array)[]): void {
  [...model.stateDict().values()].forEach((t, i) => t.data.set(snap[i]!));
}

/** Caches penultimate features by dataset index (valid while the loader does not augment). */
class FeatureCache {
  private readonly rows = new Map<number, Float32Array>();
  constructor(private readonly f: (x: Tensor) => Tensor, private readonly enabled: boolean) {}

  features(b: Batch): Tensor {
    const n = b.y.length;
    if (this.enabled && n > 0 && b.indices.every((i) => this.rows.has(i))) {
      const width = this.rows.get(b.indices[0]!)!.length;
      const out = new Float32Array(n * width);
      b.indices.forEach((i, j) => out.set(this.rows.get(i)!, j * width));
      return new Tensor(out, [n, width]);
    }
    const feats = noGrad(() => this.f(batchTensor(b)));
    if (this.enabled) {
      const width = feats.size / n;
      b.indices.forEach((i, j) => this.rows.set(i, feats.f32.slice(j * width, (j + 1) * width)));
    }
    return feats;
  }
}

/** Top-1 accuracy of `model` on the loader's batches, in eval mode without gradients. */
export async function accuracyOf(model: Module, loader: DataLoader, logits?: (b: Batch) => Tensor): Promise<number> {
  const flags = model.trainingFlags();
  model.eval();
  try {
    let ok = 0;
    let n = 0;
    for await (const b of loader.epoch(0)) {
      const pred = noGrad(() => ops.argmax(logits ? logits(b) : model.forward(batchTensor(b)))).i32;
      for (let i = 0; i < pred.length; i++) if (pred[i] === b.y[i]) ok++;
      n += pred.length;
    }
    return n ? ok / n : 0;
  } finally {
    model.restoreTrainingFlags(flags);
  }
}

export async function finetune(model: Module, data: FinetuneData, options: FinetuneOptions = {}): Promise<FinetuneResult> {
  const o = { ...FINETUNE_DEFAULTS, ...options };
  const t0 = Date.now();
  const out = findOutputLayer(model);
  const outputParams = out.layer.parameters();
  const hiddenParams = model.parameters().filter((p) => !outputParams.includes(p) && !/_mask$/.test(p.name ?? ''));
  const outputOnly = o.trainable === 'output';
  const savedFlags = model.parameters().map((p) => p.requiresGrad);
  for (const p of model.parameters()) p.setRequiresGrad(false);
  for (const p of outputOnly ? outputParams : [...hiddenParams, ...outputParams]) p.setRequiresGrad(true);
  const groups = [{ params: outputParams, lr: o.lrOutput }];
  if (!outputOnly) groups.unshift({ params: hiddenParams, lr: o.lrHidden });
  const opt = new SGD(groups, { lr: o.lrOutput, momentum: o.momentum, weightDecay: o.weightDecay });

  const feats = penultimate(model);
  const trainCache = new FeatureCache(feats, outputOnly && !data.train.augment);
  const valCache = new FeatureCache(feats, outputOnly);
  const evaluate = (): Promise<number> => accuracyOf(model, data.val, outputOnly ? (b) => out.layer.forward(valCache.features(b)) : undefined);

  const initialAccuracy = await evaluate();
  const stopper = newEarlyStop(o.earlyStop);
  let best = snapshotState(model);
  const log: FinetuneEpoch[] = [];
  const batches = data.train.length;
  o.onEvent?.({ type: 'start', epochs: o.epochs, batchesPerEpoch: batches, initialAccuracy });
  let cancelled = false;
  let stoppedEarly = false;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const start = Date.now();
      if (outputOnly) model.eval();
      else model.train();
      const stats = new EpochStats();
      for await (const b of data.train.epoch(epoch)) {
        // one step in a recycling scope: its large CPU buffers go back to the pool at its end (the
        // feature cache keeps copies, parameters and optimizer state are kept buffers)
        const lv = recyclingScope(() => {
          opt.zeroGrad();
          const logits = outputOnly ? out.layer.forward(trainCache.features(b)) : model.forward(batchTensor(b));
          const loss = ops.crossEntropy(logits, Tensor.ints(b.y));
          const lv = loss.item();
          if (!Number.isFinite(lv)) throw new Error(`fine-tuning: loss is ${lv} at epoch ${epoch}, batch ${stats.batches}`);
          backward(loss);
          opt.step();
          o.afterStep?.();
          stats.add(logits, b.y, lv);
          return lv;
        });
        o.onEvent?.({ type: 'batch', epoch, batch: stats.batches, batches, loss: lv, accuracy: stats.accuracy });
        if (o.signal?.aborted) {
          cancelled = true;
          break;
        }
      }
      if (cancelled) break;
      const accuracy = await evaluate();
      const step = observeFinetuneEpoch(stopper, epoch, accuracy);
      if (step.best) best = snapshotState(model);
      const entry: FinetuneEpoch = { epoch, trainLoss: stats.loss, trainAccuracy: stats.accuracy,
        accuracy, seconds: (Date.now() - start) / 1000, best: step.best };
      log.push(entry);
      o.onEvent?.({ type: 'epoch', log: entry, bestEpoch: stopper.bestEpoch });
      if (step.stop) {
        stoppedEarly = true;
        break;
      }
    }
  } finally {
    restoreState(model, best);
    model.eval();
    model.parameters().forEach((p, i) => p.setRequiresGrad(savedFlags[i]!));
    opt.zeroGrad();
  }
  return {
    initialAccuracy, bestEpoch: stopper.bestEpoch, bestAccuracy: log.length ? stopper.bestAccuracy : initialAccuracy, epochsRun: log.length, stoppedEarly, cancelled,
    seconds: (Date.now() - t0) / 1000, log,
  };
}
