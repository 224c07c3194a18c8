// Cross-entropy over logits [N, C] with int labels, mean over the batch (F.cross_entropy).
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { expectRank, fail } from './util.js';

export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  if (cudaOps.anyDevice(logits, labels)) return cudaOps.crossEntropy(logits, labels);
  const op = 'crossEntropy';
  expectRank(op, 'logits', logits, 2);
  const [rows, classes] = logits.shape;
  if (labels.dtype !== 'i32' || labels.ndim !== 1 || labels.size !== rows) {
    fail(op, `labels must be int32 of shape [${rows}], got ${labels.dtype} ${shapeStr(labels.shape)}`);
  }
  if (rows === 0) fail(op, 'empty batch');
  const probs = new Float32Array(logits.size);
  const loss = native.crossEntropyForward(logits.f32, labels.i32, probs, rows, classes);
  const out = Tensor.from([loss], []);
  return record(op, out, [logits], (g) => {
    const gx = Tensor.zeros(logits.shape);
    native.crossEntropyBackward(probs, labels.i32, gx.f32, rows, classes, g.f32[0] / rows);
    return [gx];
  });
}
