// Builds an OnnxGraph node by node: unique value names, initializers holding the layers' effective
// (masked) weights W * (M > 0), and one emitter per nn layer type (Sequential recursively).
import { noGrad } from '../autograd/node.js';
import type { OnnxAttrKind, OnnxAttributeValue, OnnxGraph, OnnxNode, OnnxValueInfo } from '../io/onnx.js';
import type { RawTensor, StateDict } from '../io/types.js';
import {
  AdaptiveAvgPool2d, AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, Module, ReLU, Sequential,
} from '../nn/index.js';
import type { Pair } from '../ops/util.js';
import { toRaw } from '../tensor/raw.js';
import { Tensor } from '../tensor/tensor.js';

const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);
const scopeOf = (path: string): string => `/${path.split('.').join('/')}`;

export class OnnxGraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: StateDict = new Map();
  private readonly used = new Set<string>();

  /** Marks names as taken (values copied from another graph). */
  reserve(...names: string[]): void {
    for (const n of names) this.used.add(n);
  }

  fresh(base: string): string {
    let n = base;
    for (let k = 1; this.used.has(n); k++) n = `${base}_${k}`;
    this.used.add(n);
    return n;
  }

  /** Adds an initializer under a unique name derived from `name`; returns the name used. */
  init(name: string, t: Tensor | RawTensor): string {
    const n = this.fresh(name);
    this.initializers.set(n, t instanceof Tensor ? toRaw(t) : t);
    return n;
  }

  /** Adds an initializer under exactly `name` (a name reserved for it beforehand). */
  initExact(name: string, t: Tensor | RawTensor): void {
    this.used.add(name);
    this.initializers.set(name, t instanceof Tensor ? toRaw(t) : t);
  }

  /** Renames a value everywhere (node inputs and outputs). */
  renameValue(from: string, to: string): void {
    this.used.add(to);
    for (const n of this.nodes) {
      n.inputs = n.inputs.map((i) => (i === from ? to : i));
      n.outputs = n.outputs.map((o) => (o === from ? to : o));
    }
  }

  /** Appends a node; its single output gets a fresh name unless `output` is given. */
  node(opType: string, inputs: string[], scope: string, attributes: Record<string, OnnxAttributeValue> = {}, output?: string,
    attributeTypes?: Record<string, OnnxAttrKind>): string {
    const out = output ?? this.fresh(`${scope}/${opType}_output_0`);
    this.used.add(out);
    const node: OnnxNode = { name: this.fresh(`${scope}/${opType}`), opType, inputs, outputs: [out], attributes };
    if (attributeTypes) node.attributeTypes = attributeTypes;
    this.nodes.push(node);
    return out;
  }

  /** Appends a copy of `n` (another graph's node) reading `inputs` and writing `outputs`. */
  copy(n: OnnxNode, inputs: string[], outputs: string[], attributes: Record<string, OnnxAttributeValue>,
    attributeTypes: Record<string, OnnxAttrKind> | undefined, scope: string): void {
    for (const o of outputs) if (o) this.used.add(o);
    const node: OnnxNode = { name: this.fresh(n.name || `${scope}/${n.opType}`), opType: n.opType, inputs, outputs, attributes };
    if (attributeTypes) node.attributeTypes = attributeTypes;
    if (n.domain) node.domain = n.domain;
    this.nodes.push(node);
  }

  conv(m: Conv2d, x: string, path: string, output?: string): string {
    const { w, b } = noGrad(() => ({ w: m.effectiveWeight(), b: m.effectiveBias() }));
    const inputs = [x, this.init(`${path}.weight`, w)];
    if (b) inputs.push(this.init(`${path}.bias`, b));
    const [ph, pw] = m.pads;
    return this.node('Conv', inputs, scopeOf(path), {
      dilations: [...m.dilations], group: m.groups, kernel_shape: [...m.kernelShape], pads: [ph, pw, ph, pw], strides: [...m.strides],
    }, output);
  }

  batchNorm(m: BatchNorm2d, x: string, path: string, output?: string): string {
    const names = ['weight', 'bias', 'running_mean', 'running_var'] as const;
    const ts = [...noGrad(() => m.affine(true)), m.runningMean, m.runningVar]; // affine through SeaM's channel gate, if any
    const inputs = [x, ...ts.map((t, i) => this.init(`${path}.${names[i]}`, t))];
    return this.node('BatchNormalization', inputs, scopeOf(path), { epsilon: m.eps, momentum: 1 - m.momentum }, output);
  }

  /** Gemm(x, W, b, transB=1) for a 2-D input. */
  gemm(m: Linear, x: string, path: string, output?: string): string {
    const { w, b } = noGrad(() => ({ w: m.effectiveWeight(), b: m.effectiveBias() }));
    const inputs = [x, this.init(`${path}.weight`, w)];
    if (b) inputs.push(this.init(`${path}.bias`, b));
    return this.node('Gemm', inputs, scopeOf(path), { alpha: 1, beta: 1, transB: 1 }, output);
  }

  /** MatMul(x, W^T) (+ Add(b)) for inputs of any rank. */
  matmulLinear(m: Linear, x: string, path: string, output?: string): string {
    const { w, b } = noGrad(() => ({ w: m.effectiveWeight(), b: m.effectiveBias() }));
    const [n, k] = w.shape;
    const wt = new Float32Array(n * k);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) wt[j * n + i] = w.f32[i * k + j];
    const y = this.node('MatMul', [x, this.init(`${path}.weight`, { dtype: 'f32', shape: [k, n], data: wt })], scopeOf(path), {}, b ? undefined : output);
    return b ? this.node('Add', [y, this.init(`${path}.bias`, b)], scopeOf(path), {}, output) : y;
  }

  relu(x: string, path: string, output?: string): string {
    return this.node('Relu', [x], scopeOf(path), {}, output);
  }

  add(a: string, b: string, path: string): string {
    return this.node('Add', [a, b], scopeOf(path));
  }

  globalAvgPool(x: string, path: string): string {
    return this.node('GlobalAveragePool', [x], scopeOf(path));
  }

  flatten(x: string, path: string): string {
    return this.node('Flatten', [x], scopeOf(path), { axis: 1 });
  }

  /** Any supported nn layer, or a Sequential of them (Linear as Gemm: its input must be 2-D). */
  module(m: Module, x: string, path: string): string {
    if (m instanceof Sequential) {
      m.layers.forEach((c, i) => (x = this.module(c, x, path ? `${path}.${i}` : String(i))));
      return x;
    }
    if (m instanceof Conv2d) return this.conv(m, x, path);
    if (m instanceof BatchNorm2d) return this.batchNorm(m, x, path);
    if (m instanceof Linear) return this.gemm(m, x, path);
    if (m instanceof ReLU) return this.relu(x, path);
    if (m instanceof Dropout || m instanceof Identity) return x;
    if (m instanceof Flatten) {
      if (m.startDim !== 1) throw new Error(`onnx export: ${path}: Flatten(startDim=${m.startDim}) is not supported`);
      return this.flatten(x, path);
    }
    if (m instanceof MaxPool2d || m instanceof AvgPool2d) {
      const o = m.opts;
      const k = pair(o.kernelSize);
      const [ph, pw] = pair(o.padding ?? 0);
      const attrs: Record<string, OnnxAttributeValue> = { kernel_shape: k, strides: pair(o.stride ?? o.kernelSize), pads: [ph, pw, ph, pw], ceil_mode: o.ceilMode ? 1 : 0 };
      if (m instanceof MaxPool2d) return this.node('MaxPool', [x], scopeOf(path), { ...attrs, dilations: pair(o.dilation ?? 1) });
      return this.node('AveragePool', [x], scopeOf(path), { ...attrs, count_include_pad: o.countIncludePad ?? true ? 1 : 0 });
    }
    if (m instanceof AdaptiveAvgPool2d) {
      const [oh, ow] = pair(m.outputSize);
      if (oh !== 1 || ow !== 1) throw new Error(`onnx export: ${path}: AdaptiveAvgPool2d(${oh}x${ow}) is not supported (only 1x1)`);
      return this.globalAvgPool(x, path);
    }
    throw new Error(`onnx export: ${path || 'model'}: cannot export a ${m.constructor.name} (${m.describe()})`);
  }

  graph(opset: number, input: OnnxValueInfo, output: OnnxValueInfo, name = 'seam'): OnnxGraph {
    return { opset, name, inputs: [input], outputs: [output], initializers: this.initializers, nodes: this.nodes };
  }
}
