// SeaM's re-engineered model (SEAM.md §2): every Conv2d and Linear keeps its trained weight and
// bias frozen and gets a real-valued mask, initialised to 1; the forward uses W * (M > 0).
// Everything else is frozen; BatchNorm stays in eval mode the whole time.
//
// Granularity (issue 16) sets what one mask element covers:
//   weight  - one weight (SeaM's own): masks of the parameters' shapes, weights and biases;
//   kernel  - one (output, input) kernel of a conv, KH*KW weights ([O, C/g, 1, 1]); per weight for a
//             Linear; biases per element;
//   channel - one output channel (unit): its weight row and bias, gating the channel's output (the
//             BatchNorm2d right after a conv is gated too, so a masked channel outputs exactly 0);
//             the output layer (the original classifier, whose logits the head reads) keeps its
//             outputs and is masked per weight; so is a ConvTranspose2d (masked per kernel).
// Each element counts in the retained ratio with the weights it covers, so alpha means the same at
// every granularity, and its straight-through gradient is the clamped sum over what it covers.
import { BatchNorm2d, Conv2d, ConvTranspose2d, Linear, Module } from '../nn/index.js';
import { retainedRatio } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';
import { findOutputLayer } from './output-layer.js';
import { convBatchNormPairs } from './mask-pairs.js';

export const GRANULARITIES = ['weight', 'kernel', 'channel'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

export interface MaskEntry {
  /** The masked parameter's state_dict key, e.g. "layer1.0.conv1.weight"; SeaM's mask key adds "_mask".
   *  A channel mask is keyed by the weight and covers the bias too. */
  param: string;
  module: Conv2d | ConvTranspose2d | Linear;
  weight: Tensor;
  mask: Tensor;
  /** what one mask element covers (the output layer under `channel` is masked at `kernel`) */
  granularity: Granularity;
  /** parameters of the layer one mask element stands for: its weight in the retained ratio */
  cover: number;
  /** channel masks gated at the BatchNorm2d after the conv: its path and module */
  gateBn: { path: string; module: BatchNorm2d } | null;
}

export interface AttachOptions {
  granularity?: Granularity;
  /** one input sample's shape ([C, H, W]); `channel` needs it to find the BatchNorm after each conv */
  sampleShape?: readonly number[];
}

export function isMaskable(m: Module): m is Conv2d | ConvTranspose2d | Linear {
  return m instanceof Conv2d || m instanceof ConvTranspose2d || m instanceof Linear;
}

const outputs = (m: Conv2d | Linear): number => (m instanceof Conv2d ? m.outChannels : m.outFeatures);

/** The mask shape of a weight at a granularity: the weight's, [O, C/g, 1, 1] or [O]. */
function maskShape(w: Tensor, g: Granularity): number[] {
  if (g === 'kernel' && w.ndim === 4) return [w.shape[0], w.shape[1], 1, 1];
  if (g === 'channel') return [w.shape[0]];
  return [...w.shape];
}

/** The path of the output layer (the original classifier), or of the last maskable layer. */
function outputLayerPath(model: Module): string {
  try {
    return findOutputLayer(model).path;
  } catch {
    return [...model.namedModules()].filter(([, m]) => isMaskable(m)).at(-1)?.[0] ?? '';
  }
}

function existingGranularity(model: Module): Granularity | null {
  for (const [, m] of model.namedModules()) {
    if (m.getParameter('channel_mask')) return 'channel';
    const wm = m.getParameter('weight_mask');
    if (isMaskable(m) && wm && wm.size !== m.weight.size) return 'kernel';
  }
  return null;
}

/** Attaches masks of ones to every Conv2d/Linear at the given granularity (default SeaM's `weight`),
 *  freezes every other parameter, and returns the masks in module order. Calling it twice reuses
 *  the existing masks. */
export function attachMasks(model: Module, opts: AttachOptions = {}): MaskEntry[] {
  const granularity = opts.granularity ?? 'weight';
  const had = existingGranularity(model);
  if (had && had !== granularity) throw new Error(`attachMasks: the model already has ${had}-granularity masks, cannot attach ${granularity} masks`);
  for (const p of model.parameters()) p.setRequiresGrad(false);
  const pairs = granularity === 'channel' ? convBatchNormPairs(model, opts.sampleShape) : new Map<Conv2d, { path: string; module: BatchNorm2d }>();
  const outputPath = granularity === 'channel' ? outputLayerPath(model) : '';
  const entries: MaskEntry[] = [];
  const attach = (m: Module, key: string, w: Tensor, shape: number[]): Tensor => {
    const mask = m.getParameter(key) ?? m.addParameter(key, Tensor.ones(shape).moveTo_(w.device));
    mask.setRequiresGrad(true);
    return mask;
  };
  for (const [path, m] of model.namedModules()) {
    if (!isMaskable(m)) continue;
    const key = (name: string): string => (path ? `${path}.${name}` : name);
    // a transposed conv's output channels are its weight's second axis: it is masked per kernel instead
    if (granularity === 'channel' && path !== outputPath && !(m instanceof ConvTranspose2d)) {
      const mask = attach(m, 'channel_mask', m.weight, [outputs(m)]);
      const gateBn = m instanceof Conv2d ? pairs.get(m) ?? null : null;
      m.outputGate = mask;
      m.gateAtNext = gateBn !== null;
      if (gateBn) gateBn.module.outputGate = mask;
      const cover = m.weight.size / outputs(m) + (m.bias ? 1 : 0);
      entries.push({ param: key('weight'), module: m, weight: m.weight, mask, granularity, cover, gateBn });
      continue;
    }
    const g: Granularity = granularity === 'channel' ? 'kernel' : granularity;
    for (const [name, w] of [['weight', m.weight], ['bias', m.bias]] as const) {
      if (!w) continue;
      const shape = maskShape(w, g);
      const mask = attach(m, `${name}_mask`, w, shape);
      entries.push({ param: key(name), module: m, weight: w, mask, granularity: g, cover: w.size / mask.size, gateBn: null });
    }
  }
  if (entries.length === 0) throw new Error('attachMasks: the model has no Conv2d or Linear layer to mask');
  return entries;
}

/** Train mode for everything except BatchNorm, which SeaM keeps in eval (frozen statistics). */
export function seamTrain(model: Module): void {
  model.train();
  for (const [, m] of model.namedModules()) if (m instanceof BatchNorm2d) m.training = false;
}

/** The retained-weight ratio r as a differentiable scalar: each mask element counts with the
 *  weights it covers (SEAM.md §2's mean over all weight masks at `weight` granularity). */
export function maskRatio(entries: MaskEntry[]): Tensor {
  return retainedRatio(entries.map((e) => e.mask), entries.map((e) => e.cover));
}
