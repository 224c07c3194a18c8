// Quick GEMM / conv timing: `npx tsx bench/tools/gemm.ts [size]`. Median of 15 runs after 3 warm-ups.
import { native } from '../../src/native.js';
import { medianWallAndCpu } from '../timing.js';

/** Median wall ms; also records the median CPU ms per thread (robust when the machine is shared). */
let cpuMs = 0;
function time(f: () => void, reps = 15, warm = 3): number {
  const r = medianWallAndCpu(f, reps, undefined, warm);
  cpuMs = r.cpu;
  return r.wall;
}

function rand(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
}

console.error(native.info());
const sizes = process.argv.slice(2).map(Number);
for (const s of sizes.length ? sizes : [256, 512, 1024, 2048]) {
  const a = rand(s * s), b = rand(s * s), c = new Float32Array(s * s);
  for (const [ta, tb] of [[false, false], [true, false], [false, true]] as const) {
    const ms = time(() => native.gemm(ta, tb, s, s, s, 1, a, b, 0, c), s >= 2048 ? 10 : 15);
    console.log(`gemm ${s}^3 ta=${+ta} tb=${+tb}: median ${ms.toFixed(3)} ms, ${((2 * s ** 3) / ms / 1e6).toFixed(1)} GFLOP/s (from CPU time per thread: ${((2 * s ** 3) / cpuMs / 1e6).toFixed(1)})`);
  }
}
