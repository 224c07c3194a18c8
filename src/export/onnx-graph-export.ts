// Re-emits an OnnxGraphModel: every node as the original graph had it (attributes and all), the
// layers with their current (masked) weights as new initializers, the constants it reads with their
// ONNX types. Folded nodes are gone (their values are initializers), so the op set is the
// original's or smaller. The SeaM head is written with ops the original graph already uses where
// it can (Gemm or MatMul+Add; Relu, Clip or Max). Graphs below opset 11 are written at 13, with
// the nodes whose form changed (Squeeze/Unsqueeze axes, Clip bounds) rewritten.
import { noGrad } from '../autograd/node.js';
import type { OnnxNode } from '../io/onnx.js';
import type { GraphStep, OnnxGraphModel } from '../models/onnx-graph.js';
import { rawValue } from '../models/onnx-op-util.js';
import { Dropout, Identity, Linear, Module, ReLU, Sequential } from '../nn/index.js';
import { Tensor } from '../tensor/tensor.js';
import type { OnnxGraphBuilder } from './onnx-builder.js';

/** The opset an imported graph is exported at. */
export function graphExportOpset(opset: number): number {
  return opset >= 11 ? opset : 13;
}

function valueNames(steps: readonly GraphStep[]): string[] {
  const out: string[] = [];
  for (const s of steps) {
    if (s.kind === 'op') out.push(...s.node.inputs, ...s.node.outputs);
    else out.push(s.input, s.output);
  }
  return out.filter(Boolean);
}

const scopeOf = (n: OnnxNode): string => n.name.replace(/\/[^/]*$/, '') || '/';

/** Emits the model's graph reading `input`; returns the name of its output value. */
export function emitGraphModel(b: OnnxGraphBuilder, model: OnnxGraphModel, input: string): string {
  const map = new Map<string, string>([[model.inputName, input]]);
  for (const name of new Set([...valueNames(model.steps), ...model.constants.keys()])) {
    if (map.has(name)) continue;
    const mapped = name === 'input' || name === 'logits' ? b.fresh(`${name}_0`) : name;
    b.reserve(mapped);
    map.set(name, mapped);
  }
  const v = (name: string): string => (name ? map.get(name) ?? name : '');
  for (const [name, t] of model.constants) b.initExact(v(name), rawValue(t, model.constantTypes.get(name) ?? (t.dtype === 'f32' ? 'f32' : 'i64')));
  const weights = new Map<Module, string[]>(); // a layer the graph calls twice is written once
  const params = (m: Module, path: string, ts: (Tensor | null)[], names: string[]): string[] => {
    let got = weights.get(m);
    if (!got) weights.set(m, (got = ts.map((t, i) => (t ? b.init(`${path}.${names[i]}`, t) : ''))));
    return got;
  };
  const src = model.opset;
  for (const s of model.steps) {
    if (s.kind === 'op') {
      copyNode(b, s.node, s.node.inputs.map(v), s.node.outputs.map(v), src);
    } else if (s.kind === 'conv' || s.kind === 'convTranspose') {
      const wb = noGrad(() => [s.module.effectiveWeight(), s.module.effectiveBias()]);
      const [w, bias] = params(s.module, s.path, wb, ['weight', 'bias']);
      copyNode(b, s.node, [v(s.input), w, ...(bias ? [bias] : [])], [v(s.output)], src);
    } else if (s.kind === 'bn') {
      const m = s.module; // the affine through SeaM's channel gate, if any
      const ins = params(m, s.path, [...noGrad(() => m.affine(true)), m.runningMean, m.runningVar], ['weight', 'bias', 'running_mean', 'running_var']);
      copyNode(b, s.node, [v(s.input), ...ins], [v(s.output)], src);
    } else if (s.form === 'gemm') {
      b.gemm(s.module, v(s.input), s.path, v(s.output));
    } else {
      b.matmulLinear(s.module, v(s.input), s.path, v(s.output));
    }
  }
  return v(model.outputName);
}

/** The SeaM head (Sequential of ReLU / Linear / Dropout / Identity) with the ops the original uses. */
export function emitHead(b: OnnxGraphBuilder, head: Module, x: string, ops: ReadonlySet<string>, path = 'module_head'): string {
  const layers = head instanceof Sequential ? head.layers : [head];
  if (!layers.every((l) => l instanceof ReLU || l instanceof Linear || l instanceof Dropout || l instanceof Identity)) return b.module(head, x, path);
  layers.forEach((l, i) => {
    const p = `${path}.${i}`;
    if (l instanceof Linear) {
      x = ops.has('Gemm') || !(ops.has('MatMul') && ops.has('Add')) ? b.gemm(l, x, p) : b.matmulLinear(l, x, p);
    } else if (l instanceof ReLU) {
      const zero = (): string => b.init(`${p}.zero`, { dtype: 'f32', shape: [], data: Float32Array.of(0) });
      if (ops.has('Relu') || !(ops.has('Clip') || ops.has('Max'))) x = b.relu(x, p);
      else if (ops.has('Clip')) x = b.node('Clip', [x, zero()], `/${p.replace(/\./g, '/')}`);
      else x = b.node('Max', [x, zero()], `/${p.replace(/\./g, '/')}`);
    }
  });
  return x;
}

function copyNode(b: OnnxGraphBuilder, n: OnnxNode, inputs: string[], outputs: string[], srcOpset: number): void {
  const attributes = { ...n.attributes };
  const types = n.attributeTypes ? { ...n.attributeTypes } : undefined;
  if (srcOpset < 11) {
    // written at opset 13: the nodes whose form changed since
    if (n.opType === 'Dropout') {
      b.copy({ ...n, opType: 'Identity' }, [inputs[0]], [outputs[0]], {}, undefined, scopeOf(n));
      return;
    }
    if ((n.opType === 'Squeeze' || n.opType === 'Unsqueeze') && Array.isArray(attributes.axes)) {
      const axes = attributes.axes as number[];
      delete attributes.axes;
      if (types) delete types.axes;
      inputs[1] = b.init(`${n.name}/axes`, { dtype: 'i64', shape: [axes.length], data: BigInt64Array.from(axes.map(BigInt)) });
    }
    if (n.opType === 'Clip') {
      const lo = typeof attributes.min === 'number' ? attributes.min : -3.4028234663852886e38;
      const hi = typeof attributes.max === 'number' ? attributes.max : 3.4028234663852886e38;
      delete attributes.min;
      delete attributes.max;
      const scalar = (x: number) => ({ dtype: 'f32' as const, shape: [], data: Float32Array.of(x) });
      inputs.splice(1, inputs.length - 1, b.init(`${n.name}/min`, scalar(lo)), b.init(`${n.name}/max`, scalar(hi)));
    }
  }
  b.copy(n, inputs, outputs, attributes, types, scopeOf(n));
}
