// Per-native-call profile of the bench workloads:
// `node --import tsx bench/tools/profile.ts [step-resnet20|step-vgg16|infer-vgg16|...] [reps] [cpu|cuda] [keep]`.
// Wraps every native function with a timer keyed by name (and conv shape), prints the top entries,
// then which training convolutions ran over the kept weights only (`keep`: random masks keeping
// that fraction, as the *_keep20 bench keys do with 0.2).
// On cuda the addon's kernel profiler is on too: each launch is synchronised, so a call's time is
// its device time, and the per-kernel table follows.
import { cpu as cpuBackend } from '../../src/backend/cpu.js';
import { convTrace } from '../../src/backend/conv-stats.js';
import { cudaNative } from '../../src/backend/cuda-native.js';
import type { Device } from '../../src/tensor/tensor.js';
import { native } from '../../src/native.js';
import { inferWorkload, seamStepWorkload } from '../workloads.js';

const stats = new Map<string, { n: number; ms: number }>();
// The CPU backend's kernel table (what the ops call) and the addon itself (the inference engine
// calls it directly); the fused kernels are the addon's own functions.
for (const table of [cpuBackend.k, native] as unknown as Record<string, unknown>[]) wrapAll(table);

function wrapAll(table: Record<string, unknown>): void {
  for (const k of Object.keys(table)) {
    const f = table[k];
    if (typeof f !== 'function') continue;
    table[k] = (...args: unknown[]) => {
      let key = k;
      const p = args.find((a) => a instanceof Int32Array && a.length === 14) as Int32Array | undefined;
      if (k.startsWith('conv2d') && p) key += ` ${Array.from(p).slice(0, 9).join(',')}`;
      else if (k.startsWith('batchNorm2d')) key += ` n${args[8]} c${args[9]} hw${args[10]}`;
      const t0 = performance.now();
      const r = (f as (...a: unknown[]) => unknown)(...args);
      const s = stats.get(key) ?? { n: 0, ms: 0 };
      s.n++; s.ms += performance.now() - t0;
      stats.set(key, s);
      return r;
    };
  }
}
const which = process.argv[2] ?? 'step-resnet20';
const reps = Number(process.argv[3] ?? 5);
const [kind, arch] = which.split('-');
const device = (process.argv[4] ?? 'cpu') as Device;
const keep = process.argv[5] ? Number(process.argv[5]) : null;
const run = kind === 'step' ? seamStepWorkload(arch, 64, device, keep) : inferWorkload(arch, 16, device);
for (let i = 0; i < 2; i++) run();
if (device === 'cuda') cudaNative.cudaProfile(true);
stats.clear();
convTrace(true);
const t0 = performance.now();
const c0 = process.cpuUsage();
for (let i = 0; i < reps; i++) run();
const wall = (performance.now() - t0) / reps;
const cpu = process.cpuUsage(c0);
let nativeMs = 0;
for (const s of stats.values()) nativeMs += s.ms;
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
console.log(`${which}: wall ${wall.toFixed(1)} ms/iter, cpu ${((cpu.user + cpu.system) / 1000 / reps).toFixed(1)} ms/iter, native ${(nativeMs / reps).toFixed(1)} ms/iter`);
for (const [k, s] of rows.slice(0, Number(process.env.TOP ?? 30))) {
  console.log(`${(s.ms / reps).toFixed(2).padStart(8)} ms  x${(s.n / reps).toFixed(0).padStart(3)}  ${k}`);
}
const calls = new Map<string, { n: number; sparse: number; density: number }>();
for (const c of convTrace(false)) {
  const key = `${c.pass.padEnd(8)} ${c.params.slice(0, 9).join(',')}`;
  const e = calls.get(key) ?? { n: 0, sparse: 0, density: 0 };
  e.n++; e.sparse += Number(c.sparse); e.density += c.density;
  calls.set(key, e);
}
if (calls.size) console.log('training convolutions (pass, N,C,H,W,O,KH,KW,SH,SW): kept fraction, path');
for (const [k, e] of calls) {
  const path = e.sparse === e.n ? 'sparse' : e.sparse === 0 ? 'dense' : `sparse ${e.sparse}/${e.n}`;
  console.log(`  ${k}  kept ${(e.density / e.n).toFixed(3)}  ${path}`);
}
if (device === 'cuda') {
  const kernels = Object.entries(JSON.parse(cudaNative.cudaProfile(false)) as Record<string, [number, number]>);
  console.log('kernels (synchronised launches):');
  for (const [k, [n, ms]] of kernels.slice(0, Number(process.env.TOP ?? 30))) {
    console.log(`${(ms / reps).toFixed(3).padStart(8)} ms  x${(n / reps).toFixed(0).padStart(3)}  ${k}`);
  }
}
