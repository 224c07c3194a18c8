#!/usr/bin/env node
// Writes the bundled example (examples/fmnist/): the first N training and M test images of
// Fashion-MNIST as IDX .gz files, and a copy of the trained ResNet20. Run once from the repo root
// with ../shared beside it: node scripts/make-example.mjs [N=5000] [M=1000]
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

const shared = join(import.meta.dirname, '..', '..', 'shared', 'data');
const out = join(import.meta.dirname, '..', 'examples', 'fmnist');
const [n = 5000, m = 1000] = process.argv.slice(2).map(Number);
mkdirSync(out, { recursive: true });

function subset(file, count) {
  const b = gunzipSync(readFileSync(join(shared, 'fashion-mnist', file)));
  const dv = new DataView(b.buffer, b.byteOffset);
  const dims = b[3];
  const header = 4 + 4 * dims;
  let per = 1;
  for (let d = 1; d < dims; d++) per *= dv.getUint32(4 + 4 * d);
  const outBuf = Buffer.from(b.subarray(0, header + count * per));
  outBuf.writeUInt32BE(count, 4);
  writeFileSync(join(out, file), gzipSync(outBuf, { level: 9 }));
}
subset('train-images-idx3-ubyte.gz', n);
subset('train-labels-idx1-ubyte.gz', n);
subset('t10k-images-idx3-ubyte.gz', m);
subset('t10k-labels-idx1-ubyte.gz', m);
copyFileSync(join(shared, 'fmnist_resnet20.pt'), join(out, 'fmnist_resnet20.pt'));
console.log(`wrote ${out}: ${n} training and ${m} test images, and the model`);
