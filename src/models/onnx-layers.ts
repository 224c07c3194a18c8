// The ONNX nodes that become real layers: Conv -> Conv2d, Gemm / MatMul with a constant weight ->
// Linear, BatchNormalization -> BatchNorm2d. The layer's parameters are copied from the initializers
// (Gemm's alpha and beta*C are folded into the Linear's weight and bias).
import { toFloat32 } from '../io/dtype.js';
import type { OnnxNode } from '../io/onnx.js';
import type { RawTensor } from '../io/types.js';
import { BatchNorm2d, Conv2d, Linear } from '../nn/index.js';
import { shapeStr } from '../tensor/tensor.js';
import { attrFloat, attrInt, attrPair, nodeError, symmetricPads } from './onnx-attrs.js';

export type ConstLookup = (name: string) => RawTensor | undefined;

function floats(node: OnnxNode, t: RawTensor, what: string): Float32Array {
  if (t.dtype !== 'f32' && t.dtype !== 'f64' && t.dtype !== 'f16' && t.dtype !== 'bf16') {
    throw nodeError(node, `${what} must be a float tensor, got ${t.dtype}`);
  }
  return toFloat32(t);
}

/** The constant input `i` of a layer node (an initializer or a Constant node's output). */
export function constInput(node: OnnxNode, i: number, constant: ConstLookup, what: string): RawTensor {
  const name = node.inputs[i];
  const t = name ? constant(name) : undefined;
  if (!t) throw nodeError(node, `${what} (input ${i}${name ? ` "${name}"` : ''}) must be a constant initializer`);
  return t;
}

export function buildConv(node: OnnxNode, constant: ConstLookup): Conv2d {
  const w = constInput(node, 1, constant, 'weight');
  if (w.shape.length !== 4) throw nodeError(node, `only 2-D convolution is supported, weight has shape ${shapeStr(w.shape)}`);
  const [o, cg, kh, kw] = w.shape;
  const kernel = attrPair(node, 'kernel_shape', [kh, kw]);
  if (kernel[0] !== kh || kernel[1] !== kw) throw nodeError(node, `kernel_shape [${kernel}] does not match the weight ${shapeStr(w.shape)}`);
  if (kh !== kw) throw nodeError(node, `non-square kernel ${kh}x${kw} is not supported (Conv2d has square kernels)`);
  const strides = attrPair(node, 'strides', [1, 1]);
  const dilations = attrPair(node, 'dilations', [1, 1]);
  const pads = symmetricPads(node, kernel, strides, dilations);
  for (const [name, v] of [['strides', strides], ['dilations', dilations], ['pads', pads]] as const) {
    if (v[0] !== v[1]) throw nodeError(node, `different ${name} per axis [${v}] are not supported`);
  }
  const groups = attrInt(node, 'group', 1);
  const b = node.inputs[2] ? constInput(node, 2, constant, 'bias') : undefined;
  if (b && (b.shape.length !== 1 || b.shape[0] !== o)) throw nodeError(node, `bias ${shapeStr(b.shape)} does not match ${o} output channels`);
  const conv = new Conv2d(cg * groups, o, kh, { stride: strides[0], padding: pads[0], dilation: dilations[0], groups, bias: !!b });
  conv.weight.f32.set(floats(node, w, 'weight'));
  if (b) conv.bias!.f32.set(floats(node, b, 'bias'));
  return conv;
}

/** Gemm Y = alpha * A * op(B) + beta * C with a constant B (and C of shape [N], [1, N] or scalar). */
export function buildGemmLinear(node: OnnxNode, constant: ConstLookup): Linear {
  if (attrInt(node, 'transA', 0) !== 0) throw nodeError(node, 'transA=1 is not supported');
  const bt = constInput(node, 1, constant, 'B (the weight)');
  if (bt.shape.length !== 2) throw nodeError(node, `B must be 2-D, got ${shapeStr(bt.shape)}`);
  const transB = attrInt(node, 'transB', 0) !== 0;
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const [n, k] = transB ? bt.shape : [bt.shape[1], bt.shape[0]];
  const ct = node.inputs[2] ? constInput(node, 2, constant, 'C (the bias)') : undefined;
  const lin = new Linear(k, n, !!ct);
  const b = floats(node, bt, 'B');
  const w = lin.weight.f32;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) w[i * k + j] = alpha * (transB ? b[i * k + j] : b[j * n + i]);
  if (ct) {
    const c = floats(node, ct, 'C');
    const rowLike = ct.shape.length <= 2 && (c.length === n || c.length === 1) && (ct.shape.length < 2 || ct.shape[0] === 1);
    if (!rowLike) throw nodeError(node, `C of shape ${shapeStr(ct.shape)} is not supported (expected [${n}], [1, ${n}] or a scalar)`);
    const bias = lin.bias!.f32;
    for (let i = 0; i < n; i++) bias[i] = beta * c[c.length === 1 ? 0 : i];
  }
  return lin;
}

/** MatMul(x, B) with a constant B [K, N] (and a folded Add of a constant [N] bias): Linear with W = B^T. */
export function buildMatMulLinear(node: OnnxNode, bt: RawTensor, biasT: RawTensor | undefined): Linear {
  if (bt.shape.length !== 2) throw nodeError(node, `only a 2-D constant weight is supported, got ${shapeStr(bt.shape)}`);
  const [k, n] = bt.shape;
  const lin = new Linear(k, n, !!biasT);
  const b = floats(node, bt, 'weight');
  const w = lin.weight.f32;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) w[i * k + j] = b[j * n + i];
  if (biasT) lin.bias!.f32.set(floats(node, biasT, 'bias'));
  return lin;
}

/** Is `t` a bias for N outputs ([N] or [1, N])? */
export function isRowBias(t: RawTensor, n: number): boolean {
  return (t.shape.length === 1 && t.shape[0] === n) || (t.shape.length === 2 && t.shape[0] === 1 && t.shape[1] === n);
}

export function buildBatchNorm(node: OnnxNode, constant: ConstLookup): BatchNorm2d {
  if (attrInt(node, 'training_mode', 0) !== 0) throw nodeError(node, 'training_mode=1 is not supported');
  if (node.outputs.filter(Boolean).length > 1) throw nodeError(node, 'the training outputs (running mean/var) are not supported');
  const names = ['scale', 'B', 'mean', 'var'];
  const ts = names.map((what, i) => constInput(node, i + 1, constant, what));
  const c = ts[0].shape[0];
  ts.forEach((t, i) => {
    if (t.shape.length !== 1 || t.shape[0] !== c) throw nodeError(node, `${names[i]} has shape ${shapeStr(t.shape)}, expected [${c}]`);
  });
  const bn = new BatchNorm2d(c, attrFloat(node, 'epsilon', 1e-5), 1 - attrFloat(node, 'momentum', 0.9));
  [bn.weight, bn.bias, bn.runningMean, bn.runningVar].forEach((p, i) => p.f32.set(floats(node, ts[i], names[i])));
  return bn;
}
