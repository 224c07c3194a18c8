// The model zoo: architecture names, builders, and a guess of the architecture from a
// state_dict's keys and shapes (only when it is unambiguous).
import type { Module } from '../nn/index.js';
import { CifarResNet } from './cifar-resnet.js';
import { CifarVGG, VGG_CONFIGS } from './cifar-vgg.js';
import { TV_RESNET_LAYERS, TorchvisionResNet } from './torchvision-resnet.js';

export interface ArchOptions {
  numClasses?: number;
  inChannels?: number;
  widthPerGroup?: number;
  groups?: number;
  /** torchvision ResNet stage sizes when they are not one of the standard depths */
  layers?: number[];
}

type Builder = (o: ArchOptions) => Module & { numClasses: number };

const cifarResNet = (depth: 20 | 32 | 44 | 56 | 110): Builder => (o) => new CifarResNet({ depth, numClasses: o.numClasses ?? 10, inChannels: o.inChannels });
const cifarVgg = (depth: 11 | 13 | 16 | 19): Builder => (o) => new CifarVGG({ depth, numClasses: o.numClasses ?? 10, inChannels: o.inChannels });
const tvResNet = (depth: keyof typeof TV_RESNET_LAYERS): Builder => (o) => {
  const spec = TV_RESNET_LAYERS[depth];
  return new TorchvisionResNet({ block: spec.block, layers: o.layers ?? spec.layers, numClasses: o.numClasses ?? 1000,
    widthPerGroup: o.widthPerGroup, groups: o.groups, inChannels: o.inChannels });
};

export const ARCHITECTURES: Record<string, Builder> = {
  cifar_resnet20: cifarResNet(20), cifar_resnet32: cifarResNet(32), cifar_resnet44: cifarResNet(44),
  cifar_resnet56: cifarResNet(56), cifar_resnet110: cifarResNet(110),
  cifar_vgg11_bn: cifarVgg(11), cifar_vgg13_bn: cifarVgg(13), cifar_vgg16_bn: cifarVgg(16), cifar_vgg19_bn: cifarVgg(19),
  resnet18: tvResNet(18), resnet34: tvResNet(34), resnet50: tvResNet(50), resnet101: tvResNet(101), resnet152: tvResNet(152),
};

export function buildModel(arch: string, opts: ArchOptions = {}): Module & { numClasses: number } {
  const b = ARCHITECTURES[arch];
  if (!b) throw new Error(`unknown architecture "${arch}"; known: ${Object.keys(ARCHITECTURES).join(', ')}`);
  return b(opts);
}

export interface ArchGuess {
  arch: string;
  options: ArchOptions;
  reason: string;
}

type Shapes = Map<string, readonly number[]>;

function blockCount(keys: string[], layer: string): number {
  const ids = new Set<number>();
  for (const k of keys) {
    const m = k.match(new RegExp(`^${layer}\\.(\\d+)\\.`));
    if (m) ids.add(Number(m[1]));
  }
  return ids.size;
}

/** Guesses the zoo architecture of a state_dict; throws with what was found when it cannot. */
export function guessArchitecture(shapes: Shapes): ArchGuess {
  const keys = [...shapes.keys()];
  const has = (k: string): boolean => shapes.has(k);
  const shape = (k: string): readonly number[] => shapes.get(k) ?? [];
  if (has('conv1.weight') && has('fc.weight') && has('layer1.0.conv1.weight')) {
    const conv1 = shape('conv1.weight');
    const numClasses = shape('fc.weight')[0];
    const inChannels = conv1[1];
    if (!has('layer4.0.conv1.weight') && conv1[0] === 16 && conv1[2] === 3) {
      const n = blockCount(keys, 'layer1');
      const depth = 6 * n + 2;
      const arch = `cifar_resnet${depth}`;
      if (ARCHITECTURES[arch] && blockCount(keys, 'layer2') === n && blockCount(keys, 'layer3') === n) {
        return { arch, options: { numClasses, inChannels }, reason: `3 stages of ${n} basic blocks, 16-channel 3x3 stem` };
      }
    }
    if (has('layer4.0.conv1.weight') && conv1[0] === 64 && conv1[2] === 7) {
      const layers = [1, 2, 3, 4].map((i) => blockCount(keys, `layer${i}`));
      const bottleneck = has('layer1.0.conv3.weight');
      const std = Object.entries(TV_RESNET_LAYERS).find(([, s]) => s.block === (bottleneck ? 'bottleneck' : 'basic') && s.layers.join() === layers.join());
      const base = std ? `resnet${std[0]}` : bottleneck ? 'resnet50' : 'resnet18';
      const options: ArchOptions = { numClasses, inChannels };
      if (!std) options.layers = layers;
      if (bottleneck) {
        const width = shape('layer1.0.conv1.weight')[0];
        const groups = width / shape('layer1.0.conv2.weight')[1];
        options.groups = groups;
        options.widthPerGroup = width / groups;
      }
      return { arch: base, options, reason: `torchvision ${bottleneck ? 'Bottleneck' : 'BasicBlock'} ResNet, stages [${layers.join(', ')}]` };
    }
  }
  if (has('features.0.weight') && has('classifier.6.weight')) {
    const convs = keys.filter((k) => /^features\.\d+\.weight$/.test(k) && shape(k).length === 4).length;
    const depth = Object.entries(VGG_CONFIGS).find(([, c]) => c.filter((v) => v !== 'M').length === convs)?.[0];
    if (depth) {
      return {
        arch: `cifar_vgg${depth}_bn`,
        options: { numClasses: shape('classifier.6.weight')[0], inChannels: shape('features.0.weight')[1] },
        reason: `${convs} conv layers with BatchNorm, classifier.0/3/6`,
      };
    }
  }
  const sample = keys.slice(0, 8).join(', ');
  throw new Error(`cannot tell the architecture from the keys (${keys.length} keys: ${sample}${keys.length > 8 ? ', ...' : ''}); pass --arch (one of ${Object.keys(ARCHITECTURES).join(', ')})`);
}
