/**
 * CIFAR-10 / CIFAR-100 in both published layouts, from a folder or straight from the archive:
 * - binary: `data_batch_{1..5}.bin` + `test_batch.bin` (records: 1 label byte + 3072 CHW pixels);
 *   CIFAR-100 `train.bin` / `test.bin` (records: coarse byte, fine byte, 3072 pixels);
 * - python: pickled dicts `data_batch_{1..5}` + `test_batch` / `train` + `test` (see cifar-python.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ArrayDataset, type Splits } from './dataset.js';
import { readTar } from './tar.js';
import { CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES } from './class-names.js';
import { parseCifarPythonBatch, parseCifarPythonMeta } from './cifar-python.js';

export type CifarVariant = 'cifar10' | 'cifar100';
export type CifarLayout = 'binary' | 'python';

const PIXELS = 3 * 32 * 32;

/** Where the CIFAR files come from: a folder (maybe with the archive's subfolder) or an archive. */
interface FileSource {
  where: string;
  has(name: string): boolean;
  read(name: string): Promise<Uint8Array>;
  describe(name: string): string;
}

const SUBDIRS = ['', 'cifar-10-batches-bin', 'cifar-10-batches-py', 'cifar-100-binary', 'cifar-100-python'];

function folderSource(dir: string): FileSource {
  const locate = (name: string): string | undefined => {
    for (const s of SUBDIRS) {
      const f = join(dir, s, name);
      if (existsSync(f)) return f;
    }
    return undefined;
  };
  return {
    where: dir,
    has: (name) => locate(name) !== undefined,
    describe: (name) => locate(name) ?? join(dir, name),
    read: async (name) => {
      const f = locate(name);
      if (!f) throw new Error(`${dir}: missing ${name}`);
      const b = await readFile(f);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
  };
}

async function archiveSource(file: string): Promise<FileSource> {
  const buf = await readFile(file);
  const entries = await readTar(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
  const byBase = new Map<string, [string, Uint8Array]>();
  for (const [path, data] of entries) byBase.set(basename(path), [path, data]);
  return {
    where: file,
    has: (name) => byBase.has(name),
    describe: (name) => `${file}:${byBase.get(name)?.[0] ?? name}`,
    read: async (name) => {
      const e = byBase.get(name);
      if (!e) throw new Error(`${file}: archive has no ${name}`);
      return e[1];
    },
  };
}

function splitFiles(variant: CifarVariant, layout: CifarLayout): { train: string[]; test: string[] } {
  const ext = layout === 'binary' ? '.bin' : '';
  if (variant === 'cifar10') {
    return { train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}${ext}`), test: [`test_batch${ext}`] };
  }
  return { train: [`train${ext}`], test: [`test${ext}`] };
}

function detectLayout(src: FileSource, variant: CifarVariant): CifarLayout {
  const first = variant === 'cifar10' ? 'data_batch_1' : 'train';
  if (src.has(`${first}.bin`)) return 'binary';
  if (src.has(first)) return 'python';
  throw new Error(
    `${src.where}: no ${variant} data found: expected ${first}.bin (binary layout) or ${first} (python layout)` +
      (variant === 'cifar10' && src.has('train.bin') ? ' (this looks like CIFAR-100: use cifar100)' : '') +
      (variant === 'cifar100' && src.has('data_batch_1.bin') ? ' (this looks like CIFAR-10: use cifar10)' : ''),
  );
}

interface Parsed {
  pixels: Uint8Array;
  fine: Int32Array;
  coarse?: Int32Array;
}

/** Parse one binary batch file; `what` names it in errors. */
export function parseCifarBinary(b: Uint8Array, variant: CifarVariant, what: string): Parsed {
  const head = variant === 'cifar10' ? 1 : 2;
  const rec = head + PIXELS;
  if (b.length === 0 || b.length % rec !== 0) {
    throw new Error(`${what}: truncated or not a ${variant} binary batch: ${b.length} bytes is not a multiple of the ${rec}-byte record`);
  }
  const n = b.length / rec;
  const pixels = new Uint8Array(n * PIXELS);
  const fine = new Int32Array(n);
  const coarse = variant === 'cifar100' ? new Int32Array(n) : undefined;
  const nFine = variant === 'cifar10' ? 10 : 100;
  for (let i = 0; i < n; i++) {
    const o = i * rec;
    if (coarse) {
      coarse[i] = b[o]!;
      if (coarse[i]! >= 20) throw new Error(`${what}: coarse label ${coarse[i]} of record ${i} is out of range 0..19`);
    }
    fine[i] = b[o + head - 1]!;
    if (fine[i]! >= nFine) throw new Error(`${what}: label ${fine[i]} of record ${i} is out of range 0..${nFine - 1}`);
    pixels.set(b.subarray(o + head, o + rec), i * PIXELS);
  }
  return coarse ? { pixels, fine, coarse } : { pixels, fine };
}

function concat(parts: Parsed[]): Parsed {
  const n = parts.reduce((s, p) => s + p.fine.length, 0);
  const pixels = new Uint8Array(n * PIXELS);
  const fine = new Int32Array(n);
  const coarse = parts[0]!.coarse ? new Int32Array(n) : undefined;
  let k = 0;
  for (const p of parts) {
    pixels.set(p.pixels, k * PIXELS);
    fine.set(p.fine, k);
    if (coarse) coarse.set(p.coarse!, k);
    k += p.fine.length;
  }
  return coarse ? { pixels, fine, coarse } : { pixels, fine };
}

async function classNamesFor(src: FileSource, variant: CifarVariant, layout: CifarLayout): Promise<{ fine: readonly string[]; coarse?: readonly string[] }> {
  const lines = async (name: string): Promise<string[] | undefined> => {
    if (!src.has(name)) return undefined;
    const t = new TextDecoder().decode(await src.read(name));
    return t.split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0);
  };
  const expectFine = variant === 'cifar10' ? CIFAR10_CLASSES : CIFAR100_CLASSES;
  let fine: readonly string[] | undefined;
  let coarse: readonly string[] | undefined;
  if (layout === 'binary') {
    fine = variant === 'cifar10' ? await lines('batches.meta.txt') : await lines('fine_label_names.txt');
    if (variant === 'cifar100') coarse = await lines('coarse_label_names.txt');
  } else {
    const metaName = variant === 'cifar10' ? 'batches.meta' : 'meta';
    if (src.has(metaName)) {
      const m = parseCifarPythonMeta(await src.read(metaName), src.describe(metaName));
      fine = m.fine;
      coarse = m.coarse;
    }
  }
  if (fine && fine.length !== expectFine.length) {
    throw new Error(`${src.where}: ${variant} class-name list has ${fine.length} names, expected ${expectFine.length}`);
  }
  if (coarse && coarse.length !== 20) throw new Error(`${src.where}: CIFAR-100 coarse names list has ${coarse.length} names, expected 20`);
  return variant === 'cifar100' ? { fine: fine ?? expectFine, coarse: coarse ?? CIFAR100_COARSE_CLASSES } : { fine: fine ?? expectFine };
}

export interface CifarLoadOptions {
  /** force a layout instead of detecting it */
  layout?: CifarLayout;
}

/** Load CIFAR-10 or CIFAR-100 from a folder, or from a .tar / .tar.gz / .tgz archive. */
export async function loadCifar(path: string, variant: CifarVariant, opts: CifarLoadOptions = {}): Promise<Splits<ArrayDataset>> {
  if (!existsSync(path)) throw new Error(`${path}: ${variant} data not found (no such file or folder)`);
  const src = statSync(path).isDirectory() ? folderSource(path) : await archiveSource(path);
  const layout = opts.layout ?? detectLayout(src, variant);
  const files = splitFiles(variant, layout);
  const names = await classNamesFor(src, variant, layout);
  const load = async (split: 'train' | 'test'): Promise<ArrayDataset> => {
    const parts: Parsed[] = [];
    for (const f of files[split]) {
      if (!src.has(f)) throw new Error(`${src.where}: missing ${split} split: ${f} not found (${layout} layout)`);
      const bytes = await src.read(f);
      const what = src.describe(f);
      parts.push(layout === 'binary' ? parseCifarBinary(bytes, variant, what) : parseCifarPythonBatch(bytes, variant, what));
    }
    const p = concat(parts);
    const extra: Record<string, Int32Array> = p.coarse ? { coarse: p.coarse } : {};
    return new ArrayDataset(`${variant} ${split} (${src.where})`, p.pixels, p.fine, 3, 32, 32, names.fine, extra);
  };
  return { train: await load('train'), test: await load('test') };
}
