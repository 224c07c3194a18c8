// Issue 16 on the device path: kernel and channel SeaM steps on 'cuda' (the emulated driver
// test/cuda-emu/fake_libcuda.cpp, so the addon's CUDA launchers and kernels run on the CPU) match
// the same steps on the cpu: logits, loss, ratio, mask gradients and updated masks. Needs g++
// (skipped otherwise); says nothing about real-GPU timing.
import { describe, expect, it } from 'vitest';
import { compileEmu, gxxVersion } from '../cuda/gxx.js';

const gxx = gxxVersion();
if (gxx) process.env.SEAM_LIBCUDA = compileEmu('libcuda-emu-granularity.so', ['fake_libcuda.cpp'], ['-shared', '-fPIC']);
const { cudaStatus } = await import('../../src/backend/cuda-native.js');
const status = gxx ? cudaStatus() : null;
const why = !gxx ? 'g++ not found' : status?.build ? `the addon has no CUDA kernels: ${status.build}` : !status?.available ? status?.reason : '';

const { backward } = await import('../../src/autograd/backward.js');
const { deviceScope } = await import('../../src/backend/storage.js');
const { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential, manualSeed } = await import('../../src/nn/index.js');
const ops = await import('../../src/ops/index.js');
const { Adam } = await import('../../src/optim/index.js');
const { attachMasks, maskRatio, seamTrain } = await import('../../src/seam/masks.js');
const { Tensor } = await import('../../src/tensor/tensor.js');
const { Rng } = await import('../../src/util/rng.js');
const { expectClose } = await import('../cuda/parity.js');

type Granularity = 'kernel' | 'channel';

function steps(device: 'cpu' | 'cuda', granularity: Granularity, n: number) {
  manualSeed(7);
  const bn = new BatchNorm2d(4);
  const model = new Sequential(new Conv2d(3, 4, 3, { padding: 1, bias: false }), bn, new ReLU(), new Conv2d(4, 6, 3, { padding: 1 }), new ReLU(),
    new AdaptiveAvgPool2d(1), new Flatten(), new Linear(6, 6), new ReLU(), new Linear(6, 5));
  const rng = new Rng(3);
  bn.runningMean.f32.set(Array.from({ length: 4 }, () => rng.normal() * 0.1));
  bn.runningVar.f32.set(Array.from({ length: 4 }, () => 0.5 + rng.nextFloat()));
  const head = new Sequential(new ReLU(), new Linear(5, 2));
  model.to(device);
  head.to(device);
  const masks = attachMasks(model, { granularity, sampleShape: [3, 8, 8] });
  seamTrain(model);
  const opt = new Adam([{ params: masks.map((m) => m.mask), lr: 0.3 }, { params: head.parameters(), lr: 0.1 }]);
  const x = Tensor.randn([4, 3, 8, 8], new Rng(5)).to(device);
  const y = Tensor.ints([0, 1, 1, 0]).to(device);
  const out = [];
  for (let s = 0; s < n; s++) {
    out.push(deviceScope(() => {
      opt.zeroGrad();
      const logits = head.forward(model.forward(x));
      const ratio = maskRatio(masks);
      const loss = ops.add(ops.crossEntropy(logits, y), ops.scale(ratio, 2));
      backward(loss);
      const grads = masks.map((m) => m.mask.grad!.cpu().f32.slice());
      opt.step();
      return { logits: logits.cpu().f32.slice(), loss: loss.item(), ratio: ratio.item(), grads, masks: masks.map((m) => m.mask.cpu().f32.slice()) };
    }));
  }
  model.to('cpu');
  return out;
}

describe.skipIf(Boolean(why))(why ? `kernel and channel masks on the emulated CUDA driver (skipped: ${why})` : 'kernel and channel masks on the emulated CUDA driver', () => {
  for (const granularity of ['kernel', 'channel'] as Granularity[]) {
    it(`${granularity}: SeaM steps on cuda match the cpu`, () => {
      const cpu = steps('cpu', granularity, 6);
      const dev = steps('cuda', granularity, 6);
      cpu.forEach((c, s) => {
        const d = dev[s];
        expectClose(`step ${s} logits`, d.logits, c.logits, 1e-5, 1e-4);
        expect(d.loss).toBeCloseTo(c.loss, 4);
        expect(d.ratio).toBeCloseTo(c.ratio, 6);
        c.grads.forEach((g, i) => expectClose(`step ${s} mask ${i} grad`, d.grads[i], g, 1e-6, 1e-3));
        c.masks.forEach((m, i) => expectClose(`step ${s} mask ${i}`, d.masks[i], m, 1e-5, 1e-4));
      });
      expect(cpu[5].ratio).toBeLessThan(1); // masks moved past 0: the comparison covers gated channels
    });
  }
});
