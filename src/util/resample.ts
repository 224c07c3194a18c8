// The interpolation weights of resizing one axis, as ONNX Resize defines them (its reference
// implementation's windows, coordinate transformations, nearest rounding modes, linear and cubic
// kernels, antialiasing and exclude_outside): for every output coordinate, `taps` source indices
// (clamped into the axis, i.e. edge padding) and their weights. Pure numbers, no tensors: the
// tensor resize (ops/resize.ts) and the image resize of the data pipeline both use it.

export type ResampleMode = 'nearest' | 'linear' | 'cubic';
export type CoordinateMode = 'half_pixel' | 'half_pixel_symmetric' | 'pytorch_half_pixel' | 'align_corners' | 'asymmetric' | 'tf_crop_and_resize';
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil';

export const COORDINATE_MODES: readonly CoordinateMode[] = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];
export const NEAREST_MODES: readonly NearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

export interface ResampleOptions {
  mode: ResampleMode;
  coordinate?: CoordinateMode;
  nearest?: NearestMode;
  /** cubic kernel coefficient (ONNX default -0.75; PyTorch's bicubic uses the same) */
  cubicA?: number;
  /** drop the taps outside the axis and renormalise the rest */
  excludeOutside?: boolean;
  /** widen the linear / cubic kernel by 1/scale when downsampling */
  antialias?: boolean;
  /** tf_crop_and_resize: the region [start, end] of the axis, as fractions */
  roi?: readonly [number, number];
}

export interface AxisResample {
  taps: number;
  /** outSize * taps source indices in [0, inSize) */
  index: Int32Array;
  /** outSize * taps weights */
  weight: Float64Array;
  /** tf_crop_and_resize: 1 where the source coordinate falls outside the axis (the output is the extrapolation value) */
  outside: Uint8Array | null;
}

function sourceCoordinate(c: CoordinateMode, y: number, scale: number, inSize: number, outSize: number, roi?: readonly [number, number]): number {
  const outWidth = scale * inSize;
  switch (c) {
    case 'align_corners': return outWidth === 1 ? 0 : (y * (inSize - 1)) / (outWidth - 1);
    case 'asymmetric': return y / scale;
    case 'pytorch_half_pixel': return outWidth === 1 ? -0.5 : (y + 0.5) / scale - 0.5;
    case 'half_pixel': return (y + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const offset = (inSize / 2) * (1 - outSize / outWidth);
      return offset + (y + 0.5) / scale - 0.5;
    }
    case 'tf_crop_and_resize': {
      const [start, end] = roi ?? [0, 1];
      const x = outWidth === 1 ? ((end - start) * (inSize - 1)) / 2 : (y * (end - start) * (inSize - 1)) / (outWidth - 1);
      return x + start * (inSize - 1);
    }
  }
}

function cubicWeight(x: number, a: number): number {
  const t = Math.abs(x);
  if (t <= 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
}

/** The kernel weights for a source position `ratio` in (0, 1] past the left neighbour. */
function coefficients(o: ResampleOptions, ratio: number, scale: number): number[] {
  const a = o.cubicA ?? -0.75;
  if (o.mode === 'nearest') {
    if (ratio === 1) return [0, 1];
    switch (o.nearest ?? 'round_prefer_floor') {
      case 'round_prefer_floor': return ratio <= 0.5 ? [1, 0] : [0, 1];
      case 'round_prefer_ceil': return ratio < 0.5 ? [1, 0] : [0, 1];
      case 'floor': return [1, 0];
      case 'ceil': return [0, 1];
    }
  }
  if (o.antialias && scale < 1) {
    // the kernel stretched by 1/scale over 2 - 2 * start taps, normalised to sum 1
    const start = Math.floor(-(o.mode === 'linear' ? 1 : 2) / scale) + 1;
    const w = Array.from({ length: 2 - 2 * start }, (_, i) => {
      const x = (start + i - ratio) * scale;
      return o.mode === 'linear' ? Math.max(1 - Math.abs(x), 0) : cubicWeight(x, a);
    });
    const sum = w.reduce((p, q) => p + q, 0);
    return w.map((v) => v / sum);
  }
  if (o.mode === 'linear') return [1 - ratio, ratio];
  return [cubicWeight(ratio + 1, a), cubicWeight(ratio, a), cubicWeight(1 - ratio, a), cubicWeight(2 - ratio, a)];
}

/** The weights of resizing an axis of `inSize` to `outSize` at `scale` (outSize / inSize when the
 *  sizes were given; the given scale otherwise, as ONNX uses it in the coordinate transformation). */
export function axisResample(inSize: number, outSize: number, scale: number, o: ResampleOptions): AxisResample {
  if (!(inSize > 0) || !(outSize >= 0) || !(scale > 0)) throw new Error(`resample: cannot resize an axis of ${inSize} to ${outSize} at scale ${scale}`);
  const coord = o.coordinate ?? 'half_pixel';
  const rows: number[][] = [];
  const starts: number[] = [];
  let taps = 0;
  const outside = coord === 'tf_crop_and_resize' ? new Uint8Array(outSize) : null;
  for (let y = 0; y < outSize; y++) {
    const x = sourceCoordinate(coord, y, scale, inSize, outSize, o.roi);
    if (outside && (x < 0 || x > inSize - 1)) outside[y] = 1;
    const left = Math.floor(x);
    const coeffs = coefficients(o, x === left ? 1 : x - left, scale);
    const n = coeffs.length;
    taps = n;
    // the n source positions nearest to x, ties to the smaller (the reference's window rule)
    const pad = Math.ceil(n / 2);
    const xp = x + pad;
    const p = Math.floor(xp);
    const frac = xp - p;
    const offset = n % 2 === 0 ? (frac === 0 ? -(n / 2) : -(n / 2) + 1) : (frac <= 0.5 ? -((n - 1) / 2) : -((n - 1) / 2) + 1);
    starts.push(p + offset - pad);
    rows.push(coeffs);
  }
  const index = new Int32Array(outSize * taps);
  const weight = new Float64Array(outSize * taps);
  rows.forEach((coeffs, y) => {
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const i = starts[y] + t;
      const w = o.excludeOutside && (i < 0 || i >= inSize) ? 0 : coeffs[t];
      index[y * taps + t] = Math.min(Math.max(i, 0), inSize - 1);
      weight[y * taps + t] = w;
      sum += w;
    }
    if (o.excludeOutside && sum !== 0) for (let t = 0; t < taps; t++) weight[y * taps + t] /= sum;
  });
  return { taps, index, weight, outside };
}
