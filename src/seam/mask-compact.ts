// The compact form of kernel and channel masks, written beside masks.pt as
// `masks.compact.safetensors`: one value per mask element, shaped to broadcast against its weight
// in PyTorch (`w * (m > 0)`): [O, C/g, 1, 1] per kernel, [O, 1, 1, 1] (conv) or [O, 1] (linear) per
// channel. Its metadata names the granularity and, for channel masks, the layers they gate (with
// the BatchNorm2d after a conv), so that the file expands back to SeaM's layout exactly.
import type { RawTensor } from '../io/types.js';
import type { Module, Sequential } from '../nn/index.js';
import { Tensor } from '../tensor/tensor.js';
import { expandBlocks, maskFileTensors, writeMaskTensors } from './mask-file.js';
import type { Granularity, MaskEntry } from './masks.js';

const hostValues = (t: Tensor): Float32Array => (t.device === 'cpu' ? t.f32.slice() : t.cpu().f32);

/** runs/x/masks.pt -> runs/x/masks.compact.safetensors */
export function compactMaskPath(maskPath: string): string {
  return `${maskPath.replace(/\.(pt|pth|safetensors)$/, '')}.compact.safetensors`;
}

interface ChannelLayer {
  layer: string;
  /** the BatchNorm2d the channel gate is applied at, if any */
  bn: string | null;
}

/** The compact tensors (masks and head) and the metadata that expands them. */
export function compactMaskTensors(masks: MaskEntry[], head: Sequential, granularity: Granularity): { tensors: Map<string, RawTensor>; metadata: Record<string, string> } {
  const tensors = new Map<string, RawTensor>();
  const channels: ChannelLayer[] = [];
  for (const m of masks) {
    const v = hostValues(m.mask);
    let shape = [...m.mask.shape];
    if (m.granularity === 'channel') {
      shape = [v.length, ...m.weight.shape.slice(1).map(() => 1)];
      channels.push({ layer: m.param.slice(0, -'.weight'.length), bn: m.gateBn?.path ?? null });
    }
    tensors.set(`${m.param}_mask`, { dtype: 'f32', shape, data: v });
  }
  for (const [k, t] of maskFileTensors([], head)) tensors.set(k, t);
  return { tensors, metadata: { format: 'seam-masks', layout: 'compact', granularity, channel_layers: JSON.stringify(channels) } };
}

export function isCompactMaskFile(metadata: Record<string, string> | undefined): boolean {
  return metadata?.format === 'seam-masks' && metadata.layout === 'compact';
}

/** A compact mask file expanded to SeaM's layout for `model` (masks of the parameters' shapes, a
 *  channel mask also as its bias mask and its BatchNorm's masks). */
export function expandCompactMasks(model: Module, file: Map<string, Tensor>, metadata: Record<string, string>, what = 'compact mask file'): Map<string, Tensor> {
  let channels: ChannelLayer[];
  try {
    channels = JSON.parse(metadata.channel_layers ?? '[]') as ChannelLayer[];
  } catch {
    throw new Error(`${what}: channel_layers metadata is not JSON`);
  }
  const params = new Map(model.namedParameters());
  const out = new Map<string, Tensor>();
  const rows = (t: Tensor): Tensor => new Tensor(t.f32.slice(), [t.size]);
  for (const [k, t] of file) {
    const ch = channels.find((c) => k === `${c.layer}.weight_mask`);
    if (!ch) {
      out.set(k, t); // per-weight and per-kernel masks (applyMaskTensors expands blocks), the head
      continue;
    }
    const w = params.get(`${ch.layer}.weight`);
    if (!w || w.shape[0] !== t.size) throw new Error(`${what}: ${k} (${t.size} channels) matches no layer of the model`);
    out.set(k, new Tensor(expandBlocks(t.f32, w.size / t.size), w.shape));
    if (params.has(`${ch.layer}.bias`)) out.set(`${ch.layer}.bias_mask`, rows(t));
    if (ch.bn) {
      out.set(`${ch.bn}.weight_mask`, rows(t));
      out.set(`${ch.bn}.bias_mask`, rows(t));
    }
  }
  return out;
}

/** Writes the compact form of kernel or channel masks to `path` (safetensors, with its metadata). */
export function saveCompactMaskFile(path: string, masks: MaskEntry[], head: Sequential, granularity: Granularity): void {
  const { tensors, metadata } = compactMaskTensors(masks, head, granularity);
  writeMaskTensors(path, tensors, metadata);
}
