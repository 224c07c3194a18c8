// The CPU backward sweep hands consumed intermediate gradient buffers back to uninit for reuse.
// What the user can see must never be reused: leaf gradients (also ones reached through an op
// that passes one gradient to two inputs), outputs of the forward, and values kept from an earlier
// step. And a step computed on recycled buffers must equal the same step on fresh ones.
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import * as ops from '../../src/ops/index.js';
import { spareFloatCount } from '../../src/backend/cpu-pool.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';

const rng = new Rng(21);
const copy = (t: Tensor) => Float32Array.from(t.f32);

// Maps large enough (2 x 8 x 32 x 32 = 16384 floats) that uninit takes its buffer path.
const x = Tensor.randn([2, 8, 32, 32], rng, 1, true);
const w1 = Tensor.randn([8, 8, 3, 3], rng, 0.2, true);
const w2 = Tensor.randn([8, 8, 3, 3], rng, 0.2, true);
const x2 = Tensor.randn([2, 8, 32, 32], rng);

/** conv -> relu -> conv, plus the input as a residual (add hands one gradient to both inputs). */
function step(input: Tensor): { out: Tensor; hidden: Tensor } {
  const hidden = ops.relu(ops.conv2d(input, w1, null, { padding: 1 }));
  const out = ops.add(ops.conv2d(hidden, w2, null, { padding: 1 }), input);
  backward(ops.mean(ops.mul(out, out)));
  return { out, hidden };
}

const grads = () => [x.grad!, w1.grad!, w2.grad!];
const clear = () => [x, w1, w2].forEach((t) => (t.grad = null));

describe('recycled gradient buffers', () => {
  it('never reuse what the user holds, and give the same gradients as fresh buffers', () => {
    clear();
    const first = step(x);
    const kept = [...grads(), first.out, first.hidden];
    const values = kept.map(copy);
    expect(spareFloatCount()).toBeGreaterThan(0); // the mechanism engaged

    // More steps on other data: they reuse the recycled buffers.
    for (let i = 0; i < 3; i++) {
      clear();
      step(x2);
    }
    kept.forEach((t, i) => expect(t.f32).toEqual(values[i]));

    // The first step again, now on recycled buffers: bitwise the same gradients.
    clear();
    step(x);
    grads().forEach((g, i) => expect(g.f32).toEqual(values[i]));
  });

  it('accumulates into leaf gradients across two backward calls without losing either', () => {
    clear();
    step(x);
    const once = grads().map(copy);
    step(x);
    grads().forEach((g, i) => expect(g.f32).toEqual(once[i].map((v) => v + v)));
  });
});
