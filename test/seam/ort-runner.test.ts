// The onnxruntime sessions bench-model and compare time: their options (a fake onnxruntime records them).
import { describe, expect, it } from 'vitest';
import { onnxRunner } from '../../src/infer/ort.js';

describe('onnxRunner', () => {
  it('asks for the thread count, sequential execution, all optimisations and no spinning', async () => {
    const seen: Record<string, unknown>[] = [];
    const fake = {
      Tensor: class { constructor(public type: string, public data: Float32Array, public dims: number[]) {} },
      InferenceSession: {
        create: async (_model: Uint8Array, options: Record<string, unknown>) => {
          seen.push(options);
          return { inputNames: ['x'], outputNames: ['y'], run: async () => ({ y: { data: new Float32Array([1, 2]) } }), release: async () => {} };
        },
      },
    };
    const r = await onnxRunner(fake as never, new Uint8Array(1), new Float32Array(4), [1, 4], 2);
    expect(Array.from(await r.run())).toEqual([1, 2]);
    expect(seen[0]).toMatchObject({ intraOpNumThreads: 2, executionMode: 'sequential', graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } } });
    await r.release();
  });
});
