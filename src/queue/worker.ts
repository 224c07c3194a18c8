// A queue worker: takes jobs from the BullMQ queue and runs each in a sandboxed child process
// (job-process), several at a time. Stopping (SIGTERM or Ctrl-C) ends the running epochs, hands their
// jobs back to the queue and exits; a second signal exits at once (the jobs stall and are resumed
// from their checkpoints by whichever worker takes them next).
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Job } from 'bullmq';
import { bullmq, connect, shownUrl } from './connection.js';
import type { SeamJobData } from './job-spec.js';
import { DRAIN, WORKER_ENV, type JobProgress, type JobResult } from './protocol.js';

export interface WorkerSettings {
  redis: string;
  queue: string;
  concurrency: number;
  threads: number;
  device: 'cpu' | 'cuda';
  name: string;
  /** how long a job's lock lives without renewal: a killed worker's job is taken over after it */
  lockDuration: number;
  stalledInterval: number;
  /** exit once the queue has nothing left to wait for (benchmarks, batch runs) */
  untilEmpty: boolean;
}

/**
 * Jobs at once and threads per job. Unset, they fill the machine: threads per job 1 below 16 cores,
 * 2 from 16, 4 from 64 (small searches scale poorly past a few threads, and independent jobs scale
 * well), and as many jobs as the cores hold. On a GPU, two jobs share it by default (one uploads and
 * evaluates while the other trains) and split the cores.
 */
export function parallelism(o: { cores: number; device: 'cpu' | 'cuda'; concurrency?: number; threads?: number }): { concurrency: number; threads: number } {
  const cores = Math.max(1, o.cores);
  if (o.concurrency !== undefined && o.threads !== undefined) return { concurrency: o.concurrency, threads: o.threads };
  if (o.concurrency !== undefined) return { concurrency: o.concurrency, threads: Math.max(1, Math.floor(cores / o.concurrency)) };
  const threads = o.threads ?? (o.device === 'cuda' ? Math.max(1, Math.floor(cores / 2)) : cores >= 64 ? 4 : cores >= 16 ? 2 : 1);
  const concurrency = o.device === 'cuda' && o.threads === undefined ? 2 : Math.max(1, Math.floor(cores / threads));
  return { concurrency, threads };
}

export const defaultWorkerName = (): string => `${hostname()}:${process.pid}`;
export const CORES = availableParallelism();

/** The sandboxed processor file: job-process.ts beside this module (sources, under tsx), or the
 *  bundle's queue-job.js beside the bundle that holds this code (dist/). */
function processorFile(): string {
  const here = fileURLToPath(import.meta.url);
  const candidates = [join(dirname(here), 'job-process.ts'), join(dirname(here), 'queue-job.js')];
  const file = candidates.find((f) => existsSync(f));
  if (!file) throw new Error(`seam worker: the job processor is missing (looked for ${candidates.join(', ')}; rebuild with \`npm run build\`)`);
  return file;
}

