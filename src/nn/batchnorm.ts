// BatchNorm2d with running statistics; `frozen` keeps it in eval behaviour even in train mode
// (SeaM keeps every BatchNorm in eval while the masks are trained).
import { add, batchNorm2d, batchNormReluEval, relu, type BnEvalParams } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

export class BatchNorm2d extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  numBatchesTracked: Tensor;

  constructor(numFeatures: number, eps = 1e-5, momentum = 0.1) {
    super();
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.weight = this.registerParameter('weight', Tensor.ones([numFeatures]))!;
    this.bias = this.registerParameter('bias', Tensor.zeros([numFeatures]))!;
    this.runningMean = this.registerBuffer('running_mean', Tensor.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', Tensor.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', Tensor.ints([0], []));
  }

  forward(x: Tensor): Tensor {
    if (this.training) {
      const n = this.numBatchesTracked;
      if (n.device === 'cpu') n.data[0] += 1;
      else n.copy_(Tensor.ints([n.item() + 1], []));
    }
    return batchNorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training, momentum: this.momentum, eps: this.eps,
    });
  }

  /** relu(this.forward(x) + residual): one fused op in eval mode, the separate ops in training. */
  forwardRelu(x: Tensor, residual: Tensor | null = null): Tensor {
    if (this.training) {
      const y = this.forward(x);
      return relu(residual ? add(y, residual) : y);
    }
    return batchNormReluEval(x, this.weight, this.bias, this.runningMean, this.runningVar, this.eps, residual);
  }

  /** The running-statistics parameters the fused eval ops take. */
  evalParams(): BnEvalParams {
    return { gamma: this.weight, beta: this.bias, runningMean: this.runningMean, runningVar: this.runningVar, eps: this.eps };
  }

  override describe(): string {
    return `BatchNorm2d(${this.numFeatures})`;
  }
}
