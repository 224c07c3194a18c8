// 2-D convolution over NCHW float32 tensors (stride, padding, dilation, groups, optional bias).
import * as cudaOps from '../backend/cuda-ops.js';
import { record } from '../autograd/node.js';
import { native } from '../native.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { empty, expectRank, fail, pair, type Pair } from './util.js';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export function conv2dOutputSize(size: number, kernel: number, stride: number, pad: number, dil: number): number {
  return Math.floor((size + 2 * pad - dil * (kernel - 1) - 1) / stride) + 1;
}

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  if (cudaOps.anyDevice(x, w, b)) return cudaOps.conv2d(x, w, b, opts);
  const op = 'conv2d';
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
  const params = Int32Array.from([n, c, h, wd, o, kh, kw, sh, sw, ph, pw, dh, dw, groups]);
  const y = empty([n, o, oh, ow]);
  native.conv2dForward(x.f32, w.f32, b ? b.f32 : null, y.f32, params);
  const inputs = b ? [x, w, b] : [x, w];
  return record(op, y, inputs, (g, needs) => {
    const gx = needs[0] ? empty(x.shape) : null;
    const gw = needs[1] || (b && needs[2]) ? empty(w.shape) : null;
    const gb = b && needs[2] ? empty(b.shape) : null;
    if (gx) native.conv2dBackwardData(g.f32, w.f32, gx.f32, params);
    if (gw) native.conv2dBackwardWeight(x.f32, g.f32, gw.f32, gb ? gb.f32 : null, params);
    return [gx, needs[1] ? gw : null, gb];
  });
}
