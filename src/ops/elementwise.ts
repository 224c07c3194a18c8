// Elementwise ops and views: add, mul, scale, relu, reshape, flatten.
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor, numel, shapeStr, type Shape } from '../tensor/tensor.js';
import { expectFloat, expectSameShape, fail, reshapeDims, uninit as empty } from './util.js';

export function add(a: Tensor, b: Tensor): Tensor {
  if (cudaOps.anyDevice(a, b)) return cudaOps.add(a, b);
  expectSameShape('add', a, b);
  const out = empty(a.shape);
  native.add(a.f32, b.f32, out.f32);
  return record('add', out, [a, b], (g) => [g, g]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  if (cudaOps.anyDevice(a, b)) return cudaOps.mul(a, b);
  expectSameShape('mul', a, b);
  const out = empty(a.shape);
  native.mul(a.f32, b.f32, out.f32);
  return record('mul', out, [a, b], (g, needs) => {
    const ga = needs[0] ? empty(a.shape) : null;
    const gb = needs[1] ? empty(b.shape) : null;
    if (ga) native.mul(g.f32, b.f32, ga.f32);
    if (gb) native.mul(g.f32, a.f32, gb.f32);
    return [ga, gb];
  });
}

export function scale(a: Tensor, s: number): Tensor {
  if (a.device !== 'cpu') return cudaOps.scale(a, s);
  expectFloat('scale', 'input', a);
  const out = empty(a.shape);
  native.scale(a.f32, s, out.f32);
  return record('scale', out, [a], (g) => {
    const ga = empty(a.shape);
    native.scale(g.f32, s, ga.f32);
    return [ga];
  });
}

export function relu(x: Tensor): Tensor {
  if (x.device !== 'cpu') return cudaOps.relu(x);
  expectFloat('relu', 'input', x);
  const y = empty(x.shape);
  native.relu(x.f32, y.f32);
  return record('relu', y, [x], (g) => {
    const gx = empty(x.shape);
    native.reluBackward(y.f32, g.f32, gx.f32);
    return [gx];
  });
}

/** A view with a new shape (shares data); one dimension may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  if (x.device !== 'cpu') return cudaOps.reshape(x, shape);
  const dims = reshapeDims(x, shape);
  const out = new Tensor(x.data, dims);
  return record('reshape', out, [x], (g) => [new Tensor(g.data, x.shape)]);
}

/** Flattens dimensions from `startDim` on (torch.flatten(x, startDim)). */
export function flatten(x: Tensor, startDim = 1): Tensor {
  if (startDim < 0 || startDim > x.ndim) fail('flatten', `startDim ${startDim} out of range for ${shapeStr(x.shape)}`);
  return reshape(x, [...x.shape.slice(0, startDim), numel(x.shape.slice(startDim))]);
}
