// CIFAR ResNets (20/32/44/56/110) as in the widely used pytorch-cifar-models checkpoints:
// conv1/bn1, layer1..3 of BasicBlocks with 1x1-conv downsample, avgpool, fc.
import { BatchNorm2d, Conv2d, Linear, Module, ReLU, Sequential } from '../nn/index.js';
import { adaptiveAvgPool2d, flatten } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';

export class BasicBlock extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  conv2: Conv2d;
  bn2: BatchNorm2d;
  downsample: Sequential | null;

  constructor(inPlanes: number, planes: number, stride = 1, downsample: Sequential | null = null) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.relu = this.registerModule('relu', new ReLU());
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { stride: 1, padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }

  forward(x: Tensor): Tensor {
    const identity = this.downsample ? this.downsample.forward(x) : x;
    const out = this.conv1.forward(x, { bn: this.bn1 });
    // relu(bn2(conv2(out)) + identity), one fused op when BatchNorm is in eval mode.
    return this.conv2.forward(out, { bn: this.bn2, residual: identity });
  }
}

export interface CifarResNetConfig {
  depth: 20 | 32 | 44 | 56 | 110;
  numClasses?: number;
  inChannels?: number;
}

export class CifarResNet extends Module {
  conv1: Conv2d;
  bn1: BatchNorm2d;
  relu: ReLU;
  layer1: Sequential;
  layer2: Sequential;
  layer3: Sequential;
  fc: Linear;
  readonly numClasses: number;
  readonly inChannels: number;

  constructor(cfg: CifarResNetConfig) {
    super();
    if ((cfg.depth - 2) % 6 !== 0) throw new Error(`CifarResNet: depth ${cfg.depth} is not 6n+2`);
    const n = (cfg.depth - 2) / 6;
    this.numClasses = cfg.numClasses ?? 10;
    this.inChannels = cfg.inChannels ?? 3;
    this.conv1 = this.registerModule('conv1', new Conv2d(this.inChannels, 16, 3, { padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(16));
    this.relu = this.registerModule('relu', new ReLU());
    let inPlanes = 16;
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      const down = stride !== 1 || inPlanes !== planes
        ? new Sequential(new Conv2d(inPlanes, planes, 1, { stride, bias: false }), new BatchNorm2d(planes))
        : null;
      const layers = [new BasicBlock(inPlanes, planes, stride, down)];
      inPlanes = planes;
      for (let i = 1; i < blocks; i++) layers.push(new BasicBlock(planes, planes));
      return new Sequential(...layers);
    };
    this.layer1 = this.registerModule('layer1', makeLayer(16, n, 1));
    this.layer2 = this.registerModule('layer2', makeLayer(32, n, 2));
    this.layer3 = this.registerModule('layer3', makeLayer(64, n, 2));
    this.fc = this.registerModule('fc', new Linear(64, this.numClasses));
  }

  /** Everything up to the classifier: the pooled 64-d features. */
  features(x: Tensor): Tensor {
    x = this.conv1.forward(x, { bn: this.bn1 });
    x = this.layer3.forward(this.layer2.forward(this.layer1.forward(x)));
    return flatten(adaptiveAvgPool2d(x, 1), 1);
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.features(x));
  }
}

export const cifarResNet20 = (numClasses = 10, inChannels = 3): CifarResNet => new CifarResNet({ depth: 20, numClasses, inChannels });
