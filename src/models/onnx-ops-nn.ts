// ONNX neural-network ops evaluated functionally (the graph model turns the ones with constant
// weights into layers instead): Conv, ConvTranspose, Gemm, MatMul, BatchNormalization,
// LayerNormalization, Softmax / LogSoftmax, the Reduce ops and pooling.
import type { OnnxNode } from '../io/onnx.js';
import {
  adaptiveAvgPool2d, add, avgPool2d, batchNorm2d, binary, broadcastTo, broadcasting, conv2d, layerNorm, matmulNd, maxPool2d, mul, pad, permute,
  reduce, reshape, scale, softmax, type ReduceKind,
} from '../ops/index.js';
import { Tensor, numel, shapeStr } from '../tensor/tensor.js';
import { attrFloat, attrInt, attrInts, attrPair, nodeError, spatialPads, symmetric } from './onnx-attrs.js';
import { convFunctional, convTransposeFunctional } from './onnx-conv.js';
import { floatInput, ints, need, type Inputs, type OpContext, type OpFn, type OpResult } from './onnx-op-util.js';

function gemm(n: OnnxNode, i: Inputs): Tensor {
  const t2 = (x: Tensor, trans: boolean, what: string): Tensor => {
    if (x.ndim !== 2) throw nodeError(n, `${what} must be 2-D, got ${shapeStr(x.shape)}`);
    return trans ? permute(x, [1, 0]) : x;
  };
  const a = t2(floatInput(n, i, 0, 'A'), attrInt(n, 'transA', 0) !== 0, 'A');
  const b = t2(floatInput(n, i, 1, 'B'), attrInt(n, 'transB', 0) !== 0, 'B');
  const alpha = attrFloat(n, 'alpha', 1);
  const beta = attrFloat(n, 'beta', 1);
  let y = matmulNd(a, b);
  if (alpha !== 1) y = scale(y, alpha);
  const c = i[2];
  if (!c || beta === 0) return y;
  return add(y, broadcastTo(beta === 1 ? c : scale(c, beta), y.shape));
}

/** BatchNormalization on [N, C, ...] with its statistics (inference), or training mode (opset 14+):
 *  batch statistics (biased variance, as ONNX defines it) and the updated running statistics. */
function batchNorm(n: OnnxNode, i: Inputs): OpResult {
  const x = floatInput(n, i, 0);
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((k) => floatInput(n, i, k, ['scale', 'B', 'mean', 'var'][k - 1]));
  const eps = attrFloat(n, 'epsilon', 1e-5);
  if (x.ndim < 2) throw nodeError(n, `input ${shapeStr(x.shape)} has no channel axis`);
  const c = x.shape[1];
  if (attrInt(n, 'training_mode', 0) === 0) {
    const x4 = reshape(x, [x.shape[0], c, numel(x.shape.slice(2)), 1]);
    return reshape(batchNorm2d(x4, gamma, beta, mean, variance, { training: false, eps }), x.shape);
  }
  const momentum = attrFloat(n, 'momentum', 0.9);
  const axes = x.shape.map((_, k) => k).filter((k) => k !== 1);
  const perChannel = (t: Tensor): Tensor => reshape(t, [1, c, ...x.shape.slice(2).map(() => 1)]);
  const bc = (t: Tensor): Tensor => broadcastTo(t, x.shape);
  const mu = reduce('mean', x, axes, true);
  const centred = binary('sub', x, bc(mu));
  const varB = reduce('mean', mul(centred, centred), axes, true);
  const invstd = binary('pow', add(varB, Tensor.full(varB.shape, eps).to(x.device)), Tensor.full(varB.shape, -0.5).to(x.device));
  const y = add(mul(mul(centred, bc(invstd)), bc(perChannel(gamma))), bc(perChannel(beta)));
  const blend = (running: Tensor, batch: Tensor): Tensor => add(scale(running, momentum), scale(reshape(batch, [c]), 1 - momentum));
  return [y, blend(mean, mu), blend(variance, varB)];
}

function layerNormalization(n: OnnxNode, i: Inputs): OpResult {
  const x = floatInput(n, i, 0);
  const axis = attrInt(n, 'axis', -1);
  const a = axis < 0 ? axis + x.ndim : axis;
  if (a < 0 || a >= x.ndim) throw nodeError(n, `axis ${axis} out of range for ${shapeStr(x.shape)}`);
  const normShape = x.shape.slice(a);
  const fit = (t: Tensor | undefined): Tensor | null => (t ? (t.size === numel(normShape) ? t : broadcastTo(t, normShape)) : null);
  const r = layerNorm(x, fit(floatInput(n, i, 1, 'scale')), fit(i[2]), a, attrFloat(n, 'epsilon', 1e-5));
  return [r.y, r.mean, r.invstd];
}

