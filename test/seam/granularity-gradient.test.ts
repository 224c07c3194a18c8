// Issue 16: the straight-through gradient of a shared mask element at each granularity against
// finite differences on a small problem, the retained ratio's gradient, the single clamp of a
// shared gate, and SeaM's weight granularity bit for bit as before.
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { noGrad } from '../../src/autograd/node.js';
import { native } from '../../src/native.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, ReLU, Sequential, manualSeed } from '../../src/nn/index.js';
import * as ops from '../../src/ops/index.js';
import { attachMasks, maskRatio, type Granularity, type MaskEntry } from '../../src/seam/masks.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';

/** conv -> BN -> ReLU -> conv(bias, no BN) -> ReLU -> pool -> flatten -> linear -> ReLU -> linear (the output layer). */
function smallModel(): Sequential {
  manualSeed(3);
  const m = new Sequential(new Conv2d(2, 4, 3, { padding: 1, bias: false }), new BatchNorm2d(4), new ReLU(),
    new Conv2d(4, 3, 3, { padding: 1 }), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(3, 5), new ReLU(), new Linear(5, 3));
  const bn = m.layers[1] as BatchNorm2d;
  const rng = new Rng(4);
  for (let c = 0; c < 4; c++) {
    bn.weight.f32[c] = 0.5 + rng.nextFloat();
    bn.bias.f32[c] = rng.nextFloat() - 0.5;
    bn.runningMean.f32[c] = 0.3 * (rng.nextFloat() - 0.5);
    bn.runningVar.f32[c] = 0.5 + rng.nextFloat();
  }
  return m.eval();
}

const x = Tensor.randn([6, 2, 5, 5], new Rng(9));
const y = Tensor.ints([0, 1, 2, 0, 1, 2]);
const loss = (m: Sequential): Tensor => ops.crossEntropy(m.forward(x), y);
const lossValue = (m: Sequential): number => noGrad(() => loss(m).item());

/** The parameter values one mask element covers: [tensor data, indices]. */
function covered(e: MaskEntry, el: number): [Float32Array, number[]][] {
  const range = (n: number, from: number): number[] => Array.from({ length: n }, (_, i) => from + i);
  const block = e.weight.size / e.mask.size;
  if (e.granularity !== 'channel') return [[e.weight.f32, range(block, el * block)]];
  if (e.gateBn) return [[e.gateBn.module.weight.f32, [el]], [e.gateBn.module.bias.f32, [el]]]; // the gate scales the BN output
  const out: [Float32Array, number[]][] = [[e.weight.f32, range(block, el * block)]];
  if (e.module.bias) out.push([e.module.bias.f32, [el]]);
  return out;
}

/** dL/ds at s = s0 for the covered values scaled by s: central differences, or from the right
 *  (one-sided, Richardson-extrapolated: 2 D(h/2) - D(h)) when `right`. */
function fdScale(m: Sequential, cover: [Float32Array, number[]][], s0: number, h: number, right = false): number {
  const saved = cover.map(([d, idx]) => idx.map((i) => d[i]));
  const at = (s: number): number => {
    cover.forEach(([d, idx], j) => idx.forEach((i, k) => (d[i] = saved[j][k] * s)));
    return lossValue(m);
  };
  const l0 = at(s0);
  const g = right ? 2 * ((at(s0 + h / 2) - l0) / (h / 2)) - (at(s0 + h) - l0) / h : (at(s0 + h) - at(s0 - h)) / (2 * h);
  cover.forEach(([d, idx], j) => idx.forEach((i, k) => (d[i] = saved[j][k])));
  return g;
}

function maskGrads(m: Sequential, masks: MaskEntry[]): Float32Array[] {
  for (const e of masks) e.mask.grad = null;
  backward(loss(m));
  return masks.map((e) => e.mask.grad!.f32.slice());
}

describe('straight-through gradient of a shared mask element = d loss / d scale of what it covers', () => {
  for (const granularity of ['weight', 'kernel', 'channel'] as Granularity[]) {
    it(granularity, () => {
      const m = smallModel();
      const masks = attachMasks(m, { granularity, sampleShape: [2, 5, 5] });
      const grads = maskGrads(m, masks);
      let checked = 0;
      masks.forEach((e, i) => {
        for (let el = 0; el < e.mask.size; el++) {
          const g = grads[i][el];
          if (Math.abs(g) < 2e-3 || Math.abs(g) > 0.9) continue; // tiny or clamped
          const fd = fdScale(m, covered(e, el), 1, 1e-2);
          expect(Math.abs(g - fd), `${e.param} element ${el}: STE ${g}, finite differences ${fd}`).toBeLessThan(2e-4 + 0.02 * Math.abs(fd));
          checked++;
        }
      });
      expect(checked).toBeGreaterThan(5);
      if (granularity === 'kernel') expect(masks[0].mask.shape).toEqual([4, 2, 1, 1]);
      if (granularity === 'channel') {
        expect(masks.map((e) => [e.param, e.granularity, e.gateBn?.path ?? null])).toEqual([
          ['0.weight', 'channel', '1'], ['3.weight', 'channel', null], ['7.weight', 'channel', null], ['9.weight', 'kernel', null], ['9.bias', 'kernel', null]]);
      }
    });
  }

  it('a masked channel before a ReLU gets the gradient of switching it back on (gated after the ReLU)', () => {
    for (const entry of [0, 1, 2]) {
      // mask each channel in turn; check the one whose gradient is largest (the others move the loss below float resolution)
      const trials = [0, 1, 2].map((channel) => {
        const m = smallModel();
        const masks = attachMasks(m, { granularity: 'channel', sampleShape: [2, 5, 5] });
        masks[entry].mask.f32[channel] = -0.5;
        return { m, e: masks[entry], channel, g: maskGrads(m, masks)[entry][channel] };
      });
      const { m, e, channel, g } = trials.reduce((a, b) => (Math.abs(b.g) > Math.abs(a.g) ? b : a));
      e.mask.f32[channel] = 1; // the loss as the channel's output grows from 0: d/ds at s = 0+
      const fd = fdScale(m, covered(e, channel), 0, 2e-2, true);
      expect(Math.abs(g), e.param).toBeGreaterThan(1e-4); // not the 0 of relu'(0)
      expect(Math.abs(g - fd), `${e.param} channel ${channel}: STE ${g}, finite differences ${fd}`).toBeLessThan(1e-5 + 0.05 * Math.abs(fd));
    }
  });
});

