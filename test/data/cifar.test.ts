// CIFAR fixtures written here in the published binary layout, as a folder and as .tar.gz archives
// (made with the system tar in ustar, pax and GNU formats), loaded back exactly.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCifar, parseCifarBinary } from '../../src/data/cifar.js';
import { CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR100_SUPERCLASSES, CIFAR10_CLASSES } from '../../src/data/class-names.js';
import { cifar100SuperclassProblem } from '../../src/data/problems.js';
import { Rng } from '../../src/data/rng.js';
import { readTar } from '../../src/data/tar.js';

interface Fixture {
  pixels: Uint8Array[];
  fine: number[];
  coarse: number[];
}

function makeSamples(n: number, nFine: number, seed: number): Fixture {
  const r = new Rng(seed);
  const f: Fixture = { pixels: [], fine: [], coarse: [] };
  for (let i = 0; i < n; i++) {
    const p = new Uint8Array(3072);
    for (let j = 0; j < 3072; j++) p[j] = r.int(256);
    f.pixels.push(p);
    // CIFAR-100: cycle over three superclasses so every split holds some of each
    const y = nFine === 100 ? CIFAR100_CLASSES.indexOf(CIFAR100_SUPERCLASSES[(i % 3) * 5]!.classes[Math.floor(i / 3) % 5]!) : r.int(nFine);
    f.fine.push(y);
    f.coarse.push(nFine === 100 ? CIFAR100_SUPERCLASSES.findIndex((s) => s.classes.includes(CIFAR100_CLASSES[y]!)) : 0);
  }
  return f;
}

function binaryBatch(f: Fixture, from: number, to: number, cifar100: boolean): Buffer {
  const parts: Uint8Array[] = [];
  for (let i = from; i < to; i++) {
    parts.push(new Uint8Array(cifar100 ? [f.coarse[i]!, f.fine[i]!] : [f.fine[i]!]), f.pixels[i]!);
  }
  return Buffer.concat(parts);
}

function expectExact(ds: { length: number; labels: Int32Array; image?: (i: number) => { data: Uint8Array; offset: number } }, f: Fixture, from: number): void {
  for (let i = 0; i < ds.length; i++) {
    expect(ds.labels[i]).toBe(f.fine[from + i]);
    const img = ds.image!(i);
    expect(Buffer.from(img.data.subarray(img.offset, img.offset + 3072)).equals(Buffer.from(f.pixels[from + i]!))).toBe(true);
  }
}

function writeCifar10Binary(dir: string, f: Fixture, perBatch: number, withMeta = true): void {
  mkdirSync(dir, { recursive: true });
  for (let b = 0; b < 5; b++) writeFileSync(join(dir, `data_batch_${b + 1}.bin`), binaryBatch(f, b * perBatch, (b + 1) * perBatch, false));
  writeFileSync(join(dir, 'test_batch.bin'), binaryBatch(f, 5 * perBatch, 6 * perBatch, false));
  if (withMeta) writeFileSync(join(dir, 'batches.meta.txt'), CIFAR10_CLASSES.join('\n') + '\n\n');
}

