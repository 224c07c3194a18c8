// onnxruntime-node as a reference runtime for ONNX tests; tests skip (with the reason) when it
// cannot be loaded.
import { createRequire } from 'node:module';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { Tensor } from '../../src/tensor/tensor.js';

type Ort = { InferenceSession: typeof InferenceSession; Tensor: typeof OrtTensor };

function loadOrt(): { ort: Ort | null; reason: string } {
  try {
    return { ort: createRequire(import.meta.url)('onnxruntime-node') as Ort, reason: '' };
  } catch (e) {
    return { ort: null, reason: `onnxruntime-node could not be loaded (${(e as Error).message.split('\n')[0]}); run npm install` };
  }
}

export const { ort, reason: ORT_MISSING } = loadOrt();

/** Runs an .onnx file (path or bytes) on one float input; returns the first output. */
export async function ortRun(model: string | Uint8Array, x: Tensor, inputName = 'input'): Promise<Tensor> {
  if (!ort) throw new Error(ORT_MISSING);
  const session = await ort.InferenceSession.create(model as string);
  const out = await session.run({ [inputName]: new ort.Tensor('float32', x.f32, [...x.shape]) });
  const y = out[session.outputNames[0]];
  return new Tensor(Float32Array.from(y.data as Float32Array), y.dims.map(Number));
}
