// A/B of two builds of the addon in ONE process (the machine is shared, so only interleaved
// runs compare fairly): `node --import tsx bench/tools/ab.ts /path/to/base.node [workloads] [rounds]`.
// Each round runs every workload once with the base addon and once with the current one (order
// alternating); prints median wall ms and median CPU ms/thread for both.
import { createRequire } from 'node:module';
import { native } from '../../src/native.js';
import { inferWorkload, seamStepWorkload, type Workload } from '../workloads.js';

const req = createRequire(import.meta.url);
const base = req(process.argv[2]) as Record<string, unknown>;
const cur = { ...(native as unknown as Record<string, unknown>) };
const tgt = native as unknown as Record<string, unknown>;
const use = (t: Record<string, unknown>) => { for (const k of Object.keys(cur)) if (k in t) tgt[k] = t[k]; };
const names = (process.argv[3] ?? 'step-resnet20,infer-resnet20,infer-vgg16').split(',');
const rounds = Number(process.argv[4] ?? 10);
const threads = JSON.parse(native.info()).threads as number;
const wl: [string, Workload][] = names.map((n) => {
  const [kind, arch] = n.split('-');
  return [n, kind === 'step' ? seamStepWorkload(arch, 64) : inferWorkload(arch, 16)];
});
const med = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const res = new Map<string, { w: number[]; c: number[] }>();
const time = (key: string, f: Workload) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const w = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const r = res.get(key) ?? { w: [], c: [] };
  r.w.push(w); r.c.push((c.user + c.system) / 1000 / threads);
  res.set(key, r);
};
for (const [, f] of wl) { use(base); f(); f(); use(cur); f(); f(); }
for (let i = 0; i < rounds; i++) {
  for (const [n, f] of wl) {
    const order: [string, Record<string, unknown>][] = i % 2 ? [['base', base], ['new', cur]] : [['new', cur], ['base', base]];
    for (const [tag, t] of order) { use(t); time(`${n} ${tag}`, f); }
  }
}
for (const [n] of wl) {
  const b = res.get(`${n} base`)!, c = res.get(`${n} new`)!;
  console.log(`${n.padEnd(16)} wall base ${med(b.w).toFixed(1)} new ${med(c.w).toFixed(1)} (x${(med(b.w) / med(c.w)).toFixed(2)})` +
    `   cpu/thr base ${med(b.c).toFixed(1)} new ${med(c.c).toFixed(1)} (x${(med(b.c) / med(c.c)).toFixed(2)})`);
}
