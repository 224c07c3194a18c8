// Typed access to an ONNX node's attributes and constant inputs, with errors that name the node.
import type { OnnxNode } from '../io/onnx.js';
import type { RawTensor } from '../io/types.js';

/** `onnx graph: node "NAME" (OpType): msg` */
export function nodeError(node: OnnxNode, msg: string): Error {
  return new Error(`onnx graph: node "${node.name}" (${node.opType}): ${msg}`);
}

const isRaw = (v: unknown): v is RawTensor => typeof v === 'object' && v !== null && !Array.isArray(v) && 'dtype' in v && 'data' in v;

export function attrInt(node: OnnxNode, name: string, dflt: number): number {
  const v = node.attributes[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw nodeError(node, `attribute ${name} must be an integer, got ${JSON.stringify(v)}`);
  return v;
}

export function attrFloat(node: OnnxNode, name: string, dflt: number): number {
  const v = node.attributes[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'number') throw nodeError(node, `attribute ${name} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function attrInts(node: OnnxNode, name: string): number[] | undefined {
  const v = node.attributes[name];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isInteger(x))) {
    throw nodeError(node, `attribute ${name} must be a list of integers`);
  }
  return v as number[];
}

export function attrString(node: OnnxNode, name: string, dflt: string): string {
  const v = node.attributes[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') throw nodeError(node, `attribute ${name} must be a string`);
  return v;
}

export function attrTensor(node: OnnxNode, name: string): RawTensor | undefined {
  const v = node.attributes[name];
  if (v === undefined) return undefined;
  if (!isRaw(v)) throw nodeError(node, `attribute ${name} must be a tensor`);
  return v;
}

/** The spatial pads [top, left, bottom, right] of a 2-D conv / pool node for an input of
 *  `size` [H, W]: its `pads`, or what its `auto_pad` asks for (SAME_UPPER puts the odd pixel at
 *  the end, SAME_LOWER at the start; transposed convolutions pass `transposed`). */
export function spatialPads(node: OnnxNode, size: readonly number[], kernel: [number, number], strides: [number, number],
  dilations: [number, number], transposed = false): [number, number, number, number] {
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = [0, 1].map((i) => {
      const span = dilations[i] * (kernel[i] - 1) + 1;
      // conv: output ceil(size / stride); transposed: output size * stride
      return transposed ? Math.max(0, span - strides[i]) : Math.max(0, (Math.ceil(size[i] / strides[i]) - 1) * strides[i] + span - size[i]);
    });
    const small = total.map((t) => Math.floor(t / 2));
    const big = total.map((t, i) => t - small[i]);
    return autoPad === 'SAME_UPPER' ? [small[0], small[1], big[0], big[1]] : [big[0], big[1], small[0], small[1]];
  }
  if (autoPad !== 'NOTSET') throw nodeError(node, `unknown auto_pad "${autoPad}"`);
  const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  if (pads.length !== 4) throw nodeError(node, `expected 4 pads for a 2-D op, got [${pads}]`);
  if (pads.some((p) => p < 0)) throw nodeError(node, `negative pads [${pads}]`);
  return [pads[0], pads[1], pads[2], pads[3]];
}

/** Whether pads [t, l, b, r] are the same on both sides of each axis. */
export const symmetric = (p: readonly number[]): boolean => p[0] === p[2] && p[1] === p[3];

/** A 2-element spatial attribute (kernel_shape, strides, dilations) with a default. */
export function attrPair(node: OnnxNode, name: string, dflt: [number, number] | undefined): [number, number] {
  const v = attrInts(node, name);
  if (v === undefined) {
    if (!dflt) throw nodeError(node, `attribute ${name} is required`);
    return dflt;
  }
  if (v.length !== 2) throw nodeError(node, `${name} [${v}] is not 2-D (only 2-D spatial ops are supported)`);
  return [v[0], v[1]];
}
