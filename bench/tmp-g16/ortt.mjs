import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
const files = process.argv.slice(2);
const x = new Float32Array(16*28*28).map(() => Math.random());
for (const spin of ['1','0']) for (const t of [1,2]) for (const f of files) {
  const s = await ort.InferenceSession.create(readFileSync(f), { intraOpNumThreads: t, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: spin } } } });
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', x, [16,1,28,28]) };
  for (let i=0;i<5;i++) await s.run(feeds);
  const ts=[]; for (let i=0;i<40;i++){ const t0=performance.now(); await s.run(feeds); ts.push(performance.now()-t0);} ts.sort((a,b)=>a-b);
  console.log(`spin ${spin} threads ${t} ${f}: ${ts[20].toFixed(2)} ms`);
  await s.release();
}
