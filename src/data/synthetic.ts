/**
 * A seeded synthetic image dataset for tests: balanced labels in a seeded order, and pixels that
 * depend on the class (a brightness level and a class-specific stripe) plus seeded noise, so a small
 * model can learn it.
 */
import { ArrayDataset, type Splits } from './dataset.js';
import { Rng, hashSeed } from './rng.js';

export interface SyntheticOptions {
  length: number;
  channels?: number;
  height?: number;
  width?: number;
  numClasses?: number;
  seed?: number;
  name?: string;
  /** noise amplitude in pixel units (default 40) */
  noise?: number;
}

export function syntheticDataset(o: SyntheticOptions): ArrayDataset {
  const c = o.channels ?? 1;
  const h = o.height ?? 8;
  const w = o.width ?? 8;
  const k = o.numClasses ?? 10;
  const seed = o.seed ?? 0;
  const noise = o.noise ?? 40;
  if (!(o.length >= 0 && Number.isInteger(o.length))) throw new Error(`synthetic: length must be a non-negative integer, got ${o.length}`);
  if (!(k >= 1)) throw new Error(`synthetic: numClasses must be >= 1, got ${k}`);
  const rng = new Rng(hashSeed(seed, 1));
  const labels = new Int32Array(o.length);
  for (let i = 0; i < o.length; i++) labels[i] = i % k;
  rng.shuffle(labels);
  const pixels = new Uint8Array(o.length * c * h * w);
  let p = 0;
  for (let i = 0; i < o.length; i++) {
    const y = labels[i]!;
    const level = k === 1 ? 128 : 40 + Math.round((176 * y) / (k - 1));
    const stripe = y % w;
    for (let ch = 0; ch < c; ch++) {
      for (let r = 0; r < h; r++) {
        for (let x = 0; x < w; x++) {
          let v = level + (x === stripe ? 60 : 0) + Math.round((rng.nextFloat() * 2 - 1) * noise);
          v = v < 0 ? 0 : v > 255 ? 255 : v;
          pixels[p++] = v;
        }
      }
    }
  }
  const names = Array.from({ length: k }, (_, i) => `class${i}`);
  return new ArrayDataset(o.name ?? `synthetic(seed ${seed})`, pixels, labels, c, h, w, names);
}

/** Train and test synthetic splits drawn with different derived seeds. */
export function syntheticSplits(o: Omit<SyntheticOptions, 'length'> & { train: number; test: number }): Splits<ArrayDataset> {
  const seed = o.seed ?? 0;
  return {
    train: syntheticDataset({ ...o, length: o.train, seed: hashSeed(seed, 0x7a1), name: `synthetic train (seed ${seed})` }),
    test: syntheticDataset({ ...o, length: o.test, seed: hashSeed(seed, 0x7e5), name: `synthetic test (seed ${seed})` }),
  };
}
