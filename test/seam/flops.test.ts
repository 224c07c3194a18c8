// FLOPs per sample, dense and effective, counted through every layer entry point (fused or not).
import { describe, expect, it } from 'vitest';
import { CifarResNet } from '../../src/models/cifar-resnet.js';
import { attachMasks } from '../../src/seam/masks.js';
import { countFlops } from '../../src/seam/flops.js';

describe('countFlops', () => {
  it('counts every conv and linear of CIFAR ResNet20 at its output resolution', () => {
    const model = new CifarResNet({ depth: 20, numClasses: 10 }).eval();
    // independent count: 3x3 convs at 32/16/8 px, two 1x1 stride-2 downsamples, the 64x10 fc
    const conv3 = (cin: number, cout: number, px: number): number => 2 * cin * cout * 9 * px * px;
    const expected = conv3(3, 16, 32) + 6 * conv3(16, 16, 32)
      + conv3(16, 32, 16) + 5 * conv3(32, 32, 16) + 2 * 16 * 32 * 16 * 16
      + conv3(32, 64, 8) + 5 * conv3(64, 64, 8) + 2 * 32 * 64 * 8 * 8
      + 2 * 64 * 10;
    const f = countFlops(model, [3, 32, 32]);
    expect(f.dense).toBe(expected);
    expect(f.effective).toBe(expected);
  });

  it('effective FLOPs drop with the weights the masks remove', () => {
    const model = new CifarResNet({ depth: 20, numClasses: 10 }).eval();
    const masks = attachMasks(model);
    const conv1 = masks.find((m) => m.param === 'conv1.weight')!;
    conv1.mask.f32.fill(-1, 0, conv1.mask.size / 2);
    const f = countFlops(model, [3, 32, 32]);
    expect(f.dense - f.effective).toBe(2 * (conv1.mask.size / 2) * 32 * 32);
  });
});
