// Writes a data set split as an IDX image/label pair (`<prefix>-images-idx3-ubyte`, `<prefix>-labels-idx1-ubyte`),
// the layout `--data idx:DIR` and `--data mnist:DIR` read.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArrayDataset } from '../../src/data/index.js';

function idx(dims: number[], data: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2); // unsigned bytes
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

export function writeIdxSplit(dir: string, ds: ArrayDataset, prefix: 'train' | 't10k'): void {
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), idx([ds.length, ds.height, ds.width], ds.pixels));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), idx([ds.length], Uint8Array.from(ds.labels)));
}
