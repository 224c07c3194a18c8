// Which channels of a traced model are constant, and which of those can be removed exactly.
// A conv/linear output channel whose effective weights are all zero is the constant bias (0 without
// one), then BatchNorm's affine map of it, then ReLU's max(0, .). Channels tied by residual adds and
// channel-preserving passes share one index ("group"); a channel of a group goes only when every
// producer in the group makes it constant and every consumer absorbs the constant exactly: a linear or
// an unpadded conv folds it into its bias; a zero-padded conv absorbs only 0 (at the borders a nonzero
// constant input is not a constant contribution). A channel no consumer reads (every weight on it is
// zero, as kernel masks leave whole input channels) goes whatever its values, unless it is a model
// output or a grouped conv or the model input is involved. Removal repeats until nothing changes,
// since folding can leave further channels constant or unread.
import { noGrad } from '../../autograd/node.js';
import type { BatchNorm2d, Module } from '../../nn/index.js';
import type { ChannelGraph, ConvNode, GraphNode, LinearNode } from './graph.js';

export type LayerNode = ConvNode | LinearNode;

/** Working copy of one conv/linear layer (effective = masked weights) and its BatchNorm. */
export interface LayerWork {
  node: LayerNode;
  weight: Float32Array;
  /** the bias as the layer now computes it (zeros when it has none), constants folded in */
  bias: Float64Array;
  bn: { gamma: Float32Array; beta: Float32Array; mean: Float32Array; var: Float32Array; eps: number } | null;
  outN: number;
  inN: number;
  /** weights per (output, input) pair: kh*kw for conv, 1 for linear */
  span: number;
  removedOut: Uint8Array;
  removedIn: Uint8Array;
}

export interface KeptChannel {
  layers: string[];
  channel: number;
  value: number | null;
  reason: string;
}

export function displayPath(n: LayerNode): string {
  return n.root === 'head' ? `module_head.${n.path}` : n.path;
}

/** A parameter as SeaM's masks leave it (per-weight, per-kernel or channel masks), as a copy. */
function effective(m: Module, name: 'weight' | 'bias'): Float32Array | null {
  const t = noGrad(() => m.gatedParameters([name])[0]);
  return t ? t.f32.slice() : null;
}

function bnCopy(bn: BatchNorm2d | null): LayerWork['bn'] {
  if (!bn) return null;
  return { gamma: effective(bn, 'weight')!, beta: effective(bn, 'bias')!, mean: bn.runningMean.f32.slice(), var: bn.runningVar.f32.slice(), eps: bn.eps };
}

export function makeWork(node: LayerNode): LayerWork {
  const m = node.module;
  const weight = effective(m, 'weight')!;
  const b = effective(m, 'bias');
  const outN = node.kind === 'conv' ? node.module.outChannels : node.module.outFeatures;
  const inN = node.kind === 'conv' ? node.module.inChannels / node.module.groups : node.module.inFeatures;
  return {
    node, weight, bias: b ? Float64Array.from(b) : new Float64Array(outN), bn: node.kind === 'conv' ? bnCopy(node.bn) : null,
    outN, inN, span: weight.length / (outN * inN), removedOut: new Uint8Array(outN), removedIn: new Uint8Array(inN),
  };
}

export class Compactor {
  readonly work = new Map<number, LayerWork>();
  private readonly parent: number[];
  kept: KeptChannel[] = [];
  private values = new Map<number, (number | null)[]>();

  constructor(readonly g: ChannelGraph) {
    for (const n of g.nodes) if (n.kind === 'conv' || n.kind === 'linear') this.work.set(n.id, makeWork(n));
    this.parent = g.nodes.map((n) => n.id);
    for (const n of g.nodes) {
      if (n.kind === 'add') for (const i of n.inputs) this.union(n.id, i);
      else if (n.kind === 'relu' || n.kind === 'pass') this.union(n.id, n.input);
    }
  }

  /** The channel group of node i (nodes tied by residual adds and channel-preserving passes). */
  group(i: number): number {
    return this.find(i);
  }

  private find(i: number): number {
    while (this.parent[i] !== i) i = this.parent[i] = this.parent[this.parent[i]];
    return i;
  }

  private union(a: number, b: number): void {
    this.parent[this.find(a)] = this.find(b);
  }

  /** The constant value of channel k of node id, or null when it varies. */
  value(id: number, k: number): number | null {
    let row = this.values.get(id);
    if (!row) this.values.set(id, (row = new Array<number | null | undefined>(this.g.channels(id)).fill(undefined) as (number | null)[]));
    if (row[k] !== undefined) return row[k];
    const n = this.g.nodes[id];
    let v: number | null = null;
    switch (n.kind) {
      case 'input': v = null; break;
      case 'conv': case 'linear': v = this.layerConstant(this.work.get(id)!, k); break;
      case 'relu': { const u = this.value(n.input, k); v = u === null ? null : Math.max(0, u); break; }
      case 'pass': v = n.keepsConstant ? this.value(n.input, k) : null; break;
      case 'add': {
        let s = 0;
        for (const i of n.inputs) {
          const u = this.value(i, k);
          if (u === null) { s = NaN; break; }
          s += u;
        }
        v = Number.isNaN(s) ? null : s;
        break;
      }
    }
    row[k] = v;
    return v;
  }

  private layerConstant(w: LayerWork, k: number): number | null {
    const row = w.inN * w.span;
    for (let i = k * row; i < (k + 1) * row; i++) if (w.weight[i] !== 0) return null;
    let v = w.bias[k];
    if (w.bn) v = (w.bn.gamma[k] * (v - w.bn.mean[k])) / Math.sqrt(w.bn.var[k] + w.bn.eps) + w.bn.beta[k];
    return v;
  }

