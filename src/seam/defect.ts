// Defect inheritance (SEAM.md §4): standard fine-tuning of a pretrained model on a new dataset vs
// SeaM's indirect reuse (1: fine-tune the output layer only, 2: re-engineer with the defect
// variant, 3: zero the masked-out weights of the pretrained model and fine-tune everything), and
// the defect inheritance rate of both under feature-space PGD crafted on the pretrained model.
// The output layer for the new dataset is a fresh Linear replacing the model's own.
import { craftFeatureAdversarials, defectInheritanceRate, DIR_ATTACK_DEFAULTS, type CraftOptions, type DirResult } from '../attack/dir.js';
import type { DataLoader } from '../data/index.js';
import type { Module } from '../nn/index.js';
import { reengineerForDefect, zeroMaskedWeights, type DefectSearchOptions, type DefectSearchResult } from './defect-search.js';
import { accuracyOf, finetune, FINETUNE_DEFAULTS, type FinetuneEvent, type FinetuneOptions, type FinetuneResult } from './finetune.js';
import { replaceOutputLayer } from './output-layer.js';
import type { SearchEvent } from './search.js';

export type DefectStage = 'standard' | 'output-layer' | 'reengineer' | 'seam-finetune' | 'attack';

export interface DefectOptions {
  seed?: number;
  /** step 1: SGD on the output layer alone */
  outputLayer?: { epochs?: number; lr?: number; momentum?: number; weightDecay?: number; earlyStop?: number };
  /** step 2 */
  search?: Omit<DefectSearchOptions, 'signal' | 'onEvent'>;
  /** step 3 and the standard baseline (the same settings) */
  finetune?: Omit<FinetuneOptions, 'trainable' | 'afterStep' | 'signal' | 'onEvent'>;
  /** step 3: keep the zeroed weights at zero while fine-tuning (default false: they are free again) */
  keepPruned?: boolean;
  attack?: Omit<CraftOptions, 'onBatch'>;
  signal?: AbortSignal;
  onEvent?: (e: DefectEvent) => void;
}

export const DEFECT_DEFAULTS = {
  seed: 0,
  outputLayer: { epochs: 30, lr: 0.1, momentum: 0, weightDecay: 0, earlyStop: 30 },
  finetune: { ...FINETUNE_DEFAULTS, lrHidden: 0.005, lrOutput: 0.05, momentum: 0, weightDecay: 1e-4, earlyStop: 30 },
};

export type DefectEvent =
  | { type: 'stage'; stage: DefectStage; message: string }
  | { type: 'finetune'; stage: 'standard' | 'output-layer' | 'seam-finetune'; event: FinetuneEvent }
  | { type: 'search'; event: SearchEvent }
  | { type: 'attack'; done: number; total: number };

export interface DefectData {
  numClasses: number;
  train: DataLoader;
  /** decides best epochs, early stopping and the re-engineered epoch */
  val: DataLoader;
  /** final accuracy */
  test: DataLoader;
  /** the samples attacked (in order; the first attack.samples of them) */
  attack: DataLoader;
}

export interface ModelOutcome {
  /** test accuracy of the final model */
  accuracy: number;
  dir: DirResult;
}

export interface DefectResult {
  standard: ModelOutcome & { finetune: FinetuneResult };
  seam: ModelOutcome & { outputLayer: FinetuneResult; search: DefectSearchResult; finetune: FinetuneResult; retention: number };
  /** the pretrained model with only its new output layer trained (step 1): full inheritance, for reference */
  outputLayerOnly: ModelOutcome;
  attack: { samples: number; eps: number; steps: number; stepSize: number; clip: readonly [number, number] | null; seconds: number };
  seconds: number;
  cancelled: boolean;
  /** the final models, for saving or further checks */
  models: { standard: Module; seam: Module; outputLayerOnly: Module };
}

/** A fresh copy of the pretrained model on every call (the steps must not share weights). */
export type PretrainedFactory = () => Module;

function freshForTarget(pretrained: PretrainedFactory, numClasses: number, seed: number): Module {
  const m = pretrained();
  replaceOutputLayer(m, numClasses, seed);
  return m;
}

