// The re-engineered model as files (issue 6, items 1a and 1b): SeaM's mask file applied back onto
// the original model, and the pruned state_dict of the original architecture (masked-out weights set
// to zero, every other tensor as loaded, PyTorch key names and order) plus the head as
// `module_head.1.weight` / `module_head.1.bias`, so that PyTorch users rebuild it with the original
// class and `nn.Sequential(nn.ReLU(), nn.Linear(num_classes, k))`.
import { closeSync, openSync, readSync } from 'node:fs';
import { noGrad } from '../autograd/node.js';
import { readStateDictSync } from '../io/index.js';
import { writeSafetensorsSync } from '../io/safetensors.js';
import { writeTorchFile } from '../io/torch-write.js';
import type { RawTensor, StateDict } from '../io/types.js';
import { buildModel, guessArchitecture, type ArchOptions } from '../models/zoo.js';
import { Linear, ReLU, Sequential, type Module } from '../nn/index.js';
import { applyMaskTensors } from '../seam/mask-file.js';
import { expandCompactMasks, isCompactMaskFile } from '../seam/mask-compact.js';
import type { MaskEntry } from '../seam/masks.js';
import { fromRaw, toRaw } from '../tensor/raw.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { isCompactFile, parseCompact } from './compact-file.js';
import { fitToStateDict } from './compaction/rebuild.js';

export const HEAD_PREFIX = 'module_head.';

/** Reads a SeaM mask file (.pt or safetensors, or the compact form of kernel / channel masks) into
 *  engine tensors; `metadata` holds a safetensors file's metadata. */
export function readMaskFile(path: string): Map<string, Tensor> & { metadata?: Record<string, string> } {
  const { stateDict, extra } = readStateDictSync(path);
  const out: Map<string, Tensor> & { metadata?: Record<string, string> } = new Map();
  for (const [k, t] of stateDict) out.set(k, fromRaw(t, `${path}:${k}`));
  if (extra && typeof extra === 'object') out.metadata = extra as Record<string, string>;
  return out;
}

/** SeaM's head: Sequential(ReLU, Linear(in, out)) with the given weight [out, in] and bias [out]. */
export function buildHead(weight: Tensor, bias: Tensor | null, what = 'head'): Sequential {
  if (weight.ndim !== 2) throw new Error(`${what}: module_head.1.weight must be 2-D [k, num_classes], got ${shapeStr(weight.shape)}`);
  const [out, inF] = weight.shape;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== out)) {
    throw new Error(`${what}: module_head.1.bias has shape ${shapeStr(bias.shape)}, expected [${out}] for weight ${shapeStr(weight.shape)}`);
  }
  const linear = new Linear(inF, out, bias !== null);
  linear.weight.f32.set(weight.f32);
  if (bias && linear.bias) linear.bias.f32.set(bias.f32);
  const head = new Sequential(new ReLU(), linear);
  for (const p of head.parameters()) p.setRequiresGrad(false);
  head.eval();
  return head;
}

/** The number of outputs of a model's last layer (its classes), for checking the head against it. */
function modelOutputs(model: Module): number | null {
  const n = (model as { numClasses?: unknown }).numClasses;
  return typeof n === 'number' ? n : null;
}

export interface AppliedMasks {
  masks: MaskEntry[];
  head: Sequential;
  /** the [C, H, W] the search ran on, when the mask file records it */
  inputShape: number[] | null;
}

/** Puts a SeaM mask file (path or tensors) onto `model` and builds the head; errors name what does not fit. */
export function applyMaskFile(model: Module, file: string | Map<string, Tensor>, what = typeof file === 'string' ? file : 'mask file'): AppliedMasks {
  let tensors: Map<string, Tensor> & { metadata?: Record<string, string> } = typeof file === 'string' ? readMaskFile(file) : file;
  if (isCompactMaskFile(tensors.metadata)) tensors = expandCompactMasks(model, tensors, tensors.metadata!, what);
  const { masks, headWeight, headBias, inputShape } = applyMaskTensors(model, tensors, what);
  const head = buildHead(headWeight, headBias, what);
  const classes = modelOutputs(model);
  const headIn = (head.layers[1] as Linear).inFeatures;
  if (classes !== null && classes !== headIn) {
    throw new Error(`${what}: the head takes ${headIn} inputs but the model has ${classes} outputs (a mask file for another model?)`);
  }
  model.eval();
  return { masks, head, inputShape };
}

/** head(model(x)) in eval mode without gradients: the re-engineered model's logits. */
export function reengineeredLogits(model: Module, head: Module, x: Tensor): Tensor {
  return noGrad(() => head.forward(model.forward(x)));
}

