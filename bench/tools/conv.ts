// Conv timings on the benchmark models' layer shapes: `npx tsx bench/tools/conv.ts`.
// Median of 10 runs after 3 warm-ups, per call (forward, backward-data, backward-weight).
import { native } from '../../src/native.js';
import { medianWallAndCpu } from '../timing.js';

const threads = JSON.parse(native.info()).threads as number;

/** Median wall ms; also records the median CPU ms per thread (robust when the machine is shared). */
let cpuMs = 0;
function time(f: () => void, reps = 10, warm = 3): number {
  const r = medianWallAndCpu(f, reps, undefined, warm);
  cpuMs = r.cpu;
  return r.wall;
}
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

// [label, N, C, H, O, K, stride, pad]
const cases: [string, number, number, number, number, number, number, number][] = [
  ['r20 stem 3->16 @32', 64, 3, 32, 16, 3, 1, 1],
  ['r20 16->16 @32', 64, 16, 32, 16, 3, 1, 1],
  ['r20 16->32 s2 @32', 64, 16, 32, 32, 3, 2, 1],
  ['r20 32->32 @16', 64, 32, 16, 32, 3, 1, 1],
  ['r20 64->64 @8', 64, 64, 8, 64, 3, 1, 1],
  ['r20 1x1 16->32 s2', 64, 16, 32, 32, 1, 2, 0],
  ['vgg 3->64 @32', 64, 3, 32, 64, 3, 1, 1],
  ['vgg 64->64 @32', 64, 64, 32, 64, 3, 1, 1],
  ['vgg 128->128 @16', 64, 128, 16, 128, 3, 1, 1],
  ['vgg 256->256 @8', 64, 256, 8, 256, 3, 1, 1],
  ['vgg 512->512 @4', 64, 512, 4, 512, 3, 1, 1],
  ['vgg 512->512 @2', 64, 512, 2, 512, 3, 1, 1],
  ['r20 16->16 @32 b16', 16, 16, 32, 16, 3, 1, 1],
];
const filter = process.argv[2];
const batch = Number(process.env.BATCH ?? 0);
for (const [label, N0, C, H, O, K, S, P] of cases) {
  const N = batch || N0;
  if (filter && !label.includes(filter)) continue;
  const OH = Math.floor((H + 2 * P - K) / S) + 1;
  const p = Int32Array.from([N, C, H, H, O, K, K, S, S, P, P, 1, 1, 1]);
  const x = rand(N * C * H * H), w = rand(O * C * K * K), b = rand(O);
  const y = new Float32Array(N * O * OH * OH), gy = rand(y.length), gx = new Float32Array(x.length);
  const gw = new Float32Array(w.length), gb = new Float32Array(O);
  const flop = 2 * N * O * OH * OH * C * K * K;
  const c: number[] = [];
  const run = (f: () => void) => { const ms = time(f); c.push(cpuMs); return ms; };
  const t = [
    run(() => native.conv2dForward(x, w, b, y, p)),
    run(() => native.conv2dBackwardData(gy, w, gx, p)),
    run(() => native.conv2dBackwardWeight(x, gy, gw, gb, p)),
  ];
  const f = (i: number) => `${t[i].toFixed(2)} ms [cpu/thr ${c[i].toFixed(2)}, ${(flop / c[i] / 1e6 / threads).toFixed(0)} GF/s]`;
  console.log(`${label.padEnd(20)} fwd ${f(0)}  bwdD ${f(1)}  bwdW ${f(2)}`);
}
