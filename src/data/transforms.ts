/**
 * Per-sample transforms, fused into one pass from uint8 pixels to normalised float32 CHW:
 * crop (random with zero padding, or center), horizontal flip, normalise through a 256-entry
 * lookup table per channel. Padding is raw pixel value 0 (as torchvision pads the uint8 image before
 * ToTensor/Normalize), so a padded pixel becomes (0 - mean) / std. All randomness comes from an Rng.
 */
import type { Image } from './dataset.js';
import { replicateChannels, resizeImage } from './resize-image.js';
import type { Rng } from './rng.js';

/** Per-channel mean and std, on pixel values scaled to [0, 1]. */
export interface Normalization {
  mean: readonly number[];
  std: readonly number[];
}

export const NORMALIZATION = {
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  /** no normalisation beyond scaling to [0, 1] */
  unit: { mean: [0], std: [1] },
} as const satisfies Record<string, Normalization>;

/** Expand a one-value normalisation to `channels` values, checking the lengths. */
export function normalizationFor(n: Normalization, channels: number): Normalization {
  const fit = (v: readonly number[], what: string): number[] => {
    if (v.length === channels) return [...v];
    if (v.length === 1) return new Array<number>(channels).fill(v[0]!);
    throw new Error(`normalisation ${what} has ${v.length} values for ${channels} channels (give one per channel, or one for all)`);
  };
  const std = fit(n.std, 'std');
  for (const s of std) if (!(s > 0) || !Number.isFinite(s)) throw new Error(`normalisation std must be positive and finite, got ${s}`);
  for (const m of n.mean) if (!Number.isFinite(m)) throw new Error(`normalisation mean must be finite, got ${m}`);
  return { mean: fit(n.mean, 'mean'), std };
}

/** lut[c * 256 + v] = (v / 255 - mean[c]) / std[c], computed in float64 and stored as float32. */
export function normalizationLut(n: Normalization, channels: number): Float32Array {
  const { mean, std } = normalizationFor(n, channels);
  const lut = new Float32Array(256 * channels);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - mean[c]!) / std[c]!;
  }
  return lut;
}

export interface TransformSpec {
  /** output size (the crop); for in-memory data without crop use the sample size */
  height: number;
  width: number;
  /** 'random': uniform crop position over the padded image; 'center': torchvision CenterCrop */
  crop: 'random' | 'center';
  /** zero padding on every side before a random crop */
  padding: number;
  /** random horizontal flip with probability 1/2 */
  flip: boolean;
  /** file-backed data: resize the shorter side to this before cropping */
  resizeShorter?: number;
  /** resize every image to exactly this before cropping (in-memory data: here, bilinear; files: when decoded) */
  resize?: { height: number; width: number };
  /** output channels: a one-channel image is repeated into this many (gray to RGB); default the data's */
  channels?: number;
  normalization: Normalization;
}

/** Where the crop window starts (in unpadded source coordinates, may be negative) and whether to flip. */
export interface SampleParams {
  top: number;
  left: number;
  flip: boolean;
}

