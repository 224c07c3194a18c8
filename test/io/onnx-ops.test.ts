// The ops of an imported ONNX graph against onnxruntime on a small synthetic graph that uses every
// supported op: Conv, BatchNormalization, Clip, Sigmoid, Mul/Add with broadcasting, Concat, pooling,
// the Shape/Gather/Unsqueeze/Concat/Reshape flatten pattern, MatMul+Add (folded into a Linear), and
// Gemm with transB=0, alpha and beta.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { writeOnnx, type OnnxGraph, type OnnxNode } from '../../src/io/onnx.js';
import type { RawTensor } from '../../src/io/types.js';
import { loadModel } from '../../src/models/load.js';
import { Linear } from '../../src/nn/index.js';
import { attachMasks } from '../../src/seam/masks.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { ORT_MISSING, ort, ortRun } from '../helpers/ort.js';

const dir = mkdtempSync(join(tmpdir(), 'seam-onnx-ops-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rng = new Rng(7);
const f32 = (shape: number[], lo = -1, hi = 1): RawTensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'f32', shape, data: Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.nextFloat()) };
};
const i64 = (values: number[], shape = [values.length]): RawTensor => ({ dtype: 'i64', shape, data: BigInt64Array.from(values.map(BigInt)) });
let k = 0;
const node = (opType: string, inputs: string[], output: string, attributes: OnnxNode['attributes'] = {}): OnnxNode =>
  ({ name: `/${opType.toLowerCase()}_${k++}`, opType, inputs, outputs: [output], attributes });

function allOpsGraph(): OnnxGraph {
  const init = new Map<string, RawTensor>([
    ['conv.weight', f32([4, 2, 3, 3])], ['conv.bias', f32([4])],
    ['bn.weight', f32([4], 0.5, 1.5)], ['bn.bias', f32([4])], ['bn.running_mean', f32([4])], ['bn.running_var', f32([4], 0.5, 2)],
    ['chan', f32([1, 4, 1, 1])], ['mm_w', f32([32, 6])], ['mm_b', f32([6])], ['gemm_w', f32([6, 3])], ['gemm_c', f32([3])],
    ['axes0', i64([0])], ['axes1', i64([1])], ['minus1', i64([-1])],
  ]);
  const nodes: OnnxNode[] = [
    node('Conv', ['x', 'conv.weight', 'conv.bias'], 'c1', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
    node('BatchNormalization', ['c1', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'], 'bn', { epsilon: 1e-3 }),
    { name: 'lo', opType: 'Constant', inputs: [], outputs: ['lo'], attributes: { value: { dtype: 'f32', shape: [], data: Float32Array.of(0) } } },
    { name: 'hi', opType: 'Constant', inputs: [], outputs: ['hi'], attributes: { value: { dtype: 'f32', shape: [], data: Float32Array.of(0.8) } } },
    node('Clip', ['bn', 'lo', 'hi'], 'cl'),
    node('Sigmoid', ['bn'], 'sg'),
    node('Mul', ['cl', 'chan'], 'mu'),
    node('Add', ['mu', 'sg'], 'ad'),
    node('Concat', ['ad', 'cl'], 'cat', { axis: 1 }),
    node('MaxPool', ['cat'], 'mp', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }),
    node('GlobalAveragePool', ['mp'], 'gp'),
    node('AveragePool', ['cat'], 'ap', { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 0 }),
    node('Add', ['ap', 'gp'], 'sum'),
    node('Identity', ['sum'], 'id'),
    node('Dropout', ['id'], 'dr'),
    node('Shape', ['dr'], 'sh'),
    { name: 'idx', opType: 'Constant', inputs: [], outputs: ['idx'], attributes: { value: i64([0], []) } },
    node('Gather', ['sh', 'idx'], 'g', { axis: 0 }),
    node('Unsqueeze', ['g', 'axes0'], 'u'),
    node('Concat', ['u', 'minus1'], 'newshape', { axis: 0 }),
    node('Reshape', ['dr', 'newshape'], 'flat'),
    node('MatMul', ['flat', 'mm_w'], 'mm'),
    node('Add', ['mm', 'mm_b'], 'ma'),
    node('Relu', ['ma'], 'r'),
    node('Unsqueeze', ['r', 'axes1'], 'u2'),
    node('Squeeze', ['u2', 'axes1'], 's2'),
    node('Gemm', ['s2', 'gemm_w', 'gemm_c'], 'y', { alpha: 0.5, beta: 2, transB: 0 }),
  ];
  return {
    opset: 13, inputs: [{ name: 'x', shape: ['batch', 2, 8, 8], dtype: 'f32' }], outputs: [{ name: 'y', shape: ['batch', 3], dtype: 'f32' }],
    initializers: init, nodes,
  };
}

describe('imported ONNX ops', () => {
  const file = join(dir, 'all-ops.onnx');
  writeOnnx(file, allOpsGraph());

  it('layers: Conv, BatchNormalization, MatMul+Add and Gemm become modules that masks wrap', () => {
    const { model } = loadModel(file);
    expect([...model.stateDict().keys()]).toEqual(expect.arrayContaining(['conv.weight', 'conv.bias', 'bn.running_var']));
    const linears = [...model.namedModules()].filter(([, m]) => m instanceof Linear);
    expect(linears).toHaveLength(2);
    expect(attachMasks(model).map((m) => m.module)).toHaveLength(2 + 2 * linears.length);
    expect(model.numClasses).toBe(3);
  });

  it.skipIf(!ort)(`every op matches onnxruntime ${ort ? '' : `(skipped: ${ORT_MISSING})`}`, async () => {
    const { model } = loadModel(file);
    const x = Tensor.randn([3, 2, 8, 8], rng);
    const ours = noGrad(() => model.forward(x));
    const ref = await ortRun(file, x, 'x');
    expect(ours.shape).toEqual(ref.shape);
    const err = relErr(ours.f32, ref.f32);
    expect(Math.max(...ref.f32.map(Math.abs)), 'the reference output is not trivially zero').toBeGreaterThan(1e-3);
    expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
  });
});
