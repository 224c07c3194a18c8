/**
 * MNIST-style IDX files (raw or gzip): `train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`,
 * `t10k-*`. Only unsigned-byte payloads (type 0x08) occur in image datasets; others are rejected by name.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ArrayDataset, type Splits } from './dataset.js';
import { readMaybeGz, readU32BE } from './bytes.js';

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

/** Parse an (already decompressed) IDX buffer; `file` names it in errors. */
export function parseIdx(b: Uint8Array, file: string): IdxArray {
  if (b.length < 4) throw new Error(`${file}: truncated IDX file (${b.length} bytes, no header)`);
  if (b[0] !== 0 || b[1] !== 0) {
    const magic = readU32BE(b, 0).toString(16).padStart(8, '0');
    throw new Error(`${file}: wrong magic 0x${magic}: not an IDX file (expected 0x000008NN)`);
  }
  const type = b[2]!;
  const ndims = b[3]!;
  if (type !== 0x08) {
    const what = IDX_TYPES[type] ?? `unknown type 0x${type.toString(16)}`;
    throw new Error(`${file}: IDX element type is ${what}; only unsigned byte (0x08) is supported`);
  }
  if (ndims < 1) throw new Error(`${file}: IDX header declares 0 dimensions`);
  const headerLen = 4 + 4 * ndims;
  if (b.length < headerLen) throw new Error(`${file}: truncated IDX header (${ndims} dimensions declared, ${b.length} bytes)`);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = readU32BE(b, 4 + 4 * i);
    dims.push(d);
    count *= d;
  }
  const have = b.length - headerLen;
  if (have < count) {
    throw new Error(`${file}: truncated: dims [${dims.join(', ')}] need ${count} data bytes, found ${have}`);
  }
  if (have > count) {
    throw new Error(`${file}: ${have - count} unexpected trailing bytes after dims [${dims.join(', ')}]`);
  }
  return { dims, data: b.subarray(headerLen) };
}

export async function readIdxFile(file: string): Promise<IdxArray> {
  return parseIdx(await readMaybeGz(file), file);
}

export interface IdxLoadOptions {
  /** dataset name for messages */
  name?: string;
  /** class names; their count is the number of classes. Default: "0".."max label" */
  classNames?: readonly string[];
}

/** Load one images/labels pair. Images are N x H x W (one channel) or N x C x H x W. */
export async function loadIdxPair(imagesFile: string, labelsFile: string, opts: IdxLoadOptions = {}): Promise<ArrayDataset> {
  const [img, lab] = await Promise.all([readIdxFile(imagesFile), readIdxFile(labelsFile)]);
  if (img.dims.length !== 3 && img.dims.length !== 4) {
    throw new Error(`${imagesFile}: images must be N x H x W or N x C x H x W, got dims [${img.dims.join(', ')}]`);
  }
  if (lab.dims.length !== 1) throw new Error(`${labelsFile}: labels must be one-dimensional, got dims [${lab.dims.join(', ')}]`);
  const n = img.dims[0]!;
  if (lab.dims[0] !== n) throw new Error(`${labelsFile}: ${lab.dims[0]} labels for ${n} images in ${imagesFile}`);
  const [c, h, w] = img.dims.length === 3 ? [1, img.dims[1]!, img.dims[2]!] : [img.dims[1]!, img.dims[2]!, img.dims[3]!];
  const labels = Int32Array.from(lab.data);
  let maxLabel = 0;
  for (let i = 0; i < n; i++) if (labels[i]! > maxLabel) maxLabel = labels[i]!;
  const classNames = opts.classNames ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  if (maxLabel >= classNames.length) {
    const i = labels.findIndex((y) => y >= classNames.length);
    throw new Error(`${labelsFile}: label ${labels[i]} of sample ${i} is out of range 0..${classNames.length - 1}`);
  }
  return new ArrayDataset(opts.name ?? imagesFile, img.data, labels, c, h, w, classNames);
}

const SPLIT_PREFIX = { train: 'train', test: 't10k' } as const;

/** Find `<prefix>-<kind>-idxN-ubyte[.gz]` (or the `.idxN-ubyte` spelling) in dir. */
export function findIdxFile(dir: string, split: 'train' | 'test', kind: 'images' | 'labels'): string {
  const p = SPLIT_PREFIX[split];
  const n = kind === 'images' ? 3 : 1;
  const tried: string[] = [];
  for (const sep of ['-', '.']) {
    for (const gz of ['', '.gz']) {
      const f = join(dir, `${p}-${kind}${sep}idx${n}-ubyte${gz}`);
      if (existsSync(f)) return f;
      tried.push(`${p}-${kind}${sep}idx${n}-ubyte${gz}`);
    }
  }
  throw new Error(`${dir}: missing ${split} split: no ${kind} file (tried ${tried.join(', ')})`);
}

/** Load the train (train-*) and test (t10k-*) pairs of an IDX directory (MNIST, Fashion-MNIST, ...). */
export async function loadIdxDir(dir: string, opts: IdxLoadOptions = {}): Promise<Splits<ArrayDataset>> {
  const base = opts.name ?? dir;
  const files = {
    train: [findIdxFile(dir, 'train', 'images'), findIdxFile(dir, 'train', 'labels')] as const,
    test: [findIdxFile(dir, 'test', 'images'), findIdxFile(dir, 'test', 'labels')] as const,
  };
  let classNames = opts.classNames;
  if (!classNames) {
    // infer the class count from both splits so train and test agree
    const [a, b] = await Promise.all([readIdxFile(files.train[1]), readIdxFile(files.test[1])]);
    let m = 0;
    for (const v of a.data) if (v > m) m = v;
    for (const v of b.data) if (v > m) m = v;
    classNames = Array.from({ length: m + 1 }, (_, i) => String(i));
  }
  const [train, test] = await Promise.all([
    loadIdxPair(files.train[0], files.train[1], { name: `${base} train`, classNames }),
    loadIdxPair(files.test[0], files.test[1], { name: `${base} test`, classNames }),
  ]);
  if (train.channels !== test.channels || train.height !== test.height || train.width !== test.width) {
    throw new Error(`${dir}: train images are ${train.channels}x${train.height}x${train.width} but test images are ${test.channels}x${test.height}x${test.width}`);
  }
  return { train, test };
}
