// ONNX export of re-engineered models: onnxruntime runs the file with our logits (masked weights,
// head appended, dynamic batch), and our own loader reads it back with the same logits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { exportOnnx } from '../../src/export/onnx.js';
import { loadModel } from '../../src/models/load.js';
import { CifarVGG } from '../../src/models/cifar-vgg.js';
import { BatchNorm2d, Linear, manualSeed, Module, ReLU, Sequential } from '../../src/nn/index.js';
import { attachMasks } from '../../src/seam/masks.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { goldenPath, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { ORT_MISSING, ort, ortRun } from '../helpers/ort.js';
import { missingShared } from '../helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'seam-onnx-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const rng = new Rng(2024);

/** Random masks keeping about `keep` of every weight. */
function randomMasks(model: Module, keep: number): void {
  for (const m of attachMasks(model)) for (let i = 0; i < m.mask.size; i++) m.mask.f32[i] = rng.nextFloat() < keep ? 1 : -1;
}

function forward(model: Module, head: Module | null, x: Tensor): Tensor {
  return noGrad(() => (head ? head.forward(model.forward(x)) : model.forward(x)));
}

function expectClose(out: Tensor, ref: Tensor, what: string): void {
  expect(out.shape, what).toEqual(ref.shape);
  const err = relErr(out.f32, ref.f32);
  expect(err, `${what}: relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
}

const ortNote = ort ? '' : ` (skipped: ${ORT_MISSING})`;

describe('ONNX export', () => {
  const resnet = (): { model: Module & { numClasses: number }; head: Sequential } => {
    const { model } = loadModel(goldenPath('cifar10_resnet20.pt'));
    randomMasks(model, 0.3);
    manualSeed(5);
    return { model, head: new Sequential(new ReLU(), new Linear(model.numClasses, 4)) };
  };

  it('writes pruned weights as initializers and names the graph input and output', () => {
    const { model, head } = resnet();
    const g = exportOnnx(model, head, [2, 3, 32, 32], join(dir, 'r20-names.onnx'));
    expect(g.opset).toBe(13);
    expect(g.inputs).toEqual([{ name: 'input', shape: ['batch', 3, 32, 32], dtype: 'f32' }]);
    expect(g.outputs).toEqual([{ name: 'logits', shape: ['batch', 4], dtype: 'f32' }]);
    const entry = attachMasks(model).find((m) => m.param === 'layer2.0.conv1.weight')!;
    const w = g.initializers.get('layer2.0.conv1.weight')!.data as Float32Array;
    const expected = entry.weight.f32.map((v, i) => v * (entry.mask.f32[i] > 0 ? 1 : 0)); // W * (M > 0)
    expect(Array.from(w)).toEqual(Array.from(expected));
    expect(g.initializers.has('module_head.1.weight')).toBe(true);
  });

  it.skipIf(!ort)(`cifar ResNet20 with random masks and a head: onnxruntime gives our logits${ortNote}`, async () => {
    const { model, head } = resnet();
    const file = join(dir, 'r20.onnx');
    exportOnnx(model, head, [2, 3, 32, 32], file);
    const x = Tensor.randn([3, 3, 32, 32], rng); // another batch size than the sample: the batch is dynamic
    expectClose(await ortRun(file, x), forward(model, head, x), 'resnet20 + head');
  });

  it.skipIf(!ort)(`cifar VGG16-BN with random masks: onnxruntime gives our logits${ortNote}`, async () => {
    manualSeed(11);
    const model = new CifarVGG({ depth: 16, numClasses: 10 });
    for (const [, m] of model.namedModules()) {
      if (!(m instanceof BatchNorm2d)) continue;
      for (let i = 0; i < m.numFeatures; i++) {
        m.runningMean.f32[i] = 0.1 * rng.normal();
        m.runningVar.f32[i] = 0.5 + rng.nextFloat();
        m.weight.f32[i] = 0.5 + rng.nextFloat();
        m.bias.f32[i] = 0.1 * rng.normal();
      }
    }
    randomMasks(model, 0.5);
    model.eval();
    const file = join(dir, 'vgg16.onnx');
    exportOnnx(model, null, [2, 3, 32, 32], file);
    const x = Tensor.randn([2, 3, 32, 32], rng);
    expectClose(await ortRun(file, x), forward(model, null, x), 'vgg16');
  });

  for (const [label, name, shape] of [
    ['torchvision bottleneck ResNet', 'resnet_bottleneck_1111_w16.pt', [2, 3, 64, 64]],
    ['an imported ONNX graph', 'cifar10_resnet20.onnx', [2, 3, 32, 32]],
  ] as const) {
    const why = missingShared(`golden/${name}`);
    it.skipIf(!ort || !!why)(`${label}: onnxruntime gives our logits${ortNote}${why ? ` (${why})` : ''}`, async () => {
      const { model } = loadModel(goldenPath(name));
      randomMasks(model, 0.5);
      const head = new Sequential(new ReLU(), new Linear(model.numClasses, 2));
      const file = join(dir, `${name}.onnx`);
      exportOnnx(model, head, shape, file);
      const x = Tensor.randn(shape, rng);
      expectClose(await ortRun(file, x), forward(model, head, x), name);
    });
  }

  it('export -> re-import with our loader gives the same logits (zoo model and ONNX graph model)', () => {
    const { model, head } = resnet();
    const file = join(dir, 'r20-reimport.onnx');
    exportOnnx(model, head, [2, 3, 32, 32], file);
    const back = loadModel(file);
    expect(back.arch).toBe('onnx-graph');
    expect(back.model.numClasses).toBe(4);
    expect([...back.model.stateDict().keys()]).toEqual(expect.arrayContaining(['layer3.2.conv2.weight', 'fc.weight', 'module_head.1.weight']));
    const x = Tensor.randn([2, 3, 32, 32], rng);
    expectClose(forward(back.model, null, x), forward(model, head, x), 'zoo -> onnx -> import');

    // and once more from the imported graph model itself
    randomMasks(back.model, 0.7);
    const again = join(dir, 'r20-reimport-2.onnx');
    exportOnnx(back.model, null, [2, 3, 32, 32], again);
    expectClose(forward(loadModel(again).model, null, x), forward(back.model, null, x), 'onnx graph -> onnx -> import');
  });

  it('a model it cannot export is an error naming its class', () => {
    class Custom extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => exportOnnx(new Custom(), null, [1, 4], join(dir, 'x.onnx'))).toThrow(/no exporter for Custom/);
  });
});
