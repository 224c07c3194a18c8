// Linear layer (y = x W^T + b); SeaM masks attach as `weight_mask` / `bias_mask`.
import { linear } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { uniformFanIn } from './init.js';

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, bias = true) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = this.registerParameter('weight', uniformFanIn([outFeatures, inFeatures], inFeatures))!;
    this.bias = this.registerParameter('bias', bias ? uniformFanIn([outFeatures], inFeatures) : null);
  }

  effectiveWeight(): Tensor {
    return this.gatedParameters(['weight'])[0]!;
  }

  effectiveBias(): Tensor | null {
    return this.gatedParameters(['bias'])[0];
  }

  forward(x: Tensor): Tensor {
    const [w, b] = this.gatedParameters(['weight', 'bias']) as [Tensor, Tensor | null];
    return linear(x, w, b);
  }

  /** relu(linear(x)), SeaM's channel gate after the ReLU. */
  forwardRelu(x: Tensor): Tensor {
    const [w, b] = this.gatedParameters(['weight', 'bias'], false) as [Tensor, Tensor | null];
    return this.reluThenGate(linear(x, w, b));
  }

  override describe(): string {
    return `Linear(${this.inFeatures}, ${this.outFeatures}${this.bias ? '' : ', bias=False'})`;
  }
}
