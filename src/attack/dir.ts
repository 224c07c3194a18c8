// The defect inheritance rate of SEAM.md §4: adversarial examples crafted on the PRETRAINED model
// without its output layer (feature-space PGD), fed to a model fine-tuned from it; DIR = the attack
// success rate among the samples that model classifies correctly when clean. Lower is better.
import type { Batch, DataLoader } from '../data/index.js';
import type { Module } from '../nn/index.js';
import { penultimate } from '../seam/output-layer.js';
import { Tensor } from '../tensor/tensor.js';
import { featureTargetLoss, pgd, predict, withFrozenModel, type PgdOptions } from './pgd.js';

/** The paper's attack settings (eps/step in normalised input units, clip to [-2.2, 2.2]). */
export const DIR_ATTACK_DEFAULTS: Required<PgdOptions> & { target: number; restWeight: number } = {
  eps: 0.1, steps: 40, stepSize: 0.01, randomStart: true, seed: 0, clip: [-2.2, 2.2], target: 1000, restWeight: 0.1,
};

export interface AdversarialBatch {
  clean: Tensor;
  adversarial: Tensor;
  labels: Int32Array;
}

export interface CraftOptions extends Partial<typeof DIR_ATTACK_DEFAULTS> {
  /** attack at most this many samples (the loader's first ones); default: all */
  samples?: number;
  onBatch?: (done: number, total: number) => void;
}

/** Crafts feature-space adversarial examples on `pretrained` (its output layer removed) for the
 *  loader's first `samples` samples. The random start of batch k uses seed + k. */
export async function craftFeatureAdversarials(pretrained: Module, loader: DataLoader, o: CraftOptions = {}): Promise<AdversarialBatch[]> {
  const a = { ...DIR_ATTACK_DEFAULTS, ...o };
  const total = Math.min(o.samples ?? loader.dataset.length, loader.dataset.length);
  const loss = featureTargetLoss(penultimate(pretrained), a.target, a.restWeight);
  const out: AdversarialBatch[] = [];
  let done = 0;
  let k = 0;
  for await (const b of loader.epoch(0)) {
    if (done >= total) break;
    const n = Math.min(b.y.length, total - done);
    const clean = firstSamples(b, n);
    const adversarial = withFrozenModel(pretrained, () =>
      pgd(loss, clean, { eps: a.eps, steps: a.steps, stepSize: a.stepSize, randomStart: a.randomStart, seed: a.seed + k, clip: a.clip }));
    out.push({ clean, adversarial, labels: b.y.slice(0, n) });
    done += n;
    k++;
    o.onBatch?.(done, total);
  }
  return out;
}

function firstSamples(b: Batch, n: number): Tensor {
  const per = b.x.length / b.shape[0];
  return new Tensor(b.x.slice(0, n * per), [n, ...b.shape.slice(1)]);
}

export interface DirResult {
  samples: number;
  /** samples the model classifies correctly when clean */
  cleanCorrect: number;
  /** of those, misclassified once attacked */
  fooled: number;
  /** fooled / cleanCorrect (0 when nothing was correct) */
  rate: number;
  /** accuracy on the attacked samples (clean accuracy of the same samples: cleanCorrect / samples) */
  cleanAccuracy: number;
  adversarialAccuracy: number;
}

/** The attack success rate on `model` among the samples it gets right when clean. */
export function defectInheritanceRate(model: Module, batches: AdversarialBatch[]): DirResult {
  let samples = 0;
  let cleanCorrect = 0;
  let fooled = 0;
  let advCorrect = 0;
  for (const b of batches) {
    const pc = predict(model, b.clean);
    const pa = predict(model, b.adversarial);
    for (let i = 0; i < b.labels.length; i++) {
      const y = b.labels[i];
      samples++;
      if (pa[i] === y) advCorrect++;
      if (pc[i] !== y) continue;
      cleanCorrect++;
      if (pa[i] !== y) fooled++;
    }
  }
  return {
    samples, cleanCorrect, fooled, rate: cleanCorrect ? fooled / cleanCorrect : 0,
    cleanAccuracy: samples ? cleanCorrect / samples : 0, adversarialAccuracy: samples ? advCorrect / samples : 0,
  };
}
