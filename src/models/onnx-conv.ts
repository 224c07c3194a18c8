// The geometry of ONNX Conv and ConvTranspose nodes (kernel, strides, dilations, group and the
// pads for a given input, auto_pad and output_shape included) and their evaluation, shared by the
// imported layers (Conv2d / ConvTranspose2d modules) and the functional path of nodes whose weight
// is not a constant.
import type { OnnxNode } from '../io/onnx.js';
import { conv2d, convTranspose2d, pad } from '../ops/index.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { attrInt, attrInts, attrPair, attrString, nodeError, spatialPads, symmetric } from './onnx-attrs.js';

export interface ConvGeometry {
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
  groups: number;
}

/** Kernel, strides, dilations and group of a Conv / ConvTranspose node with a weight of `wShape`. */
export function convGeometry(node: OnnxNode, wShape: readonly number[]): ConvGeometry {
  if (wShape.length !== 4) throw nodeError(node, `only 2-D ${node.opType} is supported, the weight has shape ${shapeStr(wShape)}`);
  const kernel = attrPair(node, 'kernel_shape', [wShape[2], wShape[3]]);
  if (kernel[0] !== wShape[2] || kernel[1] !== wShape[3]) throw nodeError(node, `kernel_shape [${kernel}] does not match the weight ${shapeStr(wShape)}`);
  return { kernel, strides: attrPair(node, 'strides', [1, 1]), dilations: attrPair(node, 'dilations', [1, 1]), groups: attrInt(node, 'group', 1) };
}

/** Whether the node's pads are fixed and the same on both sides (so a layer can hold them). */
export function fixedSymmetricPads(node: OnnxNode): [number, number] | null {
  if (attrString(node, 'auto_pad', 'NOTSET') !== 'NOTSET' || node.attributes.output_shape !== undefined) return null;
  const p = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  return p.length === 4 && symmetric(p) ? [p[0], p[1]] : null;
}

/** conv(x) with the node's pads for this input: `run` convolves with symmetric padding; other pads
 *  are applied by an explicit zero pad first. */
export function convWithPads(node: OnnxNode, x: Tensor, g: ConvGeometry, run: (x: Tensor, padding: [number, number]) => Tensor): Tensor {
  if (x.ndim !== 4) throw nodeError(node, `only 2-D convolution is supported, the input has shape ${shapeStr(x.shape)}`);
  const p = spatialPads(node, x.shape.slice(2), g.kernel, g.strides, g.dilations);
  if (symmetric(p)) return run(x, [p[0], p[1]]);
  return run(pad(x, [0, 0, p[0], p[1], 0, 0, p[2], p[3]]), [0, 0]);
}

export function convFunctional(node: OnnxNode, x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  const g = convGeometry(node, w.shape);
  return convWithPads(node, x, g, (xp, padding) => conv2d(xp, w, b, { stride: g.strides, padding, dilation: g.dilations, groups: g.groups }));
}

/** The pads [top, left, bottom, right] and output padding of a ConvTranspose node for this input
 *  (output_shape and auto_pad as the ONNX spec derives them). */
export function convTransposePads(node: OnnxNode, x: Tensor, g: ConvGeometry): { pads: [number, number, number, number]; outputPadding: [number, number] } {
  const outputPadding = attrPair(node, 'output_padding', [0, 0]);
  const outputShape = attrInts(node, 'output_shape');
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (!outputShape && autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') {
    const p = autoPad === 'VALID' ? [0, 0, 0, 0] : attrInts(node, 'pads') ?? [0, 0, 0, 0];
    if (p.length !== 4) throw nodeError(node, `expected 4 pads for a 2-D op, got [${p}]`);
    return { pads: [p[0], p[1], p[2], p[3]], outputPadding };
  }
  const out = outputShape ? outputShape.slice(-2) : [0, 1].map((i) => x.shape[2 + i] * g.strides[i]);
  const begin: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const full = g.strides[i] * (x.shape[2 + i] - 1) + outputPadding[i] + (g.kernel[i] - 1) * g.dilations[i] + 1;
    const total = full - out[i];
    const small = Math.floor(total / 2);
    begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
    end.push(total - begin[i]);
  }
  return { pads: [begin[0], begin[1], end[0], end[1]], outputPadding };
}

export function convTransposeFunctional(node: OnnxNode, x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  if (x.ndim !== 4) throw nodeError(node, `only 2-D ConvTranspose is supported, the input has shape ${shapeStr(x.shape)}`);
  const g = convGeometry(node, w.shape);
  const { pads, outputPadding } = convTransposePads(node, x, g);
  return convTranspose2d(x, w, b, { stride: g.strides, padding: pads, outputPadding, dilation: g.dilations, groups: g.groups });
}
