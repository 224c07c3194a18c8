// torchvision ResNets (18/34/50/101/152) with torchvision's key names; Bottleneck is v1.5
// (stride on the 3x3 conv) with `widthPerGroup` and `groups` as in torchvision.
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential } from '../nn/index.js';
import { flatten } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';

class TvBasicBlock extends Module {
  static readonly expansion = 1;
  conv1: Conv2d; bn1: BatchNorm2d; conv2: Conv2d; bn2: BatchNorm2d; downsample: Sequential | null;
  constructor(inPlanes: number, planes: number, stride: number, downsample: Sequential | null) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.registerModule('relu', new ReLU());
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }
  forward(x: Tensor): Tensor {
    const idt = this.downsample ? this.downsample.forward(x) : x;
    const out = this.conv1.forward(x, { bn: this.bn1 });
    return this.conv2.forward(out, { bn: this.bn2, residual: idt });
  }
}

class TvBottleneck extends Module {
  static readonly expansion = 4;
  conv1: Conv2d; bn1: BatchNorm2d; conv2: Conv2d; bn2: BatchNorm2d; conv3: Conv2d; bn3: BatchNorm2d; downsample: Sequential | null;
  constructor(inPlanes: number, planes: number, stride: number, downsample: Sequential | null, groups: number, widthPerGroup: number) {
    super();
    const width = Math.floor(planes * (widthPerGroup / 64)) * groups;
    this.conv1 = this.registerModule('conv1', new Conv2d(inPlanes, width, 1, { bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', new Conv2d(width, width, 3, { stride, padding: 1, groups, bias: false }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', new Conv2d(width, planes * 4, 1, { bias: false }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * 4));
    this.registerModule('relu', new ReLU());
    this.downsample = downsample ? this.registerModule('downsample', downsample) : null;
  }
  forward(x: Tensor): Tensor {
    const idt = this.downsample ? this.downsample.forward(x) : x;
    let out = this.conv1.forward(x, { bn: this.bn1 });
    out = this.conv2.forward(out, { bn: this.bn2 });
    return this.conv3.forward(out, { bn: this.bn3, residual: idt });
  }
}

export const TV_RESNET_LAYERS = {
  18: { block: 'basic', layers: [2, 2, 2, 2] },
  34: { block: 'basic', layers: [3, 4, 6, 3] },
  50: { block: 'bottleneck', layers: [3, 4, 6, 3] },
  101: { block: 'bottleneck', layers: [3, 4, 23, 3] },
  152: { block: 'bottleneck', layers: [3, 8, 36, 3] },
} as const;

export interface TvResNetConfig {
  block: 'basic' | 'bottleneck';
  layers: readonly number[];
  numClasses?: number;
  widthPerGroup?: number;
  groups?: number;
  inChannels?: number;
}

export class TorchvisionResNet extends Module {
  conv1: Conv2d; bn1: BatchNorm2d; maxpool: MaxPool2d; layers: Sequential[]; avgpool: AdaptiveAvgPool2d; fc: Linear;
  readonly numClasses: number;

  constructor(cfg: TvResNetConfig) {
    super();
    if (cfg.layers.length !== 4) throw new Error(`TorchvisionResNet: expected 4 stage sizes, got ${cfg.layers.length}`);
    this.numClasses = cfg.numClasses ?? 1000;
    const groups = cfg.groups ?? 1;
    const wpg = cfg.widthPerGroup ?? 64;
    if (cfg.block === 'basic' && (groups !== 1 || wpg !== 64)) throw new Error('TorchvisionResNet: BasicBlock only supports groups=1 and widthPerGroup=64');
    const expansion = cfg.block === 'basic' ? 1 : 4;
    this.conv1 = this.registerModule('conv1', new Conv2d(cfg.inChannels ?? 3, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.registerModule('relu', new ReLU());
    this.maxpool = this.registerModule('maxpool', new MaxPool2d({ kernelSize: 3, stride: 2, padding: 1 }));
    let inPlanes = 64;
    this.layers = [64, 128, 256, 512].map((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const blocks: Module[] = [];
      for (let b = 0; b < cfg.layers[i]; b++) {
        const s = b === 0 ? stride : 1;
        const down = b === 0 && (s !== 1 || inPlanes !== planes * expansion)
          ? new Sequential(new Conv2d(inPlanes, planes * expansion, 1, { stride: s, bias: false }), new BatchNorm2d(planes * expansion))
          : null;
        blocks.push(cfg.block === 'basic' ? new TvBasicBlock(inPlanes, planes, s, down) : new TvBottleneck(inPlanes, planes, s, down, groups, wpg));
        inPlanes = planes * expansion;
      }
      return this.registerModule(`layer${i + 1}`, new Sequential(...blocks));
    });
    this.avgpool = this.registerModule('avgpool', new AdaptiveAvgPool2d(1));
    this.fc = this.registerModule('fc', new Linear(512 * expansion, this.numClasses));
  }

  features(x: Tensor): Tensor {
    x = this.maxpool.forward(this.conv1.forward(x, { bn: this.bn1 }));
    for (const l of this.layers) x = l.forward(x);
    return flatten(this.avgpool.forward(x), 1);
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.features(x));
  }
}

export function torchvisionResNet(depth: keyof typeof TV_RESNET_LAYERS, opts: Omit<TvResNetConfig, 'block' | 'layers'> = {}): TorchvisionResNet {
  const spec = TV_RESNET_LAYERS[depth];
  return new TorchvisionResNet({ block: spec.block, layers: spec.layers, ...opts });
}
