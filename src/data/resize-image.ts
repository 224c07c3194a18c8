/**
 * Image resizing and channel replication for the input pipeline: bilinear resampling of uint8 CHW
 * or HWC images (separable, half-pixel centres, the kernel widened when shrinking so it averages
 * instead of skipping pixels, as PIL's antialiased bilinear filter does), and the gray-to-RGB view
 * that repeats the one channel with stride 0 (no copy). Weights come from util/resample.ts.
 */
import { axisResample, type AxisResample } from '../util/resample.js';
import type { Image } from './dataset.js';

const plans = new Map<string, AxisResample>();

function axisPlan(inSize: number, outSize: number): AxisResample {
  const key = `${inSize}>${outSize}`;
  let p = plans.get(key);
  if (!p) {
    p = axisResample(inSize, outSize, outSize / inSize, { mode: 'linear', coordinate: 'half_pixel', antialias: true, excludeOutside: true });
    plans.set(key, p);
  }
  return p;
}

/** `img` resized to height x width as a CHW uint8 image (the image itself when it has that size). */
export function resizeImage(img: Image, height: number, width: number): Image {
  if (img.height === height && img.width === width) return img;
  if (!(height > 0 && width > 0)) throw new Error(`resize: target size ${height}x${width} must be positive`);
  const rows = axisPlan(img.height, height);
  const cols = axisPlan(img.width, width);
  const { data, channels: c, strideC, strideY, strideX } = img;
  const tmp = new Float32Array(img.height * width); // one channel, resized along x
  const out = new Uint8Array(c * height * width);
  for (let ch = 0; ch < c; ch++) {
    const base = img.offset + ch * strideC;
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let t = x * cols.taps; t < (x + 1) * cols.taps; t++) s += cols.weight[t] * data[base + y * strideY + cols.index[t] * strideX]!;
        tmp[y * width + x] = s;
      }
    }
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let s = 0;
        for (let t = y * rows.taps; t < (y + 1) * rows.taps; t++) s += rows.weight[t] * tmp[rows.index[t] * width + x]!;
        out[(ch * height + y) * width + x] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return { data: out, offset: 0, channels: c, height, width, strideC: height * width, strideY: width, strideX: 1 };
}

/** A `channels`-channel view of a one-channel image (every channel reads the same pixels). */
export function replicateChannels(img: Image, channels: number): Image {
  if (img.channels === channels) return img;
  if (img.channels !== 1) throw new Error(`cannot turn a ${img.channels}-channel image into ${channels} channels (only 1-channel images are replicated)`);
  return { ...img, channels, strideC: 0 };
}
