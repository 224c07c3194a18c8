/**
 * SeaM's target problems (SEAM.md section 1), built from a train/test pair of any dataset:
 * - binary: every sample of class c (label 0) followed by an equal number of the other classes' samples
 *   (label 1), drawn without replacement as `np.random.RandomState(seed).shuffle(others)[:n]` so the
 *   sample is the reference's, bit for bit; train and test are each built the same way with the seed;
 * - multi-class: the samples of classes [c1..ck] (in dataset order), relabelled 0..k-1 in the given order;
 *   CIFAR-100 superclasses by index or name; ImageNet-style superclasses from a class,superclass CSV.
 * Each problem also says how the ORIGINAL model is scored on it.
 */
import { readFileSync } from 'node:fs';
import { Subset, type Dataset, type Splits } from './dataset.js';
import { NumpyRandomState } from './rng.js';
import { CIFAR100_SUPERCLASSES } from './class-names.js';

/** One split of a problem: a relabelled subset plus the samples' labels in the original dataset. */
export class ProblemSplit extends Subset {
  constructor(base: Dataset, indices: Int32Array, labels: Int32Array, classNames: readonly string[], readonly originalLabels: Int32Array, name: string) {
    super(base, indices, labels, classNames, name);
  }
}

export interface TargetProblem {
  kind: 'binary' | 'multiclass';
  /** e.g. "binary: class 3 (Dress) vs rest" */
  description: string;
  /** original class ids: [c] for binary, [c1..ck] for multi-class */
  classes: number[];
  /** classes of the problem: 2 for binary, k otherwise */
  numClasses: number;
  classNames: readonly string[];
  train: ProblemSplit;
  test: ProblemSplit;
}

/** Resolve a class given by index or by name (exact, then case-insensitive). */
export function resolveClass(ds: Dataset, c: number | string): number {
  if (typeof c === 'number' || /^\d+$/.test(c)) {
    const i = Number(c);
    if (!(Number.isInteger(i) && i >= 0 && i < ds.numClasses)) throw new Error(`${ds.name}: class ${c} is out of range 0..${ds.numClasses - 1}`);
    return i;
  }
  let i = ds.classNames.indexOf(c);
  if (i < 0) i = ds.classNames.findIndex((n) => n.toLowerCase() === c.toLowerCase());
  if (i < 0) throw new Error(`${ds.name}: no class named "${c}" (classes: ${ds.classNames.slice(0, 12).join(', ')}${ds.numClasses > 12 ? ', ...' : ''})`);
  return i;
}

function binarySplit(ds: Dataset, c: number, seed: number, split: string): ProblemSplit {
  const target: number[] = [];
  const other: number[] = [];
  for (let i = 0; i < ds.length; i++) (ds.labels[i] === c ? target : other).push(i);
  if (target.length === 0) throw new Error(`${ds.name}: class ${c} (${ds.classNames[c]}) has no samples in the ${split} split`);
  const others = Int32Array.from(other);
  new NumpyRandomState(seed).shuffle(others);
  const drawn = others.subarray(0, Math.min(target.length, others.length));
  const n = target.length + drawn.length;
  const indices = new Int32Array(n);
  indices.set(target, 0);
  indices.set(drawn, target.length);
  const labels = new Int32Array(n).fill(1, target.length);
  const orig = new Int32Array(n);
  for (let j = 0; j < n; j++) orig[j] = ds.labels[indices[j]!]!;
  const name = ds.classNames[c]!;
  return new ProblemSplit(ds, indices, labels, [name, `not ${name}`], orig, `${ds.name}: ${name} vs rest`);
}

/** One class against an equal seeded sample of the rest (default seed 0). */
export function binaryProblem(splits: Splits, target: number | string, opts: { seed?: number } = {}): TargetProblem {
  const seed = opts.seed ?? 0;
  const c = resolveClass(splits.train, target);
  const train = binarySplit(splits.train, c, seed, 'train');
  const test = binarySplit(splits.test, c, seed, 'test');
  return {
    kind: 'binary',
    description: `binary: class ${c} (${splits.train.classNames[c]}) vs rest, seed ${seed}`,
    classes: [c],
    numClasses: 2,
    classNames: train.classNames,
    train,
    test,
  };
}

function classListSplit(ds: Dataset, classes: number[], names: string[], label: string): ProblemSplit {
  const map = new Int32Array(ds.numClasses).fill(-1);
  classes.forEach((c, k) => (map[c] = k));
  const idx: number[] = [];
  for (let i = 0; i < ds.length; i++) if (map[ds.labels[i]!]! >= 0) idx.push(i);
  const indices = Int32Array.from(idx);
  const labels = new Int32Array(indices.length);
  const orig = new Int32Array(indices.length);
  for (let j = 0; j < indices.length; j++) {
    orig[j] = ds.labels[indices[j]!]!;
    labels[j] = map[orig[j]!]!;
  }
  return new ProblemSplit(ds, indices, labels, names, orig, `${ds.name}: ${label}`);
}

