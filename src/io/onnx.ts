/**
 * ONNX models <-> a plain OnnxGraph: opset, graph inputs/outputs with shapes, initializers as a
 * StateDict (stored dtypes kept; f16/bf16 as bit patterns), and nodes with decoded attributes.
 * Protobuf decoding and encoding go through protobufjs with the schema subset in onnx-schema.ts.
 * Graph inputs that are also initializers (IR < 4 exports) are left out of `inputs`.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DType, RawTensor, StateDict } from './types.js';
import { modelProtoType, OnnxAttrType, OnnxDataType, type Int64, type PbAttribute, type PbGraph, type PbModel, type PbValueInfo } from './onnx-schema.js';
import { tensorFromProto } from './onnx-tensor.js';

export type OnnxAttrKind = 'float' | 'int' | 'string' | 'tensor' | 'graph' | 'floats' | 'ints' | 'strings' | 'tensors' | 'graphs';
export type OnnxAttributeValue = number | number[] | string | string[] | RawTensor | RawTensor[] | OnnxGraph | OnnxGraph[];

export interface OnnxNode {
  name: string;
  opType: string;
  /** Operator domain ("" = the default ai.onnx domain). */
  domain?: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttributeValue>;
  /** The attribute types as stored (filled by the reader; the writer infers what is missing). */
  attributeTypes?: Record<string, OnnxAttrKind>;
}

export interface OnnxValueInfo {
  name: string;
  /** Dimensions: a number, or the symbolic name of a dynamic one (e.g. "batch_size"; "?" if unnamed). */
  shape: (number | string)[];
  dtype?: DType;
}

export interface OnnxGraph {
  /** Version of the default (ai.onnx) operator set. */
  opset: number;
  /** Every imported operator set by domain ("" = ai.onnx). */
  opsets?: Record<string, number>;
  name?: string;
  irVersion?: number;
  producer?: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  initializers: StateDict;
  nodes: OnnxNode[];
}

export interface ParseOnnxOptions {
  /** Name for error messages. */
  name?: string;
  /** Folder that external-data locations are relative to (the model's folder). */
  baseDir?: string;
}

const DTYPE_OF: Record<number, DType> = {
  [OnnxDataType.FLOAT]: 'f32', [OnnxDataType.DOUBLE]: 'f64', [OnnxDataType.FLOAT16]: 'f16', [OnnxDataType.BFLOAT16]: 'bf16',
  [OnnxDataType.INT64]: 'i64', [OnnxDataType.INT32]: 'i32', [OnnxDataType.INT16]: 'i16', [OnnxDataType.INT8]: 'i8',
  [OnnxDataType.UINT8]: 'u8', [OnnxDataType.BOOL]: 'bool',
};

export function int64(v: Int64 | undefined, where: string): number {
  if (v === undefined) return 0;
  const n = typeof v === 'number' ? v : Number(v.toString());
  if (!Number.isSafeInteger(n)) throw new Error(`${where}: integer ${String(v)} is out of range`);
  return n;
}

/** Parses .onnx bytes. */
export function parseOnnx(buf: Uint8Array, opts: ParseOnnxOptions = {}): OnnxGraph {
  const name = opts.name ?? '<buffer>';
  let model: PbModel;
  try {
    model = modelProtoType().decode(buf) as unknown as PbModel;
  } catch (e) {
    throw new Error(`onnx ${name}: not a valid ONNX protobuf (${(e as Error).message})`);
  }
  if (!model.graph) throw new Error(`onnx ${name}: the model has no graph`);
  const opsets: Record<string, number> = {};
  for (const o of model.opset_import ?? []) {
    const d = o.domain === 'ai.onnx' ? '' : o.domain ?? '';
    opsets[d] = int64(o.version, `onnx ${name}: opset_import`);
  }
  if (opsets[''] === undefined) {
    throw new Error(`onnx ${name}: no opset_import for the default domain`);
  }
  const g = convertGraph(model.graph, `onnx ${name}`, opts.baseDir);
  const out: OnnxGraph = { ...g, opset: opsets[''], opsets, irVersion: int64(model.ir_version, `onnx ${name}: ir_version`) };
  if (model.producer_name) out.producer = model.producer_version ? `${model.producer_name} ${model.producer_version}` : model.producer_name;
  return out;
}

/** Reads an .onnx file (external data is looked up beside it). */
export function readOnnx(path: string): OnnxGraph {
  return parseOnnx(readFileSync(path), { name: path, baseDir: dirname(path) });
}

