// The public ops on CUDA tensors: the same validation, results and gradients as src/ops/*.ts,
// with the addon's CUDA launchers in place of the CPU kernels. Each src/ops function dispatches
// here when any input is a device tensor; mixing devices is an error naming the op and devices.
// Scalars that the CPU ops return as host numbers (a loss, a sum) become one-element device tensors.
import { record } from '../autograd/node.js';
import { fail, expectFloat, expectRank, expectSameShape, reshapeDims } from '../ops/util.js';
import { Tensor, shapeStr, type Shape } from '../tensor/tensor.js';
import { cudaNative as cu } from './cuda-native.js';
import { deviceEmpty as empty, deviceFull, expectCuda, handle as h } from './device.js';

export { conv2d, batchNorm2d, maxPool2d, avgPool2d, adaptiveAvgPool2d, dropout } from './cuda-nn.js';
export { viaHost } from './cuda-fallback.js';

/** Whether an op must run on the device: any given tensor is not on the CPU. */
export function anyDevice(a: Tensor | null | undefined, b?: Tensor | null, c?: Tensor | null): boolean {
  return (a != null && a.device !== 'cpu') || (b != null && b.device !== 'cpu') || (c != null && c.device !== 'cpu');
}

function scalar(value: number): Tensor {
  return deviceFull([], value);
}

export function add(a: Tensor, b: Tensor): Tensor {
  expectCuda('add', { a, b });
  expectSameShape('add', a, b);
  const out = empty(a.shape);
  cu.cudaAdd(h(a, 'add'), h(b, 'add'), h(out, 'add'));
  return record('add', out, [a, b], (g) => [g, g]);
}

/** a + b without recording (gradient accumulation in backward). */
export function addGrads(a: Tensor, b: Tensor): Tensor {
  expectCuda('backward (gradient sum)', { a, b });
  const out = empty(a.shape);
  cu.cudaAdd(h(a, 'backward'), h(b, 'backward'), h(out, 'backward'));
  return out;
}

export function mul(a: Tensor, b: Tensor): Tensor {
  expectCuda('mul', { a, b });
  expectSameShape('mul', a, b);
  const out = empty(a.shape);
  cu.cudaMul(h(a, 'mul'), h(b, 'mul'), h(out, 'mul'));
  return record('mul', out, [a, b], (g, needs) => {
    const ga = needs[0] ? empty(a.shape) : null;
    const gb = needs[1] ? empty(b.shape) : null;
    if (ga) cu.cudaMul(h(g, 'mul'), h(b, 'mul'), h(ga, 'mul'));
    if (gb) cu.cudaMul(h(g, 'mul'), h(a, 'mul'), h(gb, 'mul'));
    return [ga, gb];
  });
}

export function scale(a: Tensor, s: number): Tensor {
  expectCuda('scale', { input: a });
  expectFloat('scale', 'input', a);
  const out = empty(a.shape);
  cu.cudaScale(h(a, 'scale'), s, h(out, 'scale'));
  return record('scale', out, [a], (g) => {
    const ga = empty(a.shape);
    cu.cudaScale(h(g, 'scale'), s, h(ga, 'scale'));
    return [ga];
  });
}

export function relu(x: Tensor): Tensor {
  expectCuda('relu', { input: x });
  expectFloat('relu', 'input', x);
  const y = empty(x.shape);
  cu.cudaRelu(h(x, 'relu'), h(y, 'relu'));
  return record('relu', y, [x], (g) => {
    const gx = empty(x.shape);
    cu.cudaReluBackward(h(y, 'relu'), h(g, 'relu'), h(gx, 'relu'));
    return [gx];
  });
}