describe('retained ratio over granularities', () => {
  it('counts weights: flipping an element changes r by cover / N, which is its gradient', () => {
    for (const granularity of ['weight', 'kernel', 'channel'] as Granularity[]) {
      const m = smallModel();
      const masks = attachMasks(m, { granularity, sampleShape: [2, 5, 5] });
      const total = masks.reduce((a, e) => a + e.mask.size * e.cover, 0);
      const weights = [...m.namedModules()].filter(([, l]) => l instanceof Conv2d || l instanceof Linear)
        .reduce((a, [, l]) => a + (l as Conv2d).weight.size + ((l as Conv2d).bias?.size ?? 0), 0);
      expect(total, granularity).toBe(weights); // the same N at every granularity
      const r0 = noGrad(() => maskRatio(masks).item());
      expect(r0).toBe(1);
      for (const e of masks) e.mask.grad = null;
      backward(maskRatio(masks));
      for (const e of masks) {
        e.mask.f32[0] = -1;
        const dr = noGrad(() => maskRatio(masks).item()) - r0;
        e.mask.f32[0] = 1;
        expect(dr, `${granularity} ${e.param}`).toBeCloseTo(-e.cover / total, 7);
        expect(e.mask.grad!.f32[0], `${granularity} ${e.param}`).toBeCloseTo(e.cover / total, 7);
      }
    }
  });
});

describe('mask ops', () => {
  it('a gate shared by several parameters is clamped once, on the sum of their contributions', () => {
    const gateMask = Tensor.ones([2], true);
    const w1 = new Tensor(new Float32Array([1, 1, 1, 1]), [2, 2]);
    const w2 = new Tensor(new Float32Array([1, 1]), [2]);
    const gate = ops.binarize(gateMask);
    const a = ops.gatedWeight(w1, gate);
    const b = ops.gatedWeight(w2, gate);
    // d/dgate: row sums of 0.35 * w1 = 0.7 and 0.7 * w2 = 0.7 -> 1.4 before the clamp; element 1 stays small
    const g1 = new Tensor(new Float32Array([0.35, 0.35, 0.1, 0.1]), [2, 2]);
    const g2 = new Tensor(new Float32Array([0.7, -0.1]), [2]);
    backward(ops.add(ops.sum(ops.mul(a, g1)), ops.sum(ops.mul(b, g2))));
    expect([...gateMask.grad!.f32].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([1, 0.1]);
  });

  it('per-weight masks (block 1) are bit for bit the per-weight kernels', () => {
    const rng = new Rng(2);
    const n = 70_000;
    const w = Tensor.randn([n], rng);
    const m = Tensor.randn([n], rng, 1, true);
    w.f32[3] = -0; m.f32[4] = 0; w.f32[5] = Number.NaN;
    const g = Tensor.randn([n], rng, 3);
    const out = ops.maskedWeight(w, m);
    backward(ops.sum(ops.mul(out, g)));
    const want = new Float32Array(n);
    const wantGrad = new Float32Array(n);
    native.maskedWeight(w.f32, m.f32, want);
    native.maskGrad(g.f32, w.f32, wantGrad);
    expect(Buffer.from(out.f32.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    expect(Buffer.from(m.grad!.f32.buffer).equals(Buffer.from(wantGrad.buffer))).toBe(true);
  });

  it('block masks: forward over blocks, block-sum gradient; bad shapes name the op', () => {
    const w = new Tensor(Float32Array.from({ length: 12 }, (_, i) => i - 5), [2, 2, 3]);
    const m = new Tensor(new Float32Array([1, -1, -2, 3]), [2, 2, 1], true);
    const out = ops.maskedWeight(w, m);
    expect([...out.f32].map((v) => v + 0)).toEqual([-5, -4, -3, 0, 0, 0, 0, 0, 0, 4, 5, 6]);
    backward(ops.sum(ops.scale(out, 0.01)));
    expect([...m.grad!.f32].map((v) => Math.round(v * 1e6) / 1e6)).toEqual([-0.12, -0.03, 0.06, 0.15]);
    expect(() => ops.maskedWeight(w, new Tensor(new Float32Array(6), [2, 3]))).toThrow(/maskedWeight: mask \[2, 3\] does not cover weight \[2, 2, 3\]/);
    expect(() => native.maskGradBlocks(new Float32Array(4), new Float32Array(4), 3, 1, new Float32Array(1))).toThrow(/maskGradBlocks: /);
    expect(() => native.maskGradBlocks(new Float32Array(4), new Float32Array(4), 2, 0, new Float32Array(2))).toThrow(/bound must be > 0/);
  });
});
