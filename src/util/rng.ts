/**
 * Seeded random numbers for the whole product (weight init, dropout, shuffles, augmentation):
 * `Rng` is xoshiro128** seeded through splitmix32; `hashSeed` mixes (seed, epoch, index, ...) into
 * one seed so any epoch or sample can be reproduced alone (resume).
 */

/** 32-bit finaliser (murmur3 fmix32). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Combine any integers (seed, epoch, index, ...) into one well-mixed 32-bit seed. */
export function hashSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    if (!Number.isFinite(p)) throw new Error(`hashSeed: not a finite number: ${p}`);
    const lo = p >>> 0;
    const hi = Math.floor(p / 4294967296) >>> 0;
    h = mix32((h ^ lo) + 0x9e3779b9 + (h << 6) + (h >>> 2));
    if (hi !== 0) h = mix32((h ^ hi) + 0x7f4a7c15);
  }
  return h;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(seed = 0) {
    this.s0 = this.s1 = this.s2 = this.s3 = 0;
    this.reseed(seed);
  }

  /** restart the stream from a new seed (no allocation: the loader reseeds once per sample) */
  reseed(seed: number): this {
    this.spare = null;
    let st = hashSeed(seed);
    const next = (): number => {
      st = (st + 0x9e3779b9) | 0;
      return mix32(st);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    return this;
  }

  /** uniform 32-bit unsigned integer */
  nextU32(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** uniform in [0, 1) with 32 bits of randomness */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** standard normal (Box-Muller; the second value of each pair is kept for the next call) */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** uniform integer in [0, n), unbiased; n in 1..2^32 */
  int(n: number): number {
    if (!(n >= 1 && n <= 4294967296 && Number.isInteger(n))) throw new RangeError(`Rng.int: bad bound ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** in-place Fisher-Yates shuffle */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** a random permutation of 0..n-1 */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** k distinct values drawn uniformly from 0..n-1 (partial Fisher-Yates), in draw order */
  sampleWithoutReplacement(n: number, k: number): Int32Array {
    if (!(k >= 0 && k <= n)) throw new RangeError(`sampleWithoutReplacement: cannot draw ${k} of ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    return p.slice(0, k);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
