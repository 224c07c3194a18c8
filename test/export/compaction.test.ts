// Item 2 of issue 6: channels made constant by the masks are removed (their constant folded into the
// consumers) and the compacted model gives the masked model's logits with fewer parameters.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactModel, type CompactionReport } from '../../src/export/compaction/index.js';
import { loadReengineered, prunedStateDict, reengineeredLogits, writeStateDict } from '../../src/export/pruned.js';
import { loadModel } from '../../src/models/load.js';
import type { BatchNorm2d, Module, Sequential } from '../../src/nn/index.js';
import { attachMasks } from '../../src/seam/masks.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { goldenPath, itNeeds, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { child, killChannel, randomPrune, seededHead, setBnConstant, tempDir } from '../helpers/export-fixtures.js';

const bn = (m: Module, path: string): BatchNorm2d => child(m, path) as BatchNorm2d;
const layer = (r: CompactionReport, name: string) => r.layers.find((l) => l.layer === name)!;

function setup(file: string, pruneFraction: number) {
  const loaded = loadModel(goldenPath(file));
  const masks = attachMasks(loaded.model);
  randomPrune(masks, pruneFraction);
  const head = seededHead(loaded.model.numClasses);
  return { model: loaded.model, masks, head, arch: loaded.arch };
}

function compactAndCompare(model: Module, head: Sequential, x: Tensor, sample: number[]): { report: CompactionReport; ref: Tensor } {
  const ref = reengineeredLogits(model, head, x);
  const report = compactModel(model, head, { sampleShape: sample });
  const y = reengineeredLogits(model, head, x);
  const err = relErr(y.data, ref.data);
  expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
  expect(report.parameters.after).toBeLessThan(report.parameters.before);
  expect(report.flops!.after.dense).toBeLessThan(report.flops!.before.dense);
  return { report, ref };
}

const input = (shape: number[], seed = 5): Tensor => Tensor.randn(shape, new Rng(seed));

