// Files and processes for the queue tests: a small 1-channel CIFAR ResNet20 written as .pt, a tiny
// synthetic IDX data set (4 classes, 8x8), the `seam` CLI run from the sources as a child process,
// and a digest of a masks.pt to compare runs bit for bit.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticSplits } from '../../src/data/index.js';
import { readStateDictSync, writeTorchFile } from '../../src/io/index.js';
import { CifarResNet } from '../../src/models/cifar-resnet.js';
import { manualSeed } from '../../src/nn/index.js';
import { openQueue, type SeamQueue } from '../../src/queue/connection.js';
import { toRaw } from '../../src/tensor/raw.js';
import { runNode, type ChildResult } from './child.js';
import { writeIdxSplit } from './idx-files.js';
import { RedisServer } from './redis-server.js';

const CLI = join(import.meta.dirname, 'seam-cli.ts');

export interface Problem {
  model: string;
  /** the flags every run shares: model, data, normalisation, search options */
  flags: string[];
}

/** A model and a data set in `dir`, and `seam reengineer` flags for `epochs` short epochs. */
export function writeProblem(dir: string, epochs: number): Problem {
  mkdirSync(join(dir, 'data'), { recursive: true });
  manualSeed(7);
  const model = new CifarResNet({ depth: 20, numClasses: 4, inChannels: 1 });
  const file = join(dir, 'r20.pt');
  writeTorchFile(file, Object.fromEntries([...model.stateDict()].map(([k, t]) => [k, toRaw(t)])));
  const s = syntheticSplits({ numClasses: 4, train: 96, test: 32, seed: 3, height: 8, width: 8 });
  writeIdxSplit(join(dir, 'data'), s.train, 'train');
  writeIdxSplit(join(dir, 'data'), s.test, 't10k');
  return {
    model: file,
    flags: ['--model', file, '--data', `idx:${join(dir, 'data')}`, '--mean', '0.5', '--std', '0.25', '--epochs', String(epochs),
      '--batch-size', '8', '--lr-mask', '0.05', '--alpha', '1', '--seed', '0'],
  };
}

/** Threads per job in the tests: reference runs and workers use the same. */
export const THREADS = '1';
const env = (): NodeJS.ProcessEnv => ({ ...process.env, SEAM_NUM_THREADS: THREADS });

/** `seam ARGS` from the sources, in a child process. */
export function seam(args: string[]): Promise<ChildResult> {
  return runNode(['--import', 'tsx', CLI, ...args], env());
}

/** A `seam worker` child process whose stderr lines are kept (and searchable) as they come. */
export class WorkerProcess {
  readonly proc: ChildProcess;
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker', '--threads', THREADS, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d) => (this.output += d));
    this.proc.stderr!.on('data', (d) => (this.output += d));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Resolves when the output matches `re` (rejects after `ms`, with the output so far). */
  async waitFor(re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.output);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`worker output never matched ${re} in ${ms} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The exit, or a rejection with the output so far after `ms`. */
  exit(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`worker still running after ${ms} ms:\n${this.output}`)), ms)));
    return Promise.race([this.exited, late]).finally(() => clearTimeout(timer));
  }

  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal);
  }
}

/** sha256 of a masks.pt's tensors (names, shapes and bytes, in name order). */
export function maskDigest(file: string): string {
  const { stateDict } = readStateDictSync(file);
  const h = createHash('sha256');
  for (const name of [...stateDict.keys()].sort()) {
    const t = stateDict.get(name)!;
    const d = t.data as Float32Array;
    h.update(`${name}:${t.shape.join('x')}:`).update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return h.digest('hex');
}

/** Polls `check` every 100 ms until it returns a value other than undefined/false. */
export async function waitUntil<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One queue test's world: a temp folder, a redis-server, a queue handle, the workers it started. */
export class QueueTestbed {
  readonly dir: string;
  readonly out: string;
  redis: RedisServer | undefined;
  private handle: { queue: SeamQueue; close: () => Promise<void> } | undefined;
  private readonly workers: WorkerProcess[] = [];

  constructor(readonly queueName: string) {
    this.dir = mkdtempSync(join(tmpdir(), `seam-${queueName}-`));
    this.out = join(this.dir, 'out');
  }

  async start(): Promise<void> {
    this.redis = await RedisServer.start(mkdtempSync(join(this.dir, 'redis-')));
    this.handle = await openQueue(this.redis.url, this.queueName, { retryForever: true });
  }

  get queue(): SeamQueue {
    return this.handle!.queue;
  }

  /** --redis and --queue for the CLI */
  get common(): string[] {
    return ['--redis', this.redis!.url, '--queue', this.queueName];
  }

  worker(args: string[]): WorkerProcess {
    const w = new WorkerProcess([...this.common, ...args]);
    this.workers.push(w);
    return w;
  }

  /** masks.pt digests of plain `seam reengineer` runs, one per target class, run side by side */
  references(problem: Problem, classes: string[]): Promise<string[]> {
    return Promise.all(classes.map(async (c) => {
      const out = join(this.dir, 'ref', c);
      const r = await seam(['reengineer', ...problem.flags, '--target-class', c, '--out', out, '--quiet']);
      if (r.code !== 0) throw new Error(`reference run for class ${c} failed: ${r.stderr}`);
      return maskDigest(join(out, 'masks.pt'));
    }));
  }

  async dispose(): Promise<void> {
    this.workers.forEach((w) => w.proc.exitCode === null && w.kill('SIGKILL'));
    await this.handle?.close();
    await this.redis?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
