// exportOnnx: the re-engineered model as an ONNX file (dynamic batch, input "input", output
// "logits") whose initializers hold the pruned weights W * (M > 0), with the SeaM head (e.g.
// Sequential(ReLU, Linear)) appended after the model's output. Zoo models (CifarResNet, CifarVGG,
// TorchvisionResNet) are written at opset 13; an OnnxGraphModel keeps its own nodes and opset.
import { noGrad } from '../autograd/node.js';
import { writeOnnx, type OnnxGraph } from '../io/onnx.js';
import { OnnxGraphModel } from '../models/onnx-graph.js';
import type { Module } from '../nn/index.js';
import { Tensor, shapeStr } from '../tensor/tensor.js';
import { OnnxGraphBuilder } from './onnx-builder.js';
import { emitGraphModel, emitHead, graphExportOpset } from './onnx-graph-export.js';
import { emitZooModel } from './onnx-zoo.js';

export const EXPORT_OPSET = 13;
export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';

/** The width of the logits for one sample of `sampleShape` (a forward in eval mode, no tape). */
function outputWidth(model: Module, head: Module | null, sampleShape: readonly number[]): number {
  const flags = [model.trainingFlags(), head?.trainingFlags() ?? []] as const;
  model.eval();
  head?.eval();
  try {
    const y = noGrad(() => {
      const f = model.forward(Tensor.zeros([1, ...sampleShape.slice(1)]));
      return head ? head.forward(f) : f;
    });
    if (y.ndim !== 2) throw new Error(`onnx export: the model's output has shape ${shapeStr(y.shape)}; expected [batch, classes]`);
    return y.shape[1];
  } finally {
    model.restoreTrainingFlags(flags[0]);
    head?.restoreTrainingFlags(flags[1]);
  }
}

/** The ONNX graph of `model` (+ `head`) for inputs shaped like `sampleShape` ([N, C, H, W]; N becomes "batch"). */
export function buildOnnxExport(model: Module, head: Module | null, sampleShape: readonly number[]): OnnxGraph {
  if (sampleShape.length < 2) throw new Error(`onnx export: sample shape ${shapeStr(sampleShape)} needs a batch dimension and at least one more`);
  const classes = outputWidth(model, head, sampleShape);
  const b = new OnnxGraphBuilder();
  b.reserve(INPUT_NAME, OUTPUT_NAME);
  let opset = EXPORT_OPSET;
  let out: string | null;
  if (model instanceof OnnxGraphModel) {
    out = emitGraphModel(b, model, INPUT_NAME);
    opset = graphExportOpset(model.opset);
    if (head) out = emitHead(b, head, out, model.opTypes);
  } else {
    out = emitZooModel(b, model, INPUT_NAME);
    if (out !== null && head) out = b.module(head, out, 'module_head');
  }
  if (out === null) {
    throw new Error(`onnx export: no exporter for ${model.constructor.name} (supported: CifarResNet, CifarVGG, TorchvisionResNet, OnnxGraphModel)`);
  }
  if (out === INPUT_NAME) b.node('Identity', [out], '/output', {}, OUTPUT_NAME);
  else b.renameValue(out, OUTPUT_NAME);
  return b.graph(
    opset,
    { name: INPUT_NAME, shape: ['batch', ...sampleShape.slice(1)], dtype: 'f32' },
    { name: OUTPUT_NAME, shape: ['batch', classes], dtype: 'f32' },
    'seam_reengineered',
  );
}

/** Writes the ONNX file; returns the graph written. */
export function exportOnnx(model: Module, head: Module | null, sampleShape: readonly number[], path: string): OnnxGraph {
  const graph = buildOnnxExport(model, head, sampleShape);
  writeOnnx(path, graph, { producerName: 'seam' });
  return graph;
}
