// Re-emits an OnnxGraphModel: layer steps get their current (masked) weights as new initializers,
// the other nodes are copied with their attributes and constants. Nodes whose form changed at
// opset 13 (Squeeze/Unsqueeze axes, Clip bounds, Dropout) are rewritten for the export opset.
import type { OnnxNode } from '../io/onnx.js';
import type { GraphStep, OnnxGraphModel } from '../models/onnx-graph.js';
import type { OnnxGraphBuilder } from './onnx-builder.js';

export const GRAPH_EXPORT_MIN_OPSET = 13;

function valueNames(steps: readonly GraphStep[]): string[] {
  const out: string[] = [];
  for (const s of steps) {
    if (s.kind === 'op') out.push(...s.node.inputs, ...s.node.outputs);
    else out.push(s.input, s.output);
  }
  return out.filter(Boolean);
}

/** Emits the model's graph reading `input`; returns the name of its output value. */
export function emitGraphModel(b: OnnxGraphBuilder, model: OnnxGraphModel, input: string): string {
  const map = new Map<string, string>([[model.inputName, input]]);
  for (const name of new Set(valueNames(model.steps))) {
    if (map.has(name)) continue;
    const mapped = name === 'input' || name === 'logits' ? b.fresh(`${name}_0`) : name;
    b.reserve(mapped);
    map.set(name, mapped);
  }
  const v = (name: string): string => (name ? map.get(name) ?? name : '');
  for (const [name, t] of model.constants) b.initExact(v(name), t);
  const src = model.opset;
  for (const s of model.steps) {
    if (s.kind === 'conv') b.conv(s.module, v(s.input), s.path, v(s.output));
    else if (s.kind === 'bn') b.batchNorm(s.module, v(s.input), s.path, v(s.output));
    else if (s.kind === 'linear') {
      if (s.form === 'gemm') b.gemm(s.module, v(s.input), s.path, v(s.output));
      else b.matmulLinear(s.module, v(s.input), s.path, v(s.output));
    } else copyNode(b, s.node, v, src);
  }
  return v(model.outputName);
}

function copyNode(b: OnnxGraphBuilder, n: OnnxNode, v: (name: string) => string, srcOpset: number): void {
  const inputs = n.inputs.map(v);
  const output = v(n.outputs[0]);
  const scope = n.name.replace(/\/[^/]*$/, '') || '/';
  const attributes = { ...n.attributes };
  const types = n.attributeTypes ? { ...n.attributeTypes } : undefined;
  if (n.opType === 'Dropout' || n.opType === 'Identity') {
    b.node('Identity', [inputs[0]], scope, {}, output);
    return;
  }
  if ((n.opType === 'Squeeze' || n.opType === 'Unsqueeze') && srcOpset < 13 && Array.isArray(attributes.axes)) {
    const axes = attributes.axes as number[];
    delete attributes.axes;
    if (types) delete types.axes;
    inputs[1] = b.init(`${n.name}/axes`, { dtype: 'i64', shape: [axes.length], data: BigInt64Array.from(axes.map(BigInt)) });
  }
  if (n.opType === 'Clip' && srcOpset < 11) {
    const lo = typeof attributes.min === 'number' ? attributes.min : -3.4028234663852886e38;
    const hi = typeof attributes.max === 'number' ? attributes.max : 3.4028234663852886e38;
    delete attributes.min;
    delete attributes.max;
    const scalar = (x: number) => ({ dtype: 'f32' as const, shape: [], data: Float32Array.of(x) });
    inputs.splice(1, inputs.length - 1, b.init(`${n.name}/min`, scalar(lo)), b.init(`${n.name}/max`, scalar(hi)));
  }
  b.node(n.opType, inputs, scope, attributes, output, types);
}
