// OnnxGraphModel: a Module built from an ONNX graph. Constants are folded at load (onnx-fold.ts);
// Conv, ConvTranspose, Gemm / MatMul with a constant weight and BatchNormalization become real
// Conv2d / ConvTranspose2d / Linear / BatchNorm2d children (named after the PyTorch module when the
// exporter kept it), so SeaM masks wrap them and stateDict() holds their weights; every other node
// runs through the engine's ops in topological order, with autograd.
import { noGrad } from '../autograd/node.js';
import type { OnnxGraph, OnnxNode } from '../io/onnx.js';
import type { DType as RawDType } from '../io/types.js';
import { BatchNorm2d, Conv2d, ConvTranspose2d, Linear, Module } from '../nn/index.js';
import { pad, reshape } from '../ops/index.js';
import { Tensor, shapeStr, type Device } from '../tensor/tensor.js';
import { attrTensor, nodeError, spatialPads } from './onnx-attrs.js';
import { convGeometry, convTransposePads, fixedSymmetricPads } from './onnx-conv.js';
import { foldConstants } from './onnx-fold.js';
import { buildMatMulLinear, isRowBias, layerFor } from './onnx-layers.js';
import { layerPath, registerAtPath } from './onnx-names.js';
import { graphValue, type OpContext } from './onnx-op-util.js';
import { isSupportedOp, runOp } from './onnx-ops.js';
import { topologicalNodes } from './onnx-topo.js';

interface LayerBase { node: OnnxNode; path: string; input: string; output: string }
export type GraphStep =
  /** padsFixed: the Conv2d holds the node's pads; otherwise the step pads each input explicitly */
  | (LayerBase & { kind: 'conv'; module: Conv2d; padsFixed: boolean })
  | (LayerBase & { kind: 'convTranspose'; module: ConvTranspose2d })
  /** form: 'gemm' came from Gemm; 'matmul' from MatMul (+ the folded bias Add in `fused`) */
  | (LayerBase & { kind: 'linear'; module: Linear; form: 'gemm' | 'matmul'; fused?: OnnxNode })
  | (LayerBase & { kind: 'bn'; module: BatchNorm2d })
  | { kind: 'op'; node: OnnxNode };

function constantNodeValue(node: OnnxNode): Tensor {
  const a = node.attributes;
  const t = attrTensor(node, 'value');
  if (t) return graphValue(t, `node "${node.name}"`);
  if (typeof a.value_float === 'number') return new Tensor(Float32Array.of(a.value_float), []);
  if (typeof a.value_int === 'number') return Tensor.ints([a.value_int], []);
  const list = a.value_floats ?? a.value_ints;
  if (Array.isArray(list) && list.every((v) => typeof v === 'number')) {
    return a.value_floats ? Tensor.from(list as number[]) : Tensor.ints(list as number[]);
  }
  throw nodeError(node, `unsupported Constant attribute(s): ${Object.keys(a).join(', ') || 'none'}`);
}

export interface OnnxGraphOptions {
  name?: string;
  /** accept graphs with several inputs or none (run() feeds them; forward() needs exactly one) */
  multipleInputs?: boolean;
}

export class OnnxGraphModel extends Module {
  readonly numClasses: number;
  readonly opset: number;
  /** The graph's (first) input and output names and the input's shape (symbolic dims as strings). */
  readonly inputName: string;
  readonly inputNames: readonly string[];
  readonly outputName: string;
  readonly outputNames: readonly string[];
  readonly inputShape: readonly (number | string)[];
  readonly steps: readonly GraphStep[];
  /** Constant values read by the non-layer steps (initializers, Constant nodes, folded nodes), with their ONNX types. */
  readonly constants: ReadonlyMap<string, Tensor>;
  readonly constantTypes: ReadonlyMap<string, RawDType>;
  /** The op types of the graph as read (the export writes no others). */
  readonly opTypes: ReadonlySet<string>;
  private readonly release: string[][];
  private readonly onDevice = new Map<string, Tensor>();

