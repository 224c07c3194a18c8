// The ONNX nodes with constant weights that become real layers: Conv -> Conv2d, ConvTranspose ->
// ConvTranspose2d, Gemm / MatMul -> Linear, BatchNormalization -> BatchNorm2d. The layer's
// parameters are copied from the constants (Gemm's alpha and beta*C are folded into the Linear's
// weight and bias). `layerFor` says which form a node takes, or null when it runs as a plain op.
import type { OnnxNode } from '../io/onnx.js';
import { BatchNorm2d, Conv2d, ConvTranspose2d, Linear, type Module } from '../nn/index.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { attrFloat, attrInt, nodeError } from './onnx-attrs.js';
import { convGeometry, fixedSymmetricPads } from './onnx-conv.js';

export type ConstLookup = (name: string) => Tensor | undefined;

function floatConst(node: OnnxNode, t: Tensor, what: string): Float32Array {
  if (t.dtype !== 'f32') throw nodeError(node, `${what} must be a float tensor, got ${t.dtype}`);
  return t.f32;
}

function bias(node: OnnxNode, constant: ConstLookup, i: number, n: number): Tensor | null | undefined {
  const name = node.inputs[i];
  if (!name) return null;
  const b = constant(name);
  if (!b) return undefined; // a computed bias: the node stays a plain op
  if (b.ndim !== 1 || b.shape[0] !== n) throw nodeError(node, `bias ${shapeStr(b.shape)} does not match ${n} output channels`);
  return b;
}

/** Conv2d holding the node's weight; its padding is the node's when fixed and symmetric, else 0
 *  (the graph step pads explicitly for each input). */
function buildConv(node: OnnxNode, w: Tensor, b: Tensor | null): Conv2d {
  const g = convGeometry(node, w.shape);
  const [o, cg, kh, kw] = w.shape;
  if (o % g.groups !== 0) throw nodeError(node, `group ${g.groups} does not divide the ${o} output channels`);
  const conv = new Conv2d(cg * g.groups, o, [kh, kw], {
    stride: g.strides, padding: fixedSymmetricPads(node) ?? 0, dilation: g.dilations, groups: g.groups, bias: !!b,
  });
  conv.weight.f32.set(floatConst(node, w, 'weight'));
  if (b) conv.bias!.f32.set(floatConst(node, b, 'bias'));
  return conv;
}

function buildConvTranspose(node: OnnxNode, w: Tensor, b: Tensor | null): ConvTranspose2d {
  const g = convGeometry(node, w.shape);
  const [ci, cog, kh, kw] = w.shape;
  const conv = new ConvTranspose2d(ci, cog * g.groups, [kh, kw], { stride: g.strides, dilation: g.dilations, groups: g.groups, bias: !!b });
  conv.weight.f32.set(floatConst(node, w, 'weight'));
  if (b) conv.bias!.f32.set(floatConst(node, b, 'bias'));
  return conv;
}

/** Gemm Y = alpha * A * op(B) + beta * C with a constant B (and C of shape [N], [1, N] or scalar). */
function buildGemm(node: OnnxNode, bt: Tensor, ct: Tensor | null): Linear {
  const transB = attrInt(node, 'transB', 0) !== 0;
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const [n, k] = transB ? bt.shape : [bt.shape[1], bt.shape[0]];
  const lin = new Linear(k, n, !!ct);
  const b = floatConst(node, bt, 'B');
  const w = lin.weight.f32;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) w[i * k + j] = alpha * (transB ? b[i * k + j] : b[j * n + i]);
  if (ct) {
    const c = floatConst(node, ct, 'C');
    for (let i = 0; i < n; i++) lin.bias!.f32[i] = beta * c[c.length === 1 ? 0 : i];
  }
  return lin;
}

/** MatMul(x, B) with a constant B [K, N] (and a folded Add of a constant [N] bias): Linear with W = B^T. */
export function buildMatMulLinear(node: OnnxNode, bt: Tensor, biasT: Tensor | undefined): Linear {
  const [k, n] = bt.shape;
  const lin = new Linear(k, n, !!biasT);
  const b = floatConst(node, bt, 'weight');
  const w = lin.weight.f32;
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) w[i * k + j] = b[j * n + i];
  if (biasT) lin.bias!.f32.set(floatConst(node, biasT, 'bias'));
  return lin;
}

/** Is `t` a bias for N outputs ([N] or [1, N])? */
export function isRowBias(t: Tensor, n: number): boolean {
  return t.dtype === 'f32' && ((t.ndim === 1 && t.shape[0] === n) || (t.ndim === 2 && t.shape[0] === 1 && t.shape[1] === n));
}

function buildBatchNorm(node: OnnxNode, ts: Tensor[]): BatchNorm2d {
  const names = ['scale', 'B', 'mean', 'var'];
  const c = ts[0].shape[0];
  ts.forEach((t, i) => {
    if (t.ndim !== 1 || t.shape[0] !== c) throw nodeError(node, `${names[i]} has shape ${shapeStr(t.shape)}, expected [${c}]`);
  });
  const bn = new BatchNorm2d(c, attrFloat(node, 'epsilon', 1e-5), 1 - attrFloat(node, 'momentum', 0.9));
  [bn.weight, bn.bias, bn.runningMean, bn.runningVar].forEach((p, i) => p.f32.set(floatConst(node, ts[i], names[i])));
  return bn;
}

export type LayerKind = 'conv' | 'convTranspose' | 'linear' | 'bn';

/** The layer a node becomes (its kind, the module, and the name of its main constant), or null
 *  when its weights are computed in the graph, so it runs as a plain op. */
export function layerFor(node: OnnxNode, constant: ConstLookup): { kind: LayerKind; make: () => Module; param: string } | null {
  const c = (i: number): Tensor | undefined => (node.inputs[i] ? constant(node.inputs[i]) : undefined);
  const w = c(1);
  if (!w || w.dtype !== 'f32') return null;
  const param = node.inputs[1];
  switch (node.opType) {
    case 'Conv': case 'ConvTranspose': {
      if (w.ndim !== 4) return null;
      const n = node.opType === 'Conv' ? w.shape[0] : w.shape[1] * attrInt(node, 'group', 1);
      const b = bias(node, constant, 2, n);
      if (b === undefined) return null;
      return node.opType === 'Conv'
        ? { kind: 'conv', make: () => buildConv(node, w, b), param }
        : { kind: 'convTranspose', make: () => buildConvTranspose(node, w, b), param };
    }
    case 'Gemm': {
      if (attrInt(node, 'transA', 0) !== 0 || w.ndim !== 2) return null;
      const ct = node.inputs[2] ? c(2) : null;
      const n = attrInt(node, 'transB', 0) !== 0 ? w.shape[0] : w.shape[1];
      if (ct === undefined || (ct && ct.size !== 1 && !isRowBias(ct, n))) return null;
      return { kind: 'linear', make: () => buildGemm(node, w, ct), param };
    }
    case 'BatchNormalization': {
      const ts = [1, 2, 3, 4].map(c);
      if (attrInt(node, 'training_mode', 0) !== 0 || ts.some((t) => !t || t.dtype !== 'f32')) return null;
      return { kind: 'bn', make: () => buildBatchNorm(node, ts as Tensor[]), param };
    }
    default:
      return null;
  }
}
