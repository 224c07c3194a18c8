/**
 * Fuzz runner for the io readers, started by io-fuzz.test.ts in a child process (so that a hang or a
 * crash is caught by the parent's watchdog rather than freezing the test runner). Prints one line per
 * case ("case <i> <target> <mutation>") before running it, and a JSON summary at the end.
 * Usage: node --import tsx test/helpers/io-fuzz-runner.ts <seed> <cases>
 */
import { readFileSync } from 'node:fs';
import { readStateDictSync } from '../../src/io/index.js';
import { unpickle } from '../../src/io/pickle.js';
import { ZipReader } from '../../src/io/zip.js';
import { bufferSource } from '../../src/io/source.js';
import { fixture, goldenPath } from './shared.js';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Target { name: string; bytes: Uint8Array; parse: (b: Uint8Array) => unknown }

const dataPkl = (() => {
  const z = new ZipReader(bufferSource(readFileSync(goldenPath('cifar10_resnet20.pt'))));
  return new Uint8Array(z.read('cifar10_resnet20/data.pkl'));
})();

const targets: Target[] = [
  { name: 'resnet20.pt', bytes: readFileSync(goldenPath('cifar10_resnet20.pt')), parse: (b) => readStateDictSync(b) },
  { name: 'resnet20.pt(no-crc)', bytes: readFileSync(goldenPath('cifar10_resnet20.pt')), parse: (b) => readStateDictSync(b, { verifyCrc: false }) },
  { name: 'resnet20.legacy.pt', bytes: readFileSync(goldenPath('cifar10_resnet20.legacy.pt')), parse: (b) => readStateDictSync(b) },
  { name: 'resnet20.wrapped.pt(no-crc)', bytes: readFileSync(goldenPath('cifar10_resnet20.wrapped.pt')), parse: (b) => readStateDictSync(b, { verifyCrc: false }) },
  { name: 'resnet20.safetensors', bytes: readFileSync(goldenPath('cifar10_resnet20.safetensors')), parse: (b) => readStateDictSync(b) },
  { name: 'resnet20.onnx', bytes: readFileSync(goldenPath('cifar10_resnet20.onnx')), parse: (b) => readStateDictSync(b) },
  { name: 'seam_masks.pt(no-crc)', bytes: readFileSync(goldenPath('cifar10_resnet20.seam_masks.pt')), parse: (b) => readStateDictSync(b, { verifyCrc: false }) },
  { name: 'seam_step.safetensors', bytes: readFileSync(goldenPath('seam_step.safetensors')), parse: (b) => readStateDictSync(b) },
  { name: 'views.pt(no-crc)', bytes: readFileSync(fixture('views.pt')), parse: (b) => readStateDictSync(b, { verifyCrc: false }) },
  { name: 'views.legacy.pt', bytes: readFileSync(fixture('views.legacy.pt')), parse: (b) => readStateDictSync(b) },
  { name: 'dataparallel.pt(no-crc)', bytes: readFileSync(fixture('dataparallel.pt')), parse: (b) => readStateDictSync(b, { verifyCrc: false }) },
  { name: 'numpy_p2.pkl', bytes: readFileSync(fixture('numpy_p2.pkl')), parse: (b) => unpickle(b) },
  { name: 'numpy_p4.pkl', bytes: readFileSync(fixture('numpy_p4.pkl')), parse: (b) => unpickle(b) },
  { name: 'data.pkl', bytes: dataPkl, parse: (b) => unpickle(b, { persistentLoad: (pid) => pid }) },
];

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];

function mutate(src: Uint8Array, rnd: () => number): { bytes: Uint8Array; what: string } {
  const n = src.length;
  const int = (k: number): number => Math.floor(rnd() * k);
  // Half the offsets land in the structure-heavy head and tail (headers, pickles, central directories).
  const offset = (): number => {
    const r = rnd();
    if (r < 0.3) return int(Math.min(n, 4096));
    if (r < 0.5) return Math.max(0, n - 1 - int(Math.min(n, 8192)));
    return int(n);
  };
  const kind = int(6);
  const b = new Uint8Array(src);
  switch (kind) {
    case 0: {
      const k = 1 + int(8);
      const at: number[] = [];
      for (let i = 0; i < k; i++) { const o = offset(); b[o] = b[o]! ^ (1 + int(255)); at.push(o); }
      return { bytes: b, what: `flip@${at.join(',')}` };
    }
    case 1: {
      const len = rnd() < 0.5 ? int(n) : n - 1 - int(Math.min(n - 1, 64));
      return { bytes: src.slice(0, len), what: `truncate@${len}` };
    }
    case 2: {
      const o = offset();
      const width = [2, 4, 8][int(3)]!;
      const v = rnd() < 0.7 ? INTERESTING[int(INTERESTING.length)]! : rnd() < 0.5 ? n + int(3) - 1 : int(2 ** 32);
      const dv = new DataView(b.buffer);
      if (o + width <= n) {
        if (width === 2) dv.setUint16(o, v & 0xffff, true);
        else if (width === 4) dv.setUint32(o, v >>> 0, true);
        else dv.setBigUint64(o, BigInt(v) * (rnd() < 0.2 ? 2n ** 32n : 1n), true);
      }
      return { bytes: b, what: `len${width * 8}@${o}=${v}` };
    }
    case 3: {
      const o = offset();
      const len = 1 + int(64);
      return { bytes: Buffer.concat([src.subarray(0, o), src.subarray(Math.min(n, o + len))]), what: `delete@${o}+${len}` };
    }
    case 4: {
      const o = offset();
      const ins = new Uint8Array(1 + int(32)).map(() => int(256));
      return { bytes: Buffer.concat([src.subarray(0, o), ins, src.subarray(o)]), what: `insert@${o}+${ins.length}` };
    }
    default: {
      const from = offset();
      const to = offset();
      const len = 1 + int(128);
      b.copyWithin(to, from, Math.min(n, from + len));
      return { bytes: b, what: `copy${from}->${to}+${len}` };
    }
  }
}

const seed = Number(process.argv[2] ?? 1);
const cases = Number(process.argv[3] ?? 1000);
const rnd = mulberry32(seed);
let parsed = 0;
let errors = 0;
let maxMs = 0;
let slowest = '';
const nonErrors: string[] = [];
const messages = new Map<string, number>();
for (let i = 0; i < cases; i++) {
  const t = targets[i % targets.length]!;
  const { bytes, what } = mutate(t.bytes, rnd);
  const label = `${i} ${t.name} ${what}`;
  process.stdout.write(`case ${label}\n`);
  const t0 = performance.now();
  try {
    t.parse(bytes);
    parsed++;
  } catch (e) {
    if (e instanceof Error) {
      errors++;
      const key = e.message.replace(/\d+/g, 'N').slice(0, 80);
      messages.set(key, (messages.get(key) ?? 0) + 1);
    } else {
      nonErrors.push(`${label}: threw ${typeof e}`);
    }
  }
  const ms = performance.now() - t0;
  if (ms > maxMs) { maxMs = ms; slowest = label; }
}
const top = [...messages.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
process.stdout.write(`summary ${JSON.stringify({ seed, cases, parsed, errors, maxMs, slowest, nonErrors, top })}\n`);
