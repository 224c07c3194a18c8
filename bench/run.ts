// `npm run bench`: times the BENCHMARKS.md workloads (median of >= 10 timed runs after 3 warm-ups)
// and prints ONE JSON object on the last line of stdout; progress goes to stderr.
// Options: --quick (fewer repetitions, no SeaM epoch), --only key1,key2 (a subset), --device cuda
// (adds the *_cuda keys when CUDA is usable; says why and skips them otherwise).
import { cudaStatus } from '../src/backend/cuda-native.js';
import { nativeInfo } from '../src/native.js';
import { median } from './timing.js';
import {
  benchFmnist, gemmCudaWorkload, gemmWorkload, importTimes, inferWorkload, loadVgg16Workload, ortInferWorkload, plannedInferWorkload,
  seamEpochFmnistSeconds, seamStepWorkload, type Workload,
} from './workloads.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only'));
const only = onlyArg ? (onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1]).split(',') : null;
const deviceArg = args.find((a) => a.startsWith('--device'));
const device = deviceArg ? (deviceArg.includes('=') ? deviceArg.split('=')[1] : args[args.indexOf(deviceArg) + 1]) : 'cpu';
if (device !== 'cpu' && device !== 'cuda') throw new Error(`bench: --device must be cpu or cuda, got ${device}`);

/** Median CPU ms per pool thread of the last medianMsAsync call (a check when the machine is shared). */
let lastCpuMs = 0;

async function medianMsAsync(run: () => unknown, reps: number, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await run();
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

const medianMs = (run: Workload, reps: number): Promise<number> => medianMsAsync(run, reps);

const jobs: [string, () => number | null | Promise<number | null>][] = [
  ['gemm_1024_gflops', async () => {
    const g = gemmWorkload(1024);
    return round(g.flops / ((await medianMs(g.run, reps)) / 1000) / 1e9, 1);
  }],
  ['seam_step_resnet20_b64_ms', async () => round(await medianMs(seamStepWorkload('resnet20', 64), reps))],
  ['seam_step_vgg16_b64_ms', async () => round(await medianMs(seamStepWorkload('vgg16', 64), 10))],
  ['seam_step_resnet20_b64_keep20_ms', async () => round(await medianMs(seamStepWorkload('resnet20', 64, 'cpu', 0.2), reps))],
  ['seam_step_vgg16_b64_keep20_ms', async () => round(await medianMs(seamStepWorkload('vgg16', 64, 'cpu', 0.2), 10))],
  ['infer_resnet20_b16_ms', async () => round(await medianMs(inferWorkload('resnet20', 16), reps * 2))],
  ['infer_vgg16_b16_ms', async () => round(await medianMs(inferWorkload('vgg16', 16), reps * 2))],
  ['load_vgg16_pt_ms', async () => round(await medianMs(loadVgg16Workload(), 10))],
  ['data_fmnist_aug_imgs_per_s', async () => Math.round(await benchFmnist({ reps: quick ? 3 : 10 }))],
  ...(['resnet20', 'vgg16'] as const).map((arch): [string, () => Promise<number | null>] => [`infer_${arch}_b16_ort_ms`, async () => {
    const run = await ortInferWorkload(arch, 16, info.threads);
    return run ? round(await medianMsAsync(run, reps * 2)) : null;
  }]),
  ['import_ms', () => {
    const t = importTimes();
    result.node_bare_ms = round(t.bare, 1);
    return round(t.imported, 1);
  }],
  ['seam_epoch_fmnist_resnet20_s', async () => (quick ? null : seamEpochFmnistSeconds().then((s) => (s === null ? null : round(s, 1))))],
  ...(['resnet20', 'vgg16'] as const).flatMap((arch): [string, () => Promise<number>][] => [
    [`infer_${arch}_b16_planned_ms`, () => planned(arch, null)],
    [`infer_${arch}_b16_keep10_ms`, () => planned(arch, 0.1)],
  ]),
];

const cuda = device === 'cuda' ? cudaStatus() : null;
if (cuda && !cuda.available) process.stderr.write(`bench: --device cuda: skipping the *_cuda keys: CUDA is not available: ${cuda.reason}\n`);
if (cuda?.available) {
  result.cuda_device = `${cuda.device} (cc ${cuda.cc}, ${cuda.image}${cuda.tf32 ? ', tf32' : ''})`;
  jobs.push(
    ['gemm_1024_gflops_cuda', async () => {
      const g = gemmCudaWorkload(1024);
      return round(g.flops / ((await medianMs(g.run, reps)) / 1000) / 1e9, 1);
    }],
    ...(['resnet20', 'vgg16'] as const).flatMap((arch): [string, () => Promise<number>][] => [
      [`seam_step_${arch}_b64_ms_cuda`, async () => round(await medianMs(seamStepWorkload(arch, 64, 'cuda'), reps))],
      [`infer_${arch}_b16_ms_cuda`, async () => round(await medianMs(inferWorkload(arch, 16, 'cuda'), reps * 2))],
    ]),
  );
}

/** Planned-engine timing; the CPU-time figure (CPU ms / threads) goes into `<key>_cpu` as a check. */
async function planned(arch: string, keep: number | null): Promise<number> {
  const key = `infer_${arch}_b16_${keep === null ? 'planned' : 'keep10'}`;
  const wall = await medianMsAsync(plannedInferWorkload(arch, 16, keep), reps * 4);
  result[`${key}_cpu_ms`] = round(lastCpuMs);
  return round(wall);
}

// Each workload starts from a collected heap (npm run bench passes --expose-gc): otherwise V8's
// background marking and sweeping of the previous workload's dead tensor buffers runs on the same
// two cores as the next one (planned keep10 inference measured 16.7 ms alone, up to 22.5 after the
// eager workloads).
const collect = (globalThis as { gc?: () => void }).gc;

for (const [key, job] of jobs) {
  if (only && !only.includes(key)) continue;
  collect?.();
  process.stderr.write(`bench: ${key} ... `);
  const v = await job();
  if (v === null) {
    process.stderr.write('skipped\n');
    continue;
  }
  result[key] = v;
  process.stderr.write(`${v} (median CPU per thread ${round(lastCpuMs)} ms)\n`);
}
console.log(JSON.stringify(result));