const fmtPct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(2)}%`);

/** Runs a worker until it is stopped (or, with untilEmpty, until the queue is empty). Returns the exit code. */
export async function runWorker(s: WorkerSettings, say: (line: string) => void): Promise<number> {
  const client = await connect(s.redis, { retryForever: true, warn: say });
  const { Worker, Queue } = await bullmq();
  say(`worker ${s.name}: queue "${s.queue}" at ${shownUrl(s.redis)}, ${s.concurrency} job(s) at once, ${s.threads} thread(s) each, device ${s.device}`);
  const worker = new Worker<SeamJobData, JobResult>(s.queue, processorFile(), {
    connection: client,
    concurrency: s.concurrency,
    name: s.name,
    lockDuration: s.lockDuration,
    stalledInterval: s.stalledInterval,
    // each kill of a worker mid-job counts one stall; a job that stalls this often fails
    maxStalledCount: 5,
    workerForkOptions: {
      // the same V8 heap start as bin/seam.js gives `seam reengineer` (unless a heap size was chosen)
      execArgv: [...process.execArgv.filter((a) => !a.startsWith('--inspect')),
        ...(/old-space-size|heap-size/.test(`${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`) ? [] : ['--initial-old-space-size=64'])],
      env: { ...process.env, SEAM_NUM_THREADS: String(s.threads), [WORKER_ENV.name]: s.name, [WORKER_ENV.device]: s.device },
    },
  });
  const tag = (job: Job<SeamJobData> | undefined): string => (job ? `job ${job.id} (${job.data.target})` : 'a job');
  let lastError = '';
  worker.on('error', (err) => {
    if (err.message !== lastError) say(`redis: ${err.message}`); // once per kind of error, not once per retry
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) say('redis: connected again');
    lastError = '';
  });
  worker.on('stalled', (id) => say(`job ${id} stalled (its worker died): back in the queue, it resumes from its checkpoint`));

  // Jobs running here until they complete, fail or are handed back. A stopping worker closes once
  // none has run for a moment (a fetch already in flight when it stopped can still bring one, often
  // the job it just handed back), with a forced close: the jobs are settled, and a plain close can
  // wait forever on the blocking connection after a Redis restart (seen with BullMQ 6.7).
  const running = new Map<string, Job<SeamJobData>>();
  let stopping = false; // no new jobs; close when none runs
  let draining = false; // and the running ones end their epoch and go back to the queue
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let closing = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const settled = (job: Job<SeamJobData> | undefined): void => {
    if (job) running.delete(job.id!);
    clearTimeout(idleTimer);
    if (!stopping || running.size > 0 || closing) return;
    idleTimer = setTimeout(() => {
      if (running.size > 0 || closing) return;
      closing = true;
      worker.close(true).then(() => finish(0), (err: Error) => (say(`closing: ${err.message}`), finish(1)));
    }, 1000);
  };
  /** Cancels a job that became active as the worker stopped; BullMQ tracks it (and so can cancel it)
   *  a moment after announcing it. */
  const handBackSoon = (id: string, tries = 0): void => {
    if (!worker.cancelJob(id, DRAIN) && tries < 500 && running.has(id)) setTimeout(() => handBackSoon(id, tries + 1), 10);
  };
  worker.on('active', (job) => {
    running.set(job.id!, job);
    clearTimeout(idleTimer);
    say(`${tag(job)} started`);
    if (draining) handBackSoon(job.id!);
  });
  worker.on('completed', (job, r) => {
    say(`${tag(job)} done: accuracy ${fmtPct(r.original_accuracy)} -> ${fmtPct(r.accuracy)}, kept ${fmtPct(r.retention)}, ${r.seconds} s${r.resumedAt ? ` (resumed at epoch ${r.resumedAt})` : ''}`);
    settled(job);
  });
  worker.on('failed', (job, err) => {
    const retry = job && job.attemptsMade < (job.opts.attempts ?? 1) && err.name !== 'UnrecoverableError';
    say(`${tag(job)} failed${retry ? ` (attempt ${job!.attemptsMade} of ${job!.opts.attempts}, will retry)` : ''}: ${err.message}`);
    settled(job);
  });
  worker.on('progress', (job, p) => {
    const progress = p as Partial<JobProgress>;
    if (!progress.handedBack) return;
    say(`${tag(job)} handed back to the queue (checkpoint at epoch ${progress.epochsDone ?? 0})`);
    settled(job);
  });
  // a job whose lock was lost while stopping may never report: settled once it is no longer active here
  const sweep = setInterval(() => {
    if (!stopping) return;
    running.forEach((job) => void job.getState().then((state) => state !== 'active' && settled(job), () => undefined));
  }, 5000);
  sweep.unref();

  const stop = (why: string): void => {
    if (draining) {
      say('stopping now: the running jobs stall and resume from their checkpoints elsewhere');
      process.exit(130);
    }
    stopping = draining = true;
    say(`${why}: ending the running epochs; their jobs go back to the queue (signal again to stop at once)`);
    void worker.pause(true);
    worker.cancelAllJobs(DRAIN);
    settled(undefined);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const queue = s.untilEmpty ? new Queue(s.queue, { connection: client }) : null;
  if (queue) {
    worker.on('drained', () => {
      void queue.getJobCounts('waiting', 'delayed', 'prioritized').then((c) => {
        if (stopping || Object.values(c).reduce((a, b) => a + b, 0) > 0) return;
        say(`queue empty: stopping${running.size ? ' after the running job(s)' : ''}`);
        stopping = true;
        void worker.pause(true);
        settled(undefined);
      }, () => undefined);
    });
  }
  const code = await finished;
  clearInterval(sweep);
  await queue?.close();
  await client.quit().catch(() => client.disconnect());
  return code;
}
