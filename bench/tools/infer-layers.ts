// Per-layer timing of a planned model (dev tool): wraps the native calls the engine makes.
import { native } from '../../src/native.js';
import { planModel } from '../../src/infer/index.js';
import { manualSeed } from '../../src/nn/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { MODELS, randomMasks } from '../workloads.js';

const arch = process.argv[2] ?? 'resnet20';
const keep = process.argv[3] === 'dense' ? null : Number(process.argv[3] ?? 0.1);
manualSeed(0);
const model = MODELS[arch]().eval();
if (keep !== null) randomMasks(model, keep);
const engine = planModel(model, [3, 32, 32]);
const x = Tensor.randn([16, 3, 32, 32], new Rng(3)).f32;
const times: number[][] = [];
let idx = 0;
const n = native as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of ['sparseConvForward', 'denseConvFused', 'maxPool2x2Infer', 'maxPool2dForward', 'globalAvgPoolForward']) {
  const f = n[name];
  n[name] = (...a: unknown[]) => { const t = process.hrtime.bigint(); const r = f(...a); (times[idx++] ??= []).push(Number(process.hrtime.bigint() - t) / 1e6); return r; };
}
for (let r = 0; r < 60; r++) { idx = 0; engine.run(x, 16); }
const med = (v: number[]) => v.slice(10).sort((a, b) => a - b)[(v.length - 10) >> 1];
let tot = 0;
const convs = engine.layers;
times.forEach((v, i) => { const m = med(v); tot += m; console.log(i, m.toFixed(3), convs[i]?.kernel ?? '', convs[i]?.reason ?? ''); });
console.log('total', tot.toFixed(2));
