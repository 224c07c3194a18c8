// Checkpoints written by PyTorch load into the zoo and reproduce PyTorch's logits (eval mode).
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { loadModel } from '../../src/models/load.js';
import { guessArchitecture } from '../../src/models/zoo.js';
import { itNeeds, loadGolden, goldenPath, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';

const cases: [string, string, string][] = [
  // file, reference io file, expected architecture
  ['cifar10_resnet20.pt', 'cifar10_resnet20.io.safetensors', 'cifar_resnet20'],
  ['cifar10_resnet20.legacy.pt', 'cifar10_resnet20.io.safetensors', 'cifar_resnet20'],
  ['cifar10_resnet20.wrapped.pt', 'cifar10_resnet20.io.safetensors', 'cifar_resnet20'],
  ['cifar10_resnet20.safetensors', 'cifar10_resnet20.io.safetensors', 'cifar_resnet20'],
  ['cifar100_vgg16_bn.pt', 'cifar100_vgg16_bn.io.safetensors', 'cifar_vgg16_bn'],
  ['resnet18_10cls.pt', 'resnet18_10cls.io.safetensors', 'resnet18'],
  ['resnet_bottleneck_1111_w16.pt', 'resnet_bottleneck_1111_w16.io.safetensors', 'resnet50'],
];

describe('golden checkpoints reproduce PyTorch logits', () => {
  for (const [file, io, arch] of cases) {
    itNeeds([`golden/${file}`], `${file} (${arch})`, () => {
      const loaded = loadModel(goldenPath(file));
      expect(loaded.arch).toBe(arch);
      const ref = loadGolden(io);
      const logits = noGrad(() => loaded.model.forward(ref.get('input')));
      const err = relErr(logits.data, ref.get('logits').data);
      expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
    });
  }

  itNeeds(['golden/resnet_bottleneck_1111_w16.pt'], 'reads the bottleneck widths and stage sizes from the keys', () => {
    const loaded = loadModel(goldenPath('resnet_bottleneck_1111_w16.pt'));
    expect(loaded.options).toMatchObject({ numClasses: 10, widthPerGroup: 16, groups: 1, layers: [1, 1, 1, 1] });
  });

  it('a wrong --arch lists missing, unexpected and mismatched keys', () => {
    expect(() => loadModel(goldenPath('cifar10_resnet20.pt'), { arch: 'cifar_resnet32' })).toThrow(/missing keys \(\d+\): layer1\.3\./);
    expect(() => loadModel(goldenPath('cifar10_resnet20.pt'), { arch: 'cifar_vgg16_bn' })).toThrow(/unexpected keys/);
  });

  it('refuses to guess from unknown keys, naming them', () => {
    expect(() => guessArchitecture(new Map([['encoder.weight', [3, 3]]]))).toThrow(/encoder\.weight.*--arch/);
  });
});
