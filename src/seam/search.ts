// SeaM's search loop (SEAM.md §3): two Adam optimisers, the [head, both, both, both, both]
// schedule, loss CE + alpha * r, evaluation after each epoch, SeaM's model selection and early
// stopping; with progress events, cancellation, NaN guards and an atomic checkpoint per epoch.
import { EpochStats } from './epoch-stats.js';
import { existsSync } from 'node:fs';
import { backward } from '../autograd/backward.js';
import { convFlops, sparseForwardShare } from '../backend/conv-stats.js';
import { recyclingScope } from '../backend/cpu-pool.js';
import { deviceScope } from '../backend/storage.js';
import { noGrad } from '../autograd/node.js';
import type { DataLoader, TargetProblem } from '../data/index.js';
import { Dropout, Linear, Module, ReLU, Sequential, manualSeed } from '../nn/index.js';
import * as ops from '../ops/index.js';
import { Adam } from '../optim/index.js';
import { Tensor, type Device } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';
import { loadCheckpoint, saveCheckpoint, type SearchCheckpoint, type Snapshot } from './checkpoint.js';
import { batchTensor, originalAccuracy, problemAccuracy } from './evaluate.js';
import { attachMasks, maskRatio, seamTrain, type Granularity, type MaskEntry } from './masks.js';
import type { EpochLog, LayerRetention } from './report-types.js';
import { chosenEpoch, newSelection, observeEpoch } from './selection.js';

export interface SearchOptions {
  epochs?: number;
  batchSize?: number;
  alpha?: number;
  lrMask?: number;
  lrHead?: number;
  seed?: number;
  /** patience after accuracy first reached the original's; -1 = never stop early */
  earlyStop?: number;
  /** checkpoint file written after every epoch */
  checkpoint?: string;
  /** continue from `checkpoint` when it exists */
  resume?: boolean;
  signal?: AbortSignal;
  onEvent?: (e: SearchEvent) => void;
  /** where the search runs: the model is moved there (in place), the head is made there, batches
   *  are uploaded; masks and head stay there in the result (Module.to('cpu') brings them back) */
  device?: Device;
  /** what one mask element covers: a weight (SeaM's), a conv kernel, or an output channel (masks.ts) */
  granularity?: Granularity;
}

export type SearchEvent =
  | { type: 'start'; originalAccuracy: number; epochs: number; batchesPerEpoch: number; startEpoch: number }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; accuracy: number; ratio: number }
  | { type: 'epoch'; log: EpochLog; bestEpoch: number | null };

export interface SearchData {
  problem: TargetProblem;
  /** shuffled training batches of the problem's train split (epoch e reproducible) */
  train: DataLoader;
  /** batches of the problem's test split in order, never augmented */
  test: DataLoader;
}

export interface SearchResult {
  originalAccuracy: number;
  accuracy: number;
  retention: number;
  bestEpoch: number;
  epochsRun: number;
  seconds: number;
  cancelled: boolean;
  log: EpochLog[];
  layers: LayerRetention[];
  granularity: Granularity;
  /** the masks, holding the chosen epoch's values */
  masks: MaskEntry[];
  /** ReLU -> Linear(outputs, k), with the chosen epoch's weights */
  head: Sequential;
}

export class SearchError extends Error {}

export const SEARCH_DEFAULTS = { epochs: 300, batchSize: 64, alpha: 1, lrMask: 0.05, lrHead: 0.1, seed: 0, earlyStop: -1, device: 'cpu' as Device, granularity: 'weight' as Granularity };

/** A host copy of a tensor's values (downloaded from a device tensor). */
const values = (t: Tensor): Float32Array => (t.device === 'cpu' ? t.f32.slice() : t.cpu().f32);

function setValues(t: Tensor, v: Float32Array): void {
  if (t.device === 'cpu') t.f32.set(v);
  else t.copy_(new Tensor(v, t.shape));
}

function snapshot(masks: MaskEntry[], head: Module): Snapshot {
  return { masks: masks.map((m) => values(m.mask)), head: head.parameters().map(values) };
}

function restore(s: Snapshot, masks: MaskEntry[], head: Module): void {
  masks.forEach((m, i) => setValues(m.mask, s.masks[i]));
  head.parameters().forEach((p, i) => setValues(p, s.head[i]));
}

