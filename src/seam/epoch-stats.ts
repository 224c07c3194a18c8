// Running training statistics of one epoch (mean loss, accuracy, batches seen), shared by the
// search, the defect-inheritance search and fine-tuning.
import { argmax } from '../ops/index.js';
import type { Tensor } from '../tensor/tensor.js';

export class EpochStats {
  private lossSum = 0;
  private correct = 0;
  private seen = 0;
  batches = 0;

  /** Adds one batch: its logits, the labels and the batch's mean loss. */
  add(logits: Tensor, labels: Int32Array, loss: number): void {
    this.addPredictions(argmax(logits).cpu().i32, labels, loss);
  }

  /** Adds one batch from its predicted classes. */
  addPredictions(pred: Int32Array, labels: Int32Array, loss: number): void {
    for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) this.correct++;
    this.seen += pred.length;
    this.lossSum += loss * pred.length;
    this.batches++;
  }

  get loss(): number {
    return this.lossSum / Math.max(this.seen, 1);
  }

  get accuracy(): number {
    return this.correct / Math.max(this.seen, 1);
  }
}
