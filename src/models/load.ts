// loadModel: reads a checkpoint (PyTorch .pt/.pth or safetensors), converts its tensors, picks the
// zoo architecture (given, or guessed from keys and shapes) and loads the weights strictly.
import { closeSync, openSync, readSync } from 'node:fs';
import { readSafetensorsSync } from '../io/safetensors.js';
import { readTorchFile } from '../io/torch.js';
import type { StateDict } from '../io/types.js';
import type { Module } from '../nn/index.js';
import { fromRaw } from '../tensor/raw.js';
import type { Tensor } from '../tensor/tensor.js';
import { buildModel, guessArchitecture, type ArchOptions } from './zoo.js';

export type ModelFormat = 'pt-zip' | 'pt-legacy' | 'safetensors';

export interface LoadedModel {
  model: Module & { numClasses: number };
  arch: string;
  options: ArchOptions;
  format: ModelFormat;
  /** why the architecture was chosen: "given" or the guess's reason */
  reason: string;
  /** the file's tensors as read (after widening to float32) */
  stateDict: Map<string, Tensor>;
}

function firstBytes(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(n);
    const got = readSync(fd, b, 0, n, 0);
    return b.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Reads any supported weights file into raw tensors, detecting the format from its first bytes. */
export function readWeights(path: string): { stateDict: StateDict; format: ModelFormat } {
  const head = firstBytes(path, 9);
  if (head[0] === 0x50 && head[1] === 0x4b) return { stateDict: readTorchFile(path).stateDict, format: 'pt-zip' };
  if (head[0] === 0x80) return { stateDict: readTorchFile(path).stateDict, format: 'pt-legacy' };
  if (head.length >= 9 && head[8] === 0x7b /* '{' */) return { stateDict: readSafetensorsSync(path).tensors, format: 'safetensors' };
  throw new Error(`${path}: unknown model format (expected a PyTorch .pt/.pth zip or legacy file, or safetensors)`);
}

export interface LoadModelOptions extends ArchOptions {
  arch?: string;
}

export function loadModel(path: string, opts: LoadModelOptions = {}): LoadedModel {
  const { stateDict: raw, format } = readWeights(path);
  const stateDict = new Map<string, Tensor>();
  for (const [k, t] of raw) stateDict.set(k, fromRaw(t, `${path}:${k}`));
  const shapes = new Map([...stateDict].map(([k, t]) => [k, t.shape]));
  let arch: string;
  let options: ArchOptions;
  let reason: string;
  if (opts.arch) {
    const { arch: _a, ...given } = opts;
    let guessed: ArchOptions = {};
    try {
      guessed = guessArchitecture(shapes).options;
    } catch {
      // the given architecture decides; sizes default unless the file tells them
    }
    arch = opts.arch;
    options = { ...guessed, ...given };
    reason = 'given';
  } else {
    const g = guessArchitecture(shapes);
    ({ arch, options, reason } = g);
  }
  const model = buildModel(arch, options);
  try {
    model.loadStateDict(stateDict);
  } catch (err) {
    throw new Error(`${path}: the weights do not fit ${arch}: ${(err as Error).message}`);
  }
  model.eval();
  return { model, arch, options, format, reason, stateDict };
}
