// Elementwise functions of one tensor that imported graphs use (tanh, erf, sqrt, the GELUs,
// leaky/exponential/hard activations), each with its gradient from the input and the output.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import type { UnaryKind } from '../backend/kernels.js';
import { Tensor } from '../tensor/tensor.js';
import { expectFloat } from './util.js';

export type { UnaryKind };

/** kind(x) with parameters a, b where the kind takes them (see UnaryKind). */
export function unary(kind: UnaryKind, x: Tensor, a = 0, b = 0): Tensor {
  const op = kind;
  const be = backendOf(op, { input: x });
  expectFloat(op, 'input', x);
  const { k, f } = be;
  const y = be.uninit(x.shape);
  k.unary(kind, f(x), f(y), a, b);
  return record(op, y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.unaryBackward(kind, f(x), f(y), f(g), f(gx), a, b);
    return [gx];
  });
}

export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const erf = (x: Tensor): Tensor => unary('erf', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const neg = (x: Tensor): Tensor => unary('neg', x);
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => unary('leakyRelu', x, slope);
export const elu = (x: Tensor, alpha = 1): Tensor => unary('elu', x, alpha);
/** max(0, min(1, alpha * x + beta)); torch's hardsigmoid is alpha 1/6, beta 0.5 (ONNX's default 0.2, 0.5) */
export const hardSigmoid = (x: Tensor, alpha = 1 / 6, beta = 0.5): Tensor => unary('hardSigmoid', x, alpha, beta);
export const hardSwish = (x: Tensor): Tensor => unary('hardSwish', x);
/** GELU, exact (erf) or with the tanh approximation */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor => unary(approximate === 'tanh' ? 'geluTanh' : 'gelu', x);
