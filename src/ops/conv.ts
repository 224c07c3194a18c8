// 2-D convolution over NCHW float32 tensors (stride, padding, dilation, groups, optional bias).
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { expectRank, fail, pair, type Pair } from './util.js';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export function conv2dOutputSize(size: number, kernel: number, stride: number, pad: number, dil: number): number {
  return Math.floor((size + 2 * pad - dil * (kernel - 1) - 1) / stride) + 1;
}

/** Checks a conv's arguments (naming the op and shapes) and returns the kernel params
 *  [N, C, H, W, O, KH, KW, SH, SW, PH, PW, DH, DW, G] and the output shape. */
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

export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  const be = backendOf(op, { input: x, weight: w, bias: b });
  const { params, outShape } = conv2dGeometry(op, x, w, b, opts);
  const { k, f } = be;
  const y = be.uninit(outShape);
  k.conv2dForward(f(x), f(w), b && f(b), f(y), params);
  return record(op, y, b ? [x, w, b] : [x, w], (g, needs) => {
    const gx = needs[0] ? be.uninit(x.shape) : null;
    const gw = needs[1] || (b && needs[2]) ? be.uninit(w.shape) : null;
    const gb = b && needs[2] ? be.uninit(b.shape) : null;
    if (gx) k.conv2dBackwardData(f(g), f(w), f(gx), params);
    if (gw) k.conv2dBackwardWeight(f(x), f(g), f(gw), gb && f(gb), params);
    if (gw && !needs[1]) be.release(gw);
    return [gx, needs[1] ? gw : null, gb];
  });
}
