/**
 * The dataset spec every command takes: `--data KIND:PATH` (+ `--mean`, `--std`, `--augment`), opened
 * into train/test datasets with their usual normalisation and the training / evaluation transforms.
 * Training augmentation by kind: CIFAR random crop 32 padding 4 + flip; MNIST-style and IDX none;
 * folders resize 256, random crop 224 + flip. Evaluation never augments (folders: resize + center crop).
 * `--resize N|HxW` sets the sample size (N: the shorter side, HxW: exactly) and `--channels 3` repeats
 * the channel of gray data (a 3-channel 224-pixel model on a 1-channel 28-pixel dataset).
 */
import { loadCifar } from './cifar.js';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './class-names.js';
import type { Dataset } from './dataset.js';
import { openImageFolders, type FolderOptions } from './folder.js';
import { loadIdxDir } from './idx.js';
import { DataLoader } from './loader.js';
import { NORMALIZATION, normalizationFor, type Normalization, type TransformSpec } from './transforms.js';

export const DATA_KINDS = ['cifar10', 'cifar100', 'mnist', 'fashion-mnist', 'idx', 'folder'] as const;
export type DataKind = (typeof DATA_KINDS)[number];
export type AugmentMode = 'none' | 'crop-flip';

export interface DataSpec {
  kind: DataKind;
  path: string;
  mean?: number[];
  std?: number[];
  /** override of the kind's training augmentation */
  augment?: AugmentMode;
  /** folders: shorter side after resize (256) and crop size (224) */
  resize?: number;
  cropSize?: number;
  /** folders: skip undecodable images with a warning */
  skipCorrupt?: boolean;
  /** --resize: the shorter side (aspect kept; folders: also the square crop), or an exact size */
  size?: { shorter: number } | { height: number; width: number };
  /** --channels: samples with this many channels (gray data repeated) */
  channels?: number;
}

/** Parse `--resize` "N" or "HxW". */
export function parseSize(s: string, flag = '--resize'): { shorter: number } | { height: number; width: number } {
  const m = /^\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?$/.exec(s);
  const nums = m ? [m[1], m[2]].filter((v) => v !== undefined).map(Number) : [];
  if (!m || nums.some((v) => !(v > 0))) throw new Error(`${flag} "${s}": expected a positive size N or HxW (e.g. 224 or 224x160)`);
  return nums.length === 1 ? { shorter: nums[0] } : { height: nums[0], width: nums[1] };
}

/** Parse "KIND:PATH". */
export function parseDataArg(arg: string): { kind: DataKind; path: string } {
  const i = arg.indexOf(':');
  if (i <= 0 || i === arg.length - 1) throw new Error(`--data "${arg}": expected KIND:PATH with KIND one of ${DATA_KINDS.join(', ')}`);
  const kind = arg.slice(0, i).toLowerCase();
  if (!(DATA_KINDS as readonly string[]).includes(kind)) throw new Error(`--data "${arg}": unknown kind "${kind}" (one of ${DATA_KINDS.join(', ')})`);
  return { kind: kind as DataKind, path: arg.slice(i + 1) };
}

/** Parse "0.5" or "0.49,0.48,0.45" (commas or spaces). */
export function parseNumberList(s: string, flag: string): number[] {
  const parts = s.split(/[,\s]+/).filter((p) => p !== '');
  const v = parts.map(Number);
  if (v.length === 0 || v.some((x) => !Number.isFinite(x))) throw new Error(`${flag} "${s}": expected one number, or one per channel separated by commas`);
  return v;
}

/** Build a DataSpec from the raw CLI flag values. */
export function dataSpecFromArgs(a: {
  data: string; mean?: string; std?: string; augment?: string; skipCorrupt?: boolean; resize?: string; channels?: string;
}): DataSpec {
  const spec: DataSpec = { ...parseDataArg(a.data) };
  if (a.mean !== undefined) spec.mean = parseNumberList(a.mean, '--mean');
  if (a.std !== undefined) spec.std = parseNumberList(a.std, '--std');
  if (a.augment !== undefined) {
    if (a.augment !== 'none' && a.augment !== 'crop-flip') throw new Error(`--augment "${a.augment}": expected none or crop-flip`);
    spec.augment = a.augment;
  }
  if (a.skipCorrupt) spec.skipCorrupt = true;
  if (a.resize !== undefined) spec.size = parseSize(a.resize);
  if (a.channels !== undefined) {
    const c = Number(a.channels);
    if (!Number.isInteger(c) || c < 1) throw new Error(`--channels "${a.channels}": expected a positive integer`);
    spec.channels = c;
  }
  return spec;
}

export interface OpenedData {
  spec: DataSpec;
  train: Dataset;
  test: Dataset;
  channels: number;
  normalization: Normalization;
  /** training transform (the kind's augmentation unless overridden) */
  trainTransform: TransformSpec;
  /** evaluation transform: never random */
  evalTransform: TransformSpec;
}

