// Access to ../shared/golden (files written by real PyTorch) and the comparison used by tests.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsSync } from '../../src/io/safetensors.js';
import { GOLDEN } from './shared.js';
import { fromRaw } from '../../src/tensor/raw.js';
import { Tensor } from '../../src/tensor/tensor.js';

export function goldenPath(name: string): string {
  const p = join(GOLDEN, name);
  if (!existsSync(p)) throw new Error(`golden file ${p} is missing (tests read ../shared beside the checkout)`);
  return p;
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
