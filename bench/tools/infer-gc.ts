// The eager eval forward of a zoo model, timed with its garbage collections: median and p10 per
// forward, and how many full (mark-compact) collections ran meanwhile. The bench's infer_* keys take
// 3 warm-up forwards; some runs of the same code fall into a full GC every few forwards (V8 reacting
// to the external memory of the activation buffers), which this makes visible.
//
//   node --import tsx bench/tools/infer-gc.ts [resnet20|vgg16] [warm-up forwards] [timed forwards]
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { inferWorkload } from '../workloads.js';

const [arch = 'resnet20', warm = '30', reps = '400'] = process.argv.slice(2);
const run = inferWorkload(arch, 16);
for (let i = 0; i < Number(warm); i++) run();

let major = 0;
let majorMs = 0;
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      major++;
      majorMs += e.duration;
    }
  }
});
observer.observe({ entryTypes: ['gc'] });

const ms: number[] = [];
for (let i = 0; i < Number(reps); i++) {
  const t0 = performance.now();
  run();
  ms.push(performance.now() - t0);
}
await new Promise((r) => setTimeout(r, 10)); // let the observer deliver the last entries
observer.disconnect();
ms.sort((a, b) => a - b);
const at = (q: number): number => Math.round(ms[Math.floor(q * (ms.length - 1))] * 1000) / 1000;
console.log(JSON.stringify({ arch, warm: Number(warm), reps: ms.length, median_ms: at(0.5), p10_ms: at(0.1),
  major_gcs: major, major_gc_ms: Math.round(majorMs * 10) / 10 }));
