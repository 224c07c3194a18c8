// loadModel: reads a checkpoint (PyTorch .pt/.pth or safetensors), converts its tensors, picks the
// zoo architecture (given, or guessed from keys and shapes) and loads the weights strictly.
// An ONNX file becomes an OnnxGraphModel (arch "onnx-graph") unless a zoo architecture is given.
import { detectFileFormat, readStateDictSync, type ModelFormat } from '../io/index.js';
import type { OnnxGraph } from '../io/onnx.js';
import type { StateDict } from '../io/types.js';
import { withoutInit, type Module } from '../nn/index.js';
import { fromRaw } from '../tensor/raw.js';
import type { Tensor } from '../tensor/tensor.js';
import { OnnxGraphModel } from './onnx-graph.js';
import { buildModel, guessArchitecture, type ArchOptions } from './zoo.js';

export type { ModelFormat };

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

/** Reads any supported weights file into raw tensors (ONNX: its initializers), detecting the format. */
export function readWeights(path: string): { stateDict: StateDict; format: ModelFormat; graph?: OnnxGraph } {
  const r = readStateDictSync(path);
  return { stateDict: r.stateDict, format: r.format, graph: r.graph };
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
  if (detectFileFormat(path) === 'onnx' && (!opts.arch || opts.arch === ONNX_GRAPH_ARCH)) {
    const graph = readWeights(path).graph!;
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
  const model = withoutInit(() => buildModel(arch, options)); // the file overwrites every parameter
  try {
    model.loadStateDict(stateDict);
  } catch (err) {
    throw new Error(`${path}: the weights do not fit ${arch}: ${(err as Error).message}`);
  }
  model.eval();
  return { model, arch, options, format, reason, stateDict };
}
