// OnnxGraphModel: a Module built from an ONNX graph. Conv, Gemm / MatMul with a constant weight and
// BatchNormalization become real Conv2d / Linear / BatchNorm2d children (named after the PyTorch
// module when the exporter kept it), so SeaM masks wrap them and stateDict() holds their weights;
// every other node runs through the engine's ops in topological order, with autograd.
import type { OnnxGraph, OnnxNode } from '../io/onnx.js';
import type { RawTensor } from '../io/types.js';
import { BatchNorm2d, Conv2d, Linear, Module } from '../nn/index.js';
import { noGrad } from '../autograd/node.js';
import { reshape } from '../ops/index.js';
import { fromRaw } from '../tensor/raw.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { attrTensor, nodeError } from './onnx-attrs.js';
import { buildBatchNorm, buildConv, buildGemmLinear, buildMatMulLinear, isRowBias } from './onnx-layers.js';
import { layerPath, registerAtPath } from './onnx-names.js';
import { isSupportedOp, runOp } from './onnx-ops.js';
import { topologicalNodes } from './onnx-topo.js';

interface LayerBase { node: OnnxNode; path: string; input: string; output: string }
export type GraphStep =
  | (LayerBase & { kind: 'conv'; module: Conv2d })
  /** form: 'gemm' came from Gemm; 'matmul' from MatMul (+ the folded bias Add in `fused`) */
  | (LayerBase & { kind: 'linear'; module: Linear; form: 'gemm' | 'matmul'; fused?: OnnxNode })
  | (LayerBase & { kind: 'bn'; module: BatchNorm2d })
  | { kind: 'op'; node: OnnxNode };

const LAYER_OPS = new Set(['Conv', 'Gemm', 'MatMul', 'BatchNormalization']);

function constantValue(node: OnnxNode): RawTensor {
  const a = node.attributes;
  const t = attrTensor(node, 'value');
  if (t) return t;
  if (typeof a.value_float === 'number') return { dtype: 'f32', shape: [], data: Float32Array.of(a.value_float) };
  if (typeof a.value_int === 'number') return { dtype: 'i32', shape: [], data: Int32Array.of(a.value_int) };
  const list = a.value_floats ?? a.value_ints;
  if (Array.isArray(list) && list.every((v) => typeof v === 'number')) {
    const nums = list as number[];
    return a.value_floats ? { dtype: 'f32', shape: [nums.length], data: Float32Array.from(nums) } : { dtype: 'i32', shape: [nums.length], data: Int32Array.from(nums) };
  }
  throw nodeError(node, `unsupported Constant attribute(s): ${Object.keys(a).join(', ') || 'none'}`);
}

export class OnnxGraphModel extends Module {
  readonly numClasses: number;
  readonly opset: number;
  /** The graph's input and output names and the input's shape (symbolic dims as strings). */
  readonly inputName: string;
  readonly outputName: string;
  readonly inputShape: readonly (number | string)[];
  readonly steps: readonly GraphStep[];
  /** Constant values read by the non-layer steps (initializers and Constant nodes). */
  readonly constants: ReadonlyMap<string, Tensor>;
  private readonly release: string[][];

