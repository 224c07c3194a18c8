// A queue job's sandboxed process (BullMQ forks it; a crash here kills only this job's process). It
// runs `seam reengineer` with the job's flags into <out-root>/<job id>/, always with --resume: a job
// taken over from a killed worker continues from the job's checkpoint and ends bit for bit where an
// uninterrupted run would.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, WaitingError, type SandboxedJob } from 'bullmq';
import { UsageError } from '../cli/args.js';
import { parseReengineerArgs, runReengineer } from '../cli/reengineer.js';
import { SearchError } from '../seam/search.js';
import type { SeamJobData } from './job-spec.js';
import { DRAIN, WORKER_ENV, type JobProgress, type JobResult } from './protocol.js';

// Ctrl-C reaches the whole process group and a stopping worker's pool sends SIGTERM: either way,
// end the running epoch (its checkpoint is written) and hand the job back.
let signalled = false;
process.on('SIGINT', () => void (signalled = true));
process.on('SIGTERM', () => void (signalled = true));
// The worker that forked us is gone (killed): stop now. Another worker takes the stalled job and
// resumes it from its checkpoint; running on would write the same folder twice.
process.on('disconnect', () => process.exit(1));

const TRANSIENT = new Set(['EIO', 'ESTALE', 'EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ENOSPC', 'ENOMEM', 'ETIMEDOUT', 'ECONNRESET']);

/** Errors that retrying cannot fix (bad options, a problem that cannot be built, a search that
 *  diverged) fail the job at once; anything else (a full disk, out of memory) is retried with backoff. */
function classify(err: unknown, searching: boolean): unknown {
  const e = err as Error & { code?: string };
  const transient = TRANSIENT.has(e.code ?? '') || /out of memory|CUDA_ERROR_OUT_OF_MEMORY/i.test(e.message ?? '');
  if (transient) return err;
  if (!searching || err instanceof UsageError || err instanceof SearchError || e.code?.startsWith('ERR_PARSE_ARGS')) {
    return new UnrecoverableError(e.message ?? String(err));
  }
  return err;
}

export default async function processJob(job: SandboxedJob<SeamJobData, JobResult>, token?: string, signal?: AbortSignal): Promise<JobResult> {
  const worker = process.env[WORKER_ENV.name] ?? `${hostname()}:${process.ppid}`;
  const device = process.env[WORKER_ENV.device] ?? 'cpu';
  const stop = new AbortController();
  let drain = false;
  const onCancel = (): void => {
    if (signal?.reason === DRAIN) drain = true;
    else stop.abort(); // cancelled for another reason (the lock was lost): stop within the batch
  };
  if (signal?.aborted) onCancel();
  signal?.addEventListener('abort', onCancel, { once: true });
  let last: JobProgress = { epochsDone: 0, epochs: 0, worker, pid: process.pid };
  const progress = (p: JobProgress): void => void job.updateProgress((last = p)).catch(() => undefined);
  const handBack = async (): Promise<never> => {
    await job.log(`${new Date().toISOString()} ${worker}: stopping; handed back to the queue`);
    await job.moveToWait(token);
    // after the move (the worker runs both on one connection, in order): tells the worker this job is settled
    await job.updateProgress({ ...last, handedBack: true });
    throw new WaitingError(`job ${job.id} goes back to the queue: its worker is stopping`);
  };
  if (drain || signalled) return handBack();

  let searching = false;
  let resumedAt = 0;
  let epochs = 0;
  let run;
  try {
    const flags = parseReengineerArgs([...job.data.argv, '--out', join(job.data.outRoot, job.id!), '--resume', '--device', device, '--quiet']);
    run = await runReengineer(flags, {
      signal: stop.signal,
      onEvent: (e) => {
        if (e.type === 'start') {
          searching = true;
          resumedAt = e.startEpoch;
          epochs = e.epochs;
          progress({ epochsDone: e.startEpoch, epochs, originalAccuracy: e.originalAccuracy, worker, pid: process.pid });
          const line = `${new Date().toISOString()} ${worker}: ${e.startEpoch > 0 ? `resumed from the checkpoint at epoch ${e.startEpoch}` : 'started'}`;
          Promise.resolve(job.log(line)).catch(() => undefined);
          if (drain || signalled) stop.abort(); // asked to stop while setting up: no epoch
        } else if (e.type === 'epoch') {
          progress({ epochsDone: e.log.epoch + 1, epochs, accuracy: e.log.accuracy, kept: e.log.ratio, bestEpoch: e.bestEpoch, worker, pid: process.pid });
          if (drain || signalled) stop.abort(); // the epoch's checkpoint is written: stop before the next
        }
      },
    });
  } catch (err) {
    throw classify(err, searching);
  } finally {
    signal?.removeEventListener('abort', onCancel);
  }
  if (run.cancelled) {
    if (drain || signalled) return handBack();
    throw new Error(`job ${job.id} was cancelled: ${String(signal?.reason ?? 'no reason given')}`);
  }
  return { ...run.summary, worker, host: hostname(), resumedAt };
}
