// The golden files (written by real PyTorch; where they live: shared.ts), tests that need the large
// ones, and the comparison used by tests.
import { describe, it } from 'vitest';
import { readSafetensorsSync } from '../../src/io/safetensors.js';
import { goldenPath, missingShared } from './shared.js';
import { fromRaw } from '../../src/tensor/raw.js';
import { Tensor } from '../../src/tensor/tensor.js';

export { goldenPath };

type Body = () => unknown;

/** it() for a test that needs files of ../shared (paths relative to it, e.g. 'golden/x.pt'): skipped,
 *  with the missing files named in its title, when they are absent. */
export function itNeeds(files: string[], title: string, fn: Body, timeout?: number): void {
  const why = missingShared(...files);
  it.skipIf(!!why)(why ? `${title} (${why})` : title, fn, timeout);
}

/** describe() that skips as itNeeds does. */
export function describeNeeds(files: string[], title: string, fn: () => void): void {
  const why = missingShared(...files);
  describe.skipIf(!!why)(why ? `${title} (${why})` : title, fn);
}

export interface GoldenFile {
  get(key: string): Tensor;
  has(key: string): boolean;
  metadata: Record<string, string>;
}

export function loadGolden(name: string): GoldenFile {
  const { tensors, metadata } = readSafetensorsSync(goldenPath(name));
  return {
    metadata,
    has: (k) => tensors.has(k),
    get: (k) => {
      const raw = tensors.get(k);
      if (!raw) throw new Error(`${name}: no tensor ${k}`);
      return fromRaw(raw, `${name}:${k}`);
    },
  };
}

/** ||out - ref|| / ||ref|| (falls back to ||out - ref|| when ref is all zeros). */
export function relErr(out: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (out.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = out[i] - ref[i];
    num += d * d;
    den += ref[i] * ref[i];
  }
  if (!Number.isFinite(num)) return Infinity;
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

export const TOL_ELEMENTWISE = 1e-5;
export const TOL_CONV_GEMM = 1e-4;