function convertGraph(g: PbGraph, where: string, baseDir: string | undefined): Omit<OnnxGraph, 'opset'> {
  if ((g.sparse_initializer ?? []).length > 0) throw new Error(`${where}: sparse initializers are not supported`);
  const initializers: StateDict = new Map();
  for (const [i, t] of (g.initializer ?? []).entries()) {
    const tname = t.name ?? '';
    if (!tname) throw new Error(`${where}: initializer ${i} has no name`);
    if (initializers.has(tname)) throw new Error(`${where}: duplicate initializer "${tname}"`);
    initializers.set(tname, tensorFromProto(t, `${where}: initializer "${tname}"`, baseDir));
  }
  const inputs = (g.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map((v) => valueInfo(v, where));
  const outputs = (g.output ?? []).map((v) => valueInfo(v, where));
  const nodes: OnnxNode[] = (g.node ?? []).map((n, i) => {
    const nodeName = n.name || `${n.op_type ?? 'node'}_${i}`;
    const attributes: Record<string, OnnxAttributeValue> = {};
    const attributeTypes: Record<string, OnnxAttrKind> = {};
    for (const a of n.attribute ?? []) {
      const aw = `${where}: node "${nodeName}" (${n.op_type ?? '?'}) attribute "${a.name ?? ''}"`;
      const [kind, value] = attribute(a, aw, baseDir);
      attributes[a.name ?? ''] = value;
      attributeTypes[a.name ?? ''] = kind;
    }
    const node: OnnxNode = { name: nodeName, opType: n.op_type ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attributes, attributeTypes };
    if (n.domain && n.domain !== 'ai.onnx') node.domain = n.domain;
    return node;
  });
  const out: Omit<OnnxGraph, 'opset'> = { inputs, outputs, initializers, nodes };
  if (g.name) out.name = g.name;
  return out;
}

function valueInfo(v: PbValueInfo, where: string): OnnxValueInfo {
  const name = v.name ?? '';
  const tt = v.type?.tensor_type;
  // protobufjs puts field defaults on the prototype: only own properties were present in the file.
  const shape = (tt?.shape?.dim ?? []).map((d) =>
    has(d, 'dim_param') && d.dim_param ? d.dim_param : has(d, 'dim_value') ? int64(d.dim_value, `${where}: "${name}" shape`) : '?');
  const out: OnnxValueInfo = { name, shape };
  const dt = tt?.elem_type !== undefined ? DTYPE_OF[tt.elem_type] : undefined;
  if (dt) out.dtype = dt;
  return out;
}

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);
const utf8 = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

function attribute(a: PbAttribute, where: string, baseDir: string | undefined): [OnnxAttrKind, OnnxAttributeValue] {
  const sub = (g: PbGraph, i: number): OnnxGraph => ({ opset: 0, ...convertGraph(g, `${where} subgraph ${i}`, baseDir) });
  const T = OnnxAttrType;
  let type = a.type ?? T.UNDEFINED;
  if (type === T.UNDEFINED) {
    // Very old files leave the type out: infer it from the field that is set.
    type = has(a, 'f') ? T.FLOAT : has(a, 'i') ? T.INT : has(a, 's') ? T.STRING : a.t ? T.TENSOR : a.g ? T.GRAPH
      : a.floats?.length ? T.FLOATS : a.ints?.length ? T.INTS : a.strings?.length ? T.STRINGS : a.tensors?.length ? T.TENSORS : T.UNDEFINED;
  }
  switch (type) {
    case T.FLOAT: return ['float', a.f ?? 0];
    case T.INT: return ['int', int64(a.i, where)];
    case T.STRING: return ['string', utf8(a.s ?? new Uint8Array())];
    case T.TENSOR:
      if (!a.t) throw new Error(`${where}: TENSOR attribute without a tensor`);
      return ['tensor', tensorFromProto(a.t, where, baseDir)];
    case T.GRAPH:
      if (!a.g) throw new Error(`${where}: GRAPH attribute without a graph`);
      return ['graph', sub(a.g, 0)];
    case T.FLOATS: return ['floats', [...(a.floats ?? [])]];
    case T.INTS: return ['ints', (a.ints ?? []).map((v) => int64(v, where))];
    case T.STRINGS: return ['strings', (a.strings ?? []).map(utf8)];
    case T.TENSORS: return ['tensors', (a.tensors ?? []).map((t, i) => tensorFromProto(t, `${where}[${i}]`, baseDir))];
    case T.GRAPHS: return ['graphs', (a.graphs ?? []).map(sub)];
    default: throw new Error(`${where}: unsupported attribute type ${type}`);
  }
}

export { serializeOnnx, writeOnnx } from './onnx-write.js';
