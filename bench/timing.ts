// Timing for the bench programs: median wall ms and median CPU ms per pool thread (a check when
// the machine is shared: CPU time hardly moves with other load).
import type { DataLoader } from '../src/data/index.js';
import { nativeInfo } from '../src/native.js';
import type { Workload } from './workloads.js';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median wall ms and median CPU ms divided by the thread count, after `warmup` untimed runs. */
export function medianWallAndCpu(run: Workload, reps: number, threads = nativeInfo().threads, warmup = 3): { wall: number; cpu: number } {
  for (let i = 0; i < warmup; i++) run();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    run();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3 / threads);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** Images per second of each of `reps` epochs of a loader, after `warmup` untimed ones. */
export async function epochRates(dl: DataLoader, warmup: number, reps: number): Promise<number[]> {
  const rates: number[] = [];
  for (let e = 0; e < warmup + reps; e++) {
    const t0 = performance.now();
    let n = 0;
    for await (const b of dl.epoch(e)) n += b.y.length;
    const s = (performance.now() - t0) / 1000;
    if (e >= warmup) rates.push(n / s);
  }
  return rates;
}
