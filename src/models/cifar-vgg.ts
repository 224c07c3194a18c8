// CIFAR VGG with BatchNorm (11/13/16/19) in the layout SeaM used: features.N (conv, bn, relu,
// maxpool) and classifier.0/3/6 (Linear 512-512-512-classes with ReLU and Dropout).
import { BatchNorm2d, Conv2d, Dropout, Linear, MaxPool2d, Module, ReLU, Sequential } from '../nn/index.js';
import { flatten } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';

export const VGG_CONFIGS = {
  11: [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  13: [64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'],
  16: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'],
  19: [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 256, 'M', 512, 512, 512, 512, 'M', 512, 512, 512, 512, 'M'],
} as const;

export interface CifarVggConfig {
  depth: keyof typeof VGG_CONFIGS;
  numClasses?: number;
  inChannels?: number;
}

export class CifarVGG extends Module {
  features: Sequential;
  classifier: Sequential;
  readonly numClasses: number;

  constructor(cfg: CifarVggConfig) {
    super();
    this.numClasses = cfg.numClasses ?? 10;
    const layers: Module[] = [];
    let c = cfg.inChannels ?? 3;
    for (const v of VGG_CONFIGS[cfg.depth]) {
      if (v === 'M') layers.push(new MaxPool2d({ kernelSize: 2, stride: 2 }));
      else {
        layers.push(new Conv2d(c, v, 3, { padding: 1 }), new BatchNorm2d(v), new ReLU());
        c = v;
      }
    }
    this.features = this.registerModule('features', new Sequential(...layers));
    this.classifier = this.registerModule('classifier', new Sequential(
      new Linear(512, 512), new ReLU(), new Dropout(),
      new Linear(512, 512), new ReLU(), new Dropout(),
      new Linear(512, this.numClasses),
    ));
  }

  forward(x: Tensor): Tensor {
    return this.classifier.forward(flatten(this.features.forward(x), 1));
  }
}

export const cifarVgg16bn = (numClasses = 10): CifarVGG => new CifarVGG({ depth: 16, numClasses });
