import { describe, expect, it } from 'vitest';
import { NumpyRandomState, Rng, hashSeed } from '../../src/data/rng.js';

describe('NumpyRandomState (MT19937, numpy legacy seeding)', () => {
  it('matches the reference MT19937 streams', () => {
    expect(new NumpyRandomState(5489).nextU32()).toBe(3499211612);
    expect(new NumpyRandomState(0).nextU32()).toBe(2357136044);
  });
  it('shuffles exactly like np.random.RandomState(seed).permutation', () => {
    expect(Array.from(new NumpyRandomState(0).permutation(10))).toEqual([2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
    expect(Array.from(new NumpyRandomState(42).permutation(10))).toEqual([8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
  });
  it('rejects seeds numpy rejects', () => {
    expect(() => new NumpyRandomState(-1)).toThrow(/seed/);
    expect(() => new NumpyRandomState(2 ** 32)).toThrow(/seed/);
  });
});

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(7)));
    const b = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(7)));
    const c = Array.from({ length: 5 }, ((r) => () => r.nextU32())(new Rng(8)));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Rng(3).reseed(9).nextU32()).toBe(new Rng(9).nextU32());
  });
  it('int is in range and roughly uniform', () => {
    const r = new Rng(1);
    const h = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) h[r.int(6)]++;
    for (const v of h) expect(Math.abs(v - 10000)).toBeLessThan(500);
  });
  it('permutation and sampleWithoutReplacement give distinct values', () => {
    const p = new Rng(2).permutation(1000);
    expect(new Set(p).size).toBe(1000);
    const s = new Rng(2).sampleWithoutReplacement(1000, 300);
    expect(s.length).toBe(300);
    expect(new Set(s).size).toBe(300);
    for (const v of s) expect(v >= 0 && v < 1000).toBe(true);
    expect(() => new Rng(0).sampleWithoutReplacement(3, 4)).toThrow(/cannot draw 4 of 3/);
  });
  it('hashSeed separates its inputs', () => {
    expect(hashSeed(0, 1)).not.toBe(hashSeed(1, 0));
    expect(hashSeed(0, 1)).toBe(hashSeed(0, 1));
    expect(hashSeed(2 ** 40)).not.toBe(hashSeed(0));
  });
});
