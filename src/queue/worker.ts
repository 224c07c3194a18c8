// A queue worker: takes jobs from the BullMQ queue and runs each in a sandboxed child process
// (job-process), several at a time. Stopping (SIGTERM or Ctrl-C) ends the running epochs, hands their
// jobs back to the queue and exits; a second signal exits at once (the jobs stall and are resumed
// from their checkpoints by whichever worker takes them next).
import { existsSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
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

/** The sandboxed processor file: job-process.js beside this module (job-process.ts under tsx). */
function processorFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = here.replace(/worker\.(js|ts)$/, 'job-process.$1');
  if (file === here || !existsSync(file)) throw new Error(`seam worker: the job processor ${file} is missing (rebuild with \`npm run build\`)`);
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
      env: { ...process.env, SEAM_NUM_THREADS: String(s.threads), [WORKER_ENV.name]: s.name, [WORKER_ENV.device]: s.device },
    },
  });
  const tag = (job: Job<SeamJobData> | undefined): string => (job ? `job ${job.id} (${job.data.target})` : 'a job');
  // jobs running here; what is left of them once a stopping worker has closed went back to the queue
  const running = new Map<string, Job<SeamJobData>>();
  worker.on('active', (job) => (running.set(job.id!, job), say(`${tag(job)} started`)));
  worker.on('completed', (job) => running.delete(job.id!));
  worker.on('failed', (job) => job && running.delete(job.id!));
  const handedBack = (): void => running.forEach((job) => {
    const done = (job.progress as Partial<JobProgress> | undefined)?.epochsDone;
    say(`${tag(job)} handed back to the queue${done ? ` (checkpoint at epoch ${done})` : ''}`);
  });
  worker.on('completed', (job, r) => say(`${tag(job)} done: accuracy ${fmtPct(r.original_accuracy)} -> ${fmtPct(r.accuracy)}, kept ${fmtPct(r.retention)}, ${r.seconds} s${r.resumedAt ? ` (resumed at epoch ${r.resumedAt})` : ''}`));
  worker.on('failed', (job, err) => {
    const retry = job && job.attemptsMade < (job.opts.attempts ?? 1) && err.name !== 'UnrecoverableError';
    say(`${tag(job)} failed${retry ? ` (attempt ${job!.attemptsMade} of ${job!.opts.attempts}, will retry)` : ''}: ${err.message}`);
  });
  worker.on('stalled', (id) => say(`job ${id} stalled (its worker died): back in the queue, it resumes from its checkpoint`));
  let lastError = '';
  worker.on('error', (err) => {
    if (err.message !== lastError) say(`redis: ${err.message}`); // once per kind of error, not once per retry
    lastError = err.message;
  });
  client.on('ready', () => {
    if (lastError) say('redis: connected again');
    lastError = '';
  });

  let stopping = false;
  const finished = new Promise<number>((resolve) => {
    const stop = (why: string): void => {
      if (stopping) {
        say('stopping now: the running jobs stall and resume from their checkpoints elsewhere');
        process.exit(130);
      }
      stopping = true;
      say(`${why}: ending the running epochs; their jobs go back to the queue (signal again to stop at once)`);
      const closed = worker.close();
      worker.cancelAllJobs(DRAIN);
      void closed.then(() => (handedBack(), resolve(0)), (err: Error) => (say(`closing: ${err.message}`), resolve(1)));
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    // a job that became active while stopping is handed back too
    worker.on('active', (job) => void (stopping && worker.cancelJob(job.id!, DRAIN)));
    if (s.untilEmpty) {
      const queue = new Queue(s.queue, { connection: client });
      worker.on('drained', () => {
        void queue.getJobCounts('waiting', 'delayed', 'prioritized').then((c) => {
          const left = Object.values(c).reduce((a, b) => a + b, 0);
          if (left === 0 && !stopping && worker.isRunning()) {
            stopping = true;
            say(`queue empty: stopping${running.size ? ' after the running job(s)' : ''}`);
            void worker.close().then(() => queue.close()).then(() => resolve(0));
          }
        });
      });
    }
  });
  const code = await finished;
  await client.quit().catch(() => client.disconnect());
  return code;
}
