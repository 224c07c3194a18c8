import { mkdtempSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { labelHistogram, type ArrayDataset, type Splits } from '../../src/data/dataset.js';
import { loadIdxDir, parseIdx } from '../../src/data/idx.js';
import { binaryProblem, classListProblem, scoreOriginal } from '../../src/data/problems.js';
import { describeNeeds } from '../helpers/golden.js';
import { FMNIST, FMNIST_DIR } from '../helpers/shared.js';

describeNeeds([FMNIST], 'Fashion-MNIST (IDX, gz)', () => {
  let fm: Splits<ArrayDataset>;
  beforeAll(async () => {
    fm = await loadIdxDir(FMNIST_DIR, { name: 'fashion-mnist' });
  });

  it('loads 60000 + 10000 28x28 images with the exact label histogram', () => {
    expect(fm.train.length).toBe(60000);
    expect(fm.test.length).toBe(10000);
    expect([fm.train.channels, fm.train.height, fm.train.width]).toEqual([1, 28, 28]);
    expect(labelHistogram(fm.train.labels, 10)).toEqual(new Array(10).fill(6000));
    expect(labelHistogram(fm.test.labels, 10)).toEqual(new Array(10).fill(1000));
    // the first training label of Fashion-MNIST is 9 (ankle boot), the first test label 9 too
    expect(fm.train.labels[0]).toBe(9);
    expect(fm.test.labels[0]).toBe(9);
  });

  it('binary problem for class 3: 6000 + 6000 train, 1000 + 1000 test, seeded', () => {
    const p = binaryProblem(fm, 3);
    const count = (l: Int32Array, v: number) => l.reduce((s, x) => s + (x === v ? 1 : 0), 0);
    expect(p.train.length).toBe(12000);
    expect(p.test.length).toBe(2000);
    expect([count(p.train.labels, 0), count(p.train.labels, 1)]).toEqual([6000, 6000]);
    expect([count(p.test.labels, 0), count(p.test.labels, 1)]).toEqual([1000, 1000]);
    for (let j = 0; j < p.train.length; j++) {
      const orig = fm.train.labels[p.train.indices[j]!]!;
      expect(orig === 3).toBe(p.train.labels[j] === 0);
      expect(p.train.originalLabels[j]).toBe(orig);
    }
    expect(new Set(p.train.indices).size).toBe(12000); // without replacement
    const again = binaryProblem(fm, 3);
    expect(Array.from(again.train.indices)).toEqual(Array.from(p.train.indices));
    expect(Array.from(again.test.indices)).toEqual(Array.from(p.test.indices));
    const other = binaryProblem(fm, 3, { seed: 1 });
    expect(Array.from(other.train.indices)).not.toEqual(Array.from(p.train.indices));
    expect(Array.from(other.test.indices)).not.toEqual(Array.from(p.test.indices));
    // the negatives are spread over the other nine classes
    const neg = labelHistogram(p.train.originalLabels.subarray(6000), 10);
    expect(neg[3]).toBe(0);
    for (const [c, v] of neg.entries()) if (c !== 3) expect(v).toBeGreaterThan(500);
  });

  it('scores the original model as SeaM does', () => {
    const p = binaryProblem(fm, 3);
    // an oracle predicting the true class is perfect; one always predicting 3 gets exactly half
    expect(scoreOriginal(p, p.test, p.test.originalLabels)).toBe(1);
    expect(scoreOriginal(p, p.test, new Int32Array(p.test.length).fill(3))).toBe(0.5);
    const m = classListProblem(fm, [7, 2, 5]);
    expect(m.train.length).toBe(18000);
    expect(Array.from(m.classNames)).toEqual(['Sneaker', 'Pullover', 'Sandal'].map((_, i) => fm.train.classNames[[7, 2, 5][i]!]));
    const first = m.train.labels[0]!;
    expect([7, 2, 5][first]).toBe(m.train.originalLabels[0]);
    expect(scoreOriginal(m, m.test, m.test.originalLabels)).toBe(1);
  });
});

describe('IDX errors name the file and the problem', () => {
  const header = (magic: number[], dims: number[]) => {
    const b = Buffer.alloc(4 + 4 * dims.length);
    b.set(magic, 0);
    dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
    return b;
  };
  it('wrong magic, truncated, trailing, wrong type', () => {
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4, 5]), 'x.idx')).toThrow(/x\.idx: wrong magic 0x01020304/);
    expect(() => parseIdx(new Uint8Array(header([0, 0, 8, 3], [2, 2, 2])), 'y.idx')).toThrow(/y\.idx: truncated: dims \[2, 2, 2\] need 8 data bytes, found 0/);
    expect(() => parseIdx(new Uint8Array([...header([0, 0, 8, 1], [2]), 1, 2, 3]), 'z.idx')).toThrow(/z\.idx: 1 unexpected trailing bytes/);
    expect(() => parseIdx(new Uint8Array([...header([0, 0, 0x0d, 1], [1]), 0, 0, 0, 0]), 'f.idx')).toThrow(/f\.idx: IDX element type is float/);
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0]), 't.idx')).toThrow(/t\.idx: truncated IDX header/);
  });
  it('label out of range, count mismatch, missing split', async () => {
    const d = mkdtempSync(join(tmpdir(), 'seam-idx-'));
    const imgs = Buffer.concat([header([0, 0, 8, 3], [3, 2, 2]), Buffer.alloc(12, 7)]);
    writeFileSync(join(d, 'train-images-idx3-ubyte'), imgs);
    writeFileSync(join(d, 'train-labels-idx1-ubyte.gz'), gzipSync(Buffer.concat([header([0, 0, 8, 1], [3]), Buffer.from([0, 1, 12])])));
    await expect(loadIdxDir(d)).rejects.toThrow(/missing test split: no images file/);
    writeFileSync(join(d, 't10k-images-idx3-ubyte'), imgs);
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), Buffer.concat([header([0, 0, 8, 1], [2]), Buffer.from([0, 1])]));
    await expect(loadIdxDir(d)).rejects.toThrow(/t10k-labels-idx1-ubyte: 2 labels for 3 images/);
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), Buffer.concat([header([0, 0, 8, 1], [3]), Buffer.from([0, 1, 1])]));
    await expect(loadIdxDir(d, { classNames: ['a', 'b', 'c'] })).rejects.toThrow(/train-labels-idx1-ubyte\.gz: label 12 of sample 2 is out of range 0\.\.2/);
    const ok = await loadIdxDir(d);
    expect(ok.train.numClasses).toBe(13);
    expect(Array.from(ok.train.image!(1).data.subarray(4, 8))).toEqual([7, 7, 7, 7]);
  });
});
