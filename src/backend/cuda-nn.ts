// Convolution, batch norm, pooling and dropout on CUDA tensors: the same argument checks,
// geometry and gradients as src/ops/conv.ts, norm.ts, pool.ts and dropout.ts.
import { record } from '../autograd/node.js';
import { conv2dGeometry, type Conv2dOptions } from '../ops/conv.js';
import { batchNormDims, type BatchNormOptions } from '../ops/norm.js';
import { poolParams as cpuPoolParams, type PoolOptions } from '../ops/pool.js';
import { expectRank, fail, pair } from '../ops/util.js';
import { Tensor } from '../tensor/tensor.js';
import type { Rng } from '../util/rng.js';
import { cudaNative as cu } from './cuda-native.js';
import { deviceEmpty as empty, deviceFrom, expectCuda, handle as h } from './device.js';

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  expectCuda(op, { input: x, weight: w, bias: b });
  const { params, outShape } = conv2dGeometry(op, x, w, b, opts);
  const y = empty(outShape);
  cu.cudaConv2dForward(h(x, op), h(w, op), b ? h(b, op) : null, h(y, op), params);
  const inputs = b ? [x, w, b] : [x, w];
  return record(op, y, inputs, (g, needs) => {
    const gx = needs[0] ? empty(x.shape) : null;
    const gw = needs[1] || (b && needs[2]) ? empty(w.shape) : null;
    const gb = b && needs[2] ? empty(b.shape) : null;
    if (gx) cu.cudaConv2dBackwardData(h(g, op), h(w, op), h(gx, op), params);
    if (gw) cu.cudaConv2dBackwardWeight(h(x, op), h(g, op), h(gw, op), gb ? h(gb, op) : null, params);
    if (gw && !needs[1]) gw.dispose();
    return [gx, needs[1] ? gw : null, gb];
  });
}

export function batchNorm2d(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, opts: BatchNormOptions): Tensor {
  const op = 'batchNorm2d';
  expectCuda(op, { input: x, weight: gamma, bias: beta, running_mean: runningMean, running_var: runningVar });
  const [n, c, hw] = batchNormDims(op, x, gamma, beta, runningMean, runningVar, opts.training);
  const y = empty(x.shape);
  const saveMean = empty([c]);
  const saveInvstd = empty([c]);
  cu.cudaBatchNorm2dForward(h(x, op), h(gamma, op), h(beta, op), h(runningMean, op), h(runningVar, op), h(y, op),
    h(saveMean, op), h(saveInvstd, op), n, c, hw, opts.training, opts.momentum ?? 0.1, opts.eps ?? 1e-5);
  return record(op, y, [x, gamma, beta], (g, needs) => {
    const gx = empty(x.shape);
    const gg = needs[1] ? empty(gamma.shape) : null;
    const gb = needs[2] ? empty(beta.shape) : null;
    cu.cudaBatchNorm2dBackward(h(x, op), h(g, op), h(gamma, op), h(saveMean, op), h(saveInvstd, op), h(gx, op),
      gg ? h(gg, op) : null, gb ? h(gb, op) : null, n, c, hw, opts.training);
    if (!needs[0]) gx.dispose();
    return [needs[0] ? gx : null, gg, gb];
  });
}

function devicePoolParams(op: string, x: Tensor, opts: PoolOptions, dilated: boolean): { params: Int32Array; outShape: number[] } {
  expectCuda(op, { input: x });
  return cpuPoolParams(op, x, opts, dilated);
}

export function maxPool2d(x: Tensor, opts: PoolOptions): Tensor {
  const op = 'maxPool2d';
  const { params, outShape } = devicePoolParams(op, x, opts, true);
  const y = empty(outShape);
  const argmax = empty(outShape, 'i32');
  cu.cudaMaxPool2dForward(h(x, op), h(y, op), h(argmax, op), params);
  return record(op, y, [x], (g) => {
    const gx = empty(x.shape);
    cu.cudaMaxPool2dBackward(h(g, op), h(argmax, op), h(gx, op), params);
    return [gx];
  });
}

export function avgPool2d(x: Tensor, opts: PoolOptions): Tensor {
  const op = 'avgPool2d';
  const { params, outShape } = devicePoolParams(op, x, opts, false);
  const y = empty(outShape);
  cu.cudaAvgPool2dForward(h(x, op), h(y, op), params);
  return record(op, y, [x], (g) => {
    const gx = empty(x.shape);
    cu.cudaAvgPool2dBackward(h(g, op), h(gx, op), params);
    return [gx];
  });
}

export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly [number, number] = 1): Tensor {
  const op = 'adaptiveAvgPool2d';
  expectCuda(op, { input: x });
  expectRank(op, 'input', x, 4);
  const [oh, ow] = pair(op, 'outputSize', outputSize, 1);
  const [n, c, hh, w] = x.shape;
  if (oh === hh && ow === w) return x;
  if (oh !== 1 || ow !== 1) {
    if (hh % oh === 0 && w % ow === 0) return avgPool2d(x, { kernelSize: [hh / oh, w / ow] });
    fail(op, `output size ${oh}x${ow} from ${hh}x${w} is not supported (only 1x1 or exact divisors)`);
  }
  const y = empty([n, c, 1, 1]);
  cu.cudaGlobalAvgPoolForward(h(x, op), h(y, op), n * c, hh * w);
  return record(op, y, [x], (g) => {
    const gx = empty(x.shape);
    cu.cudaGlobalAvgPoolBackward(h(g, op), h(gx, op), n * c, hh * w);
    return [gx];
  });
}

/** The keep mask is drawn on the host from `rng` exactly as on the CPU, then uploaded. */
export function dropout(x: Tensor, p: number, training: boolean, rng: Rng): Tensor {
  if (!(p >= 0 && p <= 1)) fail('dropout', `probability must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  expectCuda('dropout', { input: x });
  const keepHost = new Float32Array(x.size);
  if (p < 1) {
    const s = 1 / (1 - p);
    for (let i = 0; i < keepHost.length; i++) keepHost[i] = rng.nextFloat() >= p ? s : 0;
  }
  const keep = deviceFrom(keepHost, x.shape);
  const y = empty(x.shape);
  cu.cudaMul(h(x, 'dropout'), h(keep, 'dropout'), h(y, 'dropout'));
  return record('dropout', y, [x], (g) => {
    const gx = empty(x.shape);
    cu.cudaMul(h(g, 'dropout'), h(keep, 'dropout'), h(gx, 'dropout'));
    return [gx];
  });
}
