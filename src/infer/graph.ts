// Turns a zoo model (CifarResNet, CifarVGG, TorchvisionResNet, or Sequentials of the usual layers)
// into a flat list of inference steps over numbered values, folding each eval-mode BatchNorm into
// the conv before it and fusing ReLUs and residual additions into the conv that produces them.
// Value 0 is the input; every step writes one new value. Shapes are per image: [C, H, W].
import { BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, Module, ReLU, Sequential, AdaptiveAvgPool2d, layerUnits } from '../nn/index.js';
import { CifarResNet } from '../models/cifar-resnet.js';
import { CifarVGG } from '../models/cifar-vgg.js';
import { TorchvisionResNet } from '../models/torchvision-resnet.js';
import { foldConv, foldLinear, type FoldedLayer } from './fold.js';

export type ImageShape = [number, number, number];

export interface ConvGeometry {
  c: number; h: number; w: number; o: number; kh: number; kw: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number; groups: number;
  oh: number; ow: number;
}

/** conv params for the native calls: [N, C, H, W, O, KH, KW, SH, SW, PH, PW, DH, DW, G] */
export function convParams(g: ConvGeometry, n: number): Int32Array {
  return Int32Array.from([n, g.c, g.h, g.w, g.o, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.groups]);
}

export interface ConvStep {
  kind: 'conv';
  /** module path, e.g. "layer1.0.conv1" ("fc" for a Linear, which runs as a 1x1 conv) */
  name: string;
  input: number;
  output: number;
  residual: number | null;
  relu: boolean;
  geom: ConvGeometry;
  layer: FoldedLayer;
}

export interface MaxPoolStep {
  kind: 'maxpool';
  name: string;
  input: number;
  output: number;
  /** [kh, kw, sh, sw, ph, pw, dh, dw, ceil] */
  pool: number[];
}

export interface GapStep {
  kind: 'gap';
  name: string;
  input: number;
  output: number;
}

export type Step = ConvStep | MaxPoolStep | GapStep;

export interface Graph {
  shapes: ImageShape[];
  steps: Step[];
  output: number;
}

const pairOf = (v: number | [number, number] | readonly number[] | undefined, dflt: number): [number, number] =>
  v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];

class Builder {
  shapes: ImageShape[] = [];
  steps: Step[] = [];

  constructor(input: ImageShape) {
    this.shapes.push(input);
  }

  private value(shape: ImageShape): number {
    this.shapes.push(shape);
    return this.shapes.length - 1;
  }

  conv(name: string, conv: Conv2d, bn: BatchNorm2d | null, x: number, relu: boolean, residual: number | null = null): number {
    const [c, h, w] = this.shapes[x];
    if (c !== conv.inChannels) throw new Error(`planModel: ${name} expects ${conv.inChannels} input channels, gets ${c}`);
    const k = conv.kernelSize, s = conv.stride, p = conv.padding, d = conv.dilation;
    const oh = Math.floor((h + 2 * p - d * (k - 1) - 1) / s) + 1;
    const ow = Math.floor((w + 2 * p - d * (k - 1) - 1) / s) + 1;
    if (oh <= 0 || ow <= 0) throw new Error(`planModel: ${name} gets a ${h}x${w} input, too small for its ${k}x${k} kernel`);
    const geom: ConvGeometry = { c, h, w, o: conv.outChannels, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, dh: d, dw: d, groups: conv.groups, oh, ow };
    const output = this.value([conv.outChannels, oh, ow]);
    if (residual !== null && this.shapes[residual].join() !== this.shapes[output].join()) {
      throw new Error(`planModel: ${name}: residual [${this.shapes[residual]}] does not match the output [${this.shapes[output]}]`);
    }
    this.steps.push({ kind: 'conv', name, input: x, output, residual, relu, geom, layer: foldConv(name, conv, bn) });
    return output;
  }

  /** A Linear on the flattened value runs as a 1x1 conv on a 1x1 image of C*H*W channels. */
  linear(name: string, lin: Linear, x: number, relu: boolean): number {
    const features = this.shapes[x].reduce((a, b) => a * b, 1);
    if (features !== lin.inFeatures) throw new Error(`planModel: ${name} expects ${lin.inFeatures} features, gets ${features} ([${this.shapes[x]}])`);
    const o = lin.outFeatures;
    const geom: ConvGeometry = { c: features, h: 1, w: 1, o, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1, groups: 1, oh: 1, ow: 1 };
    const output = this.value([o, 1, 1]);
    this.steps.push({ kind: 'conv', name, input: x, output, residual: null, relu, geom, layer: foldLinear(name, lin) });
    return output;
  }

  maxpool(name: string, m: MaxPool2d, x: number): number {
    const [c, h, w] = this.shapes[x];
    const [kh, kw] = pairOf(m.opts.kernelSize, 1);
    const [sh, sw] = pairOf(m.opts.stride ?? m.opts.kernelSize, 1);
    const [ph, pw] = pairOf(m.opts.padding, 0);
    const [dh, dw] = pairOf(m.opts.dilation, 1);
    const ceil = m.opts.ceilMode ?? false;
    const size = (n: number, k: number, s: number, p: number, d: number): number => {
      const span = n + 2 * p - d * (k - 1) - 1;
      let out = Math.floor((ceil ? span + s - 1 : span) / s) + 1;
      if (ceil && (out - 1) * s >= n + p) out -= 1;
      return out;
    };
    const output = this.value([c, size(h, kh, sh, ph, dh), size(w, kw, sw, pw, dw)]);
    this.steps.push({ kind: 'maxpool', name, input: x, output, pool: [kh, kw, sh, sw, ph, pw, dh, dw, ceil ? 1 : 0] });
    return output;
  }

