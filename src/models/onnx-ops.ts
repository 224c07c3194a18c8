// The ONNX ops an imported graph evaluates with the engine's ops (so autograd records them), by
// family: elementwise math (onnx-ops-math.ts), shapes and indexing (onnx-ops-shape.ts), neural
// network ops (onnx-ops-nn.ts) and Pad / Resize (onnx-ops-resize.ts). An op outside these tables is
// an error naming the op and the node.
import type { OnnxNode } from '../io/onnx.js';
import { nodeError } from './onnx-attrs.js';
import type { Inputs, OpContext, OpFn, OpResult } from './onnx-op-util.js';
import { MATH_OPS } from './onnx-ops-math.js';
import { NN_OPS } from './onnx-ops-nn.js';
import { RESIZE_OPS } from './onnx-ops-resize.js';
import { SHAPE_OPS } from './onnx-ops-shape.js';

export type { OpContext, OpResult };

const OPS: Record<string, OpFn> = { ...MATH_OPS, ...SHAPE_OPS, ...NN_OPS, ...RESIZE_OPS };

export function isSupportedOp(opType: string): boolean {
  return Object.hasOwn(OPS, opType);
}

/** Float inputs on the device of the first one that is on a device: values the graph computes on
 *  the host from shapes (a Sqrt of a Cast of a Shape) meet activations there. */
function onOneDevice(inputs: Inputs): Inputs {
  const device = inputs.find((t) => t && t.dtype === 'f32' && t.device !== 'cpu')?.device;
  return device ? inputs.map((t) => (t && t.dtype === 'f32' && t.device === 'cpu' ? t.to(device) : t)) : inputs;
}

/** The node's outputs from its inputs ('' inputs given as undefined). */
export function runOp(node: OnnxNode, inputs: Inputs, ctx: OpContext): OpResult {
  const f = OPS[node.opType];
  if (!f) throw nodeError(node, `unsupported op "${node.opType}"`);
  try {
    return f(node, onOneDevice(inputs), ctx);
  } catch (e) {
    const msg = (e as Error).message;
    throw msg.startsWith('onnx graph:') ? e : nodeError(node, msg);
  }
}
