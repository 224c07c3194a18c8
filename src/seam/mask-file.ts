// SeaM's result file layout: `<param>_mask` for every masked weight and bias, each of its
// parameter's shape, and the head as `module_head.1.weight` / `module_head.1.bias`
// (module_head = Sequential(ReLU, Linear)). SeaM's tools read it as W * (mask > 0) for every key.
// Kernel and channel masks are written expanded to that layout (a channel mask also as the bias
// mask, and as the masks of the BatchNorm2d it gates, so that SeaM's tools build the same model),
// and in their compact form beside it (mask-compact.ts). `input_shape` (int64 [C, H, W]) records the
// sample shape the search ran on, for the export. Written as a PyTorch .pt (torch.load reads it) or
// safetensors; read back onto a model to re-apply masks.
import { writeSafetensorsSync } from '../io/safetensors.js';
import { writeTorchFile } from '../io/torch-write.js';
import type { RawTensor } from '../io/types.js';
import { BatchNorm2d, Linear, type Module, type Sequential } from '../nn/index.js';
import { maskBlock } from '../ops/index.js';
import { toRaw } from '../tensor/raw.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { attachMasks, type MaskEntry } from './masks.js';

const f32 = (shape: readonly number[], data: Float32Array): RawTensor => ({ dtype: 'f32', shape: [...shape], data });
const hostValues = (t: Tensor): Float32Array => (t.device === 'cpu' ? t.f32 : t.cpu().f32);

/** Each of `values` repeated `block` times: a block mask in its parameter's shape. */
export function expandBlocks(values: Float32Array, block: number): Float32Array {
  if (block === 1) return values.slice();
  const out = new Float32Array(values.length * block);
  for (let e = 0; e < values.length; e++) out.fill(values[e], e * block, (e + 1) * block);
  return out;
}

/** The masks in SeaM's layout: every key of its parameter's shape. */
export function expandedMaskTensors(masks: MaskEntry[]): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const m of masks) {
    const v = hostValues(m.mask);
    out.set(`${m.param}_mask`, f32(m.weight.shape, expandBlocks(v, m.weight.size / m.mask.size)));
    if (m.granularity !== 'channel') continue;
    const layer = m.param.slice(0, -'.weight'.length);
    if (m.module.bias) out.set(`${layer}.bias_mask`, f32([v.length], v.slice()));
    if (m.gateBn) {
      out.set(`${m.gateBn.path}.weight_mask`, f32([v.length], v.slice()));
      out.set(`${m.gateBn.path}.bias_mask`, f32([v.length], v.slice()));
    }
  }
  return out;
}

function headTensors(head: Sequential): [string, RawTensor][] {
  const linear = head.layers[1];
  if (!(linear instanceof Linear)) throw new Error('mask file: the head must be Sequential(ReLU, Linear)');
  const out: [string, RawTensor][] = [['module_head.1.weight', toRaw(linear.weight)]];
  if (linear.bias) out.push(['module_head.1.bias', toRaw(linear.bias)]);
  return out;
}

/** The key of the sample shape in a mask file. */
export const INPUT_SHAPE_KEY = 'input_shape';

export function maskFileTensors(masks: MaskEntry[], head: Sequential, inputShape?: readonly number[]): Map<string, RawTensor> {
  const out = new Map([...expandedMaskTensors(masks), ...headTensors(head)]);
  if (inputShape) out.set(INPUT_SHAPE_KEY, toRaw(Tensor.ints(inputShape)));
  return out;
}

/** Writes `tensors` as .pt (torch.load reads it) or, for a .safetensors path, as safetensors. */
export function writeMaskTensors(path: string, tensors: Map<string, RawTensor>, metadata: Record<string, string> = {}): void {
  if (path.endsWith('.safetensors')) writeSafetensorsSync(path, tensors, { format: 'seam-masks', ...metadata });
  else writeTorchFile(path, tensors);
}

/** Writes masks.pt (or .safetensors); `inputShape` is the [C, H, W] of the samples searched on. */
export function saveMaskFile(path: string, masks: MaskEntry[], head: Sequential, inputShape?: readonly number[]): void {
  writeMaskTensors(path, maskFileTensors(masks, head, inputShape));
}