describe('CIFAR-10 binary layout', () => {
  const f = makeSamples(6 * 7, 10, 1);
  const root = mkdtempSync(join(tmpdir(), 'seam-cifar10-'));
  writeCifar10Binary(join(root, 'cifar-10-batches-bin'), f, 7);

  it('loads from a folder (and its cifar-10-batches-bin subfolder) exactly', async () => {
    const { train, test } = await loadCifar(root, 'cifar10');
    expect(train.length).toBe(35);
    expect(test.length).toBe(7);
    expect([train.channels, train.height, train.width]).toEqual([3, 32, 32]);
    expect(train.classNames).toEqual(CIFAR10_CLASSES);
    expectExact(train, f, 0);
    expectExact(test, f, 35);
  });

  for (const format of ['ustar', 'pax', 'gnu']) {
    it(`loads straight from a .tar.gz (${format})`, async () => {
      const tgz = join(root, `cifar-10-binary-${format}.tar.gz`);
      execFileSync('tar', [`--format=${format}`, '-czf', tgz, '-C', root, 'cifar-10-batches-bin']);
      const { train, test } = await loadCifar(tgz, 'cifar10');
      expectExact(train, f, 0);
      expectExact(test, f, 35);
    });
  }

  it('reads long names through GNU and pax headers', async () => {
    const d = mkdtempSync(join(tmpdir(), 'seam-tar-'));
    const long = 'a'.repeat(60) + '/' + 'b'.repeat(70);
    mkdirSync(join(d, 'a'.repeat(60)));
    writeFileSync(join(d, long), 'hello');
    for (const format of ['gnu', 'pax']) {
      const t = join(d, `x-${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', t, '-C', d, long]);
      const m = await readTar(new Uint8Array(execFileSync('cat', [t])), t);
      expect(new TextDecoder().decode(m.get(long))).toBe('hello');
    }
  });

  it('names the file and the problem: truncated record, bad label, missing split, corrupt archive', async () => {
    expect(() => parseCifarBinary(new Uint8Array(3073 * 2 - 5), 'cifar10', 'b.bin')).toThrow(/b\.bin: truncated or not a cifar10 binary batch: 6141 bytes/);
    const bad = new Uint8Array(3073);
    bad[0] = 10;
    expect(() => parseCifarBinary(bad, 'cifar10', 'c.bin')).toThrow(/c\.bin: label 10 of record 0 is out of range 0\.\.9/);
    const d = mkdtempSync(join(tmpdir(), 'seam-cifar-missing-'));
    writeCifar10Binary(d, f, 7);
    execFileSync('rm', [join(d, 'test_batch.bin')]);
    await expect(loadCifar(d, 'cifar10')).rejects.toThrow(/missing test split: test_batch\.bin not found/);
    const notTar = join(d, 'junk.tar.gz');
    writeFileSync(notTar, Buffer.alloc(2048, 65));
    await expect(loadCifar(notTar, 'cifar10')).rejects.toThrow(/junk\.tar\.gz: not a tar archive or corrupt/);
    const cut = join(root, 'cut.tar.gz');
    execFileSync('sh', ['-c', `head -c 30000 ${join(root, 'cifar-10-binary-ustar.tar.gz')} > ${cut}`]);
    await expect(loadCifar(cut, 'cifar10')).rejects.toThrow(/cut\.tar\.gz: gzip data is corrupt or truncated/);
    await expect(loadCifar(join(root, 'cifar-10-batches-bin'), 'cifar100')).rejects.toThrow(/looks like CIFAR-10/);
  });
});

describe('CIFAR-100 binary layout', () => {
  const f = makeSamples(40, 100, 2);
  const root = mkdtempSync(join(tmpdir(), 'seam-cifar100-'));
  const dir = join(root, 'cifar-100-binary');
  mkdirSync(dir);
  writeFileSync(join(dir, 'train.bin'), binaryBatch(f, 0, 30, true));
  writeFileSync(join(dir, 'test.bin'), binaryBatch(f, 30, 40, true));
  writeFileSync(join(dir, 'fine_label_names.txt'), CIFAR100_CLASSES.join('\n') + '\n');
  writeFileSync(join(dir, 'coarse_label_names.txt'), CIFAR100_COARSE_CLASSES.join('\n') + '\n');

  it('has 100 fine classes in the published (alphabetical) order and 20 superclasses of 5', () => {
    expect(CIFAR100_CLASSES.length).toBe(100);
    expect(new Set(CIFAR100_CLASSES).size).toBe(100);
    expect([CIFAR100_CLASSES[0], CIFAR100_CLASSES[1], CIFAR100_CLASSES[3], CIFAR100_CLASSES[48], CIFAR100_CLASSES[99]]).toEqual(['apple', 'aquarium_fish', 'bear', 'motorcycle', 'worm']);
    expect(CIFAR100_SUPERCLASSES.every((s) => s.classes.length === 5)).toBe(true);
  });

  it('loads fine and coarse labels exactly, from a folder and a .tar.gz', async () => {
    execFileSync('tar', ['-czf', join(root, 'cifar-100-binary.tar.gz'), '-C', root, 'cifar-100-binary']);
    for (const p of [root, join(root, 'cifar-100-binary.tar.gz')]) {
      const { train, test } = await loadCifar(p, 'cifar100');
      expect([train.length, test.length]).toEqual([30, 10]);
      expect(train.numClasses).toBe(100);
      expectExact(train, f, 0);
      expectExact(test, f, 30);
      expect(Array.from(train.extraLabels['coarse']!)).toEqual(f.coarse.slice(0, 30));
    }
  });

  it('builds superclass problems by index or name, checked against the coarse labels', async () => {
    const splits = await loadCifar(root, 'cifar100');
    const k = f.coarse[0]!;
    const byIndex = cifar100SuperclassProblem(splits, k);
    const byName = cifar100SuperclassProblem(splits, CIFAR100_COARSE_CLASSES[k]!);
    expect(Array.from(byIndex.train.indices)).toEqual(Array.from(byName.train.indices));
    const expected = f.fine.slice(0, 30).map((y, i) => [y, i] as const).filter(([, i]) => f.coarse[i] === k);
    expect(Array.from(byIndex.train.indices)).toEqual(expected.map(([, i]) => i));
    expect(byIndex.classNames).toEqual(CIFAR100_SUPERCLASSES[k]!.classes);
    for (let j = 0; j < byIndex.train.length; j++) {
      expect(byIndex.classNames[byIndex.train.labels[j]!]).toBe(CIFAR100_CLASSES[byIndex.train.originalLabels[j]!]);
    }
    expect(() => cifar100SuperclassProblem(splits, 'dragons')).toThrow(/no CIFAR-100 superclass named "dragons"/);
  });
});

// ---- python layout: pickles crafted opcode by opcode, as Python 2's cPickle writes numpy batches ----

/** Emits protocol-2 pickle opcodes; `bytesKeys` writes dict keys as Python 3 bytes (SHORT_BINBYTES). */
class PickleBytes {
  private parts: number[] = [];
  constructor(private bytesKeys = false) {
    this.op(0x80, 2);
  }
  op(...b: number[]): this {
    this.parts.push(...b);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'latin1');
    return b.length < 256 ? this.op(0x55, b.length, ...b) : this.op(0x54, ...u32(b.length), ...b); // SHORT_BINSTRING / BINSTRING
  }
  key(s: string): this {
    if (!this.bytesKeys) return this.str(s);
    const b = Buffer.from(s, 'latin1');
    return this.op(0x43, b.length, ...b); // SHORT_BINBYTES
  }
  int(v: number): this {
    return v >= 0 && v < 256 ? this.op(0x4b, v) : this.op(0x4a, ...u32(v)); // BININT1 / BININT
  }
  global(mod: string, name: string): this {
    return this.op(0x63, ...Buffer.from(`${mod}\n${name}\n`, 'latin1')); // GLOBAL
  }
  /** numpy.core.multiarray._reconstruct(ndarray, (0,), 'b') + BUILD (1, shape, dtype('u1'), False, raw) */
  ndarrayU8(shape: number[], raw: Uint8Array): this {
    this.global('numpy.core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).op(0x85).str('b').op(0x87, 0x52);
    this.op(0x28).int(1).op(0x28);
    for (const d of shape) this.int(d);
    this.op(0x74); // shape tuple
    this.global('numpy', 'dtype').str('u1').int(0).int(1).op(0x87, 0x52); // dtype('u1', 0, 1)
    this.op(0x28).int(3).str('|').op(0x4e, 0x4e, 0x4e).int(0xffffffff).int(0xffffffff).int(0).op(0x74, 0x62); // dtype BUILD
    this.op(0x89); // fortran False
    this.str(Buffer.from(raw).toString('latin1'));
    return this.op(0x74, 0x62); // state tuple, BUILD
  }
  intList(v: number[]): this {
    this.op(0x5d, 0x28); // EMPTY_LIST MARK
    for (const x of v) this.int(x);
    return this.op(0x65); // APPENDS
  }
  strList(v: readonly string[]): this {
    this.op(0x5d, 0x28);
    for (const x of v) this.str(x);
    return this.op(0x65);
  }
  bytes(): Buffer {
    return Buffer.from([...this.parts, 0x2e]); // STOP
  }
}

function u32(v: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return [...b];
}

function pyBatch(f: Fixture, from: number, to: number, cifar100: boolean, bytesKeys = false): Buffer {
  const raw = Buffer.concat(f.pixels.slice(from, to));
  const p = new PickleBytes(bytesKeys).op(0x7d, 0x28); // EMPTY_DICT MARK
  p.key('data').ndarrayU8([to - from, 3072], raw);
  if (cifar100) {
    p.key('fine_labels').intList(f.fine.slice(from, to));
    p.key('coarse_labels').intList(f.coarse.slice(from, to));
  } else {
    p.key('labels').intList(f.fine.slice(from, to));
  }
  p.key('batch_label').str('training batch');
  return p.op(0x75).bytes(); // SETITEMS
}

describe('CIFAR python layout (pickled numpy batches)', () => {
  const f10 = makeSamples(6 * 5, 10, 3);
  const f100 = makeSamples(30, 100, 4);
  const root = mkdtempSync(join(tmpdir(), 'seam-cifar-py-'));
  const d10 = join(root, 'cifar-10-batches-py');
  mkdirSync(d10);
  for (let b = 0; b < 5; b++) writeFileSync(join(d10, `data_batch_${b + 1}`), pyBatch(f10, b * 5, b * 5 + 5, false));
  writeFileSync(join(d10, 'test_batch'), pyBatch(f10, 25, 30, false));
  const renamed = CIFAR10_CLASSES.map((c) => c.toUpperCase());
  writeFileSync(join(d10, 'batches.meta'), new PickleBytes().op(0x7d).str('label_names').strList(renamed).op(0x73).bytes()); // SETITEM
  const d100 = join(root, 'c100', 'cifar-100-python');
  mkdirSync(d100, { recursive: true });
  writeFileSync(join(d100, 'train'), pyBatch(f100, 0, 20, true, true));
  writeFileSync(join(d100, 'test'), pyBatch(f100, 20, 30, true, true));

  it('CIFAR-10 from the folder and from a .tar.gz, with names from batches.meta', async () => {
    execFileSync('tar', ['-czf', join(root, 'cifar-10-python.tar.gz'), '-C', root, 'cifar-10-batches-py']);
    for (const p of [root, join(root, 'cifar-10-python.tar.gz')]) {
      const { train, test } = await loadCifar(p, 'cifar10');
      expect([train.length, test.length]).toEqual([25, 5]);
      expect(train.classNames).toEqual(renamed);
      expectExact(train, f10, 0);
      expectExact(test, f10, 25);
    }
  });

  it('CIFAR-100 with bytes keys, fine and coarse labels', async () => {
    const { train, test } = await loadCifar(join(root, 'c100'), 'cifar100');
    expectExact(train, f100, 0);
    expectExact(test, f100, 20);
    expect(Array.from(test.extraLabels['coarse']!)).toEqual(f100.coarse.slice(20, 30));
    expect(train.classNames).toEqual(CIFAR100_CLASSES);
  });

  it('bad pickles name the file', async () => {
    const d = mkdtempSync(join(tmpdir(), 'seam-cifar-badpy-'));
    for (let b = 1; b <= 5; b++) writeFileSync(join(d, `data_batch_${b}`), pyBatch(f10, 0, 5, false));
    writeFileSync(join(d, 'test_batch'), new PickleBytes().global('os', 'system').bytes());
    await expect(loadCifar(d, 'cifar10')).rejects.toThrow(/test_batch: cannot read the pickle \(.*os\.system/);
    const wrong = f10.fine.slice(0, 5);
    wrong[2] = 11;
    writeFileSync(join(d, 'test_batch'), pyBatch({ ...f10, fine: wrong }, 0, 5, false));
    await expect(loadCifar(d, 'cifar10')).rejects.toThrow(/test_batch: labels 11 of sample 2 is out of range 0\.\.9/);
  });
});