/** Python's round(): half to even, as torchvision's CenterCrop uses. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

export class SampleTransform {
  readonly lut: Float32Array;
  readonly sampleSize: number;
  /** channels of the samples it writes */
  readonly channels: number;

  /** `dataChannels`: the channels of the images it is given */
  constructor(readonly spec: TransformSpec, readonly dataChannels: number) {
    if (!(spec.height > 0 && spec.width > 0)) throw new Error(`transform: output size ${spec.height}x${spec.width} must be positive`);
    if (!(spec.padding >= 0)) throw new Error(`transform: padding ${spec.padding} must be >= 0`);
    this.channels = spec.channels ?? dataChannels;
    if (this.channels !== dataChannels && dataChannels !== 1) {
      throw new Error(`transform: cannot turn ${dataChannels}-channel images into ${this.channels} channels (only 1-channel images are replicated)`);
    }
    this.lut = normalizationLut(spec.normalization, this.channels);
    this.sampleSize = this.channels * spec.height * spec.width;
  }

  /** The image the crop works on: resized when the spec asks, its channel repeated for gray-to-RGB. */
  prepare(img: Image): Image {
    if (img.channels !== this.dataChannels) throw new Error(`transform: image has ${img.channels} channels, transform expects ${this.dataChannels}`);
    const r = this.spec.resize;
    return replicateChannels(r ? resizeImage(img, r.height, r.width) : img, this.channels);
  }

  /** Draw the crop and flip of one sample (crop first, then flip, as torchvision composes them). */
  params(srcHeight: number, srcWidth: number, rng: Rng | null): SampleParams {
    const { height: oh, width: ow, padding: p } = this.spec;
    if (this.spec.crop === 'center' || rng === null) {
      return {
        top: roundHalfEven((srcHeight - oh) / 2),
        left: roundHalfEven((srcWidth - ow) / 2),
        flip: false,
      };
    }
    const rangeY = srcHeight + 2 * p - oh;
    const rangeX = srcWidth + 2 * p - ow;
    if (rangeY < 0 || rangeX < 0) {
      throw new Error(`transform: cannot crop ${oh}x${ow} from ${srcHeight}x${srcWidth} with padding ${p}`);
    }
    const top = rng.int(rangeY + 1) - p;
    const left = rng.int(rangeX + 1) - p;
    const flip = this.spec.flip ? rng.nextU32() >>> 31 === 1 : false;
    return { top, left, flip };
  }

  /** Write the transformed sample into out[off .. off + sampleSize) as normalised float32 CHW. */
  apply(img: Image, prm: SampleParams, out: Float32Array, off: number): void {
    if (img.channels !== this.channels) {
      throw new Error(`transform: image has ${img.channels} channels, transform expects ${this.channels}`);
    }
    writeCropFlipNormalize(img, prm, this.spec.height, this.spec.width, this.lut, out, off);
  }
}

/**
 * The fused kernel. Output pixel (c, y, x) reads source (c, top + y, left + (flip ? W-1-x : x)), where
 * W is the crop width; out-of-image positions read raw 0 (lut[c*256]).
 */
export function writeCropFlipNormalize(
  img: Image,
  prm: SampleParams,
  oh: number,
  ow: number,
  lut: Float32Array,
  out: Float32Array,
  off: number,
): void {
  const { data, height: H, width: W, strideC, strideY, strideX } = img;
  const { top, left, flip } = prm;
  for (let c = 0; c < img.channels; c++) {
    const lb = c * 256;
    const padV = lut[lb]!;
    const srcC = img.offset + c * strideC;
    const dstC = off + c * oh * ow;
    // valid output columns [x0, x1): those whose source column lies inside the image
    let x0: number, x1: number;
    if (!flip) {
      x0 = Math.max(0, -left);
      x1 = Math.min(ow, W - left);
    } else {
      const a = ow - 1 + left; // source column = a - x
      x0 = Math.max(0, a - W + 1);
      x1 = Math.min(ow, a + 1);
    }
    if (x1 < x0) x1 = x0;
    for (let y = 0; y < oh; y++) {
      const sy = top + y;
      const d = dstC + y * ow;
      if (sy < 0 || sy >= H) {
        out.fill(padV, d, d + ow);
        continue;
      }
      if (x0 > 0) out.fill(padV, d, d + x0);
      const row = srcC + sy * strideY;
      if (!flip) {
        let s = row + (x0 + left) * strideX;
        if (strideX === 1) {
          for (let x = x0; x < x1; x++) out[d + x] = lut[lb + data[s++]!]!;
        } else {
          for (let x = x0; x < x1; x++, s += strideX) out[d + x] = lut[lb + data[s]!]!;
        }
      } else {
        let s = row + (ow - 1 + left - x0) * strideX;
        for (let x = x0; x < x1; x++, s -= strideX) out[d + x] = lut[lb + data[s]!]!;
      }
      if (x1 < ow) out.fill(padV, d + x1, d + ow);
    }
  }
}
