// A small Fashion-MNIST in IDX files (the first samples of ../shared's, every class present), so
// CLI runs on real data finish in seconds on a shared 2-core machine.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadIdxDir } from '../../src/data/idx.js';
import type { ArrayDataset } from '../../src/data/dataset.js';
import { FMNIST_DIR } from '../helpers/shared.js';

export const FMNIST_PRESENT = existsSync(join(FMNIST_DIR, 'train-images-idx3-ubyte.gz')) || existsSync(join(FMNIST_DIR, 'train-images-idx3-ubyte'));
export const FMNIST_MISSING = `${FMNIST_DIR} has no Fashion-MNIST IDX files`;

function idx(dims: number[], bytes: Uint8Array): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, bytes]);
}

/** Writes the first `train` / `test` samples as an IDX folder under `dir`; returns the folder. */
export async function writeFmnistSubset(dir: string, train: number, test: number): Promise<string> {
  const full = await loadIdxDir(FMNIST_DIR, { name: 'fashion-mnist' });
  mkdirSync(dir, { recursive: true });
  for (const [split, ds, n] of [['train', full.train, train], ['t10k', full.test, test]] as const) {
    const a = ds as ArrayDataset;
    const size = a.height * a.width;
    writeFileSync(join(dir, `${split}-images-idx3-ubyte`), idx([n, a.height, a.width], a.pixels.subarray(0, n * size)));
    writeFileSync(join(dir, `${split}-labels-idx1-ubyte`), idx([n], Uint8Array.from(a.labels.subarray(0, n))));
  }
  return dir;
}
