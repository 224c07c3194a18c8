// Conv2d layer; when SeaM wraps it, `weight_mask` / `bias_mask` parameters make the forward use
// W * bin(M) (see ops/mask.ts). Kernel, stride, padding and dilation may differ per axis (imported
// graphs have 1x7 kernels); the scalar accessors serve the square case the zoo models use.
import { binarize, conv2d, conv2dBnReluEval, gateChannels, gatedWeight, type Conv2dOptions } from '../ops/index.js';
import type { Pair } from '../ops/util.js';
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
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

const asPair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  /** [height, width] of the kernel, stride, padding (each side) and dilation */
  readonly kernelShape: [number, number];
  readonly strides: [number, number];
  readonly pads: [number, number];
  readonly dilations: [number, number];
  readonly groups: number;
  weight: Tensor;
  bias: Tensor | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, cfg: Conv2dConfig = {}) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelShape = asPair(kernelSize);
    this.strides = asPair(cfg.stride ?? 1);
    this.pads = asPair(cfg.padding ?? 0);
    this.dilations = asPair(cfg.dilation ?? 1);
    this.groups = cfg.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      throw new Error(`Conv2d: groups=${this.groups} must divide in_channels=${inChannels} and out_channels=${outChannels}`);
    }
    const [kh, kw] = this.kernelShape;
    const fanIn = (inChannels / this.groups) * kh * kw;
    this.weight = this.registerParameter('weight', uniformFanIn([outChannels, inChannels / this.groups, kh, kw], fanIn))!;
    this.bias = this.registerParameter('bias', cfg.bias ?? true ? uniformFanIn([outChannels], fanIn) : null);
  }

  /** The value of a square geometry attribute; an error naming the layer when it differs per axis. */
  private square(name: string, v: [number, number]): number {
    if (v[0] !== v[1]) throw new Error(`${this.describe()}: ${name} ${v[0]}x${v[1]} differs per axis; read kernelShape / strides / pads / dilations`);
    return v[0];
  }

  get kernelSize(): number {
    return this.square('kernel', this.kernelShape);
  }
  get stride(): number {
    return this.square('stride', this.strides);
  }
  get padding(): number {
    return this.square('padding', this.pads);
  }
  get dilation(): number {
    return this.square('dilation', this.dilations);
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
    return { stride: this.strides, padding: this.pads, dilation: this.dilations, groups: this.groups };
  }

  override describe(): string {
    const v = (p: [number, number]): string => (p[0] === p[1] ? String(p[0]) : `${p[0]}x${p[1]}`);
    const extra = [`k=${v(this.kernelShape)}`, `s=${v(this.strides)}`, `p=${v(this.pads)}`];
    if (this.dilations[0] !== 1 || this.dilations[1] !== 1) extra.push(`d=${v(this.dilations)}`);
    if (this.groups !== 1) extra.push(`g=${this.groups}`);
    if (!this.bias) extra.push('bias=False');
    return `Conv2d(${this.inChannels}, ${this.outChannels}, ${extra.join(', ')})`;
  }
}
