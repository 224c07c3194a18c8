/**
 * OnnxGraph -> .onnx protobuf bytes (initializers as raw_data). Attribute types come from the node's
 * `attributeTypes` when present, else from the value: integers are INT(S) except for attributes that
 * are floats by definition (epsilon, alpha, ...), RawTensor is TENSOR, strings STRING(S).
 */
import { writeFileSync } from 'node:fs';
import type { RawTensor } from './types.js';
import { checkTensor } from './dtype.js';
import { modelProtoType, OnnxAttrType, OnnxDataType, type PbAttribute, type PbGraph, type PbValueInfo } from './onnx-schema.js';
import { ONNX_TYPE_OF, tensorToProto } from './onnx-tensor.js';
import type { OnnxAttrKind, OnnxAttributeValue, OnnxGraph, OnnxNode, OnnxValueInfo } from './onnx.js';

const FLOAT_ATTRS = new Set(['alpha', 'beta', 'gamma', 'epsilon', 'momentum', 'ratio', 'bias', 'lambd', 'min', 'max', 'value_float', 'scale', 'spatial_scale', 'threshold']);

export interface WriteOnnxOptions {
  producerName?: string;
  producerVersion?: string;
  irVersion?: number;
}

/** The IR version that matches an opset (ONNX's version table). */
function irForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 9) return 4;
  if (opset <= 10) return 5;
  if (opset <= 11) return 6;
  if (opset <= 13) return 7;
  if (opset <= 17) return 8;
  if (opset <= 19) return 9;
  return 10;
}

const isTensor = (v: unknown): v is RawTensor =>
  typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v;

function inferKind(name: string, v: OnnxAttributeValue, where: string): OnnxAttrKind {
  if (typeof v === 'number') return Number.isInteger(v) && !FLOAT_ATTRS.has(name) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  if (isTensor(v)) return 'tensor';
  if (Array.isArray(v)) {
    if (v.length === 0) return 'ints';
    const first = v[0];
    if (typeof first === 'number') return (v as number[]).every(Number.isInteger) && !FLOAT_ATTRS.has(name) ? 'ints' : 'floats';
    if (typeof first === 'string') return 'strings';
    if (isTensor(first)) return 'tensors';
    return 'graphs';
  }
  if (typeof v === 'object' && v !== null && 'nodes' in v) return 'graph';
  throw new Error(`${where}: cannot infer the attribute type`);
}

function attributeProto(name: string, v: OnnxAttributeValue, kind: OnnxAttrKind, where: string): PbAttribute {
  const T = OnnxAttrType;
  const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
  switch (kind) {
    case 'float': return { name, type: T.FLOAT, f: v as number };
    case 'int': return { name, type: T.INT, i: v as number };
    case 'string': return { name, type: T.STRING, s: bytes(v as string) };
    case 'tensor': checkTensor(v as RawTensor, where); return { name, type: T.TENSOR, t: tensorToProto('', v as RawTensor) };
    case 'graph': return { name, type: T.GRAPH, g: graphProto(v as OnnxGraph) };
    case 'floats': return { name, type: T.FLOATS, floats: [...(v as number[])] };
    case 'ints': return { name, type: T.INTS, ints: [...(v as number[])] };
    case 'strings': return { name, type: T.STRINGS, strings: (v as string[]).map(bytes) };
    case 'tensors': return { name, type: T.TENSORS, tensors: (v as RawTensor[]).map((t) => tensorToProto('', t)) };
    case 'graphs': return { name, type: T.GRAPHS, graphs: (v as OnnxGraph[]).map(graphProto) };
  }
}

function valueInfoProto(v: OnnxValueInfo): PbValueInfo {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: v.dtype ? ONNX_TYPE_OF[v.dtype] : OnnxDataType.FLOAT,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : d === '?' ? {} : { dim_param: d })) },
      },
    },
  };
}

function nodeProto(n: OnnxNode, i: number) {
  const where = `onnx writer: node "${n.name || i}" (${n.opType})`;
  if (!n.opType) throw new Error(`${where}: missing opType`);
  const attribute = Object.entries(n.attributes).map(([k, v]) =>
    attributeProto(k, v, n.attributeTypes?.[k] ?? inferKind(k, v, `${where} attribute "${k}"`), `${where} attribute "${k}"`));
  return { name: n.name, op_type: n.opType, domain: n.domain ?? '', input: n.inputs, output: n.outputs, attribute };
}

function graphProto(g: Pick<OnnxGraph, 'inputs' | 'outputs' | 'initializers' | 'nodes' | 'name'>): PbGraph {
  return {
    name: g.name ?? 'graph',
    node: g.nodes.map(nodeProto),
    initializer: [...g.initializers].map(([k, t]) => {
      checkTensor(t, `onnx writer: initializer "${k}"`);
      return tensorToProto(k, t);
    }),
    input: g.inputs.map(valueInfoProto),
    output: g.outputs.map(valueInfoProto),
  };
}

/** Encodes an OnnxGraph as .onnx bytes. */
export function serializeOnnx(graph: OnnxGraph, opts: WriteOnnxOptions = {}): Uint8Array {
  const opsets = { ...(graph.opsets ?? {}), '': graph.opset };
  const model = {
    ir_version: opts.irVersion ?? graph.irVersion ?? irForOpset(graph.opset),
    producer_name: opts.producerName ?? 'seam',
    producer_version: opts.producerVersion ?? '',
    graph: graphProto(graph),
    opset_import: Object.entries(opsets).map(([domain, version]) => ({ domain, version })),
  };
  const ModelProtoType = modelProtoType();
  const err = ModelProtoType.verify(model);
  if (err) throw new Error(`onnx writer: ${err}`);
  return ModelProtoType.encode(ModelProtoType.fromObject(model)).finish();
}

/** Writes an OnnxGraph to an .onnx file. */
export function writeOnnx(path: string, graph: OnnxGraph, opts: WriteOnnxOptions = {}): void {
  writeFileSync(path, serializeOnnx(graph, opts));
}
