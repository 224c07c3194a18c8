// The fused eval-mode ops (conv + BatchNorm + residual + ReLU, BatchNorm + residual + ReLU) must give
// bit-identical values and gradients to the separate ops, and reject bad buffers naming the op.
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { noGrad } from '../../src/autograd/node.js';
import { native } from '../../src/native.js';
import * as ops from '../../src/ops/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';

const rng = new Rng(7);
const bits = (t: Tensor) => Array.from(new Uint32Array(t.f32.buffer, t.f32.byteOffset, t.size));
const bn = (c: number) => ({
  gamma: Tensor.randn([c], rng), beta: Tensor.randn([c], rng), runningMean: Tensor.randn([c], rng, 0.1),
  runningVar: Tensor.uniform([c], rng, 0.5, 2), eps: 1e-5,
});

// [N, C, H, O, K, stride, pad]: implicit GEMM (>= 16x16), im2col, stride 2, channel split (small maps),
// tile-lane Winograd, channel Winograd.
const cases: [number, number, number, number, number, number, number][] = [
  [2, 4, 16, 8, 3, 1, 1], [3, 5, 9, 6, 3, 1, 1], [2, 6, 12, 8, 3, 2, 1], [4, 8, 2, 64, 3, 1, 1], [2, 3, 8, 5, 1, 1, 0],
  [2, 16, 16, 24, 3, 1, 1], [2, 64, 6, 64, 3, 1, 1],
];

describe('fused eval BatchNorm + ReLU ops', () => {
  for (const [n, c, h, o, k, s, p] of cases) {
    for (const withRes of [false, true]) {
      it(`conv2dBnReluEval matches the separate ops ${[n, c, h, o, k, s, p]} residual=${withRes}`, () => {
        const x = Tensor.randn([n, c, h, h], rng, 1, true);
        const w = Tensor.randn([o, c, k, k], rng, 0.3, true);
        const b = Tensor.randn([o], rng, 0.1, true);
        const prm = bn(o);
        const oh = Math.floor((h + 2 * p - k) / s) + 1;
        const res = withRes ? Tensor.randn([n, o, oh, oh], rng, 1, true) : null;
        const fused = ops.conv2dBnReluEval(x, w, b, { stride: s, padding: p }, prm, res);
        const pre = ops.batchNorm2d(ops.conv2d(x, w, b, { stride: s, padding: p }), prm.gamma, prm.beta, prm.runningMean,
          prm.runningVar, { training: false, eps: prm.eps });
        const ref = ops.relu(res ? ops.add(pre, res) : pre);
        expect(bits(fused)).toEqual(bits(ref));
        const gy = Tensor.randn(ref.shape, rng);
        const grads = (out: Tensor) => {
          for (const t of [x, w, b, res]) if (t) t.grad = null;
          backward(ops.sum(ops.mul(out, gy)));
          return [x, w, b, res].filter((t): t is Tensor => !!t).map((t) => bits(t.grad!));
        };
        expect(grads(fused)).toEqual(grads(ref));
      });
    }
  }

  it('batchNormReluEval matches batchNorm2d (eval) + add + relu, values and gradients', () => {
    const x = Tensor.randn([3, 5, 7, 7], rng, 1, true);
    const r = Tensor.randn([3, 5, 7, 7], rng, 1, true);
    const prm = bn(5);
    const fused = ops.batchNormReluEval(x, prm.gamma, prm.beta, prm.runningMean, prm.runningVar, prm.eps, r);
    const ref = ops.relu(ops.add(ops.batchNorm2d(x, prm.gamma, prm.beta, prm.runningMean, prm.runningVar,
      { training: false, eps: prm.eps }), r));
    expect(bits(fused)).toEqual(bits(ref));
    const gy = Tensor.randn(ref.shape, rng);
    const grads = (out: Tensor) => {
      x.grad = null; r.grad = null;
      backward(ops.sum(ops.mul(out, gy)));
      return [bits(x.grad!), bits(r.grad!)];
    };
    expect(grads(fused)).toEqual(grads(ref));
  });

  it('forwards without gradients between a recorded forward and its backward leave its gradients intact', () => {
    // Ops that record nothing write their BatchNorm statistics to shared buffers (src/ops/scratch.ts);
    // a recorded op keeps its own, which a later backward reads.
    const [x, w] = [Tensor.randn([2, 8, 6, 6], rng, 1, true), Tensor.randn([8, 8, 3, 3], rng, 0.3, true)];
    const prm = bn(8);
    const gy = Tensor.randn([2, 8, 6, 6], rng);
    const gradsOf = (between: () => void) => {
      x.grad = null; w.grad = null;
      const outs = [ops.conv2dBnReluEval(x, w, null, { padding: 1 }, prm), ops.batchNorm2d(x, prm.gamma, prm.beta,
        prm.runningMean, prm.runningVar, { training: false, eps: prm.eps })];
      between();
      backward(ops.sum(ops.add(ops.mul(outs[0], gy), ops.mul(outs[1], gy))));
      return [bits(x.grad!), bits(w.grad!)];
    };
    const other = Tensor.randn([2, 8, 6, 6], rng, 3);
    const otherPrm = { ...bn(8), runningVar: Tensor.uniform([8], rng, 5, 9) };
    const quiet = gradsOf(() => undefined);
    const busy = gradsOf(() => noGrad(() => {
      ops.conv2dBnReluEval(other, w, null, { padding: 1 }, otherPrm);
      ops.batchNormReluEval(other, otherPrm.gamma, otherPrm.beta, otherPrm.runningMean, otherPrm.runningVar, 1e-5);
      ops.batchNorm2d(other, otherPrm.gamma, otherPrm.beta, otherPrm.runningMean, otherPrm.runningVar, { training: true, eps: 1e-5 });
    }));
    expect(busy).toEqual(quiet);
  });

  it('bad buffers throw errors naming the op', () => {
    const p = Int32Array.from([1, 2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    const f = (n: number) => new Float32Array(n);
    expect(() => native.conv2dForwardBnRelu(f(32), f(54), null, f(48), p, f(2), f(3), f(3), f(3), 1e-5, null, f(3), f(3)))
      .toThrow(/conv2dForwardBnRelu: gamma/);
    expect(() => native.conv2dForwardBnRelu(f(32), f(54), null, f(48), p, f(3), f(3), f(3), f(3), 1e-5, f(47), f(3), f(3)))
      .toThrow(/conv2dForwardBnRelu: res/);
    expect(() => native.batchNormReluEvalForward(f(10), null, f(2), f(2), f(2), f(2), f(9), f(2), f(2), 1, 2, 5, 1e-5))
      .toThrow(/batchNormReluEvalForward: y/);
    expect(() => native.batchNormReluEvalBackward(f(10), f(10), f(2), f(3), f(10), null, 1, 2, 5))
      .toThrow(/batchNormReluEvalBackward: saveInvstd/);
  });
});
