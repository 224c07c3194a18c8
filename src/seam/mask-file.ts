// SeaM's result file layout: `<param>_mask` for every masked weight and bias, the head as
// `module_head.1.weight` / `module_head.1.bias` (module_head = Sequential(ReLU, Linear)), and
// `input_shape` (int64 [C, H, W]: the sample shape the search ran on, for the export). Written as
// a PyTorch .pt (torch.load reads it) or safetensors; read back onto a model to re-apply masks.
import { writeSafetensorsSync } from '../io/safetensors.js';
import { writeTorchFile } from '../io/torch-write.js';
import type { RawTensor } from '../io/types.js';
import { Linear, type Module, type Sequential } from '../nn/index.js';
import { toRaw } from '../tensor/raw.js';
import { Tensor } from '../tensor/tensor.js';
import { attachMasks, type MaskEntry } from './masks.js';

/** The key of the sample shape in a mask file. */
export const INPUT_SHAPE_KEY = 'input_shape';

export function maskFileTensors(masks: MaskEntry[], head: Sequential, inputShape?: readonly number[]): Map<string, RawTensor> {
  const out = new Map<string, RawTensor>();
  for (const m of masks) out.set(`${m.param}_mask`, toRaw(m.mask));
  const linear = head.layers[1];
  if (!(linear instanceof Linear)) throw new Error('mask file: the head must be Sequential(ReLU, Linear)');
  out.set('module_head.1.weight', toRaw(linear.weight));
  if (linear.bias) out.set('module_head.1.bias', toRaw(linear.bias));
  if (inputShape) out.set(INPUT_SHAPE_KEY, toRaw(Tensor.ints(inputShape)));
  return out;
}

/** Writes masks.pt (or .safetensors); `inputShape` is the [C, H, W] of the samples searched on. */
export function saveMaskFile(path: string, masks: MaskEntry[], head: Sequential, inputShape?: readonly number[]): void {
  const tensors = maskFileTensors(masks, head, inputShape);
  if (path.endsWith('.safetensors')) writeSafetensorsSync(path, tensors, { format: 'seam-masks' });
  else writeTorchFile(path, tensors);
}

/** Puts the masks of a SeaM result (key -> tensor) onto a model; returns the entries and the head's
 *  weight and bias. Every mask must match a parameter; every maskable parameter must have one. */
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
    if (t.size !== m.mask.size) throw new Error(`${what}: ${m.param}_mask has shape [${t.shape.join(', ')}], the parameter has [${m.mask.shape.join(', ')}]`);
    m.mask.f32.set(t.f32);
  }
  if (missing.length) throw new Error(`${what}: no mask for ${missing.length} parameters: ${missing.slice(0, 6).join(', ')}${missing.length > 6 ? ', ...' : ''}`);
  const known = new Set([...masks.map((m) => `${m.param}_mask`), 'module_head.1.weight', 'module_head.1.bias', INPUT_SHAPE_KEY]);
  const unexpected = [...file.keys()].filter((k) => !known.has(k));
  if (unexpected.length) throw new Error(`${what}: keys that match no parameter of the model: ${unexpected.slice(0, 6).join(', ')}`);
  const headWeight = file.get('module_head.1.weight');
  if (!headWeight) throw new Error(`${what}: no module_head.1.weight`);
  const shape = file.get(INPUT_SHAPE_KEY);
  if (shape && (shape.dtype !== 'i32' || shape.ndim !== 1)) throw new Error(`${what}: ${INPUT_SHAPE_KEY} must be a 1-D integer tensor, got ${shape.dtype} [${shape.shape}]`);
  return { masks, headWeight, headBias: file.get('module_head.1.bias') ?? null, inputShape: shape ? Array.from(shape.i32) : null };
}
