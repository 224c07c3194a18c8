// ONNX graphs of the zoo models, following their forward(): CIFAR ResNet, torchvision ResNet
// (BasicBlock and Bottleneck) and CIFAR VGG.
import { BatchNorm2d, Conv2d, Module } from '../nn/index.js';
import { CifarResNet } from '../models/cifar-resnet.js';
import { CifarVGG } from '../models/cifar-vgg.js';
import { TorchvisionResNet } from '../models/torchvision-resnet.js';
import type { OnnxGraphBuilder } from './onnx-builder.js';

function childOf<T extends Module>(m: Module, name: string, type: abstract new (...a: never[]) => T, path: string): T {
  const c = m.child(name);
  if (!(c instanceof type)) throw new Error(`onnx export: ${path}.${name} should be a ${type.name}, found ${c ? c.constructor.name : 'nothing'}`);
  return c;
}

/** A residual block with conv1/bn1, conv2/bn2[, conv3/bn3] and an optional downsample: ReLU after
 *  every bn but the last, then add the identity and ReLU (BasicBlock and Bottleneck alike). */
function residualBlock(b: OnnxGraphBuilder, block: Module, x: string, path: string): string {
  const depth = block.child('conv3') ? 3 : 2;
  let y = x;
  for (let i = 1; i <= depth; i++) {
    y = b.conv(childOf(block, `conv${i}`, Conv2d, path), y, `${path}.conv${i}`);
    y = b.batchNorm(childOf(block, `bn${i}`, BatchNorm2d, path), y, `${path}.bn${i}`);
    if (i < depth) y = b.relu(y, `${path}.relu`);
  }
  const down = block.child('downsample');
  const idt = down ? b.module(down, x, `${path}.downsample`) : x;
  return b.relu(b.add(y, idt, path), `${path}.relu`);
}

function stages(b: OnnxGraphBuilder, m: Module, names: string[], x: string): string {
  for (const name of names) {
    const layer = m.child(name);
    if (!layer) throw new Error(`onnx export: the model has no ${name}`);
    for (const [i, block] of layer.namedChildren()) x = residualBlock(b, block, x, `${name}.${i}`);
  }
  return x;
}

/** Emits the zoo model's forward from `input`; returns the logits' value name, or null when the
 *  model is not a zoo model. */
export function emitZooModel(b: OnnxGraphBuilder, model: Module, input: string): string | null {
  if (model instanceof CifarResNet) {
    let x = b.relu(b.batchNorm(model.bn1, b.conv(model.conv1, input, 'conv1'), 'bn1'), 'relu');
    x = stages(b, model, ['layer1', 'layer2', 'layer3'], x);
    return b.gemm(model.fc, b.flatten(b.globalAvgPool(x, 'avgpool'), ''), 'fc');
  }
  if (model instanceof TorchvisionResNet) {
    let x = b.relu(b.batchNorm(model.bn1, b.conv(model.conv1, input, 'conv1'), 'bn1'), 'relu');
    x = b.module(model.maxpool, x, 'maxpool');
    x = stages(b, model, ['layer1', 'layer2', 'layer3', 'layer4'], x);
    return b.gemm(model.fc, b.flatten(b.module(model.avgpool, x, 'avgpool'), ''), 'fc');
  }
  if (model instanceof CifarVGG) {
    const x = b.flatten(b.module(model.features, input, 'features'), '');
    return b.module(model.classifier, x, 'classifier');
  }
  return null;
}
