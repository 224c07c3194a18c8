// recyclingScope (a training step of the search): the large CPU buffers handed out inside it go
// back to the pool at its end, except what it returns and what is kept (leaf gradients, optimizer
// state, parameters). A step run in scopes must give bit-identical parameters to one run without.
import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/backward.js';
import { recyclingScope, uninitF32 } from '../../src/backend/cpu-pool.js';
import { keepTensor } from '../../src/backend/storage.js';
import { Conv2d, manualSeed } from '../../src/nn/index.js';
import * as ops from '../../src/ops/index.js';
import { Adam } from '../../src/optim/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';

const big = [3, 5, 37, 41]; // 22755 floats: a size no other test allocates, so the pool holds only ours

describe('recyclingScope', () => {
  it('gives back what it let go of, keeps what it returns or keeps, and never gives one buffer twice', () => {
    let dropped: Tensor | null = null;
    let kept: Tensor | null = null;
    const returned = recyclingScope(() => {
      dropped = uninitF32(big);
      kept = keepTensor(uninitF32(big));
      const r = uninitF32(big);
      r.f32.fill(7);
      return { values: [r] };
    });
    kept!.f32.fill(3);
    const next = [uninitF32(big), uninitF32(big)];
    expect(next[0].f32.buffer, 'the dropped buffer is handed out again').toBe(dropped!.f32.buffer);
    expect(next[1].f32.buffer, 'and only once').not.toBe(dropped!.f32.buffer);
    for (const t of next) {
      expect(t.f32.buffer).not.toBe(returned.values[0].f32.buffer);
      expect(t.f32.buffer).not.toBe(kept!.f32.buffer);
      t.f32.fill(-1);
    }
    expect(returned.values[0].f32.every((v) => v === 7)).toBe(true);
    expect(kept!.f32.every((v) => v === 3)).toBe(true);
  });

  it('refuses an async step', () => {
    expect(() => recyclingScope(async () => uninitF32(big))).toThrow(/must be synchronous/);
  });

  it('gives nothing back when the step throws', () => {
    let made: Tensor | null = null;
    expect(() => recyclingScope(() => {
      made = uninitF32(big);
      throw new Error('step failed');
    })).toThrow('step failed');
    expect(uninitF32(big).f32.buffer).not.toBe(made!.f32.buffer);
  });

  it('training steps in scopes leave parameters, gradients and optimizer state bit-identical', () => {
    const train = (scoped: boolean): Float32Array[] => {
      manualSeed(5);
      const conv = new Conv2d(16, 32, 3, { padding: 1 }); // 4608 weights: the weight gradient is a pooled buffer
      const opt = new Adam(conv.parameters(), { lr: 0.01 });
      const rng = new Rng(9);
      for (let s = 0; s < 4; s++) {
        const x = Tensor.randn([2, 16, 12, 12], rng);
        const step = (): void => {
          opt.zeroGrad();
          const y = ops.relu(conv.forward(x));
          backward(ops.mean(ops.mul(y, y)));
          opt.step();
        };
        if (scoped) recyclingScope(step);
        else step();
        // What a later step allocates must not land in anything the model or optimizer holds.
        for (const shape of [[2, 32, 12, 12], [32, 16, 3, 3], [2, 16, 12, 12]]) {
          for (let i = 0; i < 4; i++) uninitF32(shape).f32.fill(Number.NaN);
        }
      }
      return [...conv.parameters().flatMap((p) => [p, p.grad!]).map((t) => Float32Array.from(t.f32))];
    };
    const plain = train(false);
    const scoped = train(true);
    expect(scoped.every((a) => a.every(Number.isFinite))).toBe(true);
    expect(scoped).toEqual(plain);
  });
});
