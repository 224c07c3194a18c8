// loadModel: reads a checkpoint (PyTorch .pt/.pth or safetensors), converts its tensors, picks the
// zoo architecture (given, or guessed from keys and shapes) and loads the weights strictly.
// An ONNX file becomes an OnnxGraphModel (arch "onnx-graph") unless a zoo architecture is given.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseOnnx, type OnnxGraph } from '../io/onnx.js';
import { readSafetensorsSync } from '../io/safetensors.js';
import { readTorchFile } from '../io/torch.js';
import type { StateDict } from '../io/types.js';
import type { Module } from '../nn/index.js';
import { fromRaw } from '../tensor/raw.js';
import type { Tensor } from '../tensor/tensor.js';
import { OnnxGraphModel } from './onnx-graph.js';
import { buildModel, guessArchitecture, type ArchOptions } from './zoo.js';

export type ModelFormat = 'pt-zip' | 'pt-legacy' | 'safetensors' | 'onnx';

/** The architecture name of a model imported from an ONNX graph. */
export const ONNX_GRAPH_ARCH = 'onnx-graph';

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

/** The tag of a ModelProto field a file can start with (varint ir_version or a length-delimited field). */
const ONNX_FIRST_TAGS = new Set([0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x4a, 0x52, 0x72, 0x7a]);

/** The file's format from its first bytes (ONNX: a ModelProto field tag, or the .onnx extension). */
export function detectFormat(path: string): ModelFormat {
  const head = firstBytes(path, 9);
  if (head[0] === 0x50 && head[1] === 0x4b) return 'pt-zip';
  if (head[0] === 0x80) return 'pt-legacy';
  if (path.toLowerCase().endsWith('.onnx')) return 'onnx';
  if (head.length >= 9 && head[8] === 0x7b /* '{' */) return 'safetensors';
  if (head.length > 0 && ONNX_FIRST_TAGS.has(head[0])) return 'onnx';
  throw new Error(`${path}: unknown model format (expected a PyTorch .pt/.pth zip or legacy file, safetensors, or ONNX)`);
}

function readOnnxFile(path: string): OnnxGraph {
  return parseOnnx(readFileSync(path), { name: path, baseDir: dirname(path) });
}

/** Reads any supported weights file into raw tensors (ONNX: its initializers), detecting the format. */
export function readWeights(path: string): { stateDict: StateDict; format: ModelFormat } {
  const format = detectFormat(path);
  if (format === 'onnx') return { stateDict: readOnnxFile(path).initializers, format };
  if (format === 'safetensors') return { stateDict: readSafetensorsSync(path).tensors, format };
  return { stateDict: readTorchFile(path).stateDict, format };
}

function toTensors(raw: StateDict, path: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of raw) out.set(k, fromRaw(t, `${path}:${k}`));
  return out;
}

export interface LoadModelOptions extends ArchOptions {
  arch?: string;
}

export function loadModel(path: string, opts: LoadModelOptions = {}): LoadedModel {
  if (detectFormat(path) === 'onnx' && (!opts.arch || opts.arch === ONNX_GRAPH_ARCH)) {
    const graph = readOnnxFile(path);
    const model = new OnnxGraphModel(graph, { name: path });
    const reason = `ONNX graph, opset ${graph.opset}, ${graph.nodes.length} nodes${graph.producer ? ` from ${graph.producer}` : ''}`;
    return { model, arch: ONNX_GRAPH_ARCH, options: { numClasses: model.numClasses }, format: 'onnx', reason, stateDict: toTensors(graph.initializers, path) };
  }
  const { stateDict: raw, format } = readWeights(path);
  const stateDict = toTensors(raw, path);
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
