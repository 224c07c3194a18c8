// Cross-entropy over logits [N, C] with int labels, mean over the batch (F.cross_entropy).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { expectRank, fail } from './util.js';

export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  const op = 'crossEntropy';
  const be = backendOf(op, { logits, labels });
  expectRank(op, 'logits', logits, 2);
  const [rows, classes] = logits.shape;
  if (labels.dtype !== 'i32' || labels.ndim !== 1 || labels.size !== rows) {
    fail(op, `labels must be int32 of shape [${rows}], got ${labels.dtype} ${shapeStr(labels.shape)}`);
  }
  if (rows === 0) fail(op, 'empty batch');
  const { k, f, i } = be;
  const probs = be.uninit(logits.shape);
  const loss = k.crossEntropyForward(f(logits), i(labels), f(probs), rows, classes);
  return record(op, be.full([], loss), [logits], (g) => {
    const gx = be.uninit(logits.shape);
    k.crossEntropyBackward(f(probs), i(labels), f(gx), rows, classes, g.item() / rows);
    return [gx];
  });
}