  constructor(graph: OnnxGraph, opts: { name?: string } = {}) {
    super();
    const where = `onnx graph ${opts.name ?? graph.name ?? ''}`.trim();
    if (graph.inputs.length !== 1) throw new Error(`${where}: expected one graph input, got ${graph.inputs.length} (${graph.inputs.map((v) => v.name).join(', ')})`);
    if (graph.outputs.length < 1) throw new Error(`${where}: the graph has no output`);
    for (const n of graph.nodes) {
      const ok = !n.domain && (n.opType === 'Constant' || LAYER_OPS.has(n.opType) || isSupportedOp(n.opType));
      if (!ok) throw new Error(`${where}: unsupported op "${n.domain ? `${n.domain}.` : ''}${n.opType}" in node "${n.name}"`);
    }
    this.opset = graph.opset;
    this.inputName = graph.inputs[0].name;
    this.inputShape = [...graph.inputs[0].shape];
    this.outputName = graph.outputs[0].name;

    const raw = new Map<string, RawTensor>(graph.initializers);
    for (const n of graph.nodes) if (n.opType === 'Constant') raw.set(n.outputs[0], constantValue(n));
    const nodes = topologicalNodes(graph.nodes.filter((n) => n.opType !== 'Constant'), new Set([this.inputName, ...raw.keys()]), where);

    const uses = new Map<string, number>();
    for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
    for (const o of graph.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
    const consumer = new Map<string, OnnxNode>();
    for (const n of nodes) for (const i of n.inputs) consumer.set(i, n);

    const steps: GraphStep[] = [];
    const shared = new Map<string, { module: Module; path: string }>();
    const skip = new Set<OnnxNode>();
    const place = <M extends Module>(n: OnnxNode, make: () => M, paramName: string): { module: M; path: string } => {
      const key = `${n.opType}|${n.inputs.slice(1).join(',')}|${JSON.stringify(n.attributes)}`;
      const hit = shared.get(key);
      if (hit) return hit as { module: M; path: string };
      const module = make();
      const path = registerAtPath(this, layerPath(n, paramName, steps.length), module);
      shared.set(key, { module, path });
      return { module, path };
    };
    const get = (name: string): RawTensor | undefined => raw.get(name);
    for (const n of nodes) {
      if (skip.has(n)) continue;
      const io = { node: n, input: n.inputs[0], output: n.outputs[0] };
      if (n.opType === 'Conv') steps.push({ kind: 'conv', ...io, ...place(n, () => buildConv(n, get), n.inputs[1]) });
      else if (n.opType === 'Gemm') steps.push({ kind: 'linear', form: 'gemm', ...io, ...place(n, () => buildGemmLinear(n, get), n.inputs[1]) });
      else if (n.opType === 'BatchNormalization') steps.push({ kind: 'bn', ...io, ...place(n, () => buildBatchNorm(n, get), n.inputs[1]) });
      else if (n.opType === 'MatMul' && raw.get(n.inputs[1])?.shape.length === 2) {
        const w = raw.get(n.inputs[1])!;
        const next = consumer.get(n.outputs[0]);
        const biasName = next?.opType === 'Add' && uses.get(n.outputs[0]) === 1 ? next.inputs.find((i) => i !== n.outputs[0]) : undefined;
        const bias = biasName !== undefined ? raw.get(biasName) : undefined;
        const fused = bias && isRowBias(bias, w.shape[1]) ? next : undefined;
        if (fused) skip.add(fused);
        const placed = place(n, () => buildMatMulLinear(n, w, fused ? bias : undefined), n.inputs[1]);
        steps.push({ kind: 'linear', form: 'matmul', fused, ...io, output: fused ? fused.outputs[0] : n.outputs[0], ...placed });
      } else steps.push({ kind: 'op', node: n });
    }
    this.steps = steps;

    const constants = new Map<string, Tensor>();
    for (const s of steps) {
      if (s.kind !== 'op') continue;
      for (const i of s.node.inputs) {
        const t = raw.get(i);
        if (t && !constants.has(i)) constants.set(i, fromRaw(t, `${where}: constant "${i}"`));
      }
    }
    this.constants = constants;

    const lastUse = new Map<string, number>();
    steps.forEach((s, k) => {
      for (const i of s.kind === 'op' ? s.node.inputs : [s.input]) lastUse.set(i, k);
    });
    this.release = steps.map(() => []);
    for (const [name, k] of lastUse) if (name !== this.outputName && !constants.has(name)) this.release[k].push(name);
    this.numClasses = this.outputWidth(graph, where);
    this.eval();
  }

  private outputWidth(graph: OnnxGraph, where: string): number {
    const last = graph.outputs[0].shape.at(-1);
    if (typeof last === 'number') return last;
    if (this.inputShape.slice(1).some((d) => typeof d !== 'number')) {
      throw new Error(`${where}: the output's last dimension is symbolic and the input shape [${this.inputShape}] is not fixed, so the class count is unknown`);
    }
    const x = Tensor.zeros([1, ...(this.inputShape.slice(1) as number[])]);
    const flags = this.trainingFlags();
    this.eval();
    const y = noGrad(() => this.forward(x));
    this.restoreTrainingFlags(flags);
    return y.shape[y.ndim - 1];
  }

  forward(x: Tensor): Tensor {
    const env = new Map<string, Tensor>([[this.inputName, x]]);
    const get = (name: string, node: OnnxNode): Tensor | undefined => {
      if (!name) return undefined;
      const t = env.get(name) ?? this.constants.get(name);
      if (!t) throw nodeError(node, `input "${name}" has no value`);
      return t;
    };
    const ctx = { opset: this.opset };
    this.steps.forEach((s, k) => {
      if (s.kind === 'op') {
        env.set(s.node.outputs[0], runOp(s.node, s.node.inputs.map((i) => get(i, s.node)), ctx));
      } else {
        const inp = get(s.input, s.node)!;
        try {
          env.set(s.output, s.kind === 'bn' && inp.ndim === 2
            ? reshape(s.module.forward(reshape(inp, [...inp.shape, 1, 1])), inp.shape)
            : s.module.forward(inp));
        } catch (e) {
          throw nodeError(s.node, `${s.path}: ${(e as Error).message} (input ${shapeStr(inp.shape)})`);
        }
      }
      for (const name of this.release[k]) env.delete(name);
    });
    const out = env.get(this.outputName);
    if (!out) throw new Error(`onnx graph: no node produces the output "${this.outputName}"`);
    return out;
  }

  override describe(): string {
    return `OnnxGraphModel(opset ${this.opset}, ${this.steps.length} steps)`;
  }
}
