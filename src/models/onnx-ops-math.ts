// ONNX elementwise ops: activations (Relu ... Gelu, HardSwish, PRelu, Clip), arithmetic with
// numpy broadcasting (Add, Sub, Mul, Div, Pow, Max, Min, Mod) and the comparisons and Where of
// shape subgraphs. Float tensors run through the engine's ops (recorded for autograd); integer
// tensors (shapes, indices) are computed on the host, exactly.
import type { OnnxNode } from '../io/onnx.js';
import {
  add, binary, broadcastShapes, broadcastTo, broadcasting, clip, mul, relu, sigmoid, unary, type UnaryKind,
} from '../ops/index.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { attrFloat, attrInt, attrString, nodeError } from './onnx-attrs.js';
import { floatInput, need, scalar, type Inputs, type OpFn } from './onnx-op-util.js';

/** Both operands broadcast to one shape, as host values. */
function hostPair(node: OnnxNode, a: Tensor, b: Tensor): { shape: number[]; av: ArrayLike<number>; bv: ArrayLike<number> } {
  const shape = broadcastShapes(a.shape, b.shape, node.opType);
  return { shape, av: broadcastTo(a, shape).hostValues(node.opType), bv: broadcastTo(b, shape).hostValues(node.opType) };
}

function intMap(node: OnnxNode, a: Tensor, b: Tensor, f: (x: number, y: number) => number): Tensor {
  const { shape, av, bv } = hostPair(node, a, b);
  const out = new Int32Array(av.length);
  for (let i = 0; i < out.length; i++) out[i] = f(av[i], bv[i]);
  return new Tensor(out, shape);
}

const truncDiv = (x: number, y: number): number => {
  if (y === 0) throw new Error('integer division by zero');
  return Math.trunc(x / y);
};

/** An arithmetic op: float operands through `f` (broadcast, differentiable), integer ones exactly. */
function arithmetic(f: (a: Tensor, b: Tensor) => Tensor, fi: (x: number, y: number) => number): OpFn {
  return (n, i) => {
    const a = need(n, i, 0);
    const b = need(n, i, 1);
    if (a.dtype !== b.dtype) throw nodeError(n, `mixed types ${a.dtype} ${shapeStr(a.shape)} and ${b.dtype} ${shapeStr(b.shape)}`);
    return a.dtype === 'f32' ? broadcasting(n.opType, f, a, b) : intMap(n, a, b, fi);
  };
}

/** Max / Min / Sum over any number of inputs. */
function variadic(f: (a: Tensor, b: Tensor) => Tensor, fi: (x: number, y: number) => number): OpFn {
  return (n, i) => {
    const xs = i.filter((t): t is Tensor => !!t);
    if (xs.length === 0) throw nodeError(n, 'no inputs');
    return xs.slice(1).reduce((acc, t) => arithmetic(f, fi)(n, [acc, t], { opset: 0 }) as Tensor, xs[0]);
  };
}

function compare(f: (x: number, y: number) => boolean): OpFn {
  return (n, i) => {
    const a = need(n, i, 0);
    const b = need(n, i, 1);
    return intMap(n, a, b, (x, y) => (f(x, y) ? 1 : 0));
  };
}

const activation = (kind: UnaryKind, a?: (n: OnnxNode) => number, b?: (n: OnnxNode) => number): OpFn =>
  (n, i) => unary(kind, floatInput(n, i, 0), a ? a(n) : 0, b ? b(n) : 0);

function gelu(n: OnnxNode, i: Inputs): Tensor {
  const approx = attrString(n, 'approximate', 'none');
  if (approx !== 'none' && approx !== 'tanh') throw nodeError(n, `unknown approximate "${approx}"`);
  return unary(approx === 'tanh' ? 'geluTanh' : 'gelu', floatInput(n, i, 0));
}

function where(n: OnnxNode, i: Inputs): Tensor {
  const c = need(n, i, 0);
  const a = need(n, i, 1);
  const b = need(n, i, 2);
  if (a.dtype !== b.dtype) throw nodeError(n, `mixed types ${a.dtype} and ${b.dtype}`);
  if (a.requiresGrad || b.requiresGrad) throw nodeError(n, 'Where on values that need gradients is not supported');
  const shape = broadcastShapes(broadcastShapes(c.shape, a.shape, 'Where'), b.shape, 'Where');
  const [cv, av, bv] = [c, a, b].map((t) => broadcastTo(t, shape).hostValues('Where'));
  const out = a.dtype === 'f32' ? new Float32Array(cv.length) : new Int32Array(cv.length);
  for (let k = 0; k < out.length; k++) out[k] = cv[k] ? av[k] : bv[k];
  return new Tensor(out, shape);
}

