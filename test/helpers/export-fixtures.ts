// Shared by the export tests: masks that kill whole channels, a seeded head, temp folders.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MaskEntry } from '../../src/seam/masks.js';
import { buildHead } from '../../src/export/pruned.js';
import type { BatchNorm2d, Module, Sequential } from '../../src/nn/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'seam-export-'));

export function entry(masks: MaskEntry[], param: string): MaskEntry {
  const e = masks.find((m) => m.param === param);
  if (!e) throw new Error(`no mask for ${param}`);
  return e;
}

/** Masks out every weight (and bias, when masked) of output channel / unit k of a layer. */
export function killChannel(masks: MaskEntry[], layer: string, k: number): void {
  for (const suffix of ['weight', 'bias']) {
    const e = masks.find((m) => m.param === `${layer}.${suffix}`);
    if (!e) continue;
    const per = e.mask.size / e.mask.shape[0];
    e.mask.f32.fill(-1, k * per, (k + 1) * per);
  }
}

/** Masks out a random fraction of every mask (unstructured sparsity, seeded). */
export function randomPrune(masks: MaskEntry[], fraction: number, seed = 1): void {
  const rng = new Rng(seed);
  for (const m of masks) for (let i = 0; i < m.mask.size; i++) if (rng.nextFloat() < fraction) m.mask.f32[i] = -1;
}

/** Sets a BatchNorm's bias so that channel k's constant (all weights zero, no conv bias) is `value`. */
export function setBnConstant(bn: BatchNorm2d, k: number, value: number): void {
  const scale = bn.weight.f32[k] / Math.sqrt(bn.runningVar.f32[k] + bn.eps);
  bn.bias.f32[k] = value + scale * bn.runningMean.f32[k];
}

export function child(root: Module, path: string): Module {
  let m: Module | undefined = root;
  for (const p of path.split('.')) m = m?.child(p);
  if (!m) throw new Error(`no module ${path}`);
  return m;
}

export function seededHead(inputs: number, outputs = 2, seed = 3): Sequential {
  const rng = new Rng(seed);
  return buildHead(Tensor.randn([outputs, inputs], rng, 0.3), Tensor.randn([outputs], rng, 0.1));
}