  gap(name: string, x: number): number {
    const output = this.value([this.shapes[x][0], 1, 1]);
    this.steps.push({ kind: 'gap', name, input: x, output });
    return output;
  }

  /** Marks the step that produced x as ending in a ReLU; false when that is not possible. */
  fuseRelu(x: number): boolean {
    const last = this.steps[this.steps.length - 1];
    if (!last || last.output !== x || last.kind !== 'conv') return false;
    last.relu = true;
    return true;
  }
}

const join = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

/** A residual block: BasicBlock (conv1, bn1, conv2, bn2) or Bottleneck (+ conv3, bn3), optional downsample. */
function block(b: Builder, m: Module, path: string, x: number): number {
  const c = (n: string): Module | undefined => m.child(n);
  let identity = x;
  const down = c('downsample');
  if (down) {
    if (!(down instanceof Sequential) || !(down.layers[0] instanceof Conv2d)) throw new Error(`planModel: ${join(path, 'downsample')} is not Sequential(Conv2d, BatchNorm2d)`);
    const bn = down.layers[1] instanceof BatchNorm2d ? down.layers[1] : null;
    identity = b.conv(join(path, 'downsample.0'), down.layers[0], bn, x, false);
  }
  const convs = c('conv3') ? ['1', '2', '3'] : ['1', '2'];
  let out = x;
  convs.forEach((i, idx) => {
    const conv = c(`conv${i}`), bn = c(`bn${i}`);
    if (!(conv instanceof Conv2d) || !(bn instanceof BatchNorm2d)) throw new Error(`planModel: ${path} has no conv${i}/bn${i}`);
    const lastConv = idx === convs.length - 1;
    out = b.conv(join(path, `conv${i}`), conv, bn, out, true, lastConv ? identity : null);
  });
  return out;
}

const isBlock = (m: Module): boolean => m.child('conv1') instanceof Conv2d && m.child('conv2') instanceof Conv2d && m.child('bn2') instanceof BatchNorm2d;

/** The Sequential's units (nn/sequential.ts): each conv or linear with the BatchNorm folded into
 *  it and the ReLU fused; a ReLU on its own fuses into the step before it. */
function sequential(b: Builder, seq: Sequential, path: string, x: number): number {
  for (const { index, layer: m, bn, relu } of layerUnits(seq.layers)) {
    const name = join(path, String(index));
    if (m instanceof Conv2d) x = b.conv(name, m, bn, x, relu);
    else if (m instanceof Linear) x = b.linear(name, m, x, relu);
    else if (m instanceof ReLU) {
      if (!b.fuseRelu(x)) throw new Error(`planModel: ${name} (ReLU) does not follow a conv or linear layer`);
    } else if (m instanceof MaxPool2d) x = b.maxpool(name, m, x);
    else if (m instanceof AdaptiveAvgPool2d && pairOf(m.outputSize, 1).every((v) => v === 1)) x = b.gap(name, x);
    else if (m instanceof Dropout || m instanceof Identity || m instanceof Flatten) continue; // eval: identity; flatten: same memory
    else if (m instanceof Sequential) x = sequential(b, m, name, x);
    else if (isBlock(m)) x = block(b, m, name, x);
    else throw new Error(`planModel: ${name} (${m.describe()}) is not supported by the inference planner`);
  }
  return x;
}

/** Walks the model; sampleShape is one image [C, H, W] (or [N, C, H, W], N ignored). */
export function buildGraph(model: Module, sampleShape: readonly number[]): Graph {
  const s = sampleShape.length === 4 ? sampleShape.slice(1) : [...sampleShape];
  if (s.length !== 3 || !s.every((v) => Number.isInteger(v) && v > 0)) {
    throw new Error(`planModel: sampleShape must be [C, H, W] or [N, C, H, W] of positive integers, got [${sampleShape.join(', ')}]`);
  }
  const b = new Builder(s as ImageShape);
  let x = 0;
  if (model instanceof CifarResNet || model instanceof TorchvisionResNet) {
    x = b.conv('conv1', model.conv1, model.bn1, x, true);
    if (model instanceof TorchvisionResNet) x = b.maxpool('maxpool', model.maxpool, x);
    const stages = model instanceof CifarResNet ? [model.layer1, model.layer2, model.layer3] : model.layers;
    stages.forEach((st, i) => (x = sequential(b, st, `layer${i + 1}`, x)));
    x = b.gap('avgpool', x);
    x = b.linear('fc', model.fc, x, false);
  } else if (model instanceof CifarVGG) {
    x = sequential(b, model.features, 'features', x);
    x = sequential(b, model.classifier, 'classifier', x);
  } else if (model instanceof Sequential) {
    x = sequential(b, model, '', x);
  } else if (isBlock(model)) {
    x = block(b, model, '', x);
  } else {
    throw new Error(`planModel: ${model.describe()} is not supported (CifarResNet, CifarVGG, TorchvisionResNet, Sequential)`);
  }
  return { shapes: b.shapes, steps: b.steps, output: x };
}