  /** Input features of a consumer layer that carry channel k of its input node. */
  private inputRange(w: LayerWork, k: number): [number, number] {
    const c = this.g.channels(w.node.input);
    const per = w.inN / c;
    if (!Number.isInteger(per)) throw new Error(`compaction: ${displayPath(w.node)} takes ${w.inN} inputs from ${c} channels`);
    return [k * per, (k + 1) * per];
  }

  /** Whether consumer c has a nonzero weight on channel k of its input. */
  private reads(c: LayerWork, k: number): boolean {
    const [lo, hi] = this.inputRange(c, k);
    const row = c.inN * c.span;
    for (let o = 0; o < c.outN; o++) {
      for (let i = o * row + lo * c.span; i < o * row + hi * c.span; i++) if (c.weight[i] !== 0) return true;
    }
    return false;
  }

  /** Channel k of the group is read by no consumer and may go whatever its values. */
  private unread(members: GraphNode[], producers: GraphNode[], consumers: LayerWork[], k: number): boolean {
    if (consumers.length === 0 || members.some((n) => n.id === this.g.output)) return false;
    if (producers.some((p) => p.kind === 'input' || (p.kind === 'conv' && p.module.groups !== 1))) return false;
    return consumers.every((c) => !(c.node.kind === 'conv' && c.node.module.groups !== 1) && !this.reads(c, k));
  }

  /** Why channel k of the group cannot go (null: it can). */
  private blocker(members: GraphNode[], consumers: LayerWork[], k: number): { reason: string; value: number | null; constant: boolean } | null {
    const producers = members.filter((n) => n.kind === 'conv' || n.kind === 'linear' || n.kind === 'input');
    if (this.unread(members, producers, consumers, k)) return null;
    const constant = producers.filter((p) => this.value(p.id, k) !== null);
    if (constant.length === 0) return { reason: 'not constant', value: null, constant: false };
    const names = (ns: GraphNode[]): string => ns.map((n) => (n.kind === 'conv' || n.kind === 'linear' ? displayPath(n) : 'the model input')).join(', ');
    if (constant.length < producers.length) {
      return { reason: `residual add: constant on ${names(constant)} but not on ${names(producers.filter((p) => !constant.includes(p)))}`, value: null, constant: true };
    }
    const first = this.value(constant[0].id, k);
    if (members.some((n) => n.id === this.g.output)) return { reason: 'an output of the re-engineered model', value: first, constant: true };
    const lost = members.find((n) => this.value(n.id, k) === null);
    if (lost) return { reason: `${lost.kind === 'pass' ? lost.name : 'a layer'} does not keep a constant channel constant`, value: first, constant: true };
    for (const p of producers) if (p.kind === 'conv' && p.module.groups !== 1) return { reason: `grouped conv ${p.path}`, value: first, constant: true };
    for (const c of consumers) {
      const v = this.value(c.node.input, k)!;
      const n = c.node;
      if (n.kind === 'conv' && n.module.groups !== 1) return { reason: `feeds grouped conv ${n.path}`, value: v, constant: true };
      if (n.kind === 'conv' && v !== 0 && n.module.padding > 0) {
        return { reason: `constant ${v.toPrecision(4)} feeds zero-padded conv ${displayPath(n)} (not constant at the borders)`, value: v, constant: true };
      }
    }
    return null;
  }

  private remove(members: GraphNode[], consumers: LayerWork[], k: number): void {
    for (const c of consumers) {
      const v = this.value(c.node.input, k); // null: an unread channel (its weights are all zero)
      const [lo, hi] = this.inputRange(c, k);
      const row = c.inN * c.span;
      for (let o = 0; o < c.outN; o++) {
        let s = 0;
        for (let i = o * row + lo * c.span; i < o * row + hi * c.span; i++) {
          s += c.weight[i];
          c.weight[i] = 0;
        }
        if (v !== null && v !== 0) c.bias[o] += v * s;
      }
      for (let i = lo; i < hi; i++) c.removedIn[i] = 1;
    }
    for (const m of members) {
      const w = this.work.get(m.id);
      if (w) w.removedOut[k] = 1;
    }
  }

  /** One sweep over every group; returns the number of channels removed. */
  private sweep(): number {
    this.values = new Map();
    this.kept = [];
    const groups = new Map<number, GraphNode[]>();
    for (const n of this.g.nodes) {
      const r = this.find(n.id);
      groups.set(r, [...(groups.get(r) ?? []), n]);
    }
    let removed = 0;
    for (const members of groups.values()) {
      const ids = new Set(members.map((n) => n.id));
      const consumers = [...this.work.values()].filter((w) => ids.has(w.node.input));
      const layers = members.filter((n): n is LayerNode => n.kind === 'conv' || n.kind === 'linear');
      const channels = this.g.channels(members[0].id);
      for (let k = 0; k < channels; k++) {
        if (layers.length && this.work.get(layers[0].id)!.removedOut[k]) continue;
        const why = this.blocker(members, consumers, k);
        if (!why) {
          this.remove(members, consumers, k);
          this.values = new Map();
          removed++;
        } else if (why.constant) {
          this.kept.push({ layers: layers.map(displayPath), channel: k, value: why.value, reason: why.reason });
        }
      }
    }
    return removed;
  }

  /** Removes every removable channel; returns how many passes it took. */
  run(maxPasses = 50): number {
    for (let pass = 1; pass <= maxPasses; pass++) if (this.sweep() === 0) return pass;
    return maxPasses;
  }
}
