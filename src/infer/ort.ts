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
 *  graph optimisations, idle threads sleeping rather than spinning), fed `x` of `shape`.
 *  Spinning is off because sessions are timed in alternation: each has its own pool, and a pool
 *  spins for several runs after its own, so with 2 threads on 2 cores the original's and the
 *  export's pools fought for the cores (Fashion-MNIST ResNet20, batch 16: 7.10 / 6.15 ms per
 *  batch alternating with spinning, 2.90 / 2.07 each timed alone, 3.09 / 2.33 alternating without). */
export async function onnxRunner(ort: Ort, model: Uint8Array, x: Float32Array, shape: readonly number[], threads: number): Promise<OrtRunner> {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [...shape]) };
  return {
    run: async () => Float32Array.from((await session.run(feeds))[session.outputNames[0]].data as Float32Array),
    release: () => session.release(),
  };
}
