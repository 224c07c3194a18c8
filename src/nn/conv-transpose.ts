// ConvTranspose2d layer (torch.nn.ConvTranspose2d): weight [in, out / groups, KH, KW]; SeaM masks
// attach as `weight_mask` / `bias_mask` like Conv2d's.
import { convTranspose2d, type ConvTranspose2dOptions } from '../ops/index.js';
import type { Pair } from '../ops/util.js';
import { Tensor } from '../tensor/tensor.js';
import { uniformFanIn } from './init.js';
import { Module } from './module.js';

export interface ConvTranspose2dConfig {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

const asPair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

export class ConvTranspose2d extends Module {
  readonly kernelShape: [number, number];
  readonly options: { stride: [number, number]; padding: [number, number]; outputPadding: [number, number]; dilation: [number, number]; groups: number };
  weight: Tensor;
  bias: Tensor | null;

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, cfg: ConvTranspose2dConfig = {}) {
    super();
    const groups = cfg.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`ConvTranspose2d: groups=${groups} must divide in_channels=${inChannels} and out_channels=${outChannels}`);
    }
    this.kernelShape = asPair(kernelSize);
    this.options = {
      stride: asPair(cfg.stride ?? 1), padding: asPair(cfg.padding ?? 0), outputPadding: asPair(cfg.outputPadding ?? 0),
      dilation: asPair(cfg.dilation ?? 1), groups,
    };
    const [kh, kw] = this.kernelShape;
    const fanIn = (outChannels / groups) * kh * kw; // torch's fan_in of a transposed conv weight
    this.weight = this.registerParameter('weight', uniformFanIn([inChannels, outChannels / groups, kh, kw], fanIn))!;
    this.bias = this.registerParameter('bias', cfg.bias ?? true ? uniformFanIn([outChannels], fanIn) : null);
  }

  effectiveWeight(): Tensor {
    return this.maskedParameter('weight')!;
  }

  effectiveBias(): Tensor | null {
    return this.maskedParameter('bias');
  }

  /** `geometry` overrides the padding (per side) and output padding for this call (an imported
   *  graph's pads can depend on the input size). */
  forward(x: Tensor, geometry?: Pick<ConvTranspose2dOptions, 'padding' | 'outputPadding'>): Tensor {
    return convTranspose2d(x, this.effectiveWeight(), this.effectiveBias(), { ...this.options, ...geometry });
  }

  override describe(): string {
    const [kh, kw] = this.kernelShape;
    return `ConvTranspose2d(${this.inChannels}, ${this.outChannels}, k=${kh === kw ? kh : `${kh}x${kw}`}, s=${this.options.stride.join('x')}${this.bias ? '' : ', bias=False'})`;
  }
}
