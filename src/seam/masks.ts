// SeaM's re-engineered model (SEAM.md §2): every Conv2d and Linear keeps its trained weight and
// bias frozen and gets a real-valued mask of the same shape, initialised to 1; the forward uses
// W * (M > 0). Everything else is frozen; BatchNorm stays in eval mode the whole time.
import { BatchNorm2d, Conv2d, ConvTranspose2d, Linear, Module } from '../nn/index.js';
import { retainedRatio } from '../ops/index.js';
import { Tensor } from '../tensor/tensor.js';

export interface MaskEntry {
  /** The masked parameter's state_dict key, e.g. "layer1.0.conv1.weight"; the mask's key adds "_mask". */
  param: string;
  module: Conv2d | ConvTranspose2d | Linear;
  weight: Tensor;
  mask: Tensor;
}

export function isMaskable(m: Module): m is Conv2d | ConvTranspose2d | Linear {
  return m instanceof Conv2d || m instanceof ConvTranspose2d || m instanceof Linear;
}

/** Attaches `weight_mask` (and `bias_mask`) of ones to every Conv2d/Linear, freezes every other
 *  parameter, and returns the masks in module order. Calling it twice reuses the existing masks. */
export function attachMasks(model: Module): MaskEntry[] {
  const entries: MaskEntry[] = [];
  for (const p of model.parameters()) p.setRequiresGrad(false);
  for (const [path, m] of model.namedModules()) {
    if (!isMaskable(m)) continue;
    for (const [name, w] of [['weight', m.weight], ['bias', m.bias]] as const) {
      if (!w) continue;
      const key = `${name}_mask`;
      const mask = m.getParameter(key) ?? m.addParameter(key, Tensor.ones(w.shape).moveTo_(w.device));
      mask.setRequiresGrad(true);
      entries.push({ param: path ? `${path}.${name}` : name, module: m, weight: w, mask });
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

/** The retained-weight ratio r = mean(bin(all masks)) as a differentiable scalar. */
export function maskRatio(entries: MaskEntry[]): Tensor {
  return retainedRatio(entries.map((e) => e.mask));
}
