// ONNX import: PyTorch-exported graphs reproduce PyTorch's logits, their layers are real Conv2d /
// Linear modules that SeaM masks wrap and train through, and unsupported graphs fail clearly.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { noGrad } from '../../src/autograd/node.js';
import { readOnnx, writeOnnx, type OnnxGraph } from '../../src/io/onnx.js';
import { loadModel } from '../../src/models/load.js';
import { OnnxGraphModel } from '../../src/models/onnx-graph.js';
import { Conv2d, Linear } from '../../src/nn/index.js';
import { crossEntropy } from '../../src/ops/index.js';
import { attachMasks } from '../../src/seam/masks.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { goldenPath, itNeeds, loadGolden, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';

const dir = mkdtempSync(join(tmpdir(), 'seam-onnx-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ONNX graphs exported by PyTorch', () => {
  for (const name of ['cifar10_resnet20', 'resnet_bottleneck_1111_w16']) {
    itNeeds([`golden/${name}.onnx`], `${name}.onnx reproduces the PyTorch logits`, () => {
      const loaded = loadModel(goldenPath(`${name}.onnx`));
      expect(loaded.format).toBe('onnx');
      expect(loaded.arch).toBe('onnx-graph');
      expect(loaded.model).toBeInstanceOf(OnnxGraphModel);
      const ref = loadGolden(`${name}.io.safetensors`);
      expect(loaded.model.numClasses).toBe(ref.get('logits').shape[1]);
      const logits = noGrad(() => loaded.model.forward(ref.get('input')));
      const err = relErr(logits.data, ref.get('logits').data);
      expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
    });
  }

  itNeeds(['golden/resnet_bottleneck_1111_w16.onnx'], 'names the layers after the PyTorch modules (scopes and initializer names)', () => {
    const keys = [...loadModel(goldenPath('resnet_bottleneck_1111_w16.onnx')).model.stateDict().keys()];
    for (const k of ['conv1.weight', 'layer1.0.conv3.weight', 'layer4.0.downsample.0.weight', 'fc.weight', 'fc.bias']) expect(keys).toContain(k);
    expect(keys.every((k) => /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(k))).toBe(true);
  });

  it('SeaM masks wrap every Conv and Gemm, and one backward pass reaches every mask', () => {
    const path = goldenPath('cifar10_resnet20.onnx');
    const graph = readOnnx(path);
    const { model } = loadModel(path);
    const masks = attachMasks(model);
    const layers = graph.nodes.filter((n) => n.opType === 'Conv' || n.opType === 'Gemm').length;
    expect(new Set(masks.map((m) => m.module)).size).toBe(layers);
    expect(masks.every((m) => m.module instanceof Conv2d || m.module instanceof Linear)).toBe(true);
    const ref = loadGolden('cifar10_resnet20.io.safetensors');
    const x = ref.get('input');
    const labels = Tensor.ints(Array.from({ length: x.shape[0] }, (_, i) => i % model.numClasses));
    backward(crossEntropy(model.forward(x), labels));
    for (const m of masks) {
      expect(m.mask.grad, m.param).not.toBeNull();
      expect(m.mask.grad!.f32.some((v) => v !== 0), `${m.param}_mask gradient is all zero`).toBe(true);
    }
    expect(model.parameters().filter((p) => p.requiresGrad && !p.name?.endsWith('_mask'))).toHaveLength(0);
  });
});

const tiny = (nodes: OnnxGraph['nodes'], extra: Partial<OnnxGraph> = {}): OnnxGraph => ({
  opset: 13,
  inputs: [{ name: 'x', shape: ['batch', 2, 4, 4], dtype: 'f32' }],
  outputs: [{ name: 'y', shape: ['batch', 3], dtype: 'f32' }],
  initializers: new Map([['w', { dtype: 'f32', shape: [3, 2, 1, 1], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]]),
  nodes,
  ...extra,
});

describe('ONNX import errors', () => {
  it('an unsupported op is an error naming the op and the node', () => {
    const file = join(dir, 'unsupported.onnx');
    writeOnnx(file, tiny([
      { name: 'conv', opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attributes: { kernel_shape: [1, 1] } },
      { name: 'my_lrn', opType: 'LRN', inputs: ['c'], outputs: ['l'], attributes: { size: 3 } },
      { name: 'pool', opType: 'GlobalAveragePool', inputs: ['l'], outputs: ['p'], attributes: {} },
      { name: 'flat', opType: 'Flatten', inputs: ['p'], outputs: ['y'], attributes: {} },
    ]));
    expect(() => loadModel(file)).toThrow(/unsupported op "LRN" in node "my_lrn"/);
  });

  it('unsupported attributes and missing values name the node', () => {
    const conv = { name: 'c0', opType: 'Conv', inputs: ['x', 'w'], outputs: ['c'], attributes: { kernel_shape: [1, 1], pads: [0, 0, 1, 1] } };
    expect(() => new OnnxGraphModel(tiny([conv]))).toThrow(/node "c0" \(Conv\): asymmetric pads/);
    const gemm = { name: 'g0', opType: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attributes: { transA: 1 } };
    expect(() => new OnnxGraphModel(tiny([gemm]))).toThrow(/node "g0" \(Gemm\): transA=1/);
    const dangling = { name: 'r0', opType: 'Relu', inputs: ['nowhere'], outputs: ['y'], attributes: {} };
    expect(() => new OnnxGraphModel(tiny([dangling]))).toThrow(/node "r0" \(Relu\) reads "nowhere"/);
    const dynW = { name: 'c1', opType: 'Conv', inputs: ['x', 'x'], outputs: ['y'], attributes: {} };
    expect(() => new OnnxGraphModel(tiny([dynW]))).toThrow(/node "c1" \(Conv\): weight .* must be a constant/);
  });
});

describe('ONNX graph order', () => {
  it('runs nodes stored out of order in topological order', () => {
    const graph = readOnnx(goldenPath('cifar10_resnet20.onnx'));
    const shuffled: OnnxGraph = { ...graph, nodes: [...graph.nodes].reverse() };
    const ref = loadGolden('cifar10_resnet20.io.safetensors');
    const logits = noGrad(() => new OnnxGraphModel(shuffled).forward(ref.get('input')));
    expect(relErr(logits.data, ref.get('logits').data)).toBeLessThan(TOL_CONV_GEMM);
  });
});