function pow(n: OnnxNode, i: Inputs): Tensor {
  const a = need(n, i, 0);
  let b = need(n, i, 1);
  if (a.dtype === 'i32') return intMap(n, a, b, (x, y) => Math.trunc(x ** y));
  if (b.dtype === 'i32') b = new Tensor(Float32Array.from(b.hostValues('Pow')), b.shape); // the exponent may be an integer type
  return broadcasting('Pow', (x, y) => binary('pow', x, y), a, b);
}

export const MATH_OPS: Record<string, OpFn> = {
  Relu: (n, i) => relu(floatInput(n, i, 0)),
  Sigmoid: (n, i) => sigmoid(floatInput(n, i, 0)),
  Tanh: activation('tanh'),
  Erf: activation('erf'),
  Sqrt: activation('sqrt'),
  Exp: activation('exp'),
  Log: activation('log'),
  Neg: (n, i) => (need(n, i, 0).dtype === 'i32' ? intMap(n, need(n, i, 0), need(n, i, 0), (x) => -x) : unary('neg', need(n, i, 0))),
  Abs: activation('abs'),
  Reciprocal: activation('reciprocal'),
  LeakyRelu: activation('leakyRelu', (n) => attrFloat(n, 'alpha', 0.01)),
  Elu: activation('elu', (n) => attrFloat(n, 'alpha', 1)),
  HardSigmoid: activation('hardSigmoid', (n) => attrFloat(n, 'alpha', 0.2), (n) => attrFloat(n, 'beta', 0.5)),
  HardSwish: activation('hardSwish'),
  Gelu: gelu,
  PRelu: (n, i) => broadcasting('PRelu', (x, s) => binary('prelu', x, s), floatInput(n, i, 0), floatInput(n, i, 1, 'slope')),
  Clip: (n, i, ctx) => {
    const x = need(n, i, 0);
    const [lo, hi] = ctx.opset < 11
      ? [attrFloat(n, 'min', -Infinity), attrFloat(n, 'max', Infinity)]
      : [scalar(n, i[1], -Infinity, 'min'), scalar(n, i[2], Infinity, 'max')];
    if (x.dtype === 'i32') return intMap(n, x, x, (v) => Math.min(Math.max(v, lo), hi));
    // ONNX: min > max gives max everywhere (numpy.clip), which clip() would refuse
    return lo > hi ? clip(x, hi, hi) : clip(x, lo, hi);
  },
  Add: arithmetic(add, (x, y) => x + y),
  Sub: arithmetic((a, b) => binary('sub', a, b), (x, y) => x - y),
  Mul: arithmetic(mul, (x, y) => Math.imul(x, y)),
  Div: arithmetic((a, b) => binary('div', a, b), truncDiv),
  Pow: pow,
  Max: variadic((a, b) => binary('max', a, b), Math.max),
  Min: variadic((a, b) => binary('min', a, b), Math.min),
  Sum: variadic(add, (x, y) => x + y),
  Mod: (n, i) => {
    const a = need(n, i, 0);
    const b = need(n, i, 1);
    const fmod = attrInt(n, 'fmod', 0) === 1;
    if (a.requiresGrad || b.requiresGrad) throw nodeError(n, 'Mod on values that need gradients is not supported');
    const { shape, av, bv } = hostPair(n, a, b);
    const out = a.dtype === 'f32' ? new Float32Array(av.length) : new Int32Array(av.length);
    for (let k = 0; k < out.length; k++) {
      const r = av[k] % bv[k];
      out[k] = fmod || r === 0 || (r < 0) === (bv[k] < 0) ? r : r + bv[k];
    }
    return new Tensor(out, shape);
  },
  Equal: compare((x, y) => x === y),
  Less: compare((x, y) => x < y),
  Greater: compare((x, y) => x > y),
  LessOrEqual: compare((x, y) => x <= y),
  GreaterOrEqual: compare((x, y) => x >= y),
  Not: (n, i) => intMap(n, need(n, i, 0), need(n, i, 0), (x) => (x ? 0 : 1)),
  And: compare((x, y) => !!x && !!y),
  Or: compare((x, y) => !!x || !!y),
  Where: where,
};
