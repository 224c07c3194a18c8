// Elementwise functions of two tensors: sub, div, pow, maximum, minimum, prelu on equal shapes,
// and `broadcasting`, which runs any of them (or add / mul) on numpy-broadcast inputs.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import type { BinaryKind } from '../backend/kernels.js';
import { Tensor } from '../tensor/tensor.js';
import { broadcastShapes, broadcastTo } from './shape.js';
import { expectFloat, expectSameShape } from './util.js';

export function binary(kind: BinaryKind, a: Tensor, b: Tensor): Tensor {
  const op = kind;
  const be = backendOf(op, { a, b });
  expectSameShape(op, a, b);
  expectFloat(op, 'a', a);
  expectFloat(op, 'b', b);
  const { k, f } = be;
  const out = be.uninit(a.shape);
  k.binary(kind, f(a), f(b), f(out));
  return record(op, out, [a, b], (g, needs) => {
    const ga = needs[0] ? be.uninit(a.shape) : null;
    const gb = needs[1] ? be.uninit(b.shape) : null;
    k.binaryBackward(kind, f(a), f(b), f(out), f(g), ga && f(ga), gb && f(gb));
    return [ga, gb];
  });
}

export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);
export const pow = (a: Tensor, b: Tensor): Tensor => binary('pow', a, b);
export const maximum = (a: Tensor, b: Tensor): Tensor => binary('max', a, b);
export const minimum = (a: Tensor, b: Tensor): Tensor => binary('min', a, b);
/** x where x >= 0, else x * slope */
export const prelu = (x: Tensor, slope: Tensor): Tensor => binary('prelu', x, slope);

/** f on a and b broadcast to their common shape (numpy rules; the gradients sum back over the
 *  broadcast dimensions). */
export function broadcasting(op: string, f: (a: Tensor, b: Tensor) => Tensor, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  return f(broadcastTo(a, shape), broadcastTo(b, shape));
}
