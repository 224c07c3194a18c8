/**
 * Seeded random numbers for the data pipeline: the product-wide `Rng` and `hashSeed`, and
 * `NumpyRandomState` (MT19937 with numpy's legacy `RandomState` seeding and shuffle), used where a
 * sample must match the reference scripts bit for bit (SeaM's binary problems are drawn with
 * `np.random.RandomState(seed).shuffle`).
 */
export { Rng, hashSeed, mix32 } from '../util/rng.js';

const MT_N = 624;
const MT_M = 397;

/** MT19937 seeded like numpy's legacy `np.random.RandomState(seed)` (seed in 0..2^32-1). */
export class NumpyRandomState {
  private readonly mt = new Uint32Array(MT_N);
  private mti = MT_N;

  constructor(seed = 0) {
    if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
      throw new RangeError(`NumpyRandomState: seed must be an integer in 0..2^32-1, got ${seed}`);
    }
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < MT_N; i++) {
      const p = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, p ^ (p >>> 30)) + i) >>> 0;
    }
  }

  /** genrand_int32 */
  nextU32(): number {
    const mt = this.mt;
    if (this.mti >= MT_N) {
      for (let k = 0; k < MT_N; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % MT_N]! & 0x7fffffff);
        mt[k] = mt[(k + MT_M) % MT_N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.mti = 0;
    }
    let y = mt[this.mti++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy's random_interval: uniform in [0, max] by masked rejection */
  interval(max: number): number {
    if (max === 0) return 0;
    if (max > 0xffffffff) throw new RangeError('NumpyRandomState.interval: bound above 2^32-1 not supported');
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextU32() & mask) >>> 0;
      if (v <= max) return v;
    }
  }

  /** in place, exactly like `RandomState.shuffle` on a 1-D array */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** `RandomState.permutation(n)` */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}
