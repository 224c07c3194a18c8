// Conv2d layer; when SeaM wraps it, `weight_mask` / `bias_mask` parameters make the forward use
// W * bin(M) (see ops/mask.ts).
import { conv2d, conv2dBnReluEval, type Conv2dOptions } from '../ops/index.js';
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

  /** The weight and bias as the forward uses them (masked when SeaM masks are attached). */
  effectiveWeight(): Tensor {
    return this.maskedParameter('weight')!;
  }

  effectiveBias(): Tensor | null {
    return this.maskedParameter('bias');
  }

  /** conv(x), or with an epilogue relu(bn(conv(x)) [+ residual]): in eval mode one fused op
   *  (ops/fused.ts picks its kernels), in training the BatchNorm module's own forward. */
  forward(x: Tensor, epilogue?: ConvEpilogue): Tensor {
    const w = this.effectiveWeight();
    const b = this.effectiveBias();
    if (!epilogue) return conv2d(x, w, b, this.options());
    const { bn, residual = null } = epilogue;
    if (bn.training) return bn.forwardRelu(conv2d(x, w, b, this.options()), residual);
    return conv2dBnReluEval(x, w, b, this.options(), bn.evalParams(), residual);
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
