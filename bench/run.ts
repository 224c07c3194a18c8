// `npm run bench`: times the BENCHMARKS.md workloads (median of >= 10 timed runs after 3 warm-ups)
// and prints ONE JSON object on the last line of stdout; progress goes to stderr.
// Options: --quick (fewer repetitions), --only key1,key2 (a subset).
import { nativeInfo } from '../src/native.js';
import { gemmWorkload, inferWorkload, seamStepWorkload, type Workload } from './workloads.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',') : null;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
/** Median CPU ms per pool thread of the last medianMs call (a check when the machine is shared). */
let lastCpuMs = 0;

function medianMs(run: Workload, reps: number, warmup = 3): number {
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    run();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / info.threads);
  }
  lastCpuMs = median(cpu);
  return median(times);
}

const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
const reps = quick ? 10 : 15;
const info = nativeInfo();
const result: Record<string, number | string> = { engine: 'seam', threads: info.threads, simd: info.simd };

const jobs: [string, () => number][] = [
  ['gemm_1024_gflops', () => {
    const g = gemmWorkload(1024);
    return round(g.flops / (medianMs(g.run, reps) / 1000) / 1e9, 1);
  }],
  ['seam_step_resnet20_b64_ms', () => round(medianMs(seamStepWorkload('resnet20', 64), reps))],
  ['seam_step_vgg16_b64_ms', () => round(medianMs(seamStepWorkload('vgg16', 64), quick ? 10 : 10))],
  ['infer_resnet20_b16_ms', () => round(medianMs(inferWorkload('resnet20', 16), reps * 2))],
  ['infer_vgg16_b16_ms', () => round(medianMs(inferWorkload('vgg16', 16), reps * 2))],
];

for (const [key, job] of jobs) {
  if (only && !only.includes(key)) continue;
  process.stderr.write(`bench: ${key} ... `);
  const v = job();
  result[key] = v;
  process.stderr.write(`${v} (median CPU per thread ${round(lastCpuMs)} ms)\n`);
}
console.log(JSON.stringify(result));
