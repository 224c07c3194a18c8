// Pooling over NCHW tensors: max (with padding, dilation, ceil mode), average, and adaptive
// average to 1x1 (global average pooling).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { expectRank, fail, pair, type Pair } from './util.js';

export interface PoolOptions {
  kernelSize: Pair;
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  ceilMode?: boolean;
  /** avg pooling only (PyTorch default true) */
  countIncludePad?: boolean;
}

function poolOutputSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = Math.floor((ceil ? span + s - 1 : span) / s) + 1;
  // PyTorch: with ceil mode the last window must start inside the input or left padding.
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

/** Checks a pooling op's arguments and returns the kernel params and output shape. */
function poolParams(op: string, x: Tensor, opts: PoolOptions, dilated: boolean): { params: Int32Array; outShape: number[] } {
  expectRank(op, 'input', x, 4);
  const [n, c, h, w] = x.shape;
  const [kh, kw] = pair(op, 'kernelSize', opts.kernelSize, 1);
  const [sh, sw] = pair(op, 'stride', opts.stride ?? opts.kernelSize, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding ?? 0, 0);
  const [dh, dw] = dilated ? pair(op, 'dilation', opts.dilation ?? 1, 1) : [1, 1];
  if (ph > kh / 2 || pw > kw / 2) fail(op, `padding ${ph},${pw} must be at most half the kernel ${kh}x${kw}`);
  const ceil = opts.ceilMode ?? false;
  const oh = poolOutputSize(h, kh, sh, ph, dh, ceil);
  const ow = poolOutputSize(w, kw, sw, pw, dw, ceil);
  if (oh <= 0 || ow <= 0) fail(op, `output would be empty for input ${shapeStr(x.shape)} and kernel ${kh}x${kw}`);
  const params = Int32Array.from([n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil ? 1 : 0, opts.countIncludePad ?? true ? 1 : 0]);
  return { params, outShape: [n, c, oh, ow] };
}

export function maxPool2d(x: Tensor, opts: PoolOptions): Tensor {
  const be = backendOf('maxPool2d', { input: x });
  const { params, outShape } = poolParams('maxPool2d', x, opts, true);
  const { k, f, i } = be;
  const y = be.uninit(outShape);
  const argmax = be.uninit(outShape, 'i32');
  k.maxPool2dForward(f(x), f(y), i(argmax), params);
  return record('maxPool2d', y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.maxPool2dBackward(f(g), i(argmax), f(gx), params);
    return [gx];
  });
}

export function avgPool2d(x: Tensor, opts: PoolOptions): Tensor {
  const be = backendOf('avgPool2d', { input: x });
  const { params, outShape } = poolParams('avgPool2d', x, opts, false);
  const { k, f } = be;
  const y = be.uninit(outShape);
  k.avgPool2dForward(f(x), f(y), params);
  return record('avgPool2d', y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.avgPool2dBackward(f(g), f(gx), params);
    return [gx];
  });
}

/** AdaptiveAvgPool2d; output size 1 (global average pooling) is what classifiers use. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair = 1): Tensor {
  const op = 'adaptiveAvgPool2d';
  const be = backendOf(op, { input: x });
  expectRank(op, 'input', x, 4);
  const [oh, ow] = pair(op, 'outputSize', outputSize, 1);
  const [n, c, h, w] = x.shape;
  if (oh === h && ow === w) return x;
  if (oh !== 1 || ow !== 1) {
    if (h % oh === 0 && w % ow === 0) return avgPool2d(x, { kernelSize: [h / oh, w / ow] });
    fail(op, `output size ${oh}x${ow} from ${h}x${w} is not supported (only 1x1 or exact divisors)`);
  }
  const { k, f } = be;
  const y = be.uninit([n, c, 1, 1]);
  k.globalAvgPoolForward(f(x), f(y), n * c, h * w);
  return record(op, y, [x], (g) => {
    const gx = be.uninit(x.shape);
    k.globalAvgPoolBackward(f(g), f(gx), n * c, h * w);
    return [gx];
  });
}