/** The samples of the given classes only, relabelled 0..k-1 in the given order. */
export function classListProblem(splits: Splits, classes: readonly (number | string)[], label?: string): TargetProblem {
  if (classes.length < 2) throw new Error(`class-list problem needs at least 2 classes, got ${classes.length} (use a binary problem for one)`);
  const ids = classes.map((c) => resolveClass(splits.train, c));
  const dup = ids.find((c, i) => ids.indexOf(c) !== i);
  if (dup !== undefined) throw new Error(`class-list problem: class ${dup} (${splits.train.classNames[dup]}) is given twice`);
  const names = ids.map((c) => splits.train.classNames[c]!);
  const what = label ?? `classes [${ids.join(', ')}]`;
  const train = classListSplit(splits.train, ids, names, what);
  const test = classListSplit(splits.test, ids, names, what);
  for (const [s, d] of [[train, 'train'], [test, 'test']] as const) {
    if (s.length === 0) throw new Error(`${s.name}: no samples of classes [${ids.join(', ')}] in the ${d} split`);
  }
  return { kind: 'multiclass', description: `multi-class: ${what}`, classes: ids, numClasses: ids.length, classNames: names, train, test };
}

/** CIFAR-100 superclass (coarse label) by index 0..19 or name, e.g. 14 or "people". */
export function cifar100SuperclassProblem(splits: Splits, superclass: number | string): TargetProblem {
  let k: number;
  if (typeof superclass === 'number' || /^\d+$/.test(superclass)) {
    k = Number(superclass);
    if (!(Number.isInteger(k) && k >= 0 && k < 20)) throw new Error(`CIFAR-100 superclass ${superclass} is out of range 0..19`);
  } else {
    k = CIFAR100_SUPERCLASSES.findIndex((s) => s.name.toLowerCase() === superclass.toLowerCase());
    if (k < 0) throw new Error(`no CIFAR-100 superclass named "${superclass}" (known: ${CIFAR100_SUPERCLASSES.map((s) => s.name).join(', ')})`);
  }
  const sc = CIFAR100_SUPERCLASSES[k]!;
  const p = classListProblem(splits, sc.classes, `CIFAR-100 superclass ${k} (${sc.name})`);
  // when the data carries its own coarse labels, they must agree with the table
  for (const s of [p.train, p.test]) {
    const coarse = (s.base as { extraLabels?: Record<string, Int32Array> }).extraLabels?.['coarse'];
    if (!coarse) continue;
    for (let j = 0; j < s.length; j++) {
      const got = coarse[s.indices[j]!]!;
      if (got !== k) throw new Error(`${s.base.describe(s.indices[j]!)}: fine class ${s.originalLabels[j]} has coarse label ${got}, expected ${k} (${sc.name})`);
    }
  }
  return p;
}

/** Parse `class,superclass` lines (optional header, # comments, double-quoted fields) in file order. */
export function parseSuperclassCsv(text: string, file = 'superclass CSV'): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = splitCsvLine(line, `${file}:${n + 1}`);
    if (fields.length !== 2) throw new Error(`${file}:${n + 1}: expected "class,superclass", got ${fields.length} fields`);
    const [cls, sup] = fields as [string, string];
    if (n === 0 && cls.toLowerCase() === 'class' && sup.toLowerCase() === 'superclass') return;
    if (!cls || !sup) throw new Error(`${file}:${n + 1}: empty class or superclass`);
    const list = out.get(sup) ?? [];
    if (list.includes(cls)) throw new Error(`${file}:${n + 1}: class "${cls}" listed twice for superclass "${sup}"`);
    list.push(cls);
    out.set(sup, list);
  });
  if (out.size === 0) throw new Error(`${file}: no class,superclass rows`);
  return out;
}

function splitCsvLine(line: string, where: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) throw new Error(`${where}: unterminated quoted field`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += line[i++];
      }
      out.push(v.trim());
      while (i < line.length && line[i] !== ',') i++;
      i++;
    } else {
      const j = line.indexOf(',', i);
      const end = j < 0 ? line.length : j;
      out.push(line.slice(i, end).trim());
      i = end + 1;
    }
  }
  return out;
}

/** An ImageNet-style superclass: its classes from a CSV (text, or a file path via `csvFile`). */
export function csvSuperclassProblem(splits: Splits, csv: { text?: string; file?: string }, superclass: string): TargetProblem {
  const file = csv.file ?? 'superclass CSV';
  const text = csv.text ?? readFileSync(csv.file!, 'utf8');
  const map = parseSuperclassCsv(text, file);
  const classes = map.get(superclass);
  if (!classes) throw new Error(`${file}: no superclass "${superclass}" (known: ${[...map.keys()].slice(0, 20).join(', ')})`);
  return classListProblem(splits, classes, `superclass ${superclass} from ${file}`);
}

/** Whether the ORIGINAL model's prediction (argmax over its own classes) is right on the problem. */
export function originalCorrect(problem: TargetProblem, originalLabel: number, argmax: number): boolean {
  if (problem.kind === 'binary') {
    const c = problem.classes[0]!;
    return (argmax === c) === (originalLabel === c);
  }
  return argmax === originalLabel;
}

/** The original model's accuracy on a problem split, given its argmax for every sample of the split. */
export function scoreOriginal(problem: TargetProblem, split: ProblemSplit, argmax: ArrayLike<number>): number {
  if (argmax.length !== split.length) throw new Error(`scoreOriginal: ${argmax.length} predictions for ${split.length} samples`);
  let ok = 0;
  for (let j = 0; j < split.length; j++) if (originalCorrect(problem, split.originalLabels[j]!, argmax[j]!)) ok++;
  return split.length === 0 ? 0 : ok / split.length;
}
