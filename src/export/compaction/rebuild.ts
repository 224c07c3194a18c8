// Turning the compactor's working copies back into ordinary modules with smaller shapes, put in
// place of the old ones (so the zoo classes keep their structure and key names), and rebuilding
// leaves to fit a compacted state_dict when one is loaded.
import { BatchNorm2d, Conv2d, Linear, Sequential, type Module } from '../../nn/index.js';
import type { LayerWork } from './analyze.js';

/** Puts `m` at `path` under `root` (registered child and the parent's field or Sequential slot). */
export function replaceModule(root: Module, path: string, m: Module): void {
  const parts = path.split('.');
  const name = parts.pop()!;
  let parent: Module = root;
  for (const p of parts) {
    const c = parent.child(p);
    if (!c) throw new Error(`replaceModule: no module ${path}`);
    parent = c;
  }
  const old = parent.child(name);
  if (!old) throw new Error(`replaceModule: no module ${path}`);
  parent.registerModule(name, m);
  if (parent instanceof Sequential) parent.layers[Number(name)] = m;
  const fields = parent as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (fields[key] === old) fields[key] = m;
}

/** Kept indices, then `pad` entries of -1: zero channels added so that a count is a multiple the
 *  runtime likes (they output exactly 0: zero weights and bias, BatchNorm weight and bias 0). */
const kept = (removed: Uint8Array, pad = 0): number[] => [...[...removed.keys()].filter((i) => !removed[i]), ...new Array<number>(pad).fill(-1)];

function newBatchNorm(bn: BatchNorm2d, w: LayerWork, outs: number[], meanShift: Float64Array | null): BatchNorm2d {
  const b = new BatchNorm2d(outs.length, bn.eps, bn.momentum);
  const s = w.bn!;
  outs.forEach((o, j) => {
    if (o < 0) {
      b.weight.f32[j] = 0; // running mean 0, variance 1, bias 0: BN(0) = 0
      return;
    }
    b.weight.f32[j] = s.gamma[o];
    b.bias.f32[j] = s.beta[o];
    b.runningMean.f32[j] = meanShift ? s.mean[o] - meanShift[o] : s.mean[o];
    b.runningVar.f32[j] = s.var[o];
  });
  b.numBatchesTracked.data[0] = bn.numBatchesTracked.data[0];
  return b;
}

/** The compacted layer (and its BatchNorm) from a working copy, with `padOut` zero output channels
 *  and `padIn` zero input features appended. */
export function buildLayer(w: LayerWork, padOut = 0, padIn = 0): { layer: Conv2d | Linear; bn: BatchNorm2d | null } {
  const outs = kept(w.removedOut, padOut);
  const ins = kept(w.removedIn, padIn);
  const n = w.node;
  const hadBias = n.module.bias !== null;
  const anyBias = outs.some((o) => o >= 0 && w.bias[o] !== 0);
  // a bias-less conv followed by BatchNorm takes folded constants into the running mean: BN(y + d) = BN'(y), mean' = mean - d
  const intoBn = !hadBias && n.kind === 'conv' && n.bn !== null;
  const withBias = hadBias || (anyBias && !intoBn);
  let layer: Conv2d | Linear;
  if (n.kind === 'conv') {
    const m = n.module;
    if (m.groups !== 1 && (outs.length !== w.outN || ins.length !== w.inN)) throw new Error(`compaction: grouped conv ${n.path} lost channels`);
    layer = new Conv2d(ins.length * m.groups, outs.length, m.kernelSize, { stride: m.stride, padding: m.padding, dilation: m.dilation, groups: m.groups, bias: withBias });
  } else {
    layer = new Linear(ins.length, outs.length, withBias);
  }
  const dst = layer.weight.f32;
  let p = 0;
  for (const o of outs) for (const i of ins) for (let s = 0; s < w.span; s++) dst[p++] = o < 0 || i < 0 ? 0 : w.weight[(o * w.inN + i) * w.span + s];
  if (layer.bias) outs.forEach((o, j) => (layer.bias!.f32[j] = o < 0 ? 0 : w.bias[o]));
  for (const t of layer.parameters()) t.setRequiresGrad(false);
  const bn = n.kind === 'conv' && n.bn ? newBatchNorm(n.bn, w, outs, intoBn ? w.bias : null) : null;
  if (bn) for (const t of bn.parameters()) t.setRequiresGrad(false);
  return { layer, bn };
}

/**
 * Rebuilds every Conv2d / Linear / BatchNorm2d whose shape (or bias presence) differs from the
 * state_dict's, so a compacted state_dict loads into its zoo architecture.
 */
export function fitToStateDict(model: Module, sd: Map<string, { shape: readonly number[] }>): void {
  for (const [path, m] of [...model.namedModules()]) {
    if (!path) continue;
    const w = sd.get(`${path}.weight`)?.shape;
    if (!w) continue;
    const hasBias = sd.has(`${path}.bias`);
    if (m instanceof Conv2d && w.length === 4) {
      if (w[0] === m.outChannels && w[1] * m.groups === m.inChannels && hasBias === (m.bias !== null)) continue;
      replaceModule(model, path, new Conv2d(w[1] * m.groups, w[0], m.kernelSize, { stride: m.stride, padding: m.padding, dilation: m.dilation, groups: m.groups, bias: hasBias }));
    } else if (m instanceof Linear && w.length === 2) {
      if (w[0] === m.outFeatures && w[1] === m.inFeatures && hasBias === (m.bias !== null)) continue;
      replaceModule(model, path, new Linear(w[1], w[0], hasBias));
    } else if (m instanceof BatchNorm2d && w.length === 1 && w[0] !== m.numFeatures) {
      replaceModule(model, path, new BatchNorm2d(w[0], m.eps, m.momentum));
    }
  }
}

/** Number of parameters (mask parameters excluded). */
export function parameterCount(...modules: Module[]): number {
  let n = 0;
  for (const m of modules) for (const [k, t] of m.namedParameters()) if (!k.endsWith('_mask')) n += t.size;
  return n;
}
