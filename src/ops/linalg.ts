// Matrix products: matmul of 2-D tensors and linear (x W^T + b over the last dimension).
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { empty, expectRank, fail } from './util.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (cudaOps.anyDevice(a, b)) return cudaOps.matmul(a, b);
  expectRank('matmul', 'a', a, 2);
  expectRank('matmul', 'b', b, 2);
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) fail('matmul', `inner dimensions differ: ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
  const c = empty([m, n]);
  native.gemm(false, false, m, n, k, 1, a.f32, b.f32, 0, c.f32);
  return record('matmul', c, [a, b], (g, needs) => {
    const ga = needs[0] ? empty(a.shape) : null;
    const gb = needs[1] ? empty(b.shape) : null;
    if (ga) native.gemm(false, true, m, k, n, 1, g.f32, b.f32, 0, ga.f32);
    if (gb) native.gemm(true, false, k, n, m, 1, a.f32, g.f32, 0, gb.f32);
    return [ga, gb];
  });
}

/** y = x W^T + b with W [out, in]; x [..., in]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  if (cudaOps.anyDevice(x, w, b)) return cudaOps.linear(x, w, b);
  expectRank('linear', 'weight', w, 2);
  const [outF, inF] = w.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    fail('linear', `input ${shapeStr(x.shape)} does not end in ${inF} features (weight ${shapeStr(w.shape)})`);
  }
  if (b && (b.ndim !== 1 || b.shape[0] !== outF)) fail('linear', `bias ${shapeStr(b.shape)} does not match ${outF} outputs`);
  const rows = x.size / inF;
  const y = empty([...x.shape.slice(0, -1), outF]);
  native.gemm(false, true, rows, outF, inF, 1, x.f32, w.f32, 0, y.f32);
  if (b) native.addRowBias(y.f32, b.f32, rows, outF);
  const inputs = b ? [x, w, b] : [x, w];
  return record('linear', y, inputs, (g, needs) => {
    const gx = needs[0] ? empty(x.shape) : null;
    const gw = needs[1] ? empty(w.shape) : null;
    const gb = b && needs[2] ? empty(b.shape) : null;
    if (gx) native.gemm(false, false, rows, inF, outF, 1, g.f32, w.f32, 0, gx.f32);
    if (gw) native.gemm(true, false, outF, inF, rows, 1, g.f32, x.f32, 0, gw.f32);
    if (gb) native.sumRows(g.f32, gb.f32, rows, outF);
    return [gx, gw, gb];
  });
}
