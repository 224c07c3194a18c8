// Step 2 of defect inheritance (SEAM.md §3, defect-inheritance variant): re-engineer a model whose
// output layer was already fine-tuned on the target dataset. No extra head: the loss is
// CE(model(x), y) + alpha * r, one Adam optimises the masks (lr_mask) and the model's own output
// layer (its weights stay trainable beside its masks). Selection: stop as soon as
// 1 - r >= prune_threshold, otherwise keep the epoch maximising acc - r, with patience early_stop.
import { convFlops, sparseForwardShare } from '../backend/conv-stats.js';
import { recyclingScope } from '../backend/cpu-pool.js';
import { EpochStats } from './epoch-stats.js';
import { backward } from '../autograd/backward.js';
import { noGrad } from '../autograd/node.js';
import type { DataLoader } from '../data/index.js';
import type { Module } from '../nn/index.js';
import * as ops from '../ops/index.js';
import { Adam } from '../optim/index.js';
import { Tensor } from '../tensor/tensor.js';
import { batchTensor } from './evaluate.js';
import { accuracyOf } from './finetune.js';
import { attachMasks, maskRatio, seamTrain, type MaskEntry } from './masks.js';
import { findOutputLayer } from './output-layer.js';
import type { EpochLog, LayerRetention } from './report-types.js';
import { layerRetention, type SearchEvent } from './search.js';
import { newPruneSelection, observePruneEpoch } from './selection.js';

export interface DefectSearchOptions {
  epochs?: number;
  alpha?: number;
  lrMask?: number;
  /** learning rate of the output layer in the same Adam; default: lrMask (one learning rate) */
  lrOutput?: number;
  /** stop once this fraction of the weights is masked out */
  pruneThreshold?: number;
  /** epochs without a better acc - r before stopping; <= 0 = never */
  earlyStop?: number;
  signal?: AbortSignal;
  onEvent?: (e: SearchEvent) => void;
}

export const DEFECT_SEARCH_DEFAULTS = { epochs: 300, alpha: 1, lrMask: 0.05, pruneThreshold: 0.6, earlyStop: 30 };

export interface DefectSearchData {
  train: DataLoader;
  /** decides the epoch kept (accuracy after each epoch) */
  val: DataLoader;
}

export interface DefectSearchResult {
  /** validation accuracy before re-engineering (all masks 1) */
  initialAccuracy: number;
  accuracy: number;
  /** retained fraction of the weights */
  retention: number;
  bestEpoch: number;
  epochsRun: number;
  /** 1 - r reached the prune threshold */
  reachedThreshold: boolean;
  cancelled: boolean;
  seconds: number;
  log: EpochLog[];
  layers: LayerRetention[];
  /** the masks, holding the chosen epoch's values (the output layer holds its chosen weights too) */
  masks: MaskEntry[];
}

function ratioValue(masks: MaskEntry[]): number {
  return noGrad(() => maskRatio(masks)).item();
}