/** Copies the values of every key the two models share (masks are skipped: `dst` has none). */
function copyWeights(src: Module, dst: Module): void {
  const s = src.stateDict();
  for (const [k, t] of dst.stateDict()) {
    const v = s.get(k);
    if (!v || v.size !== t.size) throw new Error(`copyWeights: ${k} missing or of another size`);
    t.data.set(v.data);
  }
}

export async function runDefectPipeline(pretrained: PretrainedFactory, data: DefectData, options: DefectOptions = {}): Promise<DefectResult> {
  const t0 = Date.now();
  const seed = options.seed ?? DEFECT_DEFAULTS.seed;
  const ol = { ...DEFECT_DEFAULTS.outputLayer, ...options.outputLayer };
  const ft = { ...DEFECT_DEFAULTS.finetune, ...options.finetune };
  const emit = options.onEvent ?? ((): void => undefined);
  const signal = options.signal;
  const stage = (s: DefectStage, message: string): void => emit({ type: 'stage', stage: s, message });
  const loaders = { train: data.train, val: data.val };

  stage('standard', 'standard fine-tuning: all weights of the pretrained model, fresh output layer');
  const standard = freshForTarget(pretrained, data.numClasses, seed);
  const standardFt = await finetune(standard, loaders, { ...ft, trainable: 'all', signal, onEvent: (event) => emit({ type: 'finetune', stage: 'standard', event }) });

  stage('output-layer', `step 1: output layer only (SGD lr ${ol.lr})`);
  const stepModel = freshForTarget(pretrained, data.numClasses, seed);
  const outputFt = await finetune(stepModel, loaders, {
    epochs: ol.epochs, lrOutput: ol.lr, momentum: ol.momentum, weightDecay: ol.weightDecay, earlyStop: ol.earlyStop, trainable: 'output',
    signal, onEvent: (event) => emit({ type: 'finetune', stage: 'output-layer', event }),
  });
  const outputOnly = freshForTarget(pretrained, data.numClasses, seed);
  copyWeights(stepModel, outputOnly);

  stage('reengineer', 'step 2: re-engineer with the defect-inheritance variant');
  const search = await reengineerForDefect(stepModel, loaders, { ...options.search, signal, onEvent: (event) => emit({ type: 'search', event }) });

  stage('seam-finetune', `step 3: zero ${(100 * (1 - search.retention)).toFixed(1)}% of the weights, fine-tune all weights`);
  const seam = freshForTarget(pretrained, data.numClasses, seed);
  copyWeights(stepModel, seam); // the output layer trained in steps 1-2 (its hidden weights are the pretrained ones)
  const kept = zeroMaskedWeights(seam, search.masks);
  const afterStep = options.keepPruned
    ? (): void => kept.forEach(({ keep, tensor }) => { const w = tensor.f32; for (let i = 0; i < w.length; i++) if (!keep[i]) w[i] = 0; })
    : undefined;
  const seamFt = await finetune(seam, loaders, { ...ft, trainable: 'all', afterStep, signal, onEvent: (event) => emit({ type: 'finetune', stage: 'seam-finetune', event }) });

  const cancelled = Boolean(signal?.aborted);
  const a = { ...DIR_ATTACK_DEFAULTS, ...options.attack };
  stage('attack', `PGD on the pretrained model's features: eps ${a.eps}, ${a.steps} steps of ${a.stepSize}`);
  const tAttack = Date.now();
  const source = pretrained();
  const batches = cancelled ? [] : await craftFeatureAdversarials(source, data.attack, { ...options.attack, onBatch: (done, total) => emit({ type: 'attack', done, total }) });
  const attackSeconds = (Date.now() - tAttack) / 1000;
  const outcome = async (m: Module): Promise<ModelOutcome> => ({ accuracy: await accuracyOf(m, data.test), dir: defectInheritanceRate(m, batches) });
  const [std, sm, ref] = [await outcome(standard), await outcome(seam), await outcome(outputOnly)];
  return {
    standard: { ...std, finetune: standardFt },
    seam: { ...sm, outputLayer: outputFt, search, finetune: seamFt, retention: search.retention },
    outputLayerOnly: ref,
    attack: { samples: batches.reduce((n, b) => n + b.labels.length, 0), eps: a.eps, steps: a.steps, stepSize: a.stepSize, clip: a.clip, seconds: attackSeconds },
    seconds: (Date.now() - t0) / 1000,
    cancelled,
    models: { standard, seam, outputLayerOnly: outputOnly },
  };
}
