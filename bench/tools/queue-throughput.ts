// Throughput of many targets: N binary targets re-engineered (a) one `seam reengineer` after another,
// (b) by 1 worker running 1 job at a time with 2 threads, (c) by 2 workers running 1 job each with
// 1 thread, and, with --device cuda, (d) by one GPU worker at each --gpu-concurrency. Starts its own
// redis-server (needs `redis-server` on PATH) and runs the built CLI (bin/seam.js: `npm run build` first).
// Prints progress on stderr and ONE JSON object on the last line of stdout.
//
//   node --import tsx bench/tools/queue-throughput.ts                       # 10 targets x 5 epochs, ../shared/data
//   node --import tsx bench/tools/queue-throughput.ts --targets 2 --epochs 1 --data fashion-mnist:examples/fmnist --model examples/fmnist/fmnist_resnet20.pt
//   node --import tsx bench/tools/queue-throughput.ts --modes cuda --device cuda --gpu-concurrency 1,2,4,8
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openQueue } from '../../src/queue/connection.js';
import { RedisServer } from '../../test/helpers/redis-server.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const { values: v } = parseArgs({
  options: {
    targets: { type: 'string', default: '10' }, epochs: { type: 'string', default: '5' },
    data: { type: 'string', default: `fashion-mnist:${resolve(ROOT, '..', 'shared', 'data', 'fashion-mnist')}` },
    model: { type: 'string', default: resolve(ROOT, '..', 'shared', 'data', 'fmnist_resnet20.pt') },
    modes: { type: 'string', default: 'sequential,1x2,2x1' }, device: { type: 'string', default: 'cpu' },
    'gpu-concurrency': { type: 'string', default: '1,2,4,8' }, keep: { type: 'string' },
  },
});
const targets = Array.from({ length: Number(v.targets) }, (_, c) => String(c));
const flags = ['--model', resolve(v.model!), '--data', v.data!, '--epochs', v.epochs!];
const seamBin = join(ROOT, 'bin', 'seam.js');
if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('bench: dist/ is missing; run `npm run build` first');
const work = v.keep ? resolve(v.keep) : mkdtempSync(join(tmpdir(), 'seam-queue-bench-'));
const say = (s: string): void => void process.stderr.write(`${s}\n`);

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [seamBin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`seam ${args.slice(0, 2).join(' ')} exited ${code}:\n${err.slice(-3000)}`))));
  });
}

const digest = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

interface ModeResult {
  mode: string;
  wall_s: number;
  targets_per_hour: number;
  job_s: number[];
  /** masks.pt byte-equal to the sequential run's, per target (null: no sequential run to compare) */
  masks_equal_sequential: (boolean | null)[];
}

const sequentialMasks = new Map<string, string>();
const result = (mode: string, wall: number, jobS: number[], masks: Map<string, string>): ModeResult => ({
  mode, wall_s: Math.round(wall * 10) / 10, targets_per_hour: Math.round((3600 * targets.length) / wall * 10) / 10, job_s: jobS,
  masks_equal_sequential: targets.map((t) => (sequentialMasks.has(t) ? sequentialMasks.get(t) === masks.get(t) : null)),
});

async function sequential(): Promise<ModeResult> {
  const t0 = Date.now();
  const jobS: number[] = [];
  for (const t of targets) {
    const s0 = Date.now();
    const out = join(work, 'sequential', t);
    await run(['reengineer', ...flags, '--target-class', t, '--device', v.device!, '--out', out, '--quiet']);
    jobS.push((Date.now() - s0) / 1000);
    sequentialMasks.set(t, digest(join(out, 'masks.pt')));
    say(`  sequential: class ${t} in ${jobS.at(-1)!.toFixed(1)} s`);
  }
  return result('sequential seam reengineer', (Date.now() - t0) / 1000, jobS, sequentialMasks);
}

/** `workers` worker processes, each running `concurrency` jobs of `threads` threads, until the queue is empty. */
async function queued(mode: string, redis: RedisServer, workers: number, concurrency: number, threads: number, device: string): Promise<ModeResult> {
  const queue = `bench-${mode.replace(/\W+/g, '-')}`;
  const outRoot = join(work, queue);
  const common = ['--redis', redis.url, '--queue', queue];
  await run(['queue', 'add', ...common, ...flags, '--targets', targets.join(','), '--out-root', outRoot]);
  const t0 = Date.now();
  await Promise.all(Array.from({ length: workers }, (_, w) => run(['worker', ...common, '--concurrency', String(concurrency), '--threads', String(threads),
    '--device', device, '--name', `w${w}`, '--until-empty'])));
  const { queue: q, close } = await openQueue(redis.url, queue);
  const jobs = await q.getJobs(['completed', 'failed'], 0, -1, true);
  await close();
  const failed = jobs.filter((j) => j.finishedOn && j.failedReason);
  if (failed.length || jobs.length !== targets.length) throw new Error(`${mode}: ${failed.length} failed (${failed.map((j) => j.failedReason).join('; ')}), ${jobs.length} finished`);
  // wall time: to the last job's end (a worker notices the empty queue a few seconds later)
  const wall = (Math.max(...jobs.map((j) => j.finishedOn!)) - t0) / 1000;
  const masks = new Map(jobs.map((j) => [/--target-class,(\d+)/.exec(j.data.argv.join(','))![1]!, digest(join(outRoot, j.id!, 'masks.pt'))]));
  say(`  ${mode}: ${wall.toFixed(1)} s`);
  return result(mode, wall, jobs.map((j) => (j.finishedOn! - j.processedOn!) / 1000), masks);
}

const modes = v.modes!.split(',');
const load0 = loadavg()[0];
say(`queue throughput: ${targets.length} targets x ${v.epochs} epochs, ${availableParallelism()} cores, load ${load0.toFixed(2)}; work in ${work}`);
mkdirSync(join(work, 'redis'), { recursive: true });
const redis = await RedisServer.start(join(work, 'redis'));
const results: ModeResult[] = [];
try {
  for (const mode of modes) {
    say(`${mode}:`);
    if (mode === 'sequential') results.push(await sequential());
    else if (mode === '1x2') results.push(await queued('1 worker x 2 threads', redis, 1, 1, 2, v.device!));
    else if (mode === '2x1') results.push(await queued('2 workers x 1 thread', redis, 2, 1, 1, v.device!));
    else if (mode === 'cuda') {
      const threads = Math.max(1, Math.floor(availableParallelism() / 2));
      for (const n of v['gpu-concurrency']!.split(',').map(Number)) results.push(await queued(`cuda concurrency ${n}`, redis, 1, n, threads, 'cuda'));
    } else throw new Error(`bench: unknown mode ${mode} (sequential, 1x2, 2x1, cuda)`);
  }
} finally {
  await redis.stop();
  if (!v.keep) rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify({ targets: targets.length, epochs: Number(v.epochs), data: v.data, cores: availableParallelism(), load_before: load0,
  load_after: loadavg()[0], results }));