  constructor(graph: OnnxGraph, opts: OnnxGraphOptions = {}) {
    super();
    const where = `onnx graph ${opts.name ?? graph.name ?? ''}`.trim();
    if (graph.inputs.length !== 1 && !opts.multipleInputs) {
      throw new Error(`${where}: expected one graph input, got ${graph.inputs.length} (${graph.inputs.map((v) => v.name).join(', ')})`);
    }
    if (graph.outputs.length < 1) throw new Error(`${where}: the graph has no output`);
    for (const n of graph.nodes) {
      const ok = !n.domain && (n.opType === 'Constant' || isSupportedOp(n.opType));
      if (!ok) throw new Error(`${where}: unsupported op "${n.domain ? `${n.domain}.` : ''}${n.opType}" in node "${n.name}"`);
    }
    this.opset = graph.opset;
    this.inputNames = graph.inputs.map((v) => v.name);
    this.inputName = this.inputNames[0] ?? '';
    this.inputShape = [...(graph.inputs[0]?.shape ?? [])];
    this.outputNames = graph.outputs.map((v) => v.name);
    this.outputName = this.outputNames[0];
    this.opTypes = new Set(graph.nodes.map((n) => n.opType));

    const ctx: OpContext = { opset: this.opset };
    const constants = new Map<string, Tensor>();
    const types = new Map<string, RawDType>();
    for (const [name, t] of graph.initializers) {
      constants.set(name, graphValue(t, `${where}: initializer "${name}"`));
      types.set(name, t.dtype);
    }
    for (const n of graph.nodes) {
      if (n.opType !== 'Constant') continue;
      constants.set(n.outputs[0], constantNodeValue(n));
      types.set(n.outputs[0], attrTensor(n, 'value')?.dtype ?? (typeof n.attributes.value_float === 'number' || n.attributes.value_floats ? 'f32' : 'i64'));
    }
    const sorted = topologicalNodes(graph.nodes.filter((n) => n.opType !== 'Constant'), new Set([...this.inputNames, ...constants.keys()]), where);
    const nodes = foldConstants(sorted, constants, types, ctx);
    this.steps = this.buildSteps(nodes, constants, graph);

    const used = new Map<string, Tensor>();
    for (const s of this.steps) {
      if (s.kind !== 'op') continue;
      for (const i of s.node.inputs) if (constants.has(i)) used.set(i, constants.get(i)!);
    }
    for (const o of this.outputNames) if (constants.has(o)) used.set(o, constants.get(o)!);
    this.constants = used;
    this.constantTypes = types;

    const lastUse = new Map<string, number>();
    this.steps.forEach((s, k) => {
      for (const i of s.kind === 'op' ? s.node.inputs : [s.input]) lastUse.set(i, k);
    });
    this.release = this.steps.map(() => []);
    for (const [name, k] of lastUse) if (!this.outputNames.includes(name) && !used.has(name)) this.release[k].push(name);
    this.numClasses = this.inputNames.length === 1 ? this.outputWidth(graph, where) : Number(graph.outputs[0].shape.at(-1)) || 0;
    this.eval();
  }

