// The parameter-free ONNX ops of CNN classifiers, evaluated with the engine's ops (so autograd
// records them): activations, pooling, elementwise Add/Mul with broadcasting, and the shape ops
// exporters emit around flatten (Shape, Gather, Unsqueeze, Squeeze, Concat, Reshape).
import type { OnnxNode } from '../io/onnx.js';
import {
  add, adaptiveAvgPool2d, avgPool2d, broadcastShapes, broadcastTo, clip, concat, matmul, maxPool2d, mul, relu, reshape, sigmoid,
} from '../ops/index.js';
import { Tensor, numel, shapeStr } from '../tensor/tensor.js';
import { attrInt, attrInts, attrPair, nodeError, symmetricPads } from './onnx-attrs.js';

export interface OpContext {
  opset: number;
}

type Inputs = (Tensor | undefined)[];
type OpFn = (node: OnnxNode, inputs: Inputs, ctx: OpContext) => Tensor;

function need(node: OnnxNode, inputs: Inputs, i: number): Tensor {
  const t = inputs[i];
  if (!t) throw nodeError(node, `input ${i} is missing`);
  return t;
}

/** The integer values of a (shape-like) tensor. */
function ints(node: OnnxNode, t: Tensor, what: string): number[] {
  if (t.dtype !== 'i32') throw nodeError(node, `${what} must be an integer tensor, got ${t.dtype} ${shapeStr(t.shape)}`);
  return Array.from(t.data);
}

function scalar(node: OnnxNode, t: Tensor | undefined, dflt: number, what: string): number {
  if (!t) return dflt;
  if (t.size !== 1) throw nodeError(node, `${what} must be a scalar, got ${shapeStr(t.shape)}`);
  return t.data[0];
}

