// Module: named parameters, buffers and children with PyTorch's naming and ordering, train/eval,
// and stateDict()/loadStateDict() with PyTorch key names.
import { keepTensor } from '../backend/storage.js';
import { relu } from '../ops/elementwise.js';
import { binarize, gateChannels, gatedWeight, maskedWeight } from '../ops/mask.js';
import { Tensor, shapeStr, type Device } from '../tensor/tensor.js';

export type StateDictT = Map<string, Tensor>;

export interface LoadReport {
  missing: string[];
  unexpected: string[];
  mismatched: { key: string; expected: number[]; got: number[] }[];
}

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor | null>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(x: Tensor): Tensor;

  /** A short description for tables and errors, e.g. "Conv2d(3, 16, k=3, s=1, p=1)". */
  describe(): string {
    return this.constructor.name;
  }

  protected registerParameter(name: string, t: Tensor | null): Tensor | null {
    if (t) {
      t.setRequiresGrad(true);
      t.name = name;
      keepTensor(t); // a device parameter belongs to the module, not to the deviceScope it was made in
    }
    this.params.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: Tensor): Tensor {
    keepTensor(t);
    this.buffers.set(name, t);
    return t;
  }

  registerModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** Adds (or replaces) a parameter after construction, e.g. SeaM's `weight_mask`. */
  addParameter(name: string, t: Tensor): Tensor {
    return this.registerParameter(name, t)!;
  }

  getParameter(name: string): Tensor | null {
    return this.params.get(name) ?? null;
  }

  /** A parameter as the forward uses it: W * (M > 0) when a SeaM mask `<name>_mask` is attached. */
  maskedParameter(name: string): Tensor | null {
    const p = this.getParameter(name);
    const m = this.getParameter(`${name}_mask`);
    return p && m ? maskedWeight(p, m) : p;
  }

  /** SeaM's channel mask gating this module's output channels ([O] mask elements), so that a masked
   *  channel outputs exactly 0 (set by seam/masks.ts). Where the gate acts: after the unit's ReLU
   *  when there is one and no residual add (the same values, since relu(0) = 0, and a gradient that
   *  can switch the channel back on); else on the weight and bias of a Conv2d / Linear, or on the
   *  affine weight and bias of the BatchNorm2d after a conv (a conv and its BatchNorm share the mask;
   *  effective weights always show it). */
  outputGate: Tensor | null = null;
  /** The gate of this conv acts at the BatchNorm2d that follows it when that one runs on its own
   *  (the convolution then computes its raw output). */
  gateAtNext = false;

  /** relu(y) for a layer's raw output y, then SeaM's channel gate on the result (see outputGate). */
  protected reluThenGate(y: Tensor): Tensor {
    const r = relu(y);
    return this.outputGate ? gateChannels(r, binarize(this.outputGate)) : r;
  }

  /** Parameters as the masks leave them: through the output gate (one binarize shared by all, so
   *  the gate's gradient is the clamped sum of theirs) or each through its own `<name>_mask`.
   *  gateHere = false skips a gate applied elsewhere (see gateAtNext). */
  gatedParameters(names: readonly string[], gateHere = true): (Tensor | null)[] {
    if (this.outputGate && gateHere) {
      const gate = binarize(this.outputGate);
      return names.map((n) => {
        const p = this.getParameter(n);
        return p && gatedWeight(p, gate);
      });
    }
    return names.map((n) => (this.outputGate ? this.getParameter(n) : this.maskedParameter(n)));
  }

  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this.children.entries();
  }

  child(name: string): Module | undefined {
    return this.children.get(name);
  }

  /** Every module in the tree, depth first, self first ('' is the root). */
  *namedModules(prefix = ''): IterableIterator<[string, Module]> {
    yield [prefix, this];
    for (const [name, m] of this.children) yield* m.namedModules(prefix ? `${prefix}.${name}` : name);
  }

  *namedParameters(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, t] of m.params) if (t) yield [path ? `${path}.${name}` : name, t];
    }
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, t]) => t);
  }

  *namedBuffers(prefix = ''): IterableIterator<[string, Tensor]> {
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [name, t] of m.buffers) yield [path ? `${path}.${name}` : name, t];
    }
  }

  /** Moves every parameter (with its gradient) and buffer to `device` in place, like torch's
   *  Module.to: the tensor objects stay the same, so optimizers and references keep working. */
  to(device: Device): this {
    for (const [, t] of this.namedParameters()) t.moveTo_(device);
    for (const [, t] of this.namedBuffers()) t.moveTo_(device);
    return this;
  }

  /** The device of the first parameter or buffer ('cpu' for a module without any). */
  device(): Device {
    for (const [, t] of this.namedParameters()) return t.device;
    for (const [, t] of this.namedBuffers()) return t.device;
    return 'cpu';
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Every module's train/eval flag, in namedModules() order (to restore after a temporary switch). */
  trainingFlags(): boolean[] {
    return [...this.namedModules()].map(([, m]) => m.training);
  }

  restoreTrainingFlags(flags: boolean[]): void {
    [...this.namedModules()].forEach(([, m], i) => (m.training = flags[i] ?? m.training));
  }

  /** PyTorch's order: each module's parameters, then its buffers, then its children. */
  stateDict(prefix = ''): StateDictT {
    const out: StateDictT = new Map();
    const visit = (m: Module, path: string): void => {
      const key = (n: string): string => (path ? `${path}.${n}` : n);
      for (const [n, t] of m.params) if (t) out.set(key(n), t);
      for (const [n, t] of m.buffers) out.set(key(n), t);
      for (const [n, c] of m.children) visit(c, key(n));
    };
    visit(this, prefix);
    return out;
  }

  /** Copies tensors by key. strict (default): any missing, unexpected or mismatched key is an error listing all of them. */
  loadStateDict(sd: Map<string, Tensor>, opts: { strict?: boolean } = {}): LoadReport {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    for (const [k, t] of own) {
      const src = sd.get(k);
      if (!src) report.missing.push(k);
      else if (src.size !== t.size || src.ndim !== t.ndim) report.mismatched.push({ key: k, expected: [...t.shape], got: [...src.shape] });
    }
    for (const k of sd.keys()) if (!own.has(k)) report.unexpected.push(k);
    const bad = report.missing.length + report.mismatched.length + (strict ? report.unexpected.length : 0);
    if (bad > 0 && strict) throw new Error(`loadStateDict: the state_dict does not fit the model\n${formatLoadReport(report)}`);
    for (const [k, t] of own) {
      const src = sd.get(k);
      if (!src || src.size !== t.size) continue;
      if (t.device !== 'cpu' || src.device !== 'cpu') t.copy_(src);
      else if (t.dtype === src.dtype) t.data.set(src.data);
      else for (let i = 0; i < t.size; i++) t.data[i] = src.data[i];
    }
    return report;
  }
}

export function formatLoadReport(r: LoadReport): string {
  const lines: string[] = [];
  if (r.missing.length) lines.push(`  missing keys (${r.missing.length}): ${r.missing.join(', ')}`);
  if (r.unexpected.length) lines.push(`  unexpected keys (${r.unexpected.length}): ${r.unexpected.join(', ')}`);
  for (const m of r.mismatched) lines.push(`  shape mismatch for ${m.key}: model ${shapeStr(m.expected)}, file ${shapeStr(m.got)}`);
  return lines.join('\n');
}
