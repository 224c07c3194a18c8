// The planned engine (src/infer) reproduces the model's eval forward (relative error < 1e-4) on all
// three zoo families, dense and sparse kernels, random SeaM masks at several densities, random
// BatchNorm statistics; and the golden SeaM mask file on the golden ResNet20 checkpoint.
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { planModel, type KernelChoice } from '../../src/infer/index.js';
import { cifarResNet20 } from '../../src/models/cifar-resnet.js';
import { CifarVGG } from '../../src/models/cifar-vgg.js';
import { loadModel, readWeights } from '../../src/models/load.js';
import { TorchvisionResNet } from '../../src/models/torchvision-resnet.js';
import { BatchNorm2d, manualSeed, type Module } from '../../src/nn/index.js';
import { attachMasks } from '../../src/seam/masks.js';
import { applyMaskTensors } from '../../src/seam/mask-file.js';
import { fromRaw } from '../../src/tensor/raw.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { goldenPath, loadGolden, relErr } from '../helpers/golden.js';

const TOL = 1e-4;

/** Non-default BatchNorm statistics and affine parameters, so that folding is really exercised. */
function randomizeBatchNorm(model: Module, rng: Rng): void {
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    for (let i = 0; i < m.numFeatures; i++) {
      m.weight.f32[i] = 0.5 + rng.nextFloat();
      m.bias.f32[i] = rng.nextFloat() - 0.5;
      m.runningMean.f32[i] = 0.2 * (rng.nextFloat() - 0.5);
      m.runningVar.f32[i] = 0.5 + rng.nextFloat();
    }
  }
}

/** SeaM-style masks keeping about `keep` of every weight (and bias) at random. */
function randomMasks(model: Module, keep: number, rng: Rng): void {
  for (const e of attachMasks(model)) e.mask.f32.forEach((_, i, a) => (a[i] = rng.nextFloat() < keep ? 0.5 : -0.5));
}

function check(model: Module, shape: [number, number, number], batch: number, kernel: KernelChoice, seed: number): number {
  const x = Tensor.randn([batch, ...shape], new Rng(seed));
  const ref = noGrad(() => model.eval().forward(x)).f32;
  const out = planModel(model, shape, { kernel }).run(x.f32, batch);
  return relErr(out, ref);
}

const families: [string, () => Module, [number, number, number]][] = [
  ['CifarResNet20', () => cifarResNet20(10), [3, 32, 32]],
  ['CifarVGG11', () => new CifarVGG({ depth: 11, numClasses: 10 }), [3, 32, 32]],
  ['TorchvisionResNet18', () => new TorchvisionResNet({ block: 'basic', layers: [1, 1, 1, 1], numClasses: 7 }), [3, 40, 40]],
  ['TorchvisionResNet bottleneck', () => new TorchvisionResNet({ block: 'bottleneck', layers: [1, 1, 1, 1], widthPerGroup: 16, numClasses: 5 }), [3, 48, 48]],
];

describe('planned engine equals the eval forward', () => {
  for (const [name, make, shape] of families) {
    for (const keep of [1, 0.5, 0.1, 0.02]) {
      it(`${name}, keep ${keep}: dense, sparse and auto kernels`, () => {
        manualSeed(1);
        const model = make();
        const rng = new Rng(11);
        randomizeBatchNorm(model, rng);
        if (keep < 1) randomMasks(model, keep, rng);
        for (const kernel of ['dense', 'sparse', 'auto'] as const) {
          const err = check(model, shape, 3, kernel, 5);
          expect(err, `${kernel}: relative error ${err}`).toBeLessThan(TOL);
        }
      });
    }
  }

  it('reuses its buffers: repeated runs and batch changes give the same logits', () => {
    manualSeed(2);
    const model = cifarResNet20(10);
    randomMasks(model, 0.1, new Rng(3));
    const engine = planModel(model, [3, 32, 32]);
    const x = Tensor.randn([5, 3, 32, 32], new Rng(4)).f32;
    const a = engine.run(x, 5);
    const one = engine.run(x.subarray(0, 3 * 32 * 32), 1);
    const b = engine.run(x, 5);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(relErr(one, a.subarray(0, 10))).toBeLessThan(TOL);
    expect(engine.memoryPerImage().slots).toBeLessThanOrEqual(4);
  });

  it('repacks sparse layers per batch: lanes at 16 images, panels at 3, the same logits either way', () => {
    manualSeed(3);
    const model = new CifarVGG({ depth: 11, numClasses: 10 });
    randomizeBatchNorm(model, new Rng(5));
    randomMasks(model, 0.1, new Rng(6));
    const engine = planModel(model, [3, 32, 32]);
    const x = Tensor.randn([16, 3, 32, 32], new Rng(7));
    const ref = noGrad(() => model.eval().forward(x)).f32;
    const a = engine.run(x.f32, 16);
    expect(relErr(a, ref)).toBeLessThan(TOL);
    const three = engine.run(x.f32.subarray(0, 3 * 3 * 32 * 32), 3);
    expect(relErr(three, ref.subarray(0, 30))).toBeLessThan(TOL);
    expect(Array.from(engine.run(x.f32, 16))).toEqual(Array.from(a));
  });
});

describe('golden SeaM masks on the golden ResNet20', () => {
  it('reproduces cifar10_resnet20.seam_masks.io.safetensors through the sparse engine', () => {
    const { model } = loadModel(goldenPath('cifar10_resnet20.pt'));
    const file = new Map([...readWeights(goldenPath('cifar10_resnet20.seam_masks.pt')).stateDict].map(([k, t]) => [k, fromRaw(t, k)]));
    const { headWeight, headBias } = applyMaskTensors(model, file);
    const io = loadGolden('cifar10_resnet20.seam_masks.io.safetensors');
    const x = io.get('input');
    const batch = x.shape[0];
    const ref = noGrad(() => model.eval().forward(x)).f32;
    for (const kernel of ['auto', 'dense'] as const) expect(relErr(planModel(model, [3, 32, 32], { kernel }).run(x.f32, batch), ref)).toBeLessThan(TOL);
    const engine = planModel(model, [3, 32, 32], { kernel: 'sparse' });
    expect(engine.layers.every((l) => l.kernel === 'sparse')).toBe(true);
    const feats = engine.run(x.f32, batch);
    expect(relErr(feats, ref)).toBeLessThan(TOL);
    // The head: Sequential(ReLU, Linear) on the model's logits.
    const [classes, inF] = headWeight.shape;
    const logits = new Float32Array(batch * classes);
    for (let b = 0; b < batch; b++) {
      for (let c = 0; c < classes; c++) {
        let s = headBias ? headBias.f32[c] : 0;
        for (let i = 0; i < inF; i++) s += Math.max(0, feats[b * inF + i]) * headWeight.f32[c * inF + i];
        logits[b * classes + c] = s;
      }
    }
    const err = relErr(logits, io.get('logits').f32);
    expect(err, `relative error ${err}`).toBeLessThan(TOL);
  });
});
