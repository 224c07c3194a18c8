// Transposed 2-D convolution (torch's conv_transpose2d, ONNX ConvTranspose) over NCHW, weight
// [C_in, C_out / groups, KH, KW]: the data gradient of the convolution that maps the output's shape
// back to the input's, so it runs on the conv kernels (forward = conv2dBackwardData, data gradient
// = conv2dForward, weight gradient = conv2dBackwardWeight with the roles of x and y exchanged).
// Pads may differ per side ([top, left, bottom, right]) and the output padding may exceed the
// stride (ONNX allows both): then the full output is cropped / extended by pad().
import { record } from '../autograd/node.js';
import { backendOf } from '../backend/dispatch.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { conv2dOutputSize } from './conv.js';
import { add, reshape } from './elementwise.js';
import { pad } from './index-map.js';
import { broadcastTo } from './shape.js';
import { expectRank, fail, pair, type Pair } from './util.js';

export interface ConvTranspose2dOptions {
  stride?: Pair;
  /** [h, w] on both sides, or [top, left, bottom, right] */
  padding?: Pair | readonly [number, number, number, number];
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
}

export function convTranspose2dOutputSize(size: number, kernel: number, stride: number, pad: number, dil: number, outPad: number): number {
  return (size - 1) * stride - 2 * pad + dil * (kernel - 1) + outPad + 1;
}

export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: ConvTranspose2dOptions = {}): Tensor {
  const p = opts.padding ?? 0;
  const [t, l, bo, r] = typeof p === 'number' ? [p, p, p, p] : p.length === 4 ? p : [p[0], p[1], p[0], p[1]];
  const [oph, opw] = pair('convTranspose2d', 'outputPadding', opts.outputPadding ?? 0, 0);
  const [sh, sw] = pair('convTranspose2d', 'stride', opts.stride ?? 1, 1);
  if (t === bo && l === r && t >= 0 && l >= 0 && oph < sh && opw < sw) return convTranspose2dKernel(x, w, b, { ...opts, padding: [t, l] });
  // the full output (no padding), then cropped by the pads and extended by the output padding
  const full = convTranspose2dKernel(x, w, null, { ...opts, padding: 0, outputPadding: 0 });
  const y = pad(full, [0, 0, -t, -l, 0, 0, oph - bo, opw - r]);
  return b ? add(y, broadcastTo(reshape(b, [1, b.size, 1, 1]), y.shape)) : y;
}

function convTranspose2dKernel(x: Tensor, w: Tensor, b: Tensor | null, opts: ConvTranspose2dOptions): Tensor {
  const op = 'convTranspose2d';
  const be = backendOf(op, { input: x, weight: w, bias: b });
  expectRank(op, 'input', x, 4);
  expectRank(op, 'weight', w, 4);
  const [sh, sw] = pair(op, 'stride', opts.stride ?? 1, 1);
  const [ph, pw] = pair(op, 'padding', (opts.padding ?? 0) as Pair, 0);
  const [oph, opw] = pair(op, 'outputPadding', opts.outputPadding ?? 0, 0);
  const [dh, dw] = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const groups = opts.groups ?? 1;
  const [n, c, h, wd] = x.shape;
  const [ci, cog, kh, kw] = w.shape;
  if (ci !== c) fail(op, `weight ${shapeStr(w.shape)} expects ${ci} input channels, input is ${shapeStr(x.shape)}`);
  if (!Number.isInteger(groups) || groups < 1 || c % groups !== 0) fail(op, `groups=${groups} must divide the ${c} input channels`);
  const co = cog * groups;
  if (b && (b.ndim !== 1 || b.shape[0] !== co)) fail(op, `bias ${shapeStr(b.shape)} does not match ${co} output channels`);
  const oh = convTranspose2dOutputSize(h, kh, sh, ph, dh, oph);
  const ow = convTranspose2dOutputSize(wd, kw, sw, pw, dw, opw);
  if (oh <= 0 || ow <= 0) fail(op, `output would be empty: input ${shapeStr(x.shape)}, kernel ${kh}x${kw}, padding ${ph},${pw}`);
  if (conv2dOutputSize(oh, kh, sh, ph, dh) !== h || conv2dOutputSize(ow, kw, sw, pw, dw) !== wd) {
    fail(op, `geometry of ${shapeStr(x.shape)} -> [${oh}, ${ow}] does not invert`);
  }
  // the convolution from the output [n, co, oh, ow] to the input [n, c, h, w] with this weight
  const params = Int32Array.from([n, co, oh, ow, c, kh, kw, sh, sw, ph, pw, dh, dw, groups]);
  const { k, f } = be;
  const y = be.uninit([n, co, oh, ow]);
  k.conv2dBackwardData(f(x), f(w), f(y), params);
  const out = record(op, y, [x, w], (g, needs) => {
    const gx = needs[0] ? be.uninit(x.shape) : null;
    const gw = needs[1] ? be.uninit(w.shape) : null;
    if (gx) k.conv2dForward(f(g), f(w), null, f(gx), params);
    if (gw) k.conv2dBackwardWeight(f(g), f(x), f(gw), null, params);
    return [gx, gw];
  });
  return b ? add(out, broadcastTo(reshape(b, [1, co, 1, 1]), out.shape)) : out;
}