/**
 * The pruned state_dict: the model's own keys in PyTorch order (mask parameters left out) with every
 * masked-out weight set to zero, then the head's `module_head.1.weight` / `module_head.1.bias`.
 */
export function prunedStateDict(model: Module, head: Module | null): StateDict {
  const sd = model.stateDict();
  const out: StateDict = new Map();
  for (const [k, t] of sd) {
    if (k.endsWith('_mask') && sd.has(k.slice(0, -'_mask'.length))) continue;
    const mask = sd.get(`${k}_mask`);
    if (!mask) {
      out.set(k, toRaw(t.clone()));
      continue;
    }
    const w = t.f32;
    const m = mask.f32;
    const pruned = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) pruned[i] = m[i] > 0 ? w[i] : 0;
    out.set(k, { dtype: 'f32', shape: [...t.shape], data: pruned });
  }
  if (head) for (const [k, t] of head.stateDict(HEAD_PREFIX.slice(0, -1))) out.set(k, toRaw(t.clone()));
  return out;
}

export type StateDictFormat = 'pt' | 'safetensors';

/** Writes a state_dict as a PyTorch zip checkpoint (torch.load reads it) or as safetensors. */
export function writeStateDict(path: string, sd: StateDict, format: StateDictFormat, metadata: Record<string, string> = {}): void {
  if (format === 'pt') writeTorchFile(path, sd);
  else if (format === 'safetensors') writeSafetensorsSync(path, sd, { format: 'pt', ...metadata });
  else throw new Error(`writeStateDict: unknown format "${String(format)}" (pt or safetensors)`);
}

export interface LoadedReengineered {
  model: Module & { numClasses: number };
  head: Sequential | null;
  arch: string;
  options: ArchOptions;
}

/**
 * Rebuilds model + head from an exported state_dict (ours or any with the same keys). Shapes smaller
 * than the architecture's (a compacted model) are accepted: those layers are rebuilt to fit.
 */
export function reengineeredFromStateDict(sd: StateDict, opts: { arch?: string; options?: ArchOptions; what?: string } = {}): LoadedReengineered {
  const what = opts.what ?? 'state_dict';
  const modelSd = new Map<string, Tensor>();
  const headSd = new Map<string, Tensor>();
  for (const [k, raw] of sd) (k.startsWith(HEAD_PREFIX) ? headSd : modelSd).set(k.startsWith(HEAD_PREFIX) ? k.slice(HEAD_PREFIX.length) : k, fromRaw(raw, `${what}:${k}`));
  let arch = opts.arch;
  let options: ArchOptions = opts.options ?? {};
  if (!arch) {
    const g = guessArchitecture(new Map([...modelSd].map(([k, t]) => [k, t.shape])));
    arch = g.arch;
    options = { ...g.options, ...options };
  } else if (!opts.options) {
    try {
      options = guessArchitecture(new Map([...modelSd].map(([k, t]) => [k, t.shape]))).options;
    } catch {
      // sizes default unless the file tells them
    }
  }
  const model = buildModel(arch, options);
  fitToStateDict(model, modelSd);
  try {
    model.loadStateDict(modelSd);
  } catch (err) {
    throw new Error(`${what}: the weights do not fit ${arch}: ${(err as Error).message}`);
  }
  model.eval();
  let head: Sequential | null = null;
  if (headSd.size) {
    const w = headSd.get('1.weight');
    if (!w) throw new Error(`${what}: module_head.* keys without module_head.1.weight: ${[...headSd.keys()].join(', ')}`);
    head = buildHead(w, headSd.get('1.bias') ?? null, what);
  }
  return { model, head, arch, options };
}

/** Reads an exported .pt / .safetensors (pruned or compacted) back into model + head. */
export function loadReengineered(path: string, opts: { arch?: string; options?: ArchOptions } = {}): LoadedReengineered {
  let stateDict: StateDict;
  let meta: Record<string, unknown>;
  if (isCompactFile(firstBytes(path, 8))) ({ stateDict, metadata: meta } = parseCompact(path));
  else ({ stateDict, extra: meta } = readStateDictSync(path));
  // our safetensors and compact files name the architecture (needed once compaction changed the shapes)
  const arch = opts.arch ?? (typeof meta.arch === 'string' ? meta.arch : undefined);
  const options = opts.options ?? (arch && !opts.arch && typeof meta.options === 'string' ? (JSON.parse(meta.options) as ArchOptions) : undefined);
  return reengineeredFromStateDict(stateDict, { arch, options, what: path });
}

function firstBytes(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** A copy of a state_dict's tensors as RawTensors (for writers that keep references). */
export function rawOf(sd: Map<string, Tensor>): Map<string, RawTensor> {
  return new Map([...sd].map(([k, t]) => [k, toRaw(t)]));
}
