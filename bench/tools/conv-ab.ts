// Interleaved A/B of one conv call between another addon build and this one (shared machine):
// `node --import tsx bench/tools/conv-ab.ts other.node N,C,H,O,K,S,P [fwd|bwdD|bwdW] [reps]`.
import { createRequire } from 'node:module';
import { native } from '../../src/native.js';
const base = createRequire(import.meta.url)(process.argv[2]);
const [N, C, H, O, K, S, P] = process.argv[3].split(',').map(Number);
const which = process.argv[4] ?? 'fwd';
const reps = Number(process.argv[5] ?? 100);
const OH = Math.floor((H + 2 * P - K) / S) + 1;
const p = Int32Array.from([N, C, H, H, O, K, K, S, S, P, P, 1, 1, 1]);
const rand = (n: number) => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);
const x = rand(N * C * H * H), w = rand(O * C * K * K), gy = rand(N * O * OH * OH);
const y = new Float32Array(gy.length), gx = new Float32Array(x.length), gw = new Float32Array(w.length);
const call = (m: typeof native) => which === 'fwd' ? m.conv2dForward(x, w, null, y, p)
  : which === 'bwdD' ? m.conv2dBackwardData(gy, w, gx, p) : m.conv2dBackwardWeight(x, gy, gw, null, p);
const t: Record<string, number[]> = { base: [], new: [] };
for (let i = 0; i < reps; i++) {
  for (const [k, m] of (i % 2 ? [['base', base], ['new', native]] : [['new', native], ['base', base]]) as [string, typeof native][]) {
    const t0 = performance.now(); call(m); t[k].push(performance.now() - t0);
  }
}
const med = (a: number[]) => a.sort((u, v) => u - v)[a.length >> 1];
const flop = 2 * N * O * OH * OH * C * K * K;
console.log(`${process.argv[3]} ${which}: base ${med(t.base).toFixed(3)} ms, new ${med(t.new).toFixed(3)} ms (x${(med(t.base) / med(t.new)).toFixed(2)}), new ${(flop / med(t.new) / 1e6).toFixed(0)} GF/s wall`);
