// ONNX shape and indexing ops: Reshape, Flatten, Squeeze, Unsqueeze, Concat, Split, Slice,
// Transpose, Expand, Gather, Shape, Size, Cast, ConstantOfShape, Range, Identity, Dropout. On
// float activations they run through the engine's ops (differentiable); on integer tensors (the
// shape arithmetic exporters emit) the same ops move int32 values.
import type { OnnxNode } from '../io/onnx.js';
import {
  broadcastShapes, broadcastTo, concat, indexSelect, normAxis, permute, reshape, slice, type SliceSpec,
} from '../ops/index.js';
import { Tensor, numel, shapeStr } from '../tensor/tensor.js';
import { attrFloat, attrInt, attrInts, attrTensor, nodeError } from './onnx-attrs.js';
import { graphValue, ints, need, ONNX_ELEM_DTYPE, type Inputs, type OpContext, type OpFn } from './onnx-op-util.js';

/** Axes from the attribute (before `sinceOpset`) or from input `i` (from it on). */
function axesOf(n: OnnxNode, i: Inputs, ctx: OpContext, sinceOpset: number, input = 1): number[] | undefined {
  if (ctx.opset >= sinceOpset) return i[input] ? ints(n, i[input], 'axes') : undefined;
  return attrInts(n, 'axes');
}

function reshapeOp(n: OnnxNode, i: Inputs): Tensor {
  const x = need(n, i, 0);
  const given = ints(n, need(n, i, 1), 'shape');
  const allowZero = attrInt(n, 'allowzero', 0) !== 0;
  const dims = given.map((d, k) => (d === 0 && !allowZero ? x.shape[k] : d));
  if (dims.some((d) => d === undefined)) throw nodeError(n, `shape [${given}] copies a dimension ${shapeStr(x.shape)} lacks`);
  try {
    return reshape(x, dims);
  } catch (e) {
    throw nodeError(n, `${(e as Error).message}; if the graph was exported for one fixed batch size, export it with a dynamic batch axis`);
  }
}

function unsqueeze(n: OnnxNode, i: Inputs, ctx: OpContext): Tensor {
  const x = need(n, i, 0);
  const axes = axesOf(n, i, ctx, 13);
  if (!axes) throw nodeError(n, 'axes are required');
  const rank = x.ndim + axes.length;
  const set = new Set(axes.map((a) => normAxis('Unsqueeze', a, rank)));
  if (set.size !== axes.length) throw nodeError(n, `axes [${axes}] repeat an axis`);
  const dims: number[] = [];
  let k = 0;
  for (let d = 0; d < rank; d++) dims.push(set.has(d) ? 1 : x.shape[k++]);
  return reshape(x, dims);
}

function squeeze(n: OnnxNode, i: Inputs, ctx: OpContext): Tensor {
  const x = need(n, i, 0);
  const axes = axesOf(n, i, ctx, 13);
  const drop = new Set(axes ? axes.map((a) => normAxis('Squeeze', a, x.ndim)) : x.shape.flatMap((d, k) => (d === 1 ? [k] : [])));
  for (const a of drop) if (x.shape[a] !== 1) throw nodeError(n, `cannot squeeze axis ${a} of ${shapeStr(x.shape)}`);
  return reshape(x, x.shape.filter((_, k) => !drop.has(k)));
}

function split(n: OnnxNode, i: Inputs, ctx: OpContext): Tensor[] {
  const x = need(n, i, 0);
  const axis = normAxis('Split', attrInt(n, 'axis', 0), x.ndim);
  const dim = x.shape[axis];
  const outs = n.outputs.length;
  let sizes = ctx.opset >= 13 ? (i[1] ? ints(n, i[1], 'split') : undefined) : attrInts(n, 'split');
  if (!sizes) {
    const parts = ctx.opset >= 18 ? attrInt(n, 'num_outputs', outs) : outs;
    const size = Math.ceil(dim / parts); // opset 18: the last part may be smaller
    sizes = Array.from({ length: parts }, (_, k) => Math.max(0, Math.min(size, dim - k * size)));
    if (ctx.opset < 18 && dim % parts !== 0) throw nodeError(n, `axis ${axis} of ${shapeStr(x.shape)} does not split into ${parts} equal parts`);
  }
  if (sizes.reduce((a, b) => a + b, 0) !== dim) throw nodeError(n, `split sizes [${sizes}] do not add up to ${dim}`);
  let start = 0;
  return sizes.map((s) => {
    const part = slice(x, [{ axis, start, end: start + s }]);
    start += s;
    return part;
  });
}

function sliceOp(n: OnnxNode, i: Inputs, ctx: OpContext): Tensor {
  const x = need(n, i, 0);
  const fromInputs = ctx.opset >= 10;
  const starts = fromInputs ? ints(n, need(n, i, 1), 'starts') : attrInts(n, 'starts') ?? [];
  const ends = fromInputs ? ints(n, need(n, i, 2), 'ends') : attrInts(n, 'ends') ?? [];
  const axes = (fromInputs ? (i[3] ? ints(n, i[3], 'axes') : undefined) : attrInts(n, 'axes')) ?? starts.map((_, k) => k);
  const steps = fromInputs && i[4] ? ints(n, i[4], 'steps') : starts.map(() => 1);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length) {
    throw nodeError(n, `starts [${starts}], ends [${ends}], axes [${axes}] and steps [${steps}] differ in length`);
  }
  const specs: SliceSpec[] = starts.map((s, k) => ({ axis: axes[k], start: s, end: ends[k], step: steps[k] }));
  return slice(x, specs);
}