/** Softmax / LogSoftmax: opset 13 on one axis (default -1); before it, over the 2-D coercion at `axis` (default 1). */
function softmaxOp(log: boolean): OpFn {
  return (n, i, ctx) => {
    const x = floatInput(n, i, 0);
    if (ctx.opset >= 13) return softmax(x, attrInt(n, 'axis', -1), log);
    const raw = attrInt(n, 'axis', 1);
    const a = raw < 0 ? raw + x.ndim : raw;
    if (a < 0 || a > x.ndim) throw nodeError(n, `axis ${raw} out of range for ${shapeStr(x.shape)}`);
    return reshape(softmax(reshape(x, [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))]), 1, log), x.shape);
  };
}

/** Reduce*: axes from the attribute, or (ReduceSum from opset 13, the others from 18) the input. */
function reduceOp(kind: ReduceKind, axesInputSince: number): OpFn {
  return (n, i, ctx: OpContext) => {
    const x = need(n, i, 0);
    const axes = ctx.opset >= axesInputSince ? (i[1] ? ints(n, i[1], 'axes') : []) : attrInts(n, 'axes') ?? [];
    const keep = attrInt(n, 'keepdims', 1) !== 0;
    if (axes.length === 0 && attrInt(n, 'noop_with_empty_axes', 0) !== 0) return x;
    if ((kind === 'max' || kind === 'min') && x.size === 0) {
      // the max of nothing is -inf (min: +inf), as numpy's reduce with an initial value gives it
      if (x.dtype !== 'f32') throw nodeError(n, `the ${kind} of an empty integer or boolean set depends on which of the two it is, which int32 values do not tell`);
      return Tensor.full(reduce('sum', Tensor.zeros(x.shape), axes, keep).shape, kind === 'max' ? -Infinity : Infinity);
    }
    if (x.dtype === 'f32') return reduce(kind, x, axes, keep);
    // integer and boolean inputs: exact in float32 for the small values of shape arithmetic
    const y = reduce(kind, new Tensor(Float32Array.from(x.hostValues(n.opType)), x.shape), axes, keep);
    return new Tensor(Int32Array.from(y.hostValues(n.opType)), y.shape);
  };
}

interface PoolGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  pads: [number, number, number, number];
  ceilMode: boolean;
}

function poolGeometry(n: OnnxNode, x: Tensor): PoolGeometry {
  if (x.ndim !== 4) throw nodeError(n, `only 2-D pooling is supported, the input has shape ${shapeStr(x.shape)}`);
  const kernel = attrPair(n, 'kernel_shape', undefined);
  const strides = attrPair(n, 'strides', [1, 1]);
  const dilations = attrPair(n, 'dilations', [1, 1]);
  return { kernel, strides, dilations, pads: spatialPads(n, x.shape.slice(2), kernel, strides, dilations), ceilMode: attrInt(n, 'ceil_mode', 0) !== 0 };
}

/** Pads the pooling kernels take themselves: the same on both sides and at most half the kernel. */
const kernelPads = (g: PoolGeometry): [number, number] | null =>
  symmetric(g.pads) && g.pads[0] <= g.kernel[0] / 2 && g.pads[1] <= g.kernel[1] / 2 ? [g.pads[0], g.pads[1]] : null;

const padded = (x: Tensor, p: readonly number[], value: number): Tensor => pad(x, [0, 0, p[0], p[1], 0, 0, p[2], p[3]], 'constant', value);

function maxPool(n: OnnxNode, i: Inputs): OpResult {
  const input = need(n, i, 0);
  // integer images (uint8) pool exactly in float32
  const x = input.dtype === 'f32' ? input : new Tensor(Float32Array.from(input.hostValues('MaxPool')), input.shape);
  const g = poolGeometry(n, x);
  const own = kernelPads(g);
  const opts = { kernelSize: g.kernel, stride: g.strides, dilation: g.dilations, ceilMode: g.ceilMode };
  const pooled = own ? maxPool2d(x, { ...opts, padding: own }) : maxPool2d(padded(x, g.pads, -Infinity), opts);
  const y = input.dtype === 'f32' ? pooled : new Tensor(Int32Array.from(pooled.hostValues('MaxPool')), pooled.shape);
  return n.outputs[1] ? [y, maxPoolIndices(x, pooled, g, attrInt(n, 'storage_order', 0) !== 0)] : y;
}

/** ONNX's Indices output: for each maximum, the flat NCHW index (NCWH with storage_order 1) of the
 *  first input element in its window that holds it (computed on the host; it has no gradient). */
function maxPoolIndices(x: Tensor, y: Tensor, g: PoolGeometry, columnMajor: boolean): Tensor {
  const [nb, c, h, w] = x.shape;
  const [, , oh, ow] = y.shape;
  const xv = x.hostValues('MaxPool');
  const yv = y.hostValues('MaxPool');
  const out = new Int32Array(yv.length);
  for (let p = 0; p < nb * c; p++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const k = (p * oh + oy) * ow + ox;
        out[k] = -1;
        for (let ky = 0; ky < g.kernel[0] && out[k] < 0; ky++) {
          const iy = oy * g.strides[0] - g.pads[0] + ky * g.dilations[0];
          for (let kx = 0; kx < g.kernel[1] && iy >= 0 && iy < h; kx++) {
            const ix = ox * g.strides[1] - g.pads[1] + kx * g.dilations[1];
            if (ix >= 0 && ix < w && xv[(p * h + iy) * w + ix] === yv[k]) {
              out[k] = columnMajor ? p * h * w + ix * h + iy : (p * h + iy) * w + ix;
              break;
            }
          }
        }
      }
    }
  }
  return new Tensor(out, y.shape);
}

