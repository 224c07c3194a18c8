// PGD on a small model trained in the test on separable synthetic data: eps 0 changes nothing, a
// large eps fools it on most samples, every iterate stays in the eps-ball and the clip range, and
// the feature-space attack of SEAM.md §4 pulls the first feature towards its target.
import { beforeAll, describe, expect, it } from 'vitest';
import { craftFeatureAdversarials, defectInheritanceRate } from '../../src/attack/dir.js';
import { pgdClassifier, predict } from '../../src/attack/pgd.js';
import { noGrad } from '../../src/autograd/node.js';
import type { Sequential } from '../../src/nn/index.js';
import { accuracyOf, finetune } from '../../src/seam/finetune.js';
import { penultimate } from '../../src/seam/output-layer.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { loaders, tinyCnn } from '../helpers/defect-fixtures.js';

const data = loaders({ numClasses: 4, train: 256, test: 96, seed: 7 });
let model: Sequential;
let x: Tensor;
let y: Tensor;

beforeAll(async () => {
  model = tinyCnn(4, 2);
  await finetune(model, { train: data.train, val: data.test }, { epochs: 8, lrHidden: 0.05, lrOutput: 0.05, momentum: 0.9, weightDecay: 0, earlyStop: 0 });
  for await (const b of data.test.epoch(0)) {
    x = new Tensor(b.x, b.shape);
    y = Tensor.ints(b.y);
    break;
  }
});

function fooledAmongCorrect(clean: Int32Array, adv: Int32Array, labels: Int32Array): { correct: number; fooled: number } {
  let correct = 0;
  let fooled = 0;
  for (let i = 0; i < labels.length; i++) {
    if (clean[i] !== labels[i]) continue;
    correct++;
    if (adv[i] !== labels[i]) fooled++;
  }
  return { correct, fooled };
}

describe('PGD', () => {
  it('attacks a model that learned the data', async () => {
    expect(await accuracyOf(model, data.test)).toBeGreaterThan(0.9);
  });

  it('changes nothing at eps 0 (random start included)', () => {
    const adv = pgdClassifier(model, x, y, { eps: 0, steps: 10, stepSize: 0.1, randomStart: true, seed: 3 });
    expect(Array.from(adv.f32)).toEqual(Array.from(x.f32));
    const r = fooledAmongCorrect(predict(model, x), predict(model, adv), y.i32);
    expect(r.fooled).toBe(0);
  });

  it('fools the model on most samples at a large eps, inside the eps-ball and the clip range', () => {
    const eps = 1.5;
    const clip = [-2, 2] as const; // pixels 0..1 normalised with mean 0.5, std 0.25
    const adv = pgdClassifier(model, x, y, { eps, steps: 20, stepSize: 0.2, randomStart: true, seed: 1, clip });
    let maxDelta = 0;
    for (let i = 0; i < x.size; i++) {
      maxDelta = Math.max(maxDelta, Math.abs(adv.f32[i]! - x.f32[i]!));
      expect(adv.f32[i]!).toBeGreaterThanOrEqual(clip[0]);
      expect(adv.f32[i]!).toBeLessThanOrEqual(clip[1]);
    }
    expect(maxDelta).toBeLessThanOrEqual(eps + 1e-6);
    const r = fooledAmongCorrect(predict(model, x), predict(model, adv), y.i32);
    expect(r.correct).toBeGreaterThan(0.9 * y.size);
    expect(r.fooled / r.correct).toBeGreaterThan(0.8);
  });

  it('is reproducible from its seed and leaves the model untouched', () => {
    const before = model.parameters().map((p) => p.f32.slice());
    const a = pgdClassifier(model, x, y, { eps: 0.3, steps: 3, stepSize: 0.1, seed: 5 });
    const b = pgdClassifier(model, x, y, { eps: 0.3, steps: 3, stepSize: 0.1, seed: 5 });
    expect(Array.from(a.f32)).toEqual(Array.from(b.f32));
    model.parameters().forEach((p, i) => {
      expect(Array.from(p.f32)).toEqual(Array.from(before[i]!));
      expect(p.grad).toBeNull();
    });
  });

  it('feature-space PGD pushes the first penultimate feature up (ascending the negative distance to y)', async () => {
    const batches = await craftFeatureAdversarials(model, data.test, { eps: 1, steps: 10, stepSize: 0.2, clip: [-2, 2], samples: 40 });
    expect(batches.reduce((n, b) => n + b.labels.length, 0)).toBe(40);
    const f = penultimate(model);
    model.eval();
    const mean0 = (t: Tensor): number => {
      const feats = noGrad(() => f(t));
      const d = feats.shape[1]!;
      let s = 0;
      for (let i = 0; i < feats.shape[0]!; i++) s += feats.f32[i * d]!;
      return s / feats.shape[0]!;
    };
    for (const b of batches) expect(mean0(b.adversarial)).toBeGreaterThan(mean0(b.clean) + 0.1);
    const dir = defectInheritanceRate(model, batches);
    expect(dir.samples).toBe(40);
    expect(dir.cleanCorrect).toBeGreaterThan(30);
    expect(dir.rate).toBeGreaterThanOrEqual(0);
    expect(dir.rate).toBeLessThanOrEqual(1);
    expect(dir.fooled).toBeLessThanOrEqual(dir.cleanCorrect);
  });
});