function axisOf(node: OnnxNode, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw nodeError(node, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

function binary(node: OnnxNode, inputs: Inputs, f: (a: Tensor, b: Tensor) => Tensor, fi: (a: number, b: number) => number): Tensor {
  const a = need(node, inputs, 0);
  const b = need(node, inputs, 1);
  const shape = broadcastShapes(a.shape, b.shape, node.opType);
  if (a.dtype !== b.dtype) throw nodeError(node, `mixed dtypes ${a.dtype} and ${b.dtype}`);
  const ab = broadcastTo(a, shape);
  const bb = broadcastTo(b, shape);
  if (a.dtype === 'f32') return f(ab, bb);
  return Tensor.ints(ab.i32.map((v, i) => fi(v, bb.i32[i])), shape);
}

function pool(node: OnnxNode, inputs: Inputs, kind: 'max' | 'avg'): Tensor {
  if (node.outputs.length > 1 && node.outputs[1]) throw nodeError(node, 'the Indices output is not supported');
  const x = need(node, inputs, 0);
  const kernel = attrPair(node, 'kernel_shape', undefined);
  const stride = attrPair(node, 'strides', [1, 1]);
  const dilation = attrPair(node, 'dilations', [1, 1]);
  const padding = symmetricPads(node, kernel, stride, dilation);
  const ceilMode = attrInt(node, 'ceil_mode', 0) !== 0;
  if (kind === 'max') {
    if (attrInt(node, 'storage_order', 0) !== 0) throw nodeError(node, 'storage_order=1 is not supported');
    return maxPool2d(x, { kernelSize: kernel, stride, padding, dilation, ceilMode });
  }
  if (dilation[0] !== 1 || dilation[1] !== 1) throw nodeError(node, 'dilated average pooling is not supported');
  return avgPool2d(x, { kernelSize: kernel, stride, padding, ceilMode, countIncludePad: attrInt(node, 'count_include_pad', 0) !== 0 });
}

/** Axes from the attribute (opset < 13) or the second input (opset >= 13). */
function axesOf(node: OnnxNode, inputs: Inputs, ctx: OpContext): number[] | undefined {
  if (ctx.opset >= 13) return inputs[1] ? ints(node, inputs[1], 'axes') : undefined;
  return attrInts(node, 'axes');
}

const OPS: Record<string, OpFn> = {
  Relu: (n, i) => relu(need(n, i, 0)),
  Sigmoid: (n, i) => sigmoid(need(n, i, 0)),
  Clip: (n, i, ctx) => {
    const x = need(n, i, 0);
    if (ctx.opset < 11) {
      const a = n.attributes;
      return clip(x, typeof a.min === 'number' ? a.min : -Infinity, typeof a.max === 'number' ? a.max : Infinity);
    }
    return clip(x, scalar(n, i[1], -Infinity, 'min'), scalar(n, i[2], Infinity, 'max'));
  },
  Identity: (n, i) => need(n, i, 0),
  Dropout: (n, i) => {
    if (n.outputs.length > 1 && n.outputs[1]) throw nodeError(n, 'the mask output is not supported');
    return need(n, i, 0);
  },
  Add: (n, i) => binary(n, i, add, (a, b) => a + b),
  Mul: (n, i) => binary(n, i, mul, (a, b) => a * b),
  MatMul: (n, i) => {
    const a = need(n, i, 0);
    const b = need(n, i, 1);
    if (a.ndim !== 2 || b.ndim !== 2) throw nodeError(n, `only 2-D x 2-D is supported without a constant weight, got ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
    return matmul(a, b);
  },
  MaxPool: (n, i) => pool(n, i, 'max'),
  AveragePool: (n, i) => pool(n, i, 'avg'),
  GlobalAveragePool: (n, i) => adaptiveAvgPool2d(need(n, i, 0), 1),
  Flatten: (n, i) => {
    const x = need(n, i, 0);
    const raw = attrInt(n, 'axis', 1);
    const axis = raw < 0 ? raw + x.ndim : raw;
    if (axis < 0 || axis > x.ndim) throw nodeError(n, `axis ${raw} out of range for ${shapeStr(x.shape)}`);
    return reshape(x, [numel(x.shape.slice(0, axis)), numel(x.shape.slice(axis))]);
  },
  Reshape: (n, i) => {
    const x = need(n, i, 0);
    const allowZero = attrInt(n, 'allowzero', 0) !== 0;
    const dims = ints(n, need(n, i, 1), 'shape').map((d, k) => (d === 0 && !allowZero ? x.shape[k] : d));
    if (dims.some((d) => d === undefined)) throw nodeError(n, `shape [${ints(n, need(n, i, 1), 'shape')}] copies a dimension ${shapeStr(x.shape)} lacks`);
    return reshape(x, dims);
  },
  Concat: (n, i) => {
    const xs = i.filter((t): t is Tensor => !!t);
    if (xs.length === 0) throw nodeError(n, 'no inputs');
    return concat(xs, attrInt(n, 'axis', 0));
  },
  Shape: (n, i) => {
    const x = need(n, i, 0);
    const r = x.ndim;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    return Tensor.ints(x.shape.slice(clamp(attrInt(n, 'start', 0)), clamp(attrInt(n, 'end', r))));
  },
  Gather: (n, i) => {
    const data = need(n, i, 0);
    const idx = ints(n, need(n, i, 1), 'indices');
    const idxShape = need(n, i, 1).shape;
    if (data.requiresGrad) throw nodeError(n, 'Gather on data that needs gradients is not supported');
    const axis = axisOf(n, attrInt(n, 'axis', 0), data.ndim);
    const dim = data.shape[axis];
    const outer = numel(data.shape.slice(0, axis));
    const inner = numel(data.shape.slice(axis + 1));
    const out = data.dtype === 'f32' ? new Float32Array(outer * idx.length * inner) : new Int32Array(outer * idx.length * inner);
    for (let o = 0; o < outer; o++) {
      idx.forEach((raw, j) => {
        const k = raw < 0 ? raw + dim : raw;
        if (k < 0 || k >= dim) throw nodeError(n, `index ${raw} out of range for dimension ${dim}`);
        out.set(data.data.subarray((o * dim + k) * inner, (o * dim + k + 1) * inner), (o * idx.length + j) * inner);
      });
    }
    return new Tensor(out, [...data.shape.slice(0, axis), ...idxShape, ...data.shape.slice(axis + 1)]);
  },
  Unsqueeze: (n, i, ctx) => {
    const x = need(n, i, 0);
    const axes = axesOf(n, i, ctx);
    if (!axes) throw nodeError(n, 'axes are required');
    const rank = x.ndim + axes.length;
    const set = new Set(axes.map((a) => axisOf(n, a, rank)));
    const dims: number[] = [];
    let k = 0;
    for (let d = 0; d < rank; d++) dims.push(set.has(d) ? 1 : x.shape[k++]);
    return reshape(x, dims);
  },
  Squeeze: (n, i, ctx) => {
    const x = need(n, i, 0);
    const axes = axesOf(n, i, ctx);
    const drop = new Set(axes ? axes.map((a) => axisOf(n, a, x.ndim)) : x.shape.flatMap((d, k) => (d === 1 ? [k] : [])));
    for (const a of drop) if (x.shape[a] !== 1) throw nodeError(n, `cannot squeeze axis ${a} of ${shapeStr(x.shape)}`);
    return reshape(x, x.shape.filter((_, k) => !drop.has(k)));
  },
};

export function isSupportedOp(opType: string): boolean {
  return Object.hasOwn(OPS, opType);
}

export function runOp(node: OnnxNode, inputs: Inputs, ctx: OpContext): Tensor {
  const f = OPS[node.opType];
  if (!f) throw nodeError(node, `unsupported op "${node.opType}"`);
  try {
    return f(node, inputs, ctx);
  } catch (e) {
    const msg = (e as Error).message;
    throw msg.startsWith('onnx graph:') ? e : nodeError(node, msg);
  }
}
