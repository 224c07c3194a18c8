// L-inf projected gradient descent (Madry et al.) with input gradients from the engine: the input
// is a leaf that requires gradients, the model's parameters are frozen for the attack, and
// backward() stops at the input. Inputs and eps are in the model's (normalised) input space.
//
// Sign convention: `pgd` ASCENDS the loss it is given: x <- clip(x + stepSize * sign(dL/dx)), then
// projected onto the eps-ball around the clean x and the clip range. With the cross-entropy loss
// that is the usual untargeted attack. With SEAM.md §4's feature loss
//   L = -mean_n[ (f0 - y0)^2 + 0.1 * mean_j>=1 (fj - yj)^2 ],  y = (1000, 0, 0, ...)
// ascending L means DEScending the weighted squared distance between the features and y: the
// attack drives the first feature up towards 1000 and the others towards 0 (the loss is the
// negative distance precisely so that a loss-ascending PGD pulls the features onto the target).
import { backward } from '../autograd/backward.js';
import { recyclingScope } from '../backend/cpu-pool.js';
import { noGrad } from '../autograd/node.js';
import type { Module } from '../nn/index.js';
import * as ops from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../util/rng.js';

/** A scalar loss of a batch of inputs; the attack ascends it. */
export type AttackLoss = (x: Tensor) => Tensor;

export interface PgdOptions {
  /** L-inf radius around the clean input */
  eps: number;
  steps: number;
  stepSize: number;
  /** start from a uniform draw in the eps-ball (default true) */
  randomStart?: boolean;
  /** seed of the random start (default 0) */
  seed?: number;
  /** valid input range [lo, hi]; null = unbounded (default) */
  clip?: readonly [number, number] | null;
}

/** Runs fn with every parameter of `model` frozen and the model in eval mode; restores both after. */
export function withFrozenModel<T>(model: Module, fn: () => T): T {
  const params = model.parameters();
  const flags = params.map((p) => p.requiresGrad);
  const modes = model.trainingFlags();
  params.forEach((p) => p.setRequiresGrad(false));
  model.eval();
  try {
    return fn();
  } finally {
    params.forEach((p, i) => p.setRequiresGrad(flags[i]!));
    model.restoreTrainingFlags(modes);
  }
}

/** dL/dx at x (x itself is not modified). Freeze the model's parameters first (withFrozenModel),
 *  or their .grad accumulates as well. */
export function inputGradient(loss: AttackLoss, x: Tensor): { value: number; grad: Tensor } {
  const leaf = new Tensor(x.f32.slice(), x.shape, true);
  const l = loss(leaf);
  if (l.size !== 1) throw new Error(`inputGradient: the loss must be a scalar, got ${l.size} elements`);
  if (!l.requiresGrad) throw new Error('inputGradient: the loss does not depend on the input');
  backward(l);
  return { value: l.item(), grad: leaf.grad ?? Tensor.zeros(x.shape) };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The adversarial batch: L-inf PGD ascending `loss` from x (see the sign convention above). */
export function pgd(loss: AttackLoss, x: Tensor, o: PgdOptions): Tensor {
  if (!(o.eps >= 0)) throw new Error(`pgd: eps must be >= 0, got ${o.eps}`);
  if (!(Number.isInteger(o.steps) && o.steps >= 0)) throw new Error(`pgd: steps must be a non-negative integer, got ${o.steps}`);
  if (!(o.stepSize >= 0)) throw new Error(`pgd: step size must be >= 0, got ${o.stepSize}`);
  const [lo, hi] = o.clip ?? [-Infinity, Infinity];
  if (!(lo <= hi)) throw new Error(`pgd: clip range [${lo}, ${hi}] is empty`);
  const x0 = x.f32;
  const adv = new Float32Array(x0.length);
  const rng = new Rng(o.seed ?? 0);
  const random = o.randomStart ?? true;
  // x + delta with delta in [-eps, eps], then clipped to the valid range (advertorch's order)
  for (let i = 0; i < adv.length; i++) {
    const d = random ? (2 * rng.nextFloat() - 1) * o.eps : 0;
    adv[i] = clamp(x0[i]! + d, lo, hi);
  }
  for (let s = 0; s < o.steps; s++) {
    // a step's activations and gradients go back to the pool at its end; only dL/dx is used after it
    const g = recyclingScope(() => inputGradient(loss, new Tensor(adv, x.shape)).grad.f32);
    for (let i = 0; i < adv.length; i++) {
      const step = adv[i]! + o.stepSize * Math.sign(g[i]!);
      adv[i] = clamp(clamp(step, x0[i]! - o.eps, x0[i]! + o.eps), lo, hi);
    }
  }
  return new Tensor(adv, x.shape);
}

/** SEAM.md §4's feature-space loss on features f [N, D]: -mean_n[(f0 - y0)^2 + w * mean_j>=1 (fj - yj)^2]
 *  with y = (target, 0, 0, ...), w = restWeight (0.1). */
export function featureTargetLoss(features: (x: Tensor) => Tensor, target = 1000, restWeight = 0.1): AttackLoss {
  return (x) => {
    const f = features(x);
    if (f.ndim !== 2) throw new Error(`featureTargetLoss: features must be [N, D], got [${f.shape.join(', ')}]`);
    const [n, dim] = f.shape as [number, number];
    const y = Tensor.zeros([n, dim]);
    const w = Tensor.zeros([n, dim]);
    for (let i = 0; i < n; i++) {
      y.f32[i * dim] = target;
      w.f32[i * dim] = 1 / n;
      for (let j = 1; j < dim; j++) w.f32[i * dim + j] = restWeight / ((dim - 1) * n);
    }
    const diff = ops.add(f, ops.scale(y, -1));
    return ops.scale(ops.sum(ops.mul(ops.mul(diff, diff), w)), -1);
  };
}

/** Mean cross-entropy of model(x) against `labels`: ascending it is the untargeted attack. */
export function crossEntropyLoss(forward: (x: Tensor) => Tensor, labels: Tensor): AttackLoss {
  return (x) => ops.crossEntropy(forward(x), labels);
}

/** Untargeted CE-loss PGD on a classifier (model frozen, eval mode). */
export function pgdClassifier(model: Module, x: Tensor, labels: Tensor, o: PgdOptions): Tensor {
  return withFrozenModel(model, () => pgd(crossEntropyLoss((t) => model.forward(t), labels), x, o));
}

/** Top-1 predictions of a model in eval mode. */
export function predict(model: Module, x: Tensor): Int32Array {
  const modes = model.trainingFlags();
  model.eval();
  try {
    return noGrad(() => ops.argmax(model.forward(x))).i32;
  } finally {
    model.restoreTrainingFlags(modes);
  }
}