/** The block of a per-kernel ([O, C/g, 1, 1]) or per-channel ([O, 1, ...]) mask of weight w; 0 for
 *  any other shape. */
function kernelOrChannelBlock(w: Tensor, m: Tensor): number {
  const lead = m.shape.length - [...m.shape].reverse().findIndex((d) => d !== 1);
  if (lead > 2 || lead >= w.ndim || m.ndim > w.ndim) return 0;
  try {
    return maskBlock('mask file', w, m);
  } catch {
    return 0;
  }
}

/** Multiplies a BatchNorm2d's affine weight and bias by (mask > 0): a channel mask's gate, baked in. */
function bakeBatchNormMask(bn: BatchNorm2d, name: 'weight' | 'bias', mask: Tensor, what: string, key: string): void {
  const p = name === 'weight' ? bn.weight : bn.bias;
  if (mask.size !== p.size) throw new Error(`${what}: ${key} has shape ${shapeStr(mask.shape)}, the parameter has ${shapeStr(p.shape)}`);
  const v = p.f32;
  for (let i = 0; i < v.length; i++) if (!(mask.f32[i] > 0)) v[i] = 0;
}

/** Puts the masks of a SeaM result (key -> tensor) onto a model as per-weight masks; returns the
 *  entries and the head's weight and bias. Every mask must match a parameter (a mask covering it in
 *  blocks, [O, C/g, 1, 1] or [O, 1, 1, 1], is expanded); every maskable parameter must have one.
 *  BatchNorm2d masks (written for channel masks) are baked into the BatchNorm's weight and bias. */
export function applyMaskTensors(model: Module, file: Map<string, Tensor>, what = 'mask file'): {
  masks: MaskEntry[]; headWeight: Tensor; headBias: Tensor | null; inputShape: number[] | null;
} {
  const masks = attachMasks(model);
  const missing: string[] = [];
  for (const m of masks) {
    const t = file.get(`${m.param}_mask`);
    if (!t) {
      // SeaM's own code masks every weight but only some biases: an absent bias mask keeps the bias.
      if (m.param.endsWith('.bias')) continue;
      missing.push(`${m.param}_mask`);
      continue;
    }
    if (t.size === m.mask.size) {
      m.mask.f32.set(t.f32);
      continue;
    }
    const block = kernelOrChannelBlock(m.weight, t);
    if (!block) throw new Error(`${what}: ${m.param}_mask has shape ${shapeStr(t.shape)}, the parameter has ${shapeStr(m.mask.shape)}`);
    m.mask.f32.set(expandBlocks(t.f32, block));
  }
  if (missing.length) throw new Error(`${what}: no mask for ${missing.length} parameters: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`);
  const known = new Set([...masks.map((m) => `${m.param}_mask`), 'module_head.1.weight', 'module_head.1.bias', INPUT_SHAPE_KEY]);
  for (const [path, m] of model.namedModules()) {
    if (!(m instanceof BatchNorm2d)) continue;
    for (const name of ['weight', 'bias'] as const) {
      const key = `${path}.${name}_mask`;
      const t = file.get(key);
      if (!t) continue;
      bakeBatchNormMask(m, name, t, what, key);
      known.add(key);
    }
  }
  const unexpected = [...file.keys()].filter((k) => !known.has(k));
  if (unexpected.length) throw new Error(`${what}: keys that match no parameter of the model: ${unexpected.slice(0, 6).join(', ')}`);
  const headWeight = file.get('module_head.1.weight');
  if (!headWeight) throw new Error(`${what}: no module_head.1.weight`);
  const shape = file.get(INPUT_SHAPE_KEY);
  if (shape && (shape.dtype !== 'i32' || shape.ndim !== 1)) throw new Error(`${what}: ${INPUT_SHAPE_KEY} must be a 1-D integer tensor, got ${shape.dtype} ${shapeStr(shape.shape)}`);
  return { masks, headWeight, headBias: file.get('module_head.1.bias') ?? null, inputShape: shape ? Array.from(shape.i32) : null };
}
