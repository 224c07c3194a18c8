// 2-D convolution over NCHW float32 tensors (stride, padding, dilation, groups, optional bias).
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { add, relu } from './elementwise.js';
import { batchNorm2d } from './norm.js';
import { expectRank, fail, pair, scratchF32, uninit, type Pair } from './util.js';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export function conv2dOutputSize(size: number, kernel: number, stride: number, pad: number, dil: number): number {
  return Math.floor((size + 2 * pad - dil * (kernel - 1) - 1) / stride) + 1;
}

/** Running-statistics BatchNorm parameters for the fused conv op. */
export interface BnEvalParams {
  gamma: Tensor;
  beta: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  eps: number;
}

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  if (cudaOps.anyDevice(x, w, b)) return cudaOps.conv2d(x, w, b, opts);
  return conv2dImpl('conv2d', x, w, b, opts, null, null);
}

/** relu(batchNorm2d_eval(conv2d(x, w, b)) [+ residual]) in one pass over the output. BatchNorm's
 *  parameters are treated as constants (no gradient to them: the caller falls back to the
 *  separate ops when they need one); gradients to x, w, b and the residual are those of the
 *  separate ops. */
export function conv2dBnReluEval(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions, bn: BnEvalParams,
  residual: Tensor | null = null): Tensor {
  if (cudaOps.anyDevice(x, w, b) || cudaOps.anyDevice(residual)) {
    // no fused CUDA kernel: the separate ops compute the same thing on the device
    let y = batchNorm2d(conv2d(x, w, b, opts), bn.gamma, bn.beta, bn.runningMean, bn.runningVar, { training: false, eps: bn.eps });
    if (residual) y = add(y, residual);
    return relu(y);
  }
  return conv2dImpl('conv2dBnReluEval', x, w, b, opts, bn, residual);
}

/** Checks a conv's arguments (naming the op and shapes) and returns the native params
 *  [N, C, H, W, O, KH, KW, SH, SW, PH, PW, DH, DW, G] and the output shape; shared by every device. */
export function conv2dGeometry(op: string, x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions): { params: Int32Array; outShape: number[] } {
  expectRank(op, 'input', x, 4);
  expectRank(op, 'weight', w, 4);
  const [sh, sw] = pair(op, 'stride', opts.stride ?? 1, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding ?? 0, 0);
  const [dh, dw] = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const groups = opts.groups ?? 1;
  const [n, c, h, wd] = x.shape;
  const [o, cg, kh, kw] = w.shape;
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0 || o % groups !== 0) {
    fail(op, `groups=${groups} must divide input channels ${c} and output channels ${o}`);
  }
  if (cg !== c / groups) {
    fail(op, `weight ${shapeStr(w.shape)} expects ${cg * groups} input channels, input is ${shapeStr(x.shape)} (groups=${groups})`);
  }
  if (b && (b.ndim !== 1 || b.shape[0] !== o)) fail(op, `bias ${shapeStr(b.shape)} does not match ${o} output channels`);
  const oh = conv2dOutputSize(h, kh, sh, ph, dh);
  const ow = conv2dOutputSize(wd, kw, sw, pw, dw);
  if (oh <= 0 || ow <= 0) fail(op, `output would be empty: input ${shapeStr(x.shape)}, kernel ${kh}x${kw}, padding ${ph},${pw}`);
  return { params: Int32Array.from([n, c, h, wd, o, kh, kw, sh, sw, ph, pw, dh, dw, groups]), outShape: [n, o, oh, ow] };
}

function conv2dImpl(op: string, x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions, bn: BnEvalParams | null,
  residual: Tensor | null): Tensor {
  const { params, outShape } = conv2dGeometry(op, x, w, b, opts);
  const [n, o, oh, ow] = outShape;
  const y = uninit(outShape);
  if (!bn) {
    native.conv2dForward(x.f32, w.f32, b ? b.f32 : null, y.f32, params);
  } else {
    for (const [name, t] of [['weight', bn.gamma], ['bias', bn.beta], ['running_mean', bn.runningMean], ['running_var', bn.runningVar]] as const) {
      if (t.size !== o) fail(op, `batchnorm ${name} has shape ${shapeStr(t.shape)}, expected [${o}]`);
    }
    if (residual && (residual.ndim !== 4 || residual.shape.some((d, i) => d !== y.shape[i]))) {
      fail(op, `residual ${shapeStr(residual.shape)} does not match the output ${shapeStr(y.shape)}`);
    }
  }
  const saveInvstd = bn ? new Float32Array(o) : null;
  if (bn) {
    native.conv2dForwardBnRelu(x.f32, w.f32, b ? b.f32 : null, y.f32, params, bn.gamma.f32, bn.beta.f32,
      bn.runningMean.f32, bn.runningVar.f32, bn.eps, residual ? residual.f32 : null, new Float32Array(o), saveInvstd!);
  }
  const inputs = b ? [x, w, b] : [x, w];
  const nIn = inputs.length;
  if (residual) inputs.push(residual);
  return record(op, y, inputs, (gOut, needs) => {
    let g = gOut.f32;
    let gres: Tensor | null = null;
    if (bn) {
      // Through ReLU and the BatchNorm scale: g = (y > 0 ? gy : 0) * gamma * invstd (used only here).
      g = scratchF32(y.size);
      gres = residual && needs[nIn] ? uninit(y.shape) : null;
      native.batchNormReluEvalBackward(y.f32, gOut.f32, bn.gamma.f32, saveInvstd!, g, gres ? gres.f32 : null, n, o, oh * ow);
    }
    const gx = needs[0] ? uninit(x.shape) : null;
    const gw = needs[1] || (b && needs[2]) ? uninit(w.shape) : null;
    const gb = b && needs[2] ? uninit(b.shape) : null;
    if (gx) native.conv2dBackwardData(g, w.f32, gx.f32, params);
    if (gw) native.conv2dBackwardWeight(x.f32, g, gw.f32, gb ? gb.f32 : null, params);
    const grads = [gx, needs[1] ? gw : null];
    if (b) grads.push(gb);
    if (residual) grads.push(gres);
    return grads;
  });
}
