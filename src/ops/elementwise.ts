// Elementwise ops and views: add, mul, scale, relu, reshape, flatten.
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, numel, shapeStr, type Shape } from '../tensor/tensor.js';
import { expectFloat, expectSameShape, fail, reshapeDims } from './util.js';

export function add(a: Tensor, b: Tensor): Tensor {
  const be = backendOf('add', { a, b });
  expectSameShape('add', a, b);
  const { k, f } = be;
  const out = be.uninit(a.shape);
  k.add(f(a), f(b), f(out));
  return record('add', out, [a, b], (g) => [g, g]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const be = backendOf('mul', { a, b });
  expectSameShape('mul', a, b);
  const { k, f } = be;
  const out = be.uninit(a.shape);
  k.mul(f(a), f(b), f(out));
  return record('mul', out, [a, b], (g, needs) => {
    const ga = needs[0] ? be.uninit(a.shape) : null;
    const gb = needs[1] ? be.uninit(b.shape) : null;
    if (ga) k.mul(f(g), f(b), f(ga));
    if (gb) k.mul(f(g), f(a), f(gb));
    return [ga, gb];
  });
}

export function scale(a: Tensor, s: number): Tensor {
  const be = backendOf('scale', { input: a });
  expectFloat('scale', 'input', a);
  const { k, f } = be;
  const out = be.uninit(a.shape);
  k.scale(f(a), s, f(out));
  return record('scale', out, [a], (g) => {
    const ga = be.uninit(a.shape);
    k.scale(f(g), s, f(ga));
    return [ga];
  });
}

export function relu(x: Tensor): Tensor {
  const be = backendOf('relu', { input: x });
  expectFloat('relu', 'input', x);
  const { k, f } = be;
  const y = be.uninit(x.shape);
  k.relu(f(x), f(y));
  return record('relu', y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.reluBackward(f(y), f(g), f(gx));
    return [gx];
  });
}

/** A view with a new shape (shares the data or device buffer); one dimension may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  backendOf('reshape', { input: x });
  const dims = reshapeDims(x, shape);
  return record('reshape', view(x, dims), [x], (g) => [view(g, x.shape)]);
}

function view(t: Tensor, shape: Shape): Tensor {
  return new Tensor(t.device === 'cpu' ? t.data : t.liveStorage('reshape'), shape);
}

/** Flattens dimensions from `startDim` on (torch.flatten(x, startDim)). */
export function flatten(x: Tensor, startDim = 1): Tensor {
  if (startDim < 0 || startDim > x.ndim) fail('flatten', `startDim ${startDim} out of range for ${shapeStr(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, startDim), numel(x.shape.slice(startDim))]);
}
