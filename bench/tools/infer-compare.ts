// Dense (ops) vs planned dense vs planned sparse (keep 10%) side by side, interleaved, with CPU time
// per thread: `node --import tsx bench/tools/infer-compare.ts [reps]`. Robust on a shared machine.
import { nativeInfo } from '../../src/native.js';
import { medianWallAndCpu } from '../timing.js';
import { inferWorkload, plannedInferWorkload } from '../workloads.js';

const reps = Number(process.argv[2] ?? 20);
const threads = nativeInfo().threads;
for (const arch of ['resnet20', 'vgg16']) {
  const runs = {
    dense: inferWorkload(arch, 16),
    planned: plannedInferWorkload(arch, 16, null),
    keep10: plannedInferWorkload(arch, 16, 0.1),
  };
  const out: Record<string, string> = {};
  for (const [k, w] of Object.entries(runs)) {
    const { wall, cpu } = medianWallAndCpu(w, reps, threads);
    out[k] = `wall ${wall.toFixed(2)} cpu/thr ${cpu.toFixed(2)}`;
  }
  console.log(arch, `threads=${threads}`, JSON.stringify(out));
}
