// onnxruntime-node as an outside runtime to time exported models in (`seam bench-model`, `seam
// compare`): imported lazily and only when installed (a dev dependency, never needed to run seam).
import type * as OrtModule from 'onnxruntime-node';

type Ort = typeof OrtModule;

let loaded: Promise<{ ort: Ort | null; reason: string }> | null = null;

/** onnxruntime-node, or null with the reason it could not be loaded. */
export function loadOnnxRuntime(): Promise<{ ort: Ort | null; reason: string }> {
  loaded ??= import('onnxruntime-node').then(
    (m) => ({ ort: m as unknown as Ort, reason: '' }),
    (e: Error) => ({ ort: null, reason: `onnxruntime-node is not installed (${e.message.split('\n')[0]}); \`npm install onnxruntime-node\` adds its timings` }),
  );
  return loaded;
}

/** An onnxruntime session on one float input: `run()` returns the first output. Release it when done. */
export interface OrtRunner {
  run(): Promise<Float32Array>;
  release(): Promise<void>;
}

/** A session for an ONNX model (bytes) with `threads` intra-op threads (sequential execution, all
 *  graph optimisations), fed `x` of `shape`. */
export async function onnxRunner(ort: Ort, model: Uint8Array, x: Float32Array, shape: readonly number[], threads: number): Promise<OrtRunner> {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [...shape]) };
  return {
    run: async () => Float32Array.from((await session.run(feeds))[session.outputNames[0]].data as Float32Array),
    release: () => session.release(),
  };
}
