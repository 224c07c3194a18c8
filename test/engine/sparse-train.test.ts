// The training step's sparse convolutions (native/kernels/sparse/train.rs): forward, fused eval
// BatchNorm + ReLU forward and data gradient over the kept weights only agree with the dense
// kernels, for several shapes and kept fractions, and a whole SeaM step (loss, mask and head
// gradients) agrees with the dense step. 'on' forces the sparse path wherever the shape allows;
// 'auto' takes it only below the measured crossover.
import { afterEach, describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { convFlops, convTrace, setSparseConvMode, sparseForwardShare, type SparseConvMode } from '../../src/backend/conv-stats.js';
import { native } from '../../src/native.js';
import { CifarResNet } from '../../src/models/cifar-resnet.js';
import { Linear, manualSeed } from '../../src/nn/index.js';
import * as ops from '../../src/ops/index.js';
import { attachMasks, maskRatio, seamTrain } from '../../src/seam/masks.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { relErr, TOL_CONV_GEMM } from '../helpers/golden.js';

afterEach(() => void setSparseConvMode('auto'));

const rng = new Rng(3);
const randn = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal());
const keep = (w: Float32Array, d: number): Float32Array => w.map((v) => (rng.nextFloat() < d ? v : 0));

function withMode<T>(mode: SparseConvMode, f: () => T): T {
  const prev = setSparseConvMode(mode);
  try {
    return f();
  } finally {
    setSparseConvMode(prev);
  }
}

// [N, C, H, O, K, stride, pad] (each 1M+ multiply-adds and 64+ weights per output channel, so
// the sparse path may take it): direct (32x32, stride 1 and 2), lanes (4x4, batch 16+), panels
// (4x4 at batch 6), a 1x1, 8 input channels; the data gradient runs sparse where it runs as a
// forward (stride 1, 8+ channels).
const shapes: [number, number, number, number, number, number, number][] = [
  [4, 16, 32, 16, 3, 1, 1], [8, 16, 17, 24, 3, 2, 1], [16, 64, 4, 32, 3, 1, 1], [6, 32, 4, 48, 3, 1, 1],
  [16, 64, 8, 32, 1, 1, 0], [4, 8, 32, 16, 3, 1, 1],
];

describe('sparse training convolutions', () => {
  for (const [n, c, h, o, k, s, p] of shapes) {
    for (const d of [0.05, 0.2, 0.5]) {
      it(`match the dense kernels: [${[n, c, h, o, k, s, p]}] keep ${d}`, () => {
        const oh = Math.floor((h + 2 * p - k) / s) + 1;
        const params = Int32Array.from([n, c, h, h, o, k, k, s, s, p, p, 1, 1, 1]);
        const x = randn(n * c * h * h);
        const w = keep(randn(o * c * k * k), d);
        const bias = randn(o);
        const gy = randn(n * o * oh * oh);
        const res = randn(n * o * oh * oh);
        const [gamma, beta, mean] = [randn(o), randn(o), randn(o)];
        const variance = Float32Array.from({ length: o }, () => 0.5 + rng.nextFloat());
        const run = (mode: SparseConvMode): Float32Array[] => withMode(mode, () => {
          const y = new Float32Array(n * o * oh * oh);
          const yf = new Float32Array(y.length);
          const gx = new Float32Array(x.length);
          const [sm, si] = [new Float32Array(o), new Float32Array(o)];
          convFlops(true);
          native.conv2dForward(x, w, bias, y, params);
          native.conv2dForwardBnRelu(x, w, bias, yf, params, gamma, beta, mean, variance, 1e-5, res, sm, si);
          native.conv2dBackwardData(gy, w, gx, params);
          return [y, yf, gx, si];
        });
        const dense = run('off');
        expect(convFlops().forward.sparse).toBe(0);
        const sparse = run('on');
        const f = convFlops();
        expect(f.forward.dense, 'both forwards ran sparse').toBe(0);
        expect(f.forward.sparse).toBe(2 * 2 * n * o * oh * oh * c * k * k);
        ['forward', 'fused forward', 'data gradient', 'saved invstd'].forEach((what, i) => {
          const err = relErr(sparse[i], dense[i]);
          expect(err, `${what}: relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
        });
      });
    }
  }

  it('a thin first layer (27 weights per output channel) stays dense even when sparse is forced', () => {
    const params = Int32Array.from([16, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    withMode('on', () => {
      convFlops(true);
      native.conv2dForward(randn(16 * 3 * 1024), keep(randn(16 * 27), 0.05), null, new Float32Array(16 * 16 * 1024), params);
      expect(sparseForwardShare(convFlops(true))).toBe(0);
    });
  });

  it('auto runs dense weights dense and very sparse ones sparse, and the trace says which', () => {
    const params = Int32Array.from([8, 32, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    const x = randn(8 * 32 * 256);
    const y = new Float32Array(8 * 32 * 256);
    const dense = randn(32 * 32 * 9);
    convTrace(true);
    convFlops(true);
    native.conv2dForward(x, dense, null, y, params);
    expect(sparseForwardShare(convFlops(true))).toBe(0);
    native.conv2dForward(x, keep(dense, 0.03), null, y, params);
    expect(sparseForwardShare(convFlops(true))).toBe(1);
    const calls = convTrace(false);
    expect(calls.map((cl) => [cl.pass, cl.sparse])).toEqual([['forward', false], ['forward', true]]);
    expect(calls[1].density).toBeLessThan(0.06);
    expect(calls[1].params).toEqual(Array.from(params));
  });

  it('a ResNet20 SeaM step with masks of several densities agrees with the dense step', () => {
    for (const d of [1, 0.3, 0.08]) {
      const step = (mode: SparseConvMode) => withMode(mode, () => {
        manualSeed(4);
        const model = new CifarResNet({ depth: 20 });
        const masks = attachMasks(model);
        const r = new Rng(9);
        for (const m of masks) if (!m.param.endsWith('bias')) m.mask.f32.forEach((_, i, a) => (a[i] = r.nextFloat() < d ? 1 : -1));
        seamTrain(model);
        const head = new Linear(10, 2);
        const x = Tensor.randn([8, 3, 32, 32], new Rng(5));
        const y = Tensor.ints([0, 1, 1, 0, 1, 0, 0, 1]);
        convFlops(true);
        const loss = ops.add(ops.crossEntropy(head.forward(ops.relu(model.forward(x))), y), maskRatio(masks));
        backward(loss);
        return { loss: loss.item(), grads: [...masks.map((m) => m.mask.grad!.f32), ...head.parameters().map((t) => t.grad!.f32)], share: sparseForwardShare(convFlops(true)) };
      });
      const dense = step('off');
      const sparse = step('on');
      expect(dense.share).toBe(0);
      expect(sparse.share).toBeGreaterThan(0.9);
      expect(Math.abs(sparse.loss - dense.loss) / Math.abs(dense.loss)).toBeLessThan(1e-5);
      dense.grads.forEach((g, i) => {
        const err = relErr(sparse.grads[i], g);
        expect(err, `keep ${d}: gradient ${i}: relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
      });
    }
  });
});
