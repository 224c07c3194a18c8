// SeaM masks on every weight-bearing node of imported graphs: Conv (grouped and depthwise
// included), Gemm, MatMul with a constant weight (attention projections included) and
// ConvTranspose become maskable layers, and one backward pass reaches every mask.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { readOnnx, type OnnxGraph } from '../../src/io/onnx.js';
import { loadModel } from '../../src/models/load.js';
import { OnnxGraphModel } from '../../src/models/onnx-graph.js';
import { Conv2d, ConvTranspose2d, Linear } from '../../src/nn/index.js';
import { crossEntropy } from '../../src/ops/index.js';
import { attachMasks } from '../../src/seam/masks.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { exportOnnx } from '../../src/export/onnx.js';
import { noGrad } from '../../src/autograd/node.js';
import { GRANULARITIES } from '../../src/seam/masks.js';
import { tempDir } from '../helpers/export-fixtures.js';
import { relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { ORT_MISSING, ort, ortRun } from '../helpers/ort.js';
import { FAMILIES_DIR, familyManifest, formulaInput } from './fixtures.js';

/** Conv, ConvTranspose, Gemm and MatMul nodes whose weight is an initializer. */
function weightNodes(g: OnnxGraph): number {
  return g.nodes.filter((n) => ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'].includes(n.opType) && g.initializers.has(n.inputs[1])).length;
}

function expectEveryMaskTrained(model: OnnxGraphModel, x: Tensor): void {
  const masks = attachMasks(model);
  const labels = Tensor.ints(Array.from({ length: x.shape[0] }, (_, i) => i % model.numClasses));
  backward(crossEntropy(model.forward(x), labels));
  // the straight-through gradient of a mask is dL/dW_eff * W: none for a parameter that is all zero
  // (torchvision starts many biases at zero)
  const live = masks.filter((m) => m.weight.f32.some((v) => v !== 0));
  expect(live.length).toBeGreaterThanOrEqual(masks.length / 2);
  const silent = live.filter((m) => !m.mask.grad || !m.mask.grad.f32.some((v) => v !== 0)).map((m) => m.param);
  expect(silent, 'masks without a gradient').toEqual([]);
  expect(model.parameters().filter((p) => p.requiresGrad && !p.name?.endsWith('_mask'))).toHaveLength(0);
}

describe('SeaM masks on imported graphs', () => {
  const manifest = familyManifest(FAMILIES_DIR) ?? {};
  for (const stem of ['mobilenet_v3_small', 'densenet', 'vit_b_16', 'shufflenet_v2', 'efficientnet_b0', 'convnext', 'resnext50_32x4d']) {
    const file = join(FAMILIES_DIR, `${stem}.onnx`);
    it.skipIf(!existsSync(file))(`${stem}: a mask on every weight-bearing node, every mask trained by one backward pass`, () => {
      const { model } = loadModel(file);
      const graph = readOnnx(file);
      const layers = [...model.namedModules()].filter(([, m]) => m instanceof Conv2d || m instanceof Linear || m instanceof ConvTranspose2d);
      expect(layers.length).toBe(weightNodes(graph));
      if (stem.startsWith('mobilenet')) expect(layers.some(([, m]) => m instanceof Conv2d && m.groups === m.inChannels && m.groups > 1), 'depthwise convs').toBe(true);
      if (stem.startsWith('vit')) expect(layers.filter(([, m]) => m instanceof Linear).length, 'attention and MLP projections').toBeGreaterThanOrEqual(8);
      expectEveryMaskTrained(model as OnnxGraphModel, formulaInput(manifest[stem]?.input ?? [2, 3, 64, 64]));
    });
  }

  it('ConvTranspose with a constant weight is a maskable ConvTranspose2d (asymmetric pads, output padding)', () => {
    const rng = new Rng(3);
    const f32 = (shape: number[]) => ({ dtype: 'f32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal() * 0.3) });
    const graph: OnnxGraph = {
      opset: 17,
      inputs: [{ name: 'x', shape: ['batch', 3, 6, 6], dtype: 'f32' }],
      outputs: [{ name: 'y', shape: ['batch', 5], dtype: 'f32' }],
      initializers: new Map([['up.weight', f32([3, 4, 3, 3])], ['up.bias', f32([4])], ['fc.weight', f32([5, 4])], ['fc.bias', f32([5])]]),
      nodes: [
        { name: '/up/ConvTranspose', opType: 'ConvTranspose', inputs: ['x', 'up.weight', 'up.bias'], outputs: ['u'], attributes: { strides: [2, 2], pads: [1, 0, 0, 1], output_padding: [1, 1] } },
        { name: '/relu', opType: 'Relu', inputs: ['u'], outputs: ['r'], attributes: {} },
        { name: '/pool', opType: 'GlobalAveragePool', inputs: ['r'], outputs: ['p'], attributes: {} },
        { name: '/flat', opType: 'Flatten', inputs: ['p'], outputs: ['f'], attributes: {} },
        { name: '/fc/Gemm', opType: 'Gemm', inputs: ['f', 'fc.weight', 'fc.bias'], outputs: ['y'], attributes: { transB: 1 } },
      ],
    };
    const model = new OnnxGraphModel(graph);
    expect(model.child('up')).toBeInstanceOf(ConvTranspose2d);
    expectEveryMaskTrained(model, Tensor.randn([2, 3, 6, 6], rng));
  });

  /** Conv -> BatchNormalization -> Relu -> pool -> Gemm: a channel mask gates at the BatchNorm (whose
   *  positive shifts make an ungated masked channel show). */
  function convBnGraph(rng: Rng): OnnxGraph {
    const f32 = (shape: number[], lo = -0.5, hi = 0.5) => ({ dtype: 'f32' as const, shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => lo + (hi - lo) * rng.nextFloat()) });
    return {
      opset: 13,
      inputs: [{ name: 'x', shape: ['batch', 3, 64, 64], dtype: 'f32' }],
      outputs: [{ name: 'y', shape: ['batch', 4], dtype: 'f32' }],
      initializers: new Map([['c.weight', f32([16, 3, 3, 3])], ['bn.weight', f32([16], 0.5, 1.5)], ['bn.bias', f32([16], 0.5, 1)],
        ['bn.running_mean', f32([16], -0.1, 0.1)], ['bn.running_var', f32([16], 0.5, 2)], ['fc.weight', f32([4, 16])], ['fc.bias', f32([4])]]),
      nodes: [
        { name: '/c/Conv', opType: 'Conv', inputs: ['x', 'c.weight'], outputs: ['c'], attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } },
        { name: '/bn/BatchNormalization', opType: 'BatchNormalization', inputs: ['c', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], outputs: ['b'], attributes: {} },
        { name: '/relu', opType: 'Relu', inputs: ['b'], outputs: ['r'], attributes: {} },
        { name: '/pool', opType: 'GlobalAveragePool', inputs: ['r'], outputs: ['p'], attributes: {} },
        { name: '/flat', opType: 'Flatten', inputs: ['p'], outputs: ['f'], attributes: {} },
        { name: '/fc/Gemm', opType: 'Gemm', inputs: ['f', 'fc.weight', 'fc.bias'], outputs: ['y'], attributes: { transB: 1 } },
      ],
    };
  }

  for (const granularity of GRANULARITIES) {
    it.skipIf(!ort)(`${granularity} masks on imported graphs: the ONNX export gives our logits in onnxruntime${ort ? '' : ` (skipped: ${ORT_MISSING})`}`, async () => {
      const rng = new Rng(16);
      for (const stem of ['densenet', 'mobilenet_v3_small', 'conv-bn']) {
        const model = stem === 'conv-bn' ? new OnnxGraphModel(convBnGraph(rng)) : loadModel(join(FAMILIES_DIR, `${stem}.onnx`)).model;
        const masks = attachMasks(model, { granularity, sampleShape: [3, 64, 64] });
        for (const m of masks) for (let i = 0; i < m.mask.size; i++) m.mask.f32[i] = rng.nextFloat() < 0.7 ? 1 : -1;
        model.eval();
        const file = join(tempDir(), `${stem}-${granularity}.onnx`);
        exportOnnx(model, null, [1, 3, 64, 64], file);
        const x = Tensor.randn([3, 3, 64, 64], rng);
        const ours = noGrad(() => model.forward(x));
        const err = relErr((await ortRun(file, x)).f32, ours.f32);
        expect(err, `${stem} ${granularity}: relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
      }
    });
  }
});
