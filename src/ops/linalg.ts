// Matrix products: matmul of 2-D tensors and linear (x W^T + b over the last dimension).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { expectRank, fail } from './util.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  const be = backendOf('matmul', { a, b });
  expectRank('matmul', 'a', a, 2);
  expectRank('matmul', 'b', b, 2);
  const [m, kk] = a.shape;
  const [k2, n] = b.shape;
  if (kk !== k2) fail('matmul', `inner dimensions differ: ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
  const { k, f } = be;
  const c = be.uninit([m, n]);
  k.gemm(false, false, m, n, kk, 1, f(a), f(b), 0, f(c));
  return record('matmul', c, [a, b], (g, needs) => {
    const ga = needs[0] ? be.uninit(a.shape) : null;
    const gb = needs[1] ? be.uninit(b.shape) : null;
    if (ga) k.gemm(false, true, m, kk, n, 1, f(g), f(b), 0, f(ga));
    if (gb) k.gemm(true, false, kk, n, m, 1, f(a), f(g), 0, f(gb));
    return [ga, gb];
  });
}

/** y = x W^T + b with W [out, in]; x [..., in]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const op = 'linear';
  const be = backendOf(op, { input: x, weight: w, bias: b });
  expectRank(op, 'weight', w, 2);
  const [outF, inF] = w.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    fail(op, `input ${shapeStr(x.shape)} does not end in ${inF} features (weight ${shapeStr(w.shape)})`);
  }
  if (b && (b.ndim !== 1 || b.shape[0] !== outF)) fail(op, `bias ${shapeStr(b.shape)} does not match ${outF} outputs`);
  const rows = x.size / inF;
  const { k, f } = be;
  const y = be.uninit([...x.shape.slice(0, -1), outF]);
  k.gemm(false, true, rows, outF, inF, 1, f(x), f(w), 0, f(y));
  if (b) k.addRowBias(f(y), f(b), rows, outF);
  return record(op, y, b ? [x, w, b] : [x, w], (g, needs) => {
    const gx = needs[0] ? be.uninit(x.shape) : null;
    const gw = needs[1] ? be.uninit(w.shape) : null;
    const gb = b && needs[2] ? be.uninit(b.shape) : null;
    if (gx) k.gemm(false, false, rows, inF, outF, 1, f(g), f(w), 0, f(gx));
    if (gw) k.gemm(true, false, outF, inF, rows, 1, f(g), f(x), 0, f(gw));
    if (gb) k.sumRows(f(g), f(gb), rows, outF);
    return [gx, gw, gb];
  });
}