/** Per-channel mean/std of a uint8 in-memory dataset, on the [0, 1] scale (IDX has no published values). */
export function datasetStatistics(ds: Dataset): Normalization {
  if (!ds.image) throw new Error(`${ds.name}: statistics need an in-memory dataset`);
  const c = ds.channels;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  let count = 0;
  for (let i = 0; i < ds.length; i++) {
    const img = ds.image(i);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < img.height; y++) {
        let o = img.offset + ch * img.strideC + y * img.strideY;
        for (let x = 0; x < img.width; x++, o += img.strideX) {
          const v = img.data[o]!;
          sum[ch] += v;
          sq[ch] += v * v;
        }
      }
    }
    count += img.height * img.width;
  }
  const mean = Array.from(sum, (s) => s / count / 255);
  const std = Array.from(sq, (s, ch) => Math.sqrt(Math.max(s / count / 65025 - mean[ch]! ** 2, 1e-12)));
  return { mean, std };
}

export async function openData(spec: DataSpec, opts: Pick<FolderOptions, 'onWarning'> = {}): Promise<OpenedData> {
  let train: Dataset;
  let test: Dataset;
  let norm: Normalization;
  switch (spec.kind) {
    case 'cifar10':
    case 'cifar100':
      ({ train, test } = await loadCifar(spec.path, spec.kind));
      norm = NORMALIZATION[spec.kind];
      break;
    case 'mnist':
    case 'fashion-mnist':
      ({ train, test } = await loadIdxDir(spec.path, {
        name: spec.kind,
        classNames: spec.kind === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES,
      }));
      norm = NORMALIZATION[spec.kind];
      break;
    case 'idx':
      ({ train, test } = await loadIdxDir(spec.path, { name: `idx ${spec.path}` }));
      norm = spec.mean && spec.std ? { mean: spec.mean, std: spec.std } : datasetStatistics(train);
      break;
    case 'folder':
      ({ train, test } = openImageFolders(spec.path, { skipCorrupt: spec.skipCorrupt ?? false, ...opts }));
      norm = NORMALIZATION.imagenet;
      break;
  }
  const channels = spec.channels ?? train.channels;
  if (channels !== train.channels && train.channels !== 1) {
    throw new Error(`${spec.kind} ${spec.path}: the data has ${train.channels} channels; only 1-channel data can be repeated into ${channels}`);
  }
  const normalization = normalizationFor({ mean: spec.mean ?? norm.mean, std: spec.std ?? norm.std }, channels);
  const defaultAugment: AugmentMode = spec.kind === 'cifar10' || spec.kind === 'cifar100' || spec.kind === 'folder' ? 'crop-flip' : 'none';
  const augment = spec.augment ?? defaultAugment;
  const common = { crop: 'center' as const, padding: 0, flip: false, normalization, ...(channels !== train.channels ? { channels } : {}) };
  let evalTransform: TransformSpec;
  const size = spec.size;
  if (spec.kind === 'folder') {
    if (size && 'height' in size) {
      evalTransform = { ...common, height: size.height, width: size.width, resize: size };
    } else {
      const crop = size ? size.shorter : spec.cropSize ?? 224;
      evalTransform = { ...common, height: crop, width: crop, resizeShorter: size ? size.shorter : spec.resize ?? 256 };
    }
  } else {
    const [h, w] = [train.height!, train.width!];
    const [rh, rw] = !size ? [h, w] : 'height' in size ? [size.height, size.width]
      : h <= w ? [size.shorter, Math.floor((size.shorter * w) / h)] : [Math.floor((size.shorter * h) / w), size.shorter];
    evalTransform = { ...common, height: rh, width: rw, ...(rh !== h || rw !== w ? { resize: { height: rh, width: rw } } : {}) };
  }
  const trainTransform: TransformSpec = augment !== 'crop-flip' ? evalTransform
    : { ...evalTransform, crop: 'random', flip: true, padding: spec.kind === 'folder' ? 0 : 4 };
  return { spec, train, test, channels, normalization, trainTransform, evalTransform };
}

/** A shuffled, augmented training loader over `dataset` (the train split or a problem's train split). */
export function trainLoader(data: OpenedData, dataset: Dataset, o: { batchSize: number; seed?: number; dropLast?: boolean; prefetch?: number }): DataLoader {
  return new DataLoader(dataset, { ...o, transform: data.trainTransform, shuffle: true });
}

/** An evaluation loader: dataset order, no augmentation. */
export function evalLoader(data: OpenedData, dataset: Dataset, o: { batchSize: number; prefetch?: number }): DataLoader {
  return new DataLoader(dataset, { ...o, transform: data.evalTransform, shuffle: false, augment: false });
}
