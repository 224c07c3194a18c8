// Constant folding at load: every node whose inputs are all constants (initializers, Constant
// nodes, earlier folded values) is evaluated once, so Identity / Transpose of initializers, the
// shape arithmetic exporters emit (Shape of constants, Gather, Concat, Cast, Unsqueeze) and the
// like become constants, and a layer whose weight is computed that way still becomes a layer.
// Each constant keeps the ONNX type it would have in the graph, for the export.
import { noGrad } from '../autograd/node.js';
import type { OnnxNode } from '../io/onnx.js';
import type { DType as RawDType } from '../io/types.js';
import type { Tensor } from '../tensor/tensor.js';
import { attrInt, attrTensor } from './onnx-attrs.js';
import { ONNX_ELEM_DTYPE, type OpContext } from './onnx-op-util.js';
import { isSupportedOp, runOp } from './onnx-ops.js';

const BOOL_OPS = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or']);

/** The ONNX type of output `k` of a folded node. */
function outputDtype(n: OnnxNode, k: number, dtypes: ReadonlyMap<string, RawDType>, value: Tensor): RawDType {
  const of = (i: number): RawDType | undefined => dtypes.get(n.inputs[i]);
  switch (n.opType) {
    case 'Shape': case 'Size': return 'i64';
    case 'Cast': return ONNX_ELEM_DTYPE[attrInt(n, 'to', 1)] ?? 'f32';
    case 'ConstantOfShape': return attrTensor(n, 'value')?.dtype ?? 'f32';
    case 'Where': return of(1) ?? (value.dtype === 'f32' ? 'f32' : 'i64');
    case 'MaxPool': if (k === 1) return 'i64'; break;
    case 'Dropout': if (k === 1) return 'bool'; break;
    default: if (BOOL_OPS.has(n.opType)) return 'bool';
  }
  return of(0) ?? (value.dtype === 'f32' ? 'f32' : 'i64');
}

/** Folds what can be folded (nodes in topological order); `constants` and `dtypes` receive the
 *  folded values. Returns the nodes left to run. */
export function foldConstants(nodes: readonly OnnxNode[], constants: Map<string, Tensor>, dtypes: Map<string, RawDType>, ctx: OpContext): OnnxNode[] {
  const rest: OnnxNode[] = [];
  for (const n of nodes) {
    const foldable = !n.domain && isSupportedOp(n.opType) && n.inputs.some(Boolean) && n.inputs.every((i) => !i || constants.has(i));
    if (!foldable) {
      rest.push(n);
      continue;
    }
    const result = noGrad(() => runOp(n, n.inputs.map((i) => (i ? constants.get(i) : undefined)), ctx));
    const outs = Array.isArray(result) ? result : [result];
    n.outputs.forEach((name, k) => {
      const v = outs[k];
      if (!name || !v) return;
      constants.set(name, v);
      dtypes.set(name, outputDtype(n, k, dtypes, v));
    });
  }
  return rest;
}
