// What the worker process and its sandboxed job processes agree on: the cancel reason that asks a
// job to stop after its running epoch, the environment they are forked with, the job progress and result.
import type { ReengineerSummary } from '../cli/reengineer.js';

/** Cancel reason: end the running epoch (its checkpoint is written), then hand the job back. */
export const DRAIN = 'seam:drain';

/** Environment variables a worker sets for its job processes (besides SEAM_NUM_THREADS). */
export const WORKER_ENV = { name: 'SEAM_WORKER_NAME', device: 'SEAM_WORKER_DEVICE' } as const;

/** A running job's progress (BullMQ job progress), shown by `seam queue status`. */
export interface JobProgress {
  epochsDone: number;
  epochs: number;
  worker: string;
  /** the job's process on the worker's machine */
  pid: number;
  originalAccuracy?: number;
  /** test accuracy and kept weight fraction after the last epoch */
  accuracy?: number;
  kept?: number;
  bestEpoch?: number | null;
  /** set when a stopping worker has put the job back in the queue */
  handedBack?: boolean;
}

/** What a completed job returns (BullMQ's return value): `seam reengineer --json` plus where it ran. */
export type JobResult = ReengineerSummary & { worker: string; host: string; resumedAt: number };
