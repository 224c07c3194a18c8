// The --data spec, per-kind defaults, and class-list / CSV superclass problems on synthetic data.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrayDataset } from '../../src/data/dataset.js';
import { classListProblem, csvSuperclassProblem, parseSuperclassCsv, binaryProblem, scoreOriginal } from '../../src/data/problems.js';
import { dataSpecFromArgs, datasetStatistics, openData, parseDataArg } from '../../src/data/spec.js';
import { syntheticSplits } from '../../src/data/synthetic.js';
import { ROOT } from '../helpers/shared.js';

describe('--data KIND:PATH', () => {
  it('parses kinds, paths, mean/std lists and augment', () => {
    expect(parseDataArg('cifar10:/d/c10')).toEqual({ kind: 'cifar10', path: '/d/c10' });
    expect(parseDataArg('Fashion-MNIST:rel/x:y')).toEqual({ kind: 'fashion-mnist', path: 'rel/x:y' });
    expect(() => parseDataArg('svhn:/x')).toThrow(/unknown kind "svhn"/);
    expect(() => parseDataArg('/just/a/path')).toThrow(/expected KIND:PATH/);
    expect(dataSpecFromArgs({ data: 'idx:/p', mean: '0.1,0.2, 0.3', std: '0.5', augment: 'crop-flip' })).toEqual({
      kind: 'idx', path: '/p', mean: [0.1, 0.2, 0.3], std: [0.5], augment: 'crop-flip',
    });
    expect(() => dataSpecFromArgs({ data: 'idx:/p', mean: 'a' })).toThrow(/--mean "a"/);
    expect(() => dataSpecFromArgs({ data: 'idx:/p', augment: 'flip' })).toThrow(/--augment "flip"/);
  });

  it('opens IDX data with kind defaults and overrides', async () => {
    const dir = join(ROOT, 'examples', 'fmnist'); // the bundled Fashion-MNIST subset
    const d = await openData({ kind: 'fashion-mnist', path: dir });
    expect(d.normalization).toEqual({ mean: [0.286], std: [0.353] });
    expect(d.trainTransform).toMatchObject({ crop: 'center', padding: 0, flip: false, height: 28, width: 28 });
    expect(d.train.classNames[0]).toBe('T-shirt/top');
    const o = await openData({ kind: 'mnist', path: dir, mean: [0.5], std: [0.5], augment: 'crop-flip' });
    expect(o.normalization).toEqual({ mean: [0.5], std: [0.5] });
    expect(o.trainTransform).toMatchObject({ crop: 'random', padding: 4, flip: true });
    expect(o.evalTransform).toMatchObject({ crop: 'center', padding: 0, flip: false });
    await expect(openData({ kind: 'cifar10', path: dir })).rejects.toThrow(/no cifar10 data found/);
    const sub = new ArrayDataset('s', d.train.image!(0).data.subarray(0, 784 * 100), d.train.labels.subarray(0, 100), 1, 28, 28, d.train.classNames);
    const st = datasetStatistics(sub);
    expect(st.mean[0]).toBeGreaterThan(0.2);
    expect(st.mean[0]).toBeLessThan(0.4);
  });
});

describe('problems on synthetic data', () => {
  const s = syntheticSplits({ train: 300, test: 100, numClasses: 6, seed: 1 });

  it('class list relabels 0..k-1 in the given order', () => {
    const p = classListProblem(s, [4, 'class1', 2]);
    expect(p.classes).toEqual([4, 1, 2]);
    expect(p.train.length).toBe(150);
    for (let j = 0; j < p.train.length; j++) expect(p.classes[p.train.labels[j]!]).toBe(p.train.originalLabels[j]);
    // in dataset order
    for (let j = 1; j < p.train.length; j++) expect(p.train.indices[j]!).toBeGreaterThan(p.train.indices[j - 1]!);
    expect(() => classListProblem(s, [1, 1])).toThrow(/given twice/);
    expect(() => classListProblem(s, [1, 9])).toThrow(/class 9 is out of range 0\.\.5/);
    expect(() => binaryProblem(s, 'nope')).toThrow(/no class named "nope"/);
    // a wrong prediction is scored wrong with original labels
    const wrong = Int32Array.from(p.test.originalLabels, (y) => (y + 1) % 6);
    expect(scoreOriginal(p, p.test, wrong)).toBe(0);
  });

  it('CSV superclasses: header, comments, quotes, file order, unknown names', () => {
    const csv = 'class,superclass\n# pets\nclass5,"big, ones"\nclass0,"big, ones"\n\nclass3,small\n';
    expect(parseSuperclassCsv(csv)).toEqual(new Map([['big, ones', ['class5', 'class0']], ['small', ['class3']]]));
    const dir = mkdtempSync(join(tmpdir(), 'seam-csv-'));
    mkdirSync(join(dir, 'x'));
    const file = join(dir, 'x', 'super.csv');
    writeFileSync(file, csv);
    const p = csvSuperclassProblem(s, { file }, 'big, ones');
    expect(p.classes).toEqual([5, 0]);
    expect(p.classNames).toEqual(['class5', 'class0']);
    expect(() => csvSuperclassProblem(s, { file }, 'huge')).toThrow(/super\.csv: no superclass "huge"/);
    expect(() => parseSuperclassCsv('a,b,c\n', 'm.csv')).toThrow(/m\.csv:1: expected "class,superclass", got 3 fields/);
    expect(() => csvSuperclassProblem(s, { text: 'dragon,big\nclass1,big\n' }, 'big')).toThrow(/no class named "dragon"/);
  });
});
