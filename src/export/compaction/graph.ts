// The dataflow of a zoo model (plus SeaM's head) as a small graph for channel compaction: conv
// (with the BatchNorm that follows it), linear, ReLU, residual add, and channel-preserving passes
// (pooling, flatten, dropout). Built from the modules' structure, never from a file.
import { CifarResNet } from '../../models/cifar-resnet.js';
import { CifarVGG } from '../../models/cifar-vgg.js';
import { TorchvisionResNet } from '../../models/torchvision-resnet.js';
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, ReLU, Sequential, type Module,
} from '../../nn/index.js';

export interface ConvNode { kind: 'conv'; id: number; input: number; root: 'model' | 'head'; path: string; module: Conv2d; bnPath: string | null; bn: BatchNorm2d | null }
export interface LinearNode { kind: 'linear'; id: number; input: number; root: 'model' | 'head'; path: string; module: Linear }
export interface ReluNode { kind: 'relu'; id: number; input: number; name: string }
export interface AddNode { kind: 'add'; id: number; inputs: number[]; name: string }
/** Channel-preserving: a constant channel stays the same constant unless `keepsConstant` is false. */
export interface PassNode { kind: 'pass'; id: number; input: number; name: string; keepsConstant: boolean; flatten: boolean }
export interface InputNode { kind: 'input'; id: number; channels: number }
export type GraphNode = ConvNode | LinearNode | ReluNode | AddNode | PassNode | InputNode;

export class ChannelGraph {
  readonly nodes: GraphNode[] = [];
  output = -1;

  add<N extends GraphNode>(node: Omit<N, 'id'>): number {
    const id = this.nodes.length;
    this.nodes.push({ ...node, id } as unknown as GraphNode);
    return id;
  }

  /** Nodes reading node `id`. */
  consumers(id: number): GraphNode[] {
    return this.nodes.filter((n) => ('input' in n && n.input === id) || (n.kind === 'add' && n.inputs.includes(id)));
  }

  /** Channels of a node's output (flatten keeps the channel count; the linear after it groups features). */
  channels(id: number): number {
    const n = this.nodes[id];
    switch (n.kind) {
      case 'input': return n.channels;
      case 'conv': return n.module.outChannels;
      case 'linear': return n.module.outFeatures;
      case 'add': return this.channels(n.inputs[0]);
      default: return this.channels(n.input);
    }
  }
}

const join = (prefix: string, name: string): string => (prefix ? `${prefix}.${name}` : name);

class Tracer {
  constructor(readonly g: ChannelGraph, readonly root: 'model' | 'head') {}

  conv(m: Conv2d, path: string, x: number, bn: BatchNorm2d | null = null, bnPath: string | null = null): number {
    return this.g.add<ConvNode>({ kind: 'conv', input: x, root: this.root, path, module: m, bn, bnPath });
  }

  relu(x: number, name: string): number {
    return this.g.add<ReluNode>({ kind: 'relu', input: x, name });
  }

  pass(x: number, name: string, keepsConstant = true, flatten = false): number {
    return this.g.add<PassNode>({ kind: 'pass', input: x, name, keepsConstant, flatten });
  }

  /** A residual block (CIFAR BasicBlock, torchvision BasicBlock or Bottleneck), found by its children. */
  block(m: Module, path: string, x: number): number {
    const c = (n: string): Module | undefined => m.child(n);
    const idt = c('downsample') ? this.module(c('downsample')!, join(path, 'downsample'), x) : x;
    const stages = c('conv3') ? ['1', '2', '3'] : ['1', '2'];
    let y = x;
    stages.forEach((s, i) => {
      const conv = c(`conv${s}`);
      const bn = c(`bn${s}`);
      if (!(conv instanceof Conv2d) || !(bn instanceof BatchNorm2d)) throw new Error(`compaction: block ${path} has no conv${s}/bn${s}`);
      y = this.conv(conv, join(path, `conv${s}`), y, bn, join(path, `bn${s}`));
      if (i < stages.length - 1) y = this.relu(y, join(path, 'relu'));
    });
    const sum = this.g.add<AddNode>({ kind: 'add', inputs: [y, idt], name: `${path} (residual add)` });
    return this.relu(sum, `${path} (after add)`);
  }

  sequential(s: Sequential, path: string, x: number): number {
    let y = x;
    s.layers.forEach((m, i) => {
      const p = join(path, String(i));
      const prev = this.g.nodes[y];
      if (m instanceof BatchNorm2d) {
        if (prev.kind !== 'conv' || prev.bn || this.g.consumers(y).length) throw new Error(`compaction: BatchNorm ${p} does not directly follow a conv`);
        prev.bn = m;
        prev.bnPath = p;
      } else y = this.module(m, p, y);
    });
    return y;
  }

  module(m: Module, path: string, x: number): number {
    if (m instanceof Sequential) return this.sequential(m, path, x);
    if (m instanceof Conv2d) return this.conv(m, path, x);
    if (m instanceof Linear) return this.g.add<LinearNode>({ kind: 'linear', input: x, root: this.root, path, module: m });
    if (m instanceof ReLU) return this.relu(x, path);
    if (m instanceof Dropout || m instanceof Identity) return this.pass(x, path);
    if (m instanceof Flatten) return this.pass(x, path, true, true);
    if (m instanceof MaxPool2d || m instanceof AdaptiveAvgPool2d) return this.pass(x, path);
    if (m instanceof AvgPool2d) {
      const pad = m.opts.padding ?? 0;
      const padded = (Array.isArray(pad) ? pad : [pad]).some((p) => Number(p) > 0);
      return this.pass(x, path, !(padded && (m.opts.countIncludePad ?? true)));
    }
    if (m.child('conv1') && m.child('bn1') && m.child('conv2')) return this.block(m, path, x);
    throw new Error(`compaction: unsupported layer ${path || '(root)'} (${m.describe()})`);
  }
}

/** The graph of a zoo model (CIFAR ResNet / VGG, torchvision ResNet, or a plain Sequential) and its head. */
export function traceModel(model: Module, head: Module | null): ChannelGraph {
  const g = new ChannelGraph();
  const t = new Tracer(g, 'model');
  const stem = [...model.namedModules()].find(([, m]) => m instanceof Conv2d)?.[1] as Conv2d | undefined;
  if (!stem) throw new Error('compaction: the model has no Conv2d');
  let x = g.add<InputNode>({ kind: 'input', channels: stem.inChannels });
  if (model instanceof CifarResNet || model instanceof TorchvisionResNet) {
    x = t.conv(model.conv1, 'conv1', x, model.bn1, 'bn1');
    x = t.relu(x, 'relu');
    if (model instanceof TorchvisionResNet) x = t.pass(x, 'maxpool');
    const layers = model instanceof CifarResNet ? [model.layer1, model.layer2, model.layer3] : model.layers;
    layers.forEach((l, i) => (x = t.sequential(l, `layer${i + 1}`, x)));
    x = t.pass(t.pass(x, 'avgpool'), 'flatten', true, true);
    x = t.module(model.fc, 'fc', x);
  } else if (model instanceof CifarVGG) {
    x = t.sequential(model.features, 'features', x);
    x = t.pass(x, 'flatten', true, true);
    x = t.sequential(model.classifier, 'classifier', x);
  } else if (model instanceof Sequential) {
    x = t.sequential(model, '', x);
  } else {
    throw new Error(`compaction: no graph for ${model.constructor.name} (supported: CifarResNet, CifarVGG, TorchvisionResNet, Sequential)`);
  }
  if (head) x = new Tracer(g, 'head').module(head, '', x);
  g.output = x;
  return g;
}