describe('structured compaction', () => {
  it('ResNet20: zero channels before padded convs and a whole residual channel go; nonzero ones before padded convs stay', () => {
    const { model, masks, head } = setup('cifar10_resnet20.pt', 0.3);
    // inside a block: relu(constant) = 0 feeds a zero-padded conv -> removable
    killChannel(masks, 'layer1.0.conv1', 2);
    setBnConstant(bn(model, 'layer1.0.bn1'), 2, -0.5);
    // a positive constant before a zero-padded conv -> kept, reported
    killChannel(masks, 'layer2.1.conv1', 4);
    setBnConstant(bn(model, 'layer2.1.bn1'), 4, 0.7);
    // dead before a residual add on one path only -> kept, reported
    killChannel(masks, 'layer1.1.conv2', 6);
    // residual stream channel 9 of stage 3: dead on every path into every add; zero where padded convs read it,
    // a positive constant at the stage output (read by avgpool -> fc, so folded into fc's bias)
    for (const [conv, b, v] of [['layer3.0.downsample.0', 'layer3.0.downsample.1', -0.4], ['layer3.0.conv2', 'layer3.0.bn2', -0.1],
      ['layer3.1.conv2', 'layer3.1.bn2', -0.2], ['layer3.2.conv2', 'layer3.2.bn2', 0.9]] as const) {
      killChannel(masks, conv, 9);
      setBnConstant(bn(model, b), 9, v);
    }
    const { report, ref } = compactAndCompare(model, head, input([2, 3, 32, 32]), [3, 32, 32]);
    expect(layer(report, 'layer1.0.conv1').removed).toContain(2);
    expect(layer(report, 'layer2.1.conv1').removed).not.toContain(4);
    for (const l of ['layer3.0.downsample.0', 'layer3.0.conv2', 'layer3.1.conv2', 'layer3.2.conv2']) expect(layer(report, l).removed).toContain(9);
    expect(layer(report, 'fc').inputsRemoved).toBeGreaterThan(0);
    const reasons = report.kept.map((k) => `${k.layers.join(',')}#${k.channel}: ${k.reason}`).join('\n');
    expect(reasons).toMatch(/layer2\.1\.conv1#4: constant 0\.7\d* feeds zero-padded conv layer2\.1\.conv2/);
    expect(reasons).toMatch(/#6: residual add: constant on layer1\.1\.conv2 but not on conv1, layer1\.0\.conv2, layer1\.2\.conv2/);
    // the compacted model exports like any other and reloads (shapes from the file, arch from its metadata)
    const file = join(tempDir(), 'compacted.safetensors');
    writeStateDict(file, prunedStateDict(model, head), 'safetensors', { arch: 'cifar_resnet20' });
    const back = loadReengineered(file);
    expect(relErr(reengineeredLogits(back.model, back.head!, input([2, 3, 32, 32])).data, ref.data)).toBeLessThan(TOL_CONV_GEMM);
  });

  itNeeds(['golden/cifar100_vgg16_bn.pt'], 'VGG16: dead conv channels (zero or folded through pool + flatten into the classifier) and dead classifier units go', () => {
    const { model, masks, head } = setup('cifar100_vgg16_bn.pt', 0.5);
    for (const k of [1, 8, 30]) {
      killChannel(masks, 'features.7', k); // conv 3 (64 -> 128), feeds a zero-padded conv
      setBnConstant(bn(model, 'features.8'), k, -1);
    }
    killChannel(masks, 'features.10', 3); // positive constant before a zero-padded conv: kept
    setBnConstant(bn(model, 'features.11'), 3, 0.3);
    for (const k of [0, 100, 511]) {
      killChannel(masks, 'features.40', k); // the last conv: -> maxpool -> flatten -> classifier.0 (folded)
      setBnConstant(bn(model, 'features.41'), k, 0.25 * (k % 3 + 1));
    }
    for (const k of [5, 6, 400]) killChannel(masks, 'classifier.0', k); // bias masked too: relu(0)
    const b3 = masks.find((m) => m.param === 'classifier.3.bias')!;
    for (const k of [7, 300]) {
      killChannel(masks, 'classifier.3', k);
      b3.mask.f32[k] = 1; // keep the bias: the unit is the constant relu(b), folded into classifier.6
    }
    const { report } = compactAndCompare(model, head, input([2, 3, 32, 32]), [3, 32, 32]);
    expect(layer(report, 'features.7').removed).toEqual(expect.arrayContaining([1, 8, 30]));
    expect(layer(report, 'features.10').removed).not.toContain(3);
    expect(layer(report, 'features.40').removed).toEqual(expect.arrayContaining([0, 100, 511]));
    expect(layer(report, 'classifier.0').removed).toEqual(expect.arrayContaining([5, 6, 400]));
    expect(layer(report, 'classifier.0').inputsRemoved).toBeGreaterThanOrEqual(3);
    expect(layer(report, 'classifier.3').removed).toEqual(expect.arrayContaining([7, 300]));
  });

  itNeeds(['golden/resnet_bottleneck_1111_w16.pt'], 'torchvision Bottleneck ResNet: nonzero constants fold into 1x1 convs, through the stem maxpool and across residual adds', () => {
    const { model, masks, head } = setup('resnet_bottleneck_1111_w16.pt', 0.3);
    killChannel(masks, 'conv1', 5); // stem: -> maxpool (padding ignored) -> 1x1 conv1 and 1x1 downsample of layer1.0
    setBnConstant(bn(model, 'bn1'), 5, 0.6);
    killChannel(masks, 'layer1.0.conv2', 3); // 3x3 output -> 1x1 conv3
    setBnConstant(bn(model, 'layer1.0.bn2'), 3, 0.8);
    killChannel(masks, 'layer1.0.conv1', 2); // positive, before the padded 3x3 conv2: kept
    setBnConstant(bn(model, 'layer1.0.bn1'), 2, 0.5);
    for (const [conv, b, v] of [['layer1.0.conv3', 'layer1.0.bn3', 0.3], ['layer1.0.downsample.0', 'layer1.0.downsample.1', 0.4]] as const) {
      killChannel(masks, conv, 17); // stage-1 stream channel: read only by 1x1 convs of layer2.0
      setBnConstant(bn(model, b), 17, v);
    }
    const { report } = compactAndCompare(model, head, input([2, 3, 64, 64]), [3, 64, 64]);
    expect(layer(report, 'conv1').removed).toContain(5);
    expect(layer(report, 'layer1.0.conv2').removed).toContain(3);
    expect(layer(report, 'layer1.0.conv1').removed).not.toContain(2);
    expect(layer(report, 'layer1.0.conv3').removed).toContain(17);
    expect(layer(report, 'layer1.0.downsample.0').removed).toContain(17);
    expect(layer(report, 'layer2.0.downsample.0').inputsRemoved).toBeGreaterThan(0);
  });

  it('leaves the masked model untouched when nothing is constant, and says so', () => {
    const { model, head } = setup('cifar10_resnet20.pt', 0);
    const before = reengineeredLogits(model, head, input([1, 3, 32, 32]));
    const report = compactModel(model, head);
    expect(report.channelsRemoved).toBe(0);
    expect(report.parameters.after).toBe(report.parameters.before);
    expect(relErr(reengineeredLogits(model, head, input([1, 3, 32, 32])).data, before.data)).toBeLessThan(1e-6);
  });
});

