import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOnnx, readOnnx, serializeOnnx, writeOnnx, type OnnxGraph } from '../../src/io/onnx.js';
import { readTorchFile } from '../../src/io/torch.js';
import { floatToHalf } from '../../src/io/dtype.js';
import { modelProtoType } from '../../src/io/onnx-schema.js';
import { expectError, f32, goldenPath, itNeeds, tmp } from '../helpers/io.js';

const encodeModel = (m: object): Uint8Array => modelProtoType().encode(modelProtoType().fromObject(m)).finish();

describe('onnx', () => {
  it('parses the golden resnet20 export: opset, dynamic batch, initializers, nodes and attributes', () => {
    const g = readOnnx(goldenPath('cifar10_resnet20.onnx'));
    expect(g.opset).toBe(13);
    expect(g.inputs).toEqual([{ name: 'input', shape: ['batch', 3, 32, 32], dtype: 'f32' }]);
    expect(g.outputs).toEqual([{ name: 'logits', shape: ['batch', 10], dtype: 'f32' }]);
    expect(new Set(g.nodes.map((n) => n.opType))).toEqual(new Set(['Conv', 'Relu', 'Add', 'GlobalAveragePool', 'Flatten', 'Gemm']));
    const conv = g.nodes.find((n) => n.opType === 'Conv')!;
    expect(conv.attributes).toEqual({ dilations: [1, 1], group: 1, kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
    expect(conv.attributeTypes!.group).toBe('int');
    const gemm = g.nodes.find((n) => n.opType === 'Gemm')!;
    expect(gemm.attributeTypes).toMatchObject({ alpha: 'float', beta: 'float', transB: 'int' });
    // every node input is a graph input, an initializer or an earlier node's output
    const known = new Set([...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
    for (const n of g.nodes) {
      for (const i of n.inputs) expect(known.has(i), `${n.name} input ${i}`).toBe(true);
      n.outputs.forEach((o) => known.add(o));
    }
    // the classifier is not folded: it must equal the checkpoint's
    const sd = readTorchFile(goldenPath('cifar10_resnet20.pt')).stateDict;
    expect(g.initializers.get('fc.weight')).toEqual(sd.get('fc.weight'));
    expect(g.initializers.get('fc.bias')).toEqual(sd.get('fc.bias'));
  });

  itNeeds(['golden/resnet_bottleneck_1111_w16.onnx'], 'parses the golden bottleneck ResNet export: its stem MaxPool and 2048-wide classifier', () => {
    const b = readOnnx(goldenPath('resnet_bottleneck_1111_w16.onnx'));
    expect(b.nodes.some((n) => n.opType === 'MaxPool')).toBe(true);
    expect(b.initializers.get('fc.weight')!.shape).toEqual([10, 2048]);
  });

  it('round-trips the golden graphs and a graph with every attribute kind and dtype', () => {
    const g = readOnnx(goldenPath('cifar10_resnet20.onnx'));
    const back = parseOnnx(serializeOnnx(g));
    expect(back.nodes).toEqual(g.nodes);
    expect(back.inputs).toEqual(g.inputs);
    expect([...back.initializers.keys()]).toEqual([...g.initializers.keys()]);
    for (const [k, t] of g.initializers) expect(back.initializers.get(k)).toEqual(t);

    const graph: OnnxGraph = {
      opset: 17,
      inputs: [{ name: 'x', shape: ['N', 4], dtype: 'f32' }],
      outputs: [{ name: 'y', shape: ['N', 2] }, { name: 'z', shape: ['?', 0, 5] }],
      initializers: new Map([
        ['w', f32([2, 4], [1, 2, 3, 4, 5, 6, 7, 8])],
        ['h', { dtype: 'f16', shape: [1], data: Uint16Array.from([floatToHalf(0.5)]) }],
        ['shape', { dtype: 'i64', shape: [2], data: BigInt64Array.from([-1n, 4n]) }],
        ['flag', { dtype: 'bool', shape: [1], data: Uint8Array.from([1]) }],
      ]),
      nodes: [
        { name: 'r', opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['x2'], attributes: {} },
        { name: 'g', opType: 'Gemm', inputs: ['x2', 'w'], outputs: ['z'], attributes: { alpha: 1, beta: 1, transB: 1 } },
        { name: 'c', opType: 'Clip', inputs: ['z'], outputs: ['y'], attributes: { min: 0, max: 6, note: 'hi', names: ['a', 'b'], fl: [0.5, 1.5], t: f32([1], [3]) } },
      ],
    };
    const dir = tmp();
    writeOnnx(join(dir, 'g.onnx'), graph);
    const r = readOnnx(join(dir, 'g.onnx'));
    expect(r.opset).toBe(17);
    expect(r.irVersion).toBe(8);
    expect(r.outputs[0]).toEqual({ name: 'y', shape: ['N', 2], dtype: 'f32' });
    expect(r.outputs[1]).toEqual({ name: 'z', shape: ['?', 0, 5], dtype: 'f32' });
    for (const [k, t] of graph.initializers) expect(r.initializers.get(k)).toEqual(t);
    expect(r.nodes[1]!.attributeTypes).toEqual({ alpha: 'float', beta: 'float', transB: 'int' });
    expect(r.nodes[2]!.attributes).toEqual({ min: 0, max: 6, note: 'hi', names: ['a', 'b'], fl: [0.5, 1.5], t: f32([1], [3]) });
    expect(r.nodes[2]!.attributeTypes).toMatchObject({ min: 'float', note: 'string', names: 'strings', fl: 'floats', t: 'tensor' });
  });

  it('reads typed-field tensors and external data', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm', 'weights.bin'), Buffer.from(new Float32Array([9, 8, 7, 6]).buffer));
    const model = {
      ir_version: 7, opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g', node: [], input: [], output: [],
        initializer: [
          { name: 'fd', dims: [2], data_type: 1, float_data: [1.5, -2] },
          { name: 'i64', dims: [2], data_type: 7, int64_data: [-3, 2 ** 40] },
          { name: 'h', dims: [1], data_type: 10, int32_data: [floatToHalf(2)] },
          { name: 'ext', dims: [2, 2], data_type: 1, data_location: 1, external_data: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: '16' }] },
        ],
      },
    };
    writeFileSync(join(dir, 'm', 'x.onnx'), encodeModel(model));
    const g = readOnnx(join(dir, 'm', 'x.onnx'));
    expect([...g.initializers.get('fd')!.data]).toEqual([1.5, -2]);
    expect([...g.initializers.get('i64')!.data]).toEqual([-3n, 2n ** 40n]);
    expect(g.initializers.get('h')).toEqual({ dtype: 'f16', shape: [1], data: Uint16Array.from([0x4000]) });
    expect([...g.initializers.get('ext')!.data]).toEqual([9, 8, 7, 6]);
    const escaped = { ...model, graph: { ...model.graph, initializer: [{ ...model.graph.initializer[3]!, external_data: [{ key: 'location', value: '../../etc/passwd' }] }] } };
    writeFileSync(join(dir, 'm', 'y.onnx'), encodeModel(escaped));
    expectError(() => readOnnx(join(dir, 'm', 'y.onnx')), /initializer "ext": external data location "..\/..\/etc\/passwd" leaves the model's folder/);
  });

  it('gives clear errors for truncated and corrupted models', () => {
    const bytes = readFileSync(goldenPath('cifar10_resnet20.onnx'));
    expectError(() => parseOnnx(bytes.subarray(0, bytes.length - 1000), { name: 'cut.onnx' }), /onnx cut\.onnx: not a valid ONNX protobuf/);
    expectError(() => parseOnnx(Buffer.from([0x08, 0x07]), { name: 'e.onnx' }), /onnx e\.onnx: the model has no graph/);
    const bad = { ir_version: 7, opset_import: [{ domain: '', version: 13 }], graph: { initializer: [{ name: 'w', dims: [4], data_type: 1, raw_data: new Uint8Array(12) }] } };
    expectError(() => parseOnnx(encodeModel(bad)), /initializer "w": raw_data holds 12 bytes, f32 \[4\] needs 16/);
    const str = { ...bad, graph: { initializer: [{ name: 's', dims: [1], data_type: 8 }] } };
    expectError(() => parseOnnx(encodeModel(str)), /initializer "s": unsupported tensor data type 8/);
    const huge = { ...bad, graph: { initializer: [{ name: 'h', dims: [1e12, 1e6], data_type: 1, raw_data: new Uint8Array(4) }] } };
    expectError(() => parseOnnx(encodeModel(huge)), /initializer "h": /);
  });
});
