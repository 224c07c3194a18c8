// numpy / ONNX MatMul on tensors of any rank: 1-D operands promoted (and the added axis dropped
// again), the batch dimensions broadcast, one GEMM per batch matrix (gemmBatched).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, numel, shapeStr } from '../tensor/tensor.js';
import { reshape } from './elementwise.js';
import { matmul } from './linalg.js';
import { broadcastShapes, broadcastTo } from './shape.js';
import { expectFloat, fail } from './util.js';

/** a [..., m, k] x b [..., k, n] with numpy's matmul rules */
export function matmulNd(a: Tensor, b: Tensor): Tensor {
  const op = 'matmul';
  expectFloat(op, 'a', a);
  expectFloat(op, 'b', b);
  if (a.ndim === 0 || b.ndim === 0) fail(op, `operands must have at least one dimension, got ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0], 1]) : b;
  const [m, k] = a2.shape.slice(-2);
  const [k2, n] = b2.shape.slice(-2);
  if (k !== k2) fail(op, `inner dimensions differ: ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
  const batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2), op);
  let y: Tensor;
  if (b2.ndim === 2) {
    // one weight matrix for every row of every batch: a single GEMM over the stacked rows
    y = reshape(matmul(reshape(a2, [numel(a2.shape.slice(0, -1)), k]), b2), [...a2.shape.slice(0, -1), n]);
  } else {
    y = reshape(batchedMatmul(reshape(broadcastTo(a2, [...batch, m, k]), [numel(batch), m, k]),
      reshape(broadcastTo(b2, [...batch, k, n]), [numel(batch), k, n])), [...batch, m, n]);
  }
  const outShape = [...batch, ...(a.ndim === 1 ? [] : [m]), ...(b.ndim === 1 ? [] : [n])];
  return outShape.length === y.ndim ? y : reshape(y, outShape);
}

/** [B, m, k] x [B, k, n] -> [B, m, n] */
function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  const op = 'matmul';
  const be = backendOf(op, { a, b });
  const [bs, m, k] = a.shape;
  const n = b.shape[2];
  const { k: kern, f } = be;
  const c = be.uninit([bs, m, n]);
  kern.gemmBatched(false, false, bs, m, n, k, 1, f(a), m * k, f(b), k * n, 0, f(c), m * n);
  return record(op, c, [a, b], (g, needs) => {
    const ga = needs[0] ? be.uninit(a.shape) : null;
    const gb = needs[1] ? be.uninit(b.shape) : null;
    if (ga) kern.gemmBatched(false, true, bs, m, k, n, 1, f(g), m * n, f(b), k * n, 0, f(ga), m * k);
    if (gb) kern.gemmBatched(true, false, bs, k, n, m, 1, f(a), m * k, f(g), m * n, 0, f(gb), k * n);
    return [ga, gb];
  });
}