/** Re-engineers `model` in place (masks attached to every Conv2d/Linear). */
export async function reengineerForDefect(model: Module, data: DefectSearchData, options: DefectSearchOptions = {}): Promise<DefectSearchResult> {
  const o = { ...DEFECT_SEARCH_DEFAULTS, ...options };
  const lrOutput = options.lrOutput ?? o.lrMask;
  const t0 = Date.now();
  const initialAccuracy = await accuracyOf(model, data.val);
  const masks = attachMasks(model);
  const output = findOutputLayer(model).layer;
  const outputParams = [output.weight, ...(output.bias ? [output.bias] : [])];
  outputParams.forEach((p) => p.setRequiresGrad(true));
  const opt = new Adam([{ params: masks.map((m) => m.mask), lr: o.lrMask }, { params: outputParams, lr: lrOutput }]);
  const tracked = [...masks.map((m) => m.mask), ...outputParams];
  const snapshot = (): Float32Array[] => tracked.map((t) => t.f32.slice());
  let best = snapshot();
  const selection = newPruneSelection(o.pruneThreshold, o.earlyStop);
  const log: EpochLog[] = [];
  const batches = data.train.length;
  o.onEvent?.({ type: 'start', originalAccuracy: initialAccuracy, epochs: o.epochs, batchesPerEpoch: batches, startEpoch: 0 });
  let cancelled = false;
  let reachedThreshold = false;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const start = Date.now();
      seamTrain(model);
      const stats = new EpochStats();
      convFlops(true);
      for await (const b of data.train.epoch(epoch)) {
        // one step in a recycling scope: its large CPU buffers (activations, gradients) go back to the
        // pool at its end, as in the SeaM search
        const loss = recyclingScope(() => {
          opt.zeroGrad();
          const logits = model.forward(batchTensor(b));
          const total = ops.add(ops.crossEntropy(logits, Tensor.ints(b.y)), ops.scale(maskRatio(masks), o.alpha));
          const loss = total.item();
          if (!Number.isFinite(loss)) throw new Error(`re-engineering: loss is ${loss} at epoch ${epoch}, batch ${stats.batches}`);
          backward(total);
          opt.step();
          stats.add(logits, b.y, loss);
          return loss;
        });
        o.onEvent?.({ type: 'batch', epoch, batch: stats.batches, batches, loss, accuracy: stats.accuracy, ratio: ratioValue(masks) });
        if (o.signal?.aborted) {
          cancelled = true;
          break;
        }
      }
      if (cancelled) break;
      const sparseForward = sparseForwardShare(convFlops());
      const accuracy = await accuracyOf(model, data.val);
      const ratio = ratioValue(masks);
      const step = observePruneEpoch(selection, epoch, accuracy, ratio);
      if (step.selected) best = snapshot();
      const entry: EpochLog = { epoch, phase: 'both', trainLoss: stats.loss, trainAccuracy: stats.accuracy,
        accuracy, ratio, sparseForward, seconds: (Date.now() - start) / 1000, selected: step.selected };
      log.push(entry);
      o.onEvent?.({ type: 'epoch', log: entry, bestEpoch: selection.bestEpoch });
      if (1 - ratio >= o.pruneThreshold) reachedThreshold = true;
      if (step.stop) break;
    }
  } finally {
    tracked.forEach((t, i) => t.f32.set(best[i]!));
    model.eval();
    opt.zeroGrad();
    for (const p of model.parameters()) p.setRequiresGrad(false);
  }
  const bestEpoch = selection.bestEpoch ?? -1;
  return {
    initialAccuracy,
    accuracy: log.find((l) => l.epoch === bestEpoch)?.accuracy ?? initialAccuracy,
    retention: ratioValue(masks),
    bestEpoch,
    epochsRun: log.length,
    reachedThreshold,
    cancelled,
    seconds: (Date.now() - t0) / 1000,
    log,
    layers: layerRetention(masks),
    masks,
  };
}

/** Multiplies every masked parameter of `target` (matched by state_dict key) by bin(mask): the
 *  masked-out weights become 0. Returns the masked parameters' binary masks for later re-use. */
export function zeroMaskedWeights(target: Module, masks: MaskEntry[]): { param: string; keep: Uint8Array; tensor: Tensor }[] {
  const sd = target.stateDict();
  return masks.map((m) => {
    const t = sd.get(m.param);
    if (!t || t.size !== m.mask.size) throw new Error(`zeroMaskedWeights: the model has no parameter ${m.param} of ${m.mask.size} elements`);
    const keep = new Uint8Array(m.mask.size);
    const w = t.f32;
    const mk = m.mask.f32;
    for (let i = 0; i < w.length; i++) {
      keep[i] = mk[i]! > 0 ? 1 : 0;
      if (!keep[i]) w[i] = 0;
    }
    return { param: m.param, keep, tensor: t };
  });
}
