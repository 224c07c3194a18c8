/**
 * The Dataset contract of the input pipeline. Pixels are uint8; a sample is either held in memory
 * (CHW, fixed size: IDX, CIFAR, synthetic) or decoded from a file on demand (image folders, HWC, any
 * size before the crop). Labels are always in memory so target problems can be built without decoding.
 */

/** A decoded image: uint8 pixels with explicit strides, so CHW and HWC sources share one kernel. */
export interface Image {
  data: Uint8Array;
  /** offset of pixel (c=0, y=0, x=0) in `data` */
  offset: number;
  channels: number;
  height: number;
  width: number;
  /** element strides of the channel, row and column axes */
  strideC: number;
  strideY: number;
  strideX: number;
}

/** How a file-backed sample is decoded: resize the shorter side, leave the crop to the transform. */
export interface DecodeOptions {
  /** target length of the shorter side in pixels; omitted = keep the decoded size */
  resizeShorter?: number;
  /** resize to exactly this size (aspect ratio not kept) */
  resizeTo?: { height: number; width: number };
}

export interface Dataset {
  /** for messages: e.g. "fashion-mnist train (/data/fmnist)" */
  readonly name: string;
  readonly length: number;
  readonly channels: number;
  /** fixed sample height and width for in-memory datasets; null when samples vary (image folders) */
  readonly height: number | null;
  readonly width: number | null;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** label of every sample, in 0..numClasses-1 */
  readonly labels: Int32Array;
  /** in-memory datasets: sample i as a CHW view (no copy); undefined for file-backed datasets */
  readonly image?: (i: number) => Image;
  /**
   * file-backed datasets: decode sample i (async, off the main thread). Resolves to null only when the
   * dataset was opened to skip corrupt files (it has warned about the file); otherwise a corrupt file
   * rejects with an error naming it.
   */
  readonly decode?: (i: number, opts: DecodeOptions) => Promise<Image | null>;
  /** where sample i comes from, for error messages (a file path or "name[#i]") */
  describe(i: number): string;
}

/** Samples held in one uint8 buffer, CHW per sample, back to back (IDX, CIFAR, synthetic). */
export class ArrayDataset implements Dataset {
  readonly height: number;
  readonly width: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  private readonly sampleSize: number;

  constructor(
    readonly name: string,
    /** N*C*H*W uint8, CHW per sample */
    readonly pixels: Uint8Array,
    readonly labels: Int32Array,
    readonly channels: number,
    height: number,
    width: number,
    classNames: readonly string[],
    /** extra per-sample label arrays, e.g. CIFAR-100 "coarse" */
    readonly extraLabels: Readonly<Record<string, Int32Array>> = {},
  ) {
    this.height = height;
    this.width = width;
    this.classNames = classNames;
    this.numClasses = classNames.length;
    this.sampleSize = channels * height * width;
    if (pixels.length !== labels.length * this.sampleSize) {
      throw new Error(
        `${name}: ${pixels.length} pixel bytes do not hold ${labels.length} samples of ${channels}x${height}x${width}`,
      );
    }
    checkLabels(name, labels, this.numClasses);
  }

  get length(): number {
    return this.labels.length;
  }

  readonly image = (i: number): Image => {
    if (!(i >= 0 && i < this.labels.length)) throw new RangeError(`${this.name}: sample ${i} out of range 0..${this.labels.length - 1}`);
    return {
      data: this.pixels,
      offset: i * this.sampleSize,
      channels: this.channels,
      height: this.height,
      width: this.width,
      strideC: this.height * this.width,
      strideY: this.width,
      strideX: 1,
    };
  };

  describe(i: number): string {
    return `${this.name}[#${i}]`;
  }
}

/** A view of some samples of a base dataset, optionally relabelled (target problems use this). */
export class Subset implements Dataset {
  readonly image?: (i: number) => Image;
  readonly decode?: (i: number, opts: DecodeOptions) => Promise<Image | null>;
  readonly numClasses: number;

  constructor(
    readonly base: Dataset,
    /** base-dataset index of every sample of the subset */
    readonly indices: Int32Array,
    readonly labels: Int32Array,
    readonly classNames: readonly string[],
    readonly name: string = `${base.name} (subset of ${indices.length})`,
  ) {
    if (indices.length !== labels.length) {
      throw new Error(`${name}: ${indices.length} indices but ${labels.length} labels`);
    }
    for (let j = 0; j < indices.length; j++) {
      const b = indices[j]!;
      if (!(b >= 0 && b < base.length)) throw new RangeError(`${name}: base index ${b} out of range 0..${base.length - 1}`);
    }
    this.numClasses = classNames.length;
    checkLabels(name, labels, this.numClasses);
    const baseImage = base.image;
    const baseDecode = base.decode;
    if (baseImage) this.image = (i) => baseImage(this.baseIndex(i));
    if (baseDecode) this.decode = (i, opts) => baseDecode(this.baseIndex(i), opts);
  }

  get length(): number {
    return this.indices.length;
  }
  get channels(): number {
    return this.base.channels;
  }
  get height(): number | null {
    return this.base.height;
  }
  get width(): number | null {
    return this.base.width;
  }

  baseIndex(i: number): number {
    const b = this.indices[i];
    if (b === undefined) throw new RangeError(`${this.name}: sample ${i} out of range 0..${this.indices.length - 1}`);
    return b;
  }

  describe(i: number): string {
    return this.base.describe(this.baseIndex(i));
  }
}

/** Throws naming the dataset and the first sample whose label is outside 0..numClasses-1. */
export function checkLabels(name: string, labels: Int32Array, numClasses: number): void {
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= numClasses) {
      throw new Error(`${name}: label ${y} of sample ${i} is out of range 0..${numClasses - 1}`);
    }
  }
}

/** Count of samples per class. */
export function labelHistogram(labels: Int32Array, numClasses: number): number[] {
  const h = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) h[labels[i]!]!++;
  return h;
}

/** A train/test pair as every reader returns it. */
export interface Splits<D extends Dataset = Dataset> {
  train: D;
  test: D;
}