/** A view sharing the device buffer; one dimension may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  expectCuda('reshape', { input: x });
  const dims = reshapeDims(x, shape);
  const out = new Tensor(x.liveStorage('reshape'), dims);
  return record('reshape', out, [x], (g) => [new Tensor(g.liveStorage('reshape backward'), x.shape)]);
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  expectCuda('matmul', { a, b });
  expectRank('matmul', 'a', a, 2);
  expectRank('matmul', 'b', b, 2);
  const [m, k] = a.shape;
  const [k2, n] = b.shape;
  if (k !== k2) fail('matmul', `inner dimensions differ: ${shapeStr(a.shape)} x ${shapeStr(b.shape)}`);
  const c = empty([m, n]);
  cu.cudaGemm(false, false, m, n, k, 1, h(a, 'matmul'), h(b, 'matmul'), 0, h(c, 'matmul'));
  return record('matmul', c, [a, b], (g, needs) => {
    const ga = needs[0] ? empty(a.shape) : null;
    const gb = needs[1] ? empty(b.shape) : null;
    if (ga) cu.cudaGemm(false, true, m, k, n, 1, h(g, 'matmul'), h(b, 'matmul'), 0, h(ga, 'matmul'));
    if (gb) cu.cudaGemm(true, false, k, n, m, 1, h(a, 'matmul'), h(g, 'matmul'), 0, h(gb, 'matmul'));
    return [ga, gb];
  });
}

export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  const op = 'linear';
  expectCuda(op, { input: x, weight: w, bias: b });
  expectRank(op, 'weight', w, 2);
  const [outF, inF] = w.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    fail(op, `input ${shapeStr(x.shape)} does not end in ${inF} features (weight ${shapeStr(w.shape)})`);
  }
  if (b && (b.ndim !== 1 || b.shape[0] !== outF)) fail(op, `bias ${shapeStr(b.shape)} does not match ${outF} outputs`);
  const rows = x.size / inF;
  const y = empty([...x.shape.slice(0, -1), outF]);
  cu.cudaGemm(false, true, rows, outF, inF, 1, h(x, op), h(w, op), 0, h(y, op));
  if (b) cu.cudaAddRowBias(h(y, op), h(b, op), rows, outF);
  const inputs = b ? [x, w, b] : [x, w];
  return record(op, y, inputs, (g, needs) => {
    const gx = needs[0] ? empty(x.shape) : null;
    const gw = needs[1] ? empty(w.shape) : null;
    const gb = b && needs[2] ? empty(b.shape) : null;
    if (gx) cu.cudaGemm(false, false, rows, inF, outF, 1, h(g, op), h(w, op), 0, h(gx, op));
    if (gw) cu.cudaGemm(true, false, outF, inF, rows, 1, h(g, op), h(x, op), 0, h(gw, op));
    if (gb) cu.cudaSumRows(h(g, op), h(gb, op), rows, outF);
    return [gx, gw, gb];
  });
}

export function maskedWeight(w: Tensor, m: Tensor): Tensor {
  const op = 'maskedWeight';
  expectCuda(op, { weight: w, mask: m });
  expectSameShape(op, w, m);
  const out = empty(w.shape);
  cu.cudaMaskedWeight(h(w, op), h(m, op), h(out, op));
  return record(op, out, [w, m], (g, needs) => {
    const gw = needs[0] ? empty(w.shape) : null;
    const gm = needs[1] ? empty(m.shape) : null;
    if (gw) cu.cudaMaskedWeight(h(g, op), h(m, op), h(gw, op));
    if (gm) cu.cudaMaskGrad(h(g, op), h(w, op), h(gm, op));
    return [gw, gm];
  });
}

export function retainedRatio(masks: Tensor[]): Tensor {
  const op = 'retainedRatio';
  if (masks.length === 0) fail(op, 'no masks given');
  expectCuda(op, Object.fromEntries(masks.map((m, i) => [`mask ${i}`, m])));
  let total = 0;
  let kept = 0;
  for (const m of masks) {
    total += m.size;
    kept += cu.cudaCountPositive(h(m, op));
  }
  if (total === 0) fail(op, 'the masks hold no elements');
  return record(op, scalar(kept / total), masks, (g) => {
    const v = Math.max(-1, Math.min(1, g.item() / total));
    return masks.map((m) => deviceFull(m.shape, v));
  });
}

export function sum(x: Tensor): Tensor {
  expectCuda('sum', { input: x });
  return record('sum', scalar(cu.cudaSum(h(x, 'sum'))), [x], (g) => [deviceFull(x.shape, g.item())]);
}

export function mean(x: Tensor): Tensor {
  expectCuda('mean', { input: x });
  if (x.size === 0) fail('mean', 'empty tensor');
  return record('mean', scalar(cu.cudaSum(h(x, 'mean')) / x.size), [x], (g) => [deviceFull(x.shape, g.item() / x.size)]);
}

/** int32 device tensor [N] of each row's first maximum. */
export function argmax(x: Tensor): Tensor {
  expectCuda('argmax', { input: x });
  expectRank('argmax', 'input', x, 2);
  const [rows, cols] = x.shape;
  if (cols === 0) fail('argmax', 'rows are empty');
  const out = empty([rows], 'i32');
  cu.cudaArgmax(h(x, 'argmax'), h(out, 'argmax'), rows, cols);
  return out;
}

export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const op = 'crossEntropy';
  expectCuda(op, { logits, labels });
  expectRank(op, 'logits', logits, 2);
  const [rows, classes] = logits.shape;
  if (labels.dtype !== 'i32' || labels.ndim !== 1 || labels.size !== rows) {
    fail(op, `labels must be int32 of shape [${rows}], got ${labels.dtype} ${shapeStr(labels.shape)}`);
  }
  if (rows === 0) fail(op, 'empty batch');
  const probs = empty(logits.shape);
  const loss = cu.cudaCrossEntropyForward(h(logits, op), h(labels, op), h(probs, op), rows, classes);
  return record(op, scalar(loss), [logits], (g) => {
    const gx = empty(logits.shape);
    cu.cudaCrossEntropyBackward(h(probs, op), h(labels, op), h(gx, op), rows, classes, g.item() / rows);
    return [gx];
  });
}
