// Conv2d layer; when SeaM wraps it, `weight_mask` / `bias_mask` parameters make the forward use
// W * bin(M) (see ops/mask.ts).
import { binarize, conv2d, conv2dBnReluEval, gateChannels, gatedWeight, type Conv2dOptions } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import type { BatchNorm2d } from './batchnorm.js';
import { Module } from './module.js';
import { uniformFanIn } from './init.js';

/** What follows the convolution inside one call: relu(bn(conv(x)) [+ residual]). */
export interface ConvEpilogue {
  bn: BatchNorm2d;
  residual?: Tensor | null;
}

export interface Conv2dConfig {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, cfg: Conv2dConfig = {}) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernelSize;
    this.stride = cfg.stride ?? 1;
    this.padding = cfg.padding ?? 0;
    this.dilation = cfg.dilation ?? 1;
    this.groups = cfg.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d: groups=${this.groups} must divide in_channels=${inChannels} and out_channels=${outChannels}`);
    }
    const fanIn = (inChannels / this.groups) * kernelSize * kernelSize;
    this.weight = this.registerParameter('weight', uniformFanIn([outChannels, inChannels / this.groups, kernelSize, kernelSize], fanIn))!;
    this.bias = this.registerParameter('bias', cfg.bias ?? true ? uniformFanIn([outChannels], fanIn) : null);
  }

  /** The weight and bias as SeaM's masks leave them (a zero row for a masked channel). */
  effectiveWeight(): Tensor {
    return this.gatedParameters(['weight'])[0]!;
  }

  effectiveBias(): Tensor | null {
    return this.gatedParameters(['bias'])[0];
  }

  /** conv(x), or with an epilogue relu(bn(conv(x)) [+ residual]): in eval mode one fused op
   *  (ops/fused.ts picks its kernels), in training the BatchNorm module's own forward. SeaM's
   *  channel gate (Module.outputGate) acts on the parameters without an epilogue (unless the
   *  BatchNorm that follows applies it), on the BatchNorm's affine before a residual add, and after
   *  the ReLU otherwise. */
  forward(x: Tensor, epilogue?: ConvEpilogue): Tensor {
    const opts = this.options();
    if (!epilogue) {
      const [w, b] = this.gatedParameters(['weight', 'bias'], !this.gateAtNext) as [Tensor, Tensor | null];
      return conv2d(x, w, b, opts);
    }
    const { bn, residual = null } = epilogue;
    const [w, b] = this.gatedParameters(['weight', 'bias'], false) as [Tensor, Tensor | null];
    const gate = this.outputGate && binarize(this.outputGate);
    let affine = bn.affine(false);
    if (gate && residual) affine = affine.map((p) => gatedWeight(p, gate)) as [Tensor, Tensor];
    const y = bn.training ? bn.forwardRelu(conv2d(x, w, b, opts), residual, affine) : conv2dBnReluEval(x, w, b, opts, bn.evalParams(affine), residual);
    return gate && !residual ? gateChannels(y, gate) : y;
  }

  /** relu(conv(x)) for a conv without BatchNorm, SeaM's channel gate after the ReLU. */
  forwardRelu(x: Tensor): Tensor {
    const [w, b] = this.gatedParameters(['weight', 'bias'], false) as [Tensor, Tensor | null];
    return this.reluThenGate(conv2d(x, w, b, this.options()));
  }

  private options(): Conv2dOptions {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups };
  }

  override describe(): string {
    const extra = [`k=${this.kernelSize}`, `s=${this.stride}`, `p=${this.padding}`];
    if (this.dilation !== 1) extra.push(`d=${this.dilation}`);
    if (this.groups !== 1) extra.push(`g=${this.groups}`);
    if (!this.bias) extra.push('bias=False');
    return `Conv2d(${this.inChannels}, ${this.outChannels}, ${extra.join(', ')})`;
  }
}
