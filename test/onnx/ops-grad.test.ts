// The gradients of the ops imported graphs added (unary and binary maps, reductions, softmax,
// layer norm, index maps, resize, batched matmul, transposed convolution) against central finite
// differences of a random projection of the output, at a sample of input elements.
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { noGrad } from '../../src/autograd/node.js';
import {
  binary, convTranspose2d, indexSelect, layerNorm, matmulNd, mul, pad, permute, reduce, resize, slice, softmax, sum, unary,
  type UnaryKind,
} from '../../src/ops/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { axisResample } from '../../src/util/resample.js';
import { Rng } from '../../src/util/rng.js';

const rng = new Rng(19);

/** Checks d sum(f(xs) * r) / d xs[k] at up to `samples` elements of every input against finite differences. */
function gradCheck(f: (...xs: Tensor[]) => Tensor, xs: Tensor[], opts: { eps?: number; tol?: number; samples?: number } = {}): void {
  const eps = opts.eps ?? 1e-2;
  const tol = opts.tol ?? 2e-2;
  const leaves = xs.map((x) => new Tensor(x.f32.slice(), x.shape, true));
  const y0 = noGrad(() => f(...leaves));
  const r = Tensor.randn(y0.shape, rng);
  backward(sum(mul(f(...leaves), r)));
  const loss = (vals: Tensor[]): number => {
    const y = noGrad(() => f(...vals));
    let s = 0;
    for (let i = 0; i < y.size; i++) s += y.f32[i] * r.f32[i];
    return s;
  };
  leaves.forEach((leaf, j) => {
    expect(leaf.grad, `input ${j} has a gradient`).not.toBeNull();
    const n = Math.min(opts.samples ?? 12, leaf.size);
    for (let s = 0; s < n; s++) {
      const k = n === leaf.size ? s : rng.int(leaf.size);
      const at = (d: number): number => loss(leaves.map((l, i) => {
        const v = l.f32.slice();
        if (i === j) v[k] += d;
        return new Tensor(v, l.shape);
      }));
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      const analytic = leaf.grad!.f32[k];
      expect(Math.abs(numeric - analytic), `input ${j}[${k}]: numeric ${numeric}, analytic ${analytic}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(numeric)));
    }
  });
}

const randn = (shape: number[], scale = 1): Tensor => Tensor.randn(shape, rng, scale);
const positive = (shape: number[]): Tensor => Tensor.uniform(shape, rng, 0.5, 2);

describe('gradients of the ops of imported graphs', () => {
  const kinds: [UnaryKind, Tensor, number, number][] = [
    ['tanh', randn([3, 5]), 0, 0], ['erf', randn([3, 5]), 0, 0], ['sqrt', positive([3, 5]), 0, 0], ['exp', randn([3, 5]), 0, 0],
    ['log', positive([3, 5]), 0, 0], ['neg', randn([3, 5]), 0, 0], ['reciprocal', positive([3, 5]), 0, 0],
    ['leakyRelu', randn([3, 5]), 0.1, 0], ['elu', randn([3, 5]), 0.7, 0], ['hardSigmoid', randn([3, 5], 2), 0.2, 0.5],
    ['hardSwish', randn([3, 5], 3), 0, 0], ['gelu', randn([3, 5]), 0, 0], ['geluTanh', randn([3, 5]), 0, 0],
  ];
  for (const [kind, x, a, b] of kinds) it(`unary ${kind}`, () => gradCheck((t) => unary(kind, t, a, b), [x]));

  for (const kind of ['sub', 'div', 'pow', 'max', 'min', 'prelu'] as const) {
    it(`binary ${kind}`, () => gradCheck((p, q) => binary(kind, p, q), [kind === 'pow' ? positive([4, 3]) : randn([4, 3]), kind === 'div' ? positive([4, 3]) : randn([4, 3])]));
  }

  it('reductions over adjacent and separate axes, with and without keepdims', () => {
    for (const kind of ['sum', 'mean', 'max', 'min'] as const) {
      gradCheck((t) => reduce(kind, t, [1, 2], true), [randn([2, 3, 4, 2])]);
      gradCheck((t) => reduce(kind, t, [0, -1], false), [randn([2, 3, 4, 2])]);
    }
  });

  it('softmax and log-softmax over an inner axis', () => {
    gradCheck((t) => softmax(t, 1), [randn([2, 4, 3])]);
    gradCheck((t) => softmax(t, -1, true), [randn([2, 4, 3])]);
  });

  it('layer norm (input, scale and bias) over the last two axes', () => {
    gradCheck((x, g, b) => layerNorm(x, g, b, -2, 1e-5).y, [randn([3, 4, 5]), randn([20]), randn([20])]);
  });

  it('permute, slice with steps, indexSelect', () => {
    gradCheck((t) => permute(t, [2, 0, 1]), [randn([2, 3, 4])]);
    gradCheck((t) => slice(t, [{ axis: 1, start: -1, end: -10, step: -2 }, { axis: 2, start: 1, end: 100 }]), [randn([2, 5, 4])]);
    gradCheck((t) => indexSelect(t, 1, Int32Array.from([2, -1, 0, 2]), [2, 2]), [randn([2, 4, 3])]);
  });

  it('pad: constant, reflect, edge, wrap and cropping', () => {
    for (const mode of ['constant', 'reflect', 'edge', 'wrap'] as const) gradCheck((t) => pad(t, [0, 2, 1, 0, 1, 3], mode, 0.5), [randn([2, 4, 3])]);
    gradCheck((t) => pad(t, [0, -1, 2, 0, 1, -1]), [randn([2, 4, 3])]);
  });

  it('resize: nearest, bilinear, bicubic, antialiased downsampling', () => {
    const x = randn([1, 2, 5, 4]);
    const spec = (mode: 'nearest' | 'linear' | 'cubic', h: number, w: number, antialias = false): ReturnType<typeof axisResample>[] => [
      axisResample(5, h, h / 5, { mode, antialias }), axisResample(4, w, w / 4, { mode, antialias, coordinate: 'align_corners' }),
    ];
    for (const [mode, h, w, aa] of [['nearest', 8, 7, false], ['linear', 9, 3, false], ['cubic', 7, 6, false], ['linear', 3, 2, true], ['cubic', 2, 3, true]] as const) {
      const [sh, sw] = spec(mode, h, w, aa);
      gradCheck((t) => resize(t, [null, null, sh, sw]), [x]);
    }
  });

  it('matmul with broadcast batch dimensions and 1-D operands', () => {
    gradCheck((p, q) => matmulNd(p, q), [randn([2, 1, 3, 4]), randn([3, 4, 2])]);
    gradCheck((p, q) => matmulNd(p, q), [randn([4]), randn([2, 4, 3])]);
    gradCheck((p, q) => matmulNd(p, q), [randn([2, 3, 4]), randn([4, 5])]);
  });

  it('transposed convolution: groups, dilation, output padding, pads per side', () => {
    gradCheck((x, w, b) => convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1, groups: 2 }), [randn([2, 4, 3, 3]), randn([4, 3, 3, 3]), randn([6])]);
    gradCheck((x, w) => convTranspose2d(x, w, null, { stride: [1, 2], padding: [0, 1, 2, 0], dilation: 2, outputPadding: [0, 3] }), [randn([1, 2, 4, 3]), randn([2, 3, 2, 3])]);
  });
});