  private buildSteps(nodes: OnnxNode[], constants: Map<string, Tensor>, graph: OnnxGraph): GraphStep[] {
    const uses = new Map<string, number>();
    for (const n of nodes) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
    for (const o of graph.outputs) uses.set(o.name, (uses.get(o.name) ?? 0) + 1);
    const consumer = new Map<string, OnnxNode>();
    for (const n of nodes) for (const i of n.inputs) consumer.set(i, n);
    const steps: GraphStep[] = [];
    const shared = new Map<string, { module: Module; path: string }>();
    const skip = new Set<OnnxNode>();
    // one module per distinct (op, weights, attributes): a layer the graph calls twice stays one layer
    const place = <M extends Module>(n: OnnxNode, make: () => M, paramName: string, extra = ''): { module: M; path: string } => {
      const key = `${n.opType}|${n.inputs.slice(1).join(',')}|${extra}|${JSON.stringify(n.attributes)}`;
      const hit = shared.get(key);
      if (hit) return hit as { module: M; path: string };
      const module = make();
      const path = registerAtPath(this, layerPath(n, paramName, steps.length), module);
      shared.set(key, { module, path });
      return { module, path };
    };
    const constant = (name: string): Tensor | undefined => constants.get(name);
    for (const n of nodes) {
      if (skip.has(n)) continue;
      const io = { node: n, input: n.inputs[0], output: n.outputs[0] };
      const w = n.opType === 'MatMul' ? constants.get(n.inputs[1]) : undefined;
      if (w && w.dtype === 'f32' && w.ndim === 2) {
        const next = consumer.get(n.outputs[0]);
        const biasName = next?.opType === 'Add' && uses.get(n.outputs[0]) === 1 ? next.inputs.find((i) => i !== n.outputs[0]) : undefined;
        const bias = biasName !== undefined ? constants.get(biasName) : undefined;
        const fused = bias && isRowBias(bias, w.shape[1]) ? next : undefined;
        if (fused) skip.add(fused);
        const placed = place(n, () => buildMatMulLinear(n, w, fused ? bias : undefined), n.inputs[1], fused ? biasName : '');
        steps.push({ kind: 'linear', form: 'matmul', fused, ...io, output: fused ? fused.outputs[0] : n.outputs[0], ...placed });
        continue;
      }
      const layer = n.outputs.filter(Boolean).length === 1 ? layerFor(n, constant) : null;
      if (!layer) {
        steps.push({ kind: 'op', node: n });
        continue;
      }
      const placed = place(n, layer.make, layer.param);
      if (layer.kind === 'conv') steps.push({ kind: 'conv', ...io, ...placed, module: placed.module as Conv2d, padsFixed: fixedSymmetricPads(n) !== null });
      else if (layer.kind === 'convTranspose') steps.push({ kind: 'convTranspose', ...io, ...placed, module: placed.module as ConvTranspose2d });
      else if (layer.kind === 'linear') steps.push({ kind: 'linear', form: 'gemm', ...io, ...placed, module: placed.module as Linear });
      else steps.push({ kind: 'bn', ...io, ...placed, module: placed.module as BatchNorm2d });
    }
    return steps;
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

  /** A constant on `device` (copied there once). */
  private constantOn(name: string, device: Device): Tensor | undefined {
    const t = this.constants.get(name);
    if (!t || t.device === device || t.dtype !== 'f32') return t;
    const key = `${device}|${name}`;
    let moved = this.onDevice.get(key);
    if (!moved) this.onDevice.set(key, (moved = t.to(device)));
    return moved;
  }

  private layerForward(s: Exclude<GraphStep, { kind: 'op' }>, x: Tensor): Tensor {
    switch (s.kind) {
      case 'conv': {
        if (s.padsFixed) return s.module.forward(x);
        if (x.ndim !== 4) throw new Error(`only 2-D convolution is supported, the input has shape ${shapeStr(x.shape)}`);
        const g = convGeometry(s.node, s.module.weight.shape);
        const p = spatialPads(s.node, x.shape.slice(2), g.kernel, g.strides, g.dilations);
        return s.module.forward(p.some((v) => v > 0) ? pad(x, [0, 0, p[0], p[1], 0, 0, p[2], p[3]]) : x);
      }
      case 'convTranspose': {
        const { pads, outputPadding } = convTransposePads(s.node, x, convGeometry(s.node, s.module.weight.shape));
        return s.module.forward(x, { padding: pads, outputPadding });
      }
      case 'bn':
        // BatchNormalization of [N, C] or [N, C, L] runs as [N, C, L, 1]
        return x.ndim === 4 ? s.module.forward(x) : reshape(s.module.forward(reshape(x, [x.shape[0], x.shape[1], x.size / (x.shape[0] * x.shape[1]), 1])), x.shape);
      case 'linear':
        return s.module.forward(x);
    }
  }

  /** Runs the graph on the given inputs; returns the requested outputs (default: all graph outputs). */
  run(feeds: ReadonlyMap<string, Tensor>, outputs: readonly string[] = this.outputNames): Map<string, Tensor> {
    const env = new Map<string, Tensor>();
    for (const name of this.inputNames) {
      const t = feeds.get(name);
      if (!t) throw new Error(`onnx graph: no value fed for the input "${name}"`);
      env.set(name, t);
    }
    const device = env.get(this.inputName)?.device ?? 'cpu';
    const get = (name: string, node: OnnxNode): Tensor | undefined => {
      if (!name) return undefined;
      const t = env.get(name) ?? this.constantOn(name, device);
      if (!t) throw nodeError(node, `input "${name}" has no value`);
      return t;
    };
    const ctx = { opset: this.opset };
    this.steps.forEach((s, k) => {
      if (s.kind === 'op') {
        const result = runOp(s.node, s.node.inputs.map((i) => get(i, s.node)), ctx);
        const outs = Array.isArray(result) ? result : [result];
        s.node.outputs.forEach((name, j) => {
          if (name && outs[j]) env.set(name, outs[j]!);
        });
      } else {
        const inp = get(s.input, s.node)!;
        try {
          env.set(s.output, this.layerForward(s, inp));
        } catch (e) {
          throw nodeError(s.node, `${s.path}: ${(e as Error).message} (input ${shapeStr(inp.shape)})`);
        }
      }
      for (const name of this.release[k]) env.delete(name);
    });
    const out = new Map<string, Tensor>();
    for (const name of outputs) {
      const t = env.get(name) ?? this.constantOn(name, device);
      if (!t) throw new Error(`onnx graph: no node produces the output "${name}"`);
      out.set(name, t);
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    if (this.inputNames.length !== 1) throw new Error(`onnx graph: forward() takes one input; this graph has ${this.inputNames.length} (use run())`);
    return this.run(new Map([[this.inputName, x]]), [this.outputName]).get(this.outputName)!;
  }

  override describe(): string {
    return `OnnxGraphModel(opset ${this.opset}, ${this.steps.length} steps)`;
  }
}