function averagePool(n: OnnxNode, i: Inputs): Tensor {
  const x = floatInput(n, i, 0);
  const g = poolGeometry(n, x);
  const countPad = attrInt(n, 'count_include_pad', 0) !== 0;
  if (g.dilations[0] !== 1 || g.dilations[1] !== 1) return dilatedAveragePool(x, g, countPad);
  const own = kernelPads(g);
  const opts = { kernelSize: g.kernel, stride: g.strides, ceilMode: g.ceilMode };
  if (own) return avgPool2d(x, { ...opts, padding: own, countIncludePad: countPad });
  const sums = avgPool2d(padded(x, g.pads, 0), { ...opts, countIncludePad: true });
  if (countPad) return sums;
  // the share of each window inside the input, from pooling a padded plane of ones
  const inside = avgPool2d(padded(Tensor.ones([1, 1, x.shape[2], x.shape[3]]).to(x.device), g.pads, 0), { ...opts, countIncludePad: true });
  return broadcasting('AveragePool', (a, b) => binary('div', a, b), sums, inside);
}

/** Average pooling with dilated windows: a depthwise convolution with a kernel of ones over the
 *  padded input, divided by how many counted positions each window covers. Ceil mode adds the
 *  windows that start inside the input (or its left padding) and run past its end. */
function dilatedAveragePool(x: Tensor, g: PoolGeometry, countPad: boolean): Tensor {
  const [, c, h, w] = x.shape;
  const [t, l, b, r] = g.pads;
  const out = [0, 1].map((a) => {
    const size = [h, w][a] + g.pads[a] + g.pads[a + 2];
    const span = g.dilations[a] * (g.kernel[a] - 1) + 1;
    let o = Math.floor(((g.ceilMode ? size - span + g.strides[a] - 1 : size - span) / g.strides[a])) + 1;
    if (g.ceilMode && (o - 1) * g.strides[a] >= [h, w][a] + g.pads[a]) o--;
    return { o, extra: Math.max(0, (o - 1) * g.strides[a] + span - size) };
  });
  const conv = (t4: Tensor, channels: number): Tensor => conv2d(t4, Tensor.ones([channels, 1, ...g.kernel]).to(x.device), null,
    { stride: g.strides, dilation: g.dilations, groups: channels });
  const sums = conv(pad(x, [0, 0, t, l, 0, 0, b + out[0].extra, r + out[1].extra]), c);
  // 1 on the positions a window counts: the input, and its padding when count_include_pad
  const counted = Tensor.ones([1, 1, countPad ? h + t + b : h, countPad ? w + l + r : w]).to(x.device);
  const before = countPad ? [0, 0] : [t, l];
  const after = countPad ? [out[0].extra, out[1].extra] : [b + out[0].extra, r + out[1].extra];
  const counts = conv(pad(counted, [0, 0, before[0], before[1], 0, 0, after[0], after[1]]), 1);
  return broadcasting('AveragePool', (p, q) => binary('div', p, q), sums, counts);
}

function globalPool(kind: 'mean' | 'max'): OpFn {
  return (n, i) => {
    const x = floatInput(n, i, 0);
    if (x.ndim < 3) throw nodeError(n, `input ${shapeStr(x.shape)} has no spatial axes`);
    if (kind === 'mean' && x.ndim === 4) return adaptiveAvgPool2d(x, 1);
    return reduce(kind, x, x.shape.slice(2).map((_, k) => k + 2), true);
  };
}

export const NN_OPS: Record<string, OpFn> = {
  Conv: (n, i) => convFunctional(n, floatInput(n, i, 0), floatInput(n, i, 1, 'weight'), i[2] ?? null),
  ConvTranspose: (n, i) => convTransposeFunctional(n, floatInput(n, i, 0), floatInput(n, i, 1, 'weight'), i[2] ?? null),
  Gemm: gemm,
  MatMul: (n, i) => matmulNd(floatInput(n, i, 0, 'A'), floatInput(n, i, 1, 'B')),
  BatchNormalization: batchNorm,
  LayerNormalization: layerNormalization,
  Softmax: softmaxOp(false),
  LogSoftmax: softmaxOp(true),
  ReduceSum: reduceOp('sum', 13),
  ReduceMean: reduceOp('mean', 18),
  ReduceMax: reduceOp('max', 18),
  ReduceMin: reduceOp('min', 18),
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: globalPool('mean'),
  GlobalMaxPool: globalPool('max'),
};
