/**
 * Image folders: root/<class>/*.{jpg,jpeg,png,webp}, classes sorted by name (as torchvision's
 * ImageFolder). Decoding runs in sharp (libvips, on the libuv thread pool, so many images decode in
 * parallel): convert to 3-channel sRGB, resize the shorter side; the crop is done by the transform.
 */
import { readdirSync, statSync, existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import type Sharp from 'sharp';
import { checkLabels, type Dataset, type DecodeOptions, type Image, type Splits } from './dataset.js';

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp'];

export interface FolderOptions {
  /** decode failures resolve to null with a warning instead of rejecting */
  skipCorrupt?: boolean;
  /** where warnings go; default: stderr */
  onWarning?: (message: string) => void;
  /** use this class list (e.g. the train split's) instead of the folder names found */
  classNames?: readonly string[];
  name?: string;
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (e) {
    throw new Error(`${dir}: cannot list folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

export class FolderDataset implements Dataset {
  readonly channels = 3;
  readonly height = null;
  readonly width = null;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly labels: Int32Array;
  readonly files: readonly string[];
  readonly name: string;
  /** indices of files found corrupt so far (only filled with skipCorrupt) */
  readonly skipped = new Set<number>();
  private readonly warn: (m: string) => void;

  constructor(readonly root: string, private readonly opts: FolderOptions = {}) {
    this.name = opts.name ?? root;
    this.warn = opts.onWarning ?? ((m) => process.stderr.write(`warning: ${m}\n`));
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`${root}: image folder not found`);
    const found = listDir(root).filter((d) => statSync(join(root, d)).isDirectory());
    const classNames = opts.classNames ?? found;
    const classIndex = new Map(classNames.map((c, i) => [c, i]));
    const files: string[] = [];
    const labels: number[] = [];
    for (const cls of found) {
      const y = classIndex.get(cls);
      if (y === undefined) throw new Error(`${join(root, cls)}: class "${cls}" is not one of the ${classNames.length} known classes`);
      for (const f of listDir(join(root, cls))) {
        if (IMAGE_EXTENSIONS.includes(extname(f).toLowerCase())) {
          files.push(join(root, cls, f));
          labels.push(y);
        }
      }
    }
    if (classNames.length === 0) throw new Error(`${root}: no class folders (expected ${root}/<class>/*.jpg|png|webp)`);
    if (files.length === 0) throw new Error(`${root}: no images with extensions ${IMAGE_EXTENSIONS.join(', ')} in its class folders`);
    this.classNames = classNames;
    this.numClasses = classNames.length;
    this.files = files;
    this.labels = Int32Array.from(labels);
    checkLabels(this.name, this.labels, this.numClasses);
  }

  get length(): number {
    return this.files.length;
  }

  describe(i: number): string {
    return this.files[i] ?? `${this.name}[#${i}]`;
  }

  readonly decode = async (i: number, opts: DecodeOptions): Promise<Image | null> => {
    const file = this.files[i];
    if (file === undefined) throw new RangeError(`${this.name}: sample ${i} out of range 0..${this.files.length - 1}`);
    if (this.skipped.has(i)) return null;
    try {
      return await decodeImage(file, opts);
    } catch (e) {
      const msg = `${file}: cannot decode image (${(e as Error).message})`;
      if (!this.opts.skipCorrupt) throw new Error(msg);
      this.skipped.add(i);
      this.warn(`${msg}; skipped`);
      return null;
    }
  };
}

let sharpModule: Promise<typeof Sharp> | null = null;

/** Decode one file to 3-channel HWC uint8, the shorter side resized when asked. sharp (libvips)
 *  loads on the first image: ~100 ms of start-up nobody without image folders should pay. */
export async function decodeImage(file: string, opts: DecodeOptions = {}): Promise<Image> {
  const sharp = await (sharpModule ??= import('sharp').then((m) => m.default));
  let pipe = sharp(file, { failOn: 'error' }).removeAlpha().toColourspace('srgb');
  if (opts.resizeShorter !== undefined) {
    const s = opts.resizeShorter;
    pipe = pipe.resize({ width: s, height: s, fit: 'outside', kernel: 'linear' });
  }
  const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
  return {
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    offset: 0,
    channels: 3,
    height: info.height,
    width: info.width,
    strideC: 1,
    strideY: info.width * 3,
    strideX: 3,
  };
}

/** PATH/train/<class>/... and PATH/val/<class>/... (`test` accepted for val); val uses train's classes. */
export function openImageFolders(root: string, opts: FolderOptions = {}): Splits<FolderDataset> {
  const trainDir = join(root, 'train');
  if (!existsSync(trainDir)) throw new Error(`${root}: missing train split (expected ${trainDir}/<class>/...)`);
  const valDir = ['val', 'test'].map((d) => join(root, d)).find((d) => existsSync(d));
  if (!valDir) throw new Error(`${root}: missing val split (expected ${join(root, 'val')}/<class>/...)`);
  const train = new FolderDataset(trainDir, { ...opts, name: `${opts.name ?? root} train` });
  const test = new FolderDataset(valDir, { ...opts, classNames: train.classNames, name: `${opts.name ?? root} val` });
  return { train, test };
}