function allFinite(arrays: Float32Array[]): boolean {
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/** Mask elements kept per masked parameter: weights, kernels or channels, with what each covers. */
export function layerRetention(masks: MaskEntry[]): LayerRetention[] {
  return masks.map((m) => {
    let kept = 0;
    for (const v of m.mask.device === 'cpu' ? m.mask.f32 : values(m.mask)) if (v > 0) kept++;
    return { param: m.param, shape: [...m.mask.shape], kept, total: m.mask.size, retention: kept / m.mask.size, granularity: m.granularity, cover: m.cover };
  });
}

/** One input sample's shape, from the first batch of a loader. */
async function sampleShape(loader: DataLoader): Promise<number[]> {
  for await (const b of loader.epoch(0)) return b.shape.slice(1);
  throw new SearchError('the test split is empty');
}

function ratioValue(masks: MaskEntry[]): number {
  return deviceScope(() => noGrad(() => maskRatio(masks)).item());
}

/** Output width of the model (its classifier's size), probed with one test sample. */
async function outputWidth(model: Module, test: DataLoader, device: Device): Promise<number> {
  const known = (model as { numClasses?: number }).numClasses;
  if (known) return known;
  for await (const b of test.epoch(0)) {
    const one = new Tensor(b.x.subarray(0, b.x.length / b.shape[0]), [1, ...b.shape.slice(1)]);
    const flags = model.trainingFlags();
    model.eval();
    const size = deviceScope(() => noGrad(() => model.forward(one.to(device))).size);
    model.restoreTrainingFlags(flags);
    return size;
  }
  throw new SearchError('the test split is empty');
}

export async function reengineer(model: Module, data: SearchData, options: SearchOptions = {}): Promise<SearchResult> {
  const o = { ...SEARCH_DEFAULTS, ...options };
  const t0 = Date.now();
  const { problem, device } = { ...data, device: o.device };
  model.to(device);
  const acc0 = await originalAccuracy(model, problem, data.test.epoch(0), device);
  const masks = attachMasks(model, { granularity: o.granularity, sampleShape: o.granularity === 'channel' ? await sampleShape(data.test) : undefined });
  manualSeed(o.seed);
  const head = new Sequential(new ReLU(), new Linear(await outputWidth(model, data.test, device), problem.numClasses)).to(device);
  const optHead = new Adam(head.parameters(), { lr: o.lrHead });
  const optBoth = new Adam([{ params: masks.map((m) => m.mask), lr: o.lrMask }, { params: head.parameters(), lr: o.lrHead }]);
  const optionsKey = JSON.stringify({ batchSize: o.batchSize, alpha: o.alpha, lrMask: o.lrMask, lrHead: o.lrHead, seed: o.seed,
    earlyStop: o.earlyStop, problem: problem.description, masks: masks.map((m) => [m.param, m.mask.size]),
    ...(o.granularity === 'weight' ? {} : { granularity: o.granularity }) });

  let state: SearchCheckpoint = {
    optionsKey, nextEpoch: 0, elapsedSeconds: 0, acc0, selection: newSelection(acc0, o.earlyStop), stopped: false, log: [],
    current: snapshot(masks, head), best: null, fallback: null, optimizers: {},
  };
  if (o.resume && o.checkpoint && existsSync(o.checkpoint)) {
    const saved = loadCheckpoint(o.checkpoint);
    if (saved.optionsKey !== optionsKey) {
      throw new SearchError(`cannot resume from ${o.checkpoint}: it was written with different options or another model/problem\n  checkpoint: ${saved.optionsKey}\n  now:        ${optionsKey}`);
    }
    state = saved;
    restore(state.current, masks, head);
    optHead.loadStateSnapshot(state.optimizers.head);
    optBoth.loadStateSnapshot(state.optimizers.both);
  }
  const elapsedBefore = state.elapsedSeconds;
  const dropouts = [...model.namedModules()].map(([, m]) => m).filter((m): m is Dropout => m instanceof Dropout);
  const batches = data.train.length;
  o.onEvent?.({ type: 'start', originalAccuracy: acc0, epochs: o.epochs, batchesPerEpoch: batches, startEpoch: state.nextEpoch });
  let cancelled = false;

  for (let epoch = state.nextEpoch; epoch < o.epochs && !state.stopped; epoch++) {
    if (o.signal?.aborted) {
      // aborted between epochs (e.g. by an 'epoch' event handler): start no new one
      cancelled = true;
      break;
    }
    const epochStart = Date.now();
    const phase: EpochLog['phase'] = epoch % 5 === 0 ? 'head' : 'both';
    seamTrain(model);
    head.train();
    dropouts.forEach((d, i) => (d.rng = new Rng((o.seed * 1_000_003 + epoch * 7919 + i) >>> 0)));
    const stats = new EpochStats();
    convFlops(true); // count this epoch's training convolutions (dense vs over kept weights)
    for await (const b of data.train.epoch(epoch)) {
      // one step in a device scope and a recycling scope: every device tensor it makes is freed
      // at its end, and its large CPU buffers (activations) go back to the pool
      const { loss, pred } = deviceScope(() => recyclingScope(() => {
        const x = batchTensor(b).to(device);
        const y = Tensor.ints(b.y).to(device);
        let logits: Tensor;
        let loss: number;
        if (phase === 'head') {
          // Only the head is updated: the model runs without a tape (the masks get no update anyway).
          const feats = noGrad(() => model.forward(x));
          optHead.zeroGrad();
          logits = head.forward(feats);
          const ce = ops.crossEntropy(logits, y);
          loss = ce.item() + o.alpha * ratioValue(masks);
          if (!Number.isFinite(loss)) throw new SearchError(`loss is ${loss} at epoch ${epoch}, batch ${stats.batches}; stopping (the last checkpoint is intact)`);
          backward(ce);
          optHead.step();
        } else {
          optBoth.zeroGrad();
          logits = head.forward(model.forward(x));
          const total = ops.add(ops.crossEntropy(logits, y), ops.scale(maskRatio(masks), o.alpha));
          loss = total.item();
          if (!Number.isFinite(loss)) throw new SearchError(`loss is ${loss} at epoch ${epoch}, batch ${stats.batches}; stopping (the last checkpoint is intact)`);
          backward(total);
          optBoth.step();
        }
        return { loss, pred: ops.argmax(logits).cpu().i32 };
      }));
      stats.addPredictions(pred, b.y, loss);
      o.onEvent?.({ type: 'batch', epoch, batch: stats.batches, batches, loss, accuracy: stats.accuracy, ratio: ratioValue(masks) });
      // In-memory batches come from microtasks only: without a macrotask turn, signals (Ctrl-C),
      // IPC messages and timers would wait for the whole search.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (o.signal?.aborted) {
        cancelled = true;
        break;
      }
    }
    if (cancelled) break;
    const sparseForward = sparseForwardShare(convFlops());
    const current = snapshot(masks, head);
    if (!allFinite([...current.masks, ...current.head])) {
      throw new SearchError(`masks or head hold NaN/Inf after epoch ${epoch}; stopping (the last checkpoint is intact)`);
    }
    const accuracy = await problemAccuracy(model, head, data.test.epoch(0), device);
    const ratio = ratioValue(masks);
    const sel = observeEpoch(state.selection, epoch, accuracy, ratio);
    if (sel.selected) state.best = current;
    if (sel.fallback) state.fallback = current;
    const log: EpochLog = { epoch, phase, trainLoss: stats.loss, trainAccuracy: stats.accuracy,
      accuracy, ratio, sparseForward, seconds: (Date.now() - epochStart) / 1000, selected: sel.selected };
    state.log.push(log);
    state.current = current;
    state.nextEpoch = epoch + 1;
    state.stopped = sel.stop;
    state.elapsedSeconds = elapsedBefore + (Date.now() - t0) / 1000;
    state.optimizers = { head: optHead.stateSnapshot(), both: optBoth.stateSnapshot() };
    if (o.checkpoint) saveCheckpoint(o.checkpoint, state);
    o.onEvent?.({ type: 'epoch', log, bestEpoch: chosenEpoch(state.selection) });
  }

  optHead.dispose(); // frees the optimizers' device state now rather than at garbage collection
  optBoth.dispose();
  const chosen = state.best ?? state.fallback;
  if (chosen) restore(chosen, masks, head);
  const bestEpoch = chosenEpoch(state.selection) ?? -1;
  const bestLog = state.log.find((l) => l.epoch === bestEpoch);
  return {
    originalAccuracy: acc0,
    accuracy: bestLog?.accuracy ?? acc0,
    retention: ratioValue(masks),
    bestEpoch,
    epochsRun: state.log.length,
    seconds: elapsedBefore + (Date.now() - t0) / 1000,
    cancelled,
    log: state.log,
    layers: layerRetention(masks),
    granularity: o.granularity,
    masks,
    head,
  };
}
