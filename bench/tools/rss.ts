// RSS growth over SeaM steps (issue 2: 200 steps on ResNet20 must not grow RSS by more than 10%
// over its peak after 20 steps): `node --import tsx bench/tools/rss.ts [steps]`.
import { seamStepWorkload } from '../workloads.js';

const steps = Number(process.argv[2] ?? 200);
const run = seamStepWorkload('resnet20', 64);
let peak20 = 0;
let peak = 0;
for (let i = 1; i <= steps; i++) {
  run();
  const rss = process.memoryUsage().rss;
  peak = Math.max(peak, rss);
  if (i <= 20) peak20 = peak;
}
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(`peak RSS after 20 steps ${mb(peak20)} MB, after ${steps} steps ${mb(peak)} MB (x${(peak / peak20).toFixed(3)})`);