function gather(n: OnnxNode, i: Inputs): Tensor {
  const data = need(n, i, 0);
  const idx = need(n, i, 1);
  return indexSelect(data, attrInt(n, 'axis', 0), Int32Array.from(ints(n, idx, 'indices')), idx.shape);
}

function cast(n: OnnxNode, i: Inputs): Tensor {
  const x = need(n, i, 0);
  const to = attrInt(n, 'to', 0);
  const dtype = ONNX_ELEM_DTYPE[to];
  if (!dtype) throw nodeError(n, `Cast to ONNX type ${to} is not supported (float, double, float16, bfloat16, integer and bool types are)`);
  const toFloat = dtype === 'f32' || dtype === 'f64' || dtype === 'f16' || dtype === 'bf16';
  if (toFloat === (x.dtype === 'f32')) {
    if (dtype === 'bool') return new Tensor(Int32Array.from(x.hostValues('Cast'), (v) => (v ? 1 : 0)), x.shape);
    return x;
  }
  if (x.requiresGrad) throw nodeError(n, 'Cast of a value that needs gradients to an integer type is not differentiable');
  const v = x.hostValues('Cast');
  if (toFloat) return new Tensor(Float32Array.from(v), x.shape);
  return new Tensor(Int32Array.from(v, (f) => (dtype === 'bool' ? (f ? 1 : 0) : Math.trunc(f))), x.shape);
}

function constantOfShape(n: OnnxNode, i: Inputs): Tensor {
  const shape = ints(n, need(n, i, 0), 'shape');
  if (shape.some((d) => d < 0)) throw nodeError(n, `negative dimension in [${shape}]`);
  const v = attrTensor(n, 'value');
  const value = v ? graphValue(v, `node "${n.name}" value`) : Tensor.zeros([1]);
  if (value.size !== 1) throw nodeError(n, `value must hold one element, got ${shapeStr(value.shape)}`);
  const x = value.hostValues('ConstantOfShape')[0];
  const size = numel(shape);
  return new Tensor(value.dtype === 'f32' ? new Float32Array(size).fill(x) : new Int32Array(size).fill(x), shape);
}

function range(n: OnnxNode, i: Inputs): Tensor {
  const [start, limit, delta] = [0, 1, 2].map((k) => need(n, i, k).hostValues('Range')[0]);
  if (delta === 0) throw nodeError(n, 'delta is 0');
  const count = Math.max(Math.ceil((limit - start) / delta), 0);
  const values = Array.from({ length: count }, (_, k) => start + k * delta);
  return need(n, i, 0).dtype === 'f32' ? Tensor.from(values) : Tensor.ints(values);
}

export const SHAPE_OPS: Record<string, OpFn> = {
  Identity: (n, i) => need(n, i, 0),
  Reshape: reshapeOp,
  Flatten: (n, i) => {
    const x = need(n, i, 0);
    const raw = attrInt(n, 'axis', 1);
    const axis = raw < 0 ? raw + x.ndim : raw;
    if (axis < 0 || axis > x.ndim) throw nodeError(n, `axis ${raw} out of range for ${shapeStr(x.shape)}`);
    return reshape(x, [numel(x.shape.slice(0, axis)), numel(x.shape.slice(axis))]);
  },
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: (n, i) => {
    const xs = i.filter((t): t is Tensor => !!t);
    if (xs.length === 0) throw nodeError(n, 'no inputs');
    const nonEmpty = xs.filter((t) => t.size > 0 || xs.every((u) => u.size === 0));
    return nonEmpty.length === 1 ? nonEmpty[0] : concat(nonEmpty, attrInt(n, 'axis', 0));
  },
  Split: split,
  Slice: sliceOp,
  Transpose: (n, i) => {
    const x = need(n, i, 0);
    return permute(x, attrInts(n, 'perm') ?? x.shape.map((_, k) => x.ndim - 1 - k));
  },
  Expand: (n, i) => {
    const x = need(n, i, 0);
    return broadcastTo(x, broadcastShapes(x.shape, ints(n, need(n, i, 1), 'shape'), 'Expand'));
  },
  Gather: gather,
  Shape: (n, i) => {
    const x = need(n, i, 0);
    const r = x.ndim;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    return Tensor.ints(x.shape.slice(clamp(attrInt(n, 'start', 0)), clamp(attrInt(n, 'end', r))));
  },
  Size: (n, i) => Tensor.ints([need(n, i, 0).size], []),
  Cast: cast,
  ConstantOfShape: constantOfShape,
  Range: range,
  Dropout: (n, i) => {
    const x = need(n, i, 0);
    const training = i[2] ? i[2].hostValues('Dropout')[0] !== 0 : false;
    const ratio = i[1] ? i[1].hostValues('Dropout')[0] : attrFloat(n, 'ratio', 0.5);
    if (training && ratio !== 0) throw nodeError(n, 'training-mode dropout (random) is not supported; export the model in eval mode');
    const mask = n.outputs[1] ? new Tensor(new Int32Array(x.size).fill(1), x.shape) : undefined;
    return mask ? [x, mask] : x;
  },
};

