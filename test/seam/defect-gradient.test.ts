// Input gradients from the engine (what PGD climbs) against central finite differences, on a small
// model with every layer kind the attacked CNNs use: conv, BatchNorm in eval mode, ReLU, pooling,
// linear; for the cross-entropy loss and SEAM.md §4's feature-space loss.
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { crossEntropyLoss, featureTargetLoss, inputGradient, withFrozenModel, type AttackLoss } from '../../src/attack/pgd.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, manualSeed } from '../../src/nn/index.js';
import { penultimate } from '../../src/seam/output-layer.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';

function smallModel(): Sequential {
  manualSeed(3);
  const bn = new BatchNorm2d(4);
  const rng = new Rng(11);
  // non-trivial eval-mode statistics and affine parameters
  for (let c = 0; c < 4; c++) {
    bn.runningMean.f32[c] = 0.3 * rng.normal();
    bn.runningVar.f32[c] = 0.5 + rng.nextFloat();
    bn.weight.f32[c] = 0.5 + rng.nextFloat();
    bn.bias.f32[c] = 0.2 * rng.normal();
  }
  const conv2 = new Conv2d(4, 6, 3, { padding: 1 });
  conv2.bias!.f32[0] = 0.5; // keep feature 0 (the one the feature loss targets) alive
  const fc = new Linear(6, 3);
  // a sensitive first layer and a damped readout: input gradients well above float32 round-off
  fc.weight.f32.forEach((v, i) => (fc.weight.f32[i] = 0.3 * v));
  const conv1 = new Conv2d(2, 4, 3, { padding: 1 });
  conv1.weight.f32.forEach((v, i) => (conv1.weight.f32[i] = 10 * v));
  const m = new Sequential(conv1, bn, new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    conv2, new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), fc);
  m.eval();
  return m;
}

const LADDER = [1e-2, 3e-3, 1e-3, 3e-4];

interface GradCheck {
  /** max |g| over the coordinates */
  scale: number;
  /** coordinates where the largest step h = 1e-2 already agrees */
  firstTry: number;
  /** the coordinates where no step of the ladder agrees (should be none) */
  failed: number[];
}

/**
 * The engine's input gradient against float32 central differences, coordinate by coordinate. The
 * model is piecewise linear (conv, eval BatchNorm, ReLU, max-pool, linear) under a smooth loss: the
 * central quotient is within O(h^2) of the derivative unless a ReLU or max-pool kink lies within +-h
 * of the point, while float32 round-off adds about ulp(L)/h. So each coordinate tries a ladder of
 * steps, largest first, and passes when a quotient is within 1% of the gradient scale plus its
 * round-off bound (8 ulps of L over 2h).
 */
function gradCheck(loss: AttackLoss, x: Tensor): GradCheck {
  const { grad, value } = inputGradient(loss, x);
  const at = (i: number, d: number): number => {
    const y = x.clone();
    y.f32[i] += d;
    return noGrad(() => loss(y)).item();
  };
  let scale = 0;
  for (const g of grad.f32) scale = Math.max(scale, Math.abs(g));
  const ulp = Math.max(Math.abs(value), 1) * 2 ** -23;
  let firstTry = 0;
  const failed: number[] = [];
  for (let i = 0; i < x.size; i++) {
    const k = LADDER.findIndex((h) => Math.abs(grad.f32[i]! - (at(i, h) - at(i, -h)) / (2 * h)) <= 0.01 * scale + (8 * ulp) / (2 * h));
    if (k === 0) firstTry++;
    if (k < 0) failed.push(i);
  }
  return { scale, firstTry, failed };
}

describe('input gradient', () => {
  const model = smallModel();
  const x = Tensor.randn([2, 2, 6, 6], new Rng(5));
  const labels = Tensor.ints([0, 2]);

  // Tolerances (see gradCheck): 1% of the gradient scale plus float32 round-off; every coordinate must
  // pass at some step of the ladder and most (kinks are rare) at the first.
  it('matches central finite differences for the cross-entropy loss', () => {
    withFrozenModel(model, () => {
      const r = gradCheck(crossEntropyLoss((t) => model.forward(t), labels), x);
      expect(r.scale).toBeGreaterThan(1e-3);
      expect(r.failed).toEqual([]);
      expect(r.firstTry).toBeGreaterThan(0.8 * x.size);
    });
  });

  it('matches central finite differences for the feature-space loss on the model without its output layer', () => {
    withFrozenModel(model, () => {
      const r = gradCheck(featureTargetLoss(penultimate(model), 1, 0.1), x);
      expect(r.scale).toBeGreaterThan(1e-3);
      expect(r.failed).toEqual([]);
      expect(r.firstTry).toBeGreaterThan(0.8 * x.size);
    });
  });

  it('scales the feature loss gradient with the target as the formula says (the paper target 1000)', () => {
    // dL/dx = -2 (f0 - T) df0/dx - (0.2 / (D-1)) sum_j fj dfj/dx (averaged over the batch) is affine in T,
    // so g(1000) = g(0) + 1000 (g(1) - g(0)); with L ~ -1e6 a float32 difference quotient could not resolve it.
    withFrozenModel(model, () => {
      const g = (t: number): Float32Array => inputGradient(featureTargetLoss(penultimate(model), t, 0.1), x).grad.f32;
      const [g0, g1, g1000] = [g(0), g(1), g(1000)];
      let scale = 0;
      let err = 0;
      for (let i = 0; i < x.size; i++) {
        scale = Math.max(scale, Math.abs(g1000[i]!));
        err = Math.max(err, Math.abs(g1000[i]! - (g0[i]! + 1000 * (g1[i]! - g0[i]!))));
      }
      expect(scale).toBeGreaterThan(1);
      expect(err).toBeLessThan(1e-3 * scale);
    });
  });

  it('leaves the model parameters without gradients and the input untouched', () => {
    const before = x.f32.slice();
    withFrozenModel(model, () => inputGradient(crossEntropyLoss((t) => model.forward(t), labels), x));
    expect(model.parameters().every((p) => p.grad === null)).toBe(true);
    expect(model.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(Array.from(x.f32)).toEqual(Array.from(before));
  });

  it('computes the feature loss of SEAM.md §4', () => {
    const f = Tensor.from([3, 1, 2, 0, 5, 4], [2, 3]);
    const l = featureTargetLoss((t) => t, 10, 0.1)(f).item();
    const d0 = (3 - 10) ** 2 + 0.1 * ((1 + 4) / 2);
    const d1 = (0 - 10) ** 2 + 0.1 * ((25 + 16) / 2);
    expect(l).toBeCloseTo(-(d0 + d1) / 2, 4);
  });
});
