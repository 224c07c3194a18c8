// `seam queue status`: how many jobs are in each BullMQ state, and what the running ones are at.
import type { SeamQueue } from './connection.js';
import type { JobProgress } from './protocol.js';

/** BullMQ's state names, in the order a job usually goes through them. */
export const STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

export interface QueueStatus {
  counts: Record<(typeof STATES)[number], number>;
  active: { id: string; target: string; worker: string | null; epochsDone: number | null; epochs: number | null; accuracy: number | null; kept: number | null }[];
  /** failed jobs, and jobs waiting out a retry's backoff (delayed) */
  failed: { id: string; target: string; state: 'failed' | 'delayed'; attempts: number; reason: string }[];
}

export async function queueStatus(queue: SeamQueue): Promise<QueueStatus> {
  const counts = (await queue.getJobCounts(...STATES)) as QueueStatus['counts'];
  const active = (await queue.getJobs(['active'], 0, -1, true)).map((job) => {
    const p = (typeof job.progress === 'object' ? job.progress : {}) as Partial<JobProgress>;
    return {
      id: job.id!, target: job.data.target, worker: p.worker ?? job.processedBy ?? null, epochsDone: p.epochsDone ?? null,
      epochs: p.epochs ?? null, accuracy: p.accuracy ?? null, kept: p.kept ?? null,
    };
  });
  const failed: QueueStatus['failed'] = [];
  for (const state of ['failed', 'delayed'] as const) {
    for (const job of await queue.getJobs([state], 0, -1, true)) {
      failed.push({ id: job.id!, target: job.data.target, state, attempts: job.attemptsMade, reason: job.failedReason ?? '' });
    }
  }
  return { counts, active, failed };
}

const pct = (x: number | null): string => (x === null ? '-' : `${(100 * x).toFixed(2)}%`);

export function formatStatus(s: QueueStatus): string {
  const lines = [STATES.map((k) => `${k} ${s.counts[k] ?? 0}`).join(', ')];
  for (const a of s.active) {
    const at = a.epochsDone === null ? 'starting' : `epoch ${a.epochsDone}/${a.epochs}`;
    lines.push(`  active  ${a.id} (${a.target}) ${at}, accuracy ${pct(a.accuracy)}, kept ${pct(a.kept)}${a.worker ? ` on ${a.worker}` : ''}`);
  }
  for (const f of s.failed) {
    lines.push(`  ${f.state === 'failed' ? 'failed ' : 'retry  '} ${f.id} (${f.target}) after ${f.attempts} attempt(s): ${f.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
