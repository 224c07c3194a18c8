// Redis restarting under running jobs loses nothing, and a worker stopped with SIGTERM ends its running
// epochs, hands its jobs back to the queue and exits; a new worker finishes them from their checkpoints
// with masks bit-identical to a plain `seam reengineer`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SeamQueue } from '../../src/queue/connection.js';
import type { JobProgress } from '../../src/queue/protocol.js';
import { maskDigest, QueueTestbed, seam, waitUntil, writeProblem } from '../helpers/queue-fixtures.js';
import { NO_REDIS, redisBinary } from '../helpers/redis-server.js';

const EPOCHS = 40;
const TARGETS = ['1', '2'];
const bed = new QueueTestbed('queue-restart');
const { dir, out } = bed;
afterAll(() => bed.dispose());

/** epochs done per active job, by job id */
async function activeEpochs(queue: SeamQueue): Promise<Map<string, number>> {
  const jobs = await queue.getJobs(['active']);
  return new Map(jobs.map((j) => [j.id!, (j.progress as Partial<JobProgress>)?.epochsDone ?? 0]));
}

describe.skipIf(!redisBinary)(redisBinary ? 'queue: Redis restarts and worker SIGTERM' : `queue: Redis restarts and worker SIGTERM (skipped: ${NO_REDIS})`, () => {
  it('keeps every job through a Redis restart and hands running jobs back on SIGTERM', { timeout: 240_000 }, async () => {
    const problem = writeProblem(dir, EPOCHS);
    await bed.start();
    const redis = bed.redis!;
    const refs = bed.references(problem, TARGETS);
    const added = await seam(['queue', 'add', ...bed.common, ...problem.flags, '--targets', TARGETS.join(','), '--out-root', out, '--json']);
    expect(added.code, added.stderr).toBe(0);
    const ids = (JSON.parse(added.stdout).jobs as { id: string }[]).map((j) => j.id);

    const first = bed.worker(['--concurrency', '2', '--name', 'first']);
    const before = await waitUntil('both jobs two epochs in', async () => {
      const e = await activeEpochs(bed.queue);
      return e.size === 2 && [...e.values()].every((n) => n >= 2) ? e : undefined;
    });

    // Redis goes away and comes back (append-only file): the jobs are still there and keep going
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.startAgain();
    const after = await waitUntil('both jobs to report progress again', async () => {
      const e = await activeEpochs(bed.queue).catch(() => new Map<string, number>());
      return e.size === 2 && ids.every((id) => e.get(id)! > before.get(id)!) ? e : undefined;
    });
    await waitUntil('the worker to report Redis back', () => /redis: connected again/.test(first.output) || undefined, 30_000);

    first.kill('SIGTERM');
    expect(await first.exit(30_000)).toEqual({ code: 0, signal: null });
    expect(first.output.match(/handed back to the queue/g)).toHaveLength(2);
    for (const id of ids) {
      expect(await bed.queue.getJobState(id)).toBe('waiting');
      expect(existsSync(join(out, id, 'checkpoint.safetensors'))).toBe(true);
      expect(existsSync(join(out, id, 'masks.pt'))).toBe(false); // a handed-back job writes no final files
    }

    const second = bed.worker(['--concurrency', '2', '--name', 'second', '--until-empty']);
    expect(await second.exit(90_000)).toEqual({ code: 0, signal: null });
    const want = await refs;
    for (const [i, id] of ids.entries()) {
      const job = await bed.queue.getJob(id);
      expect(await job!.getState()).toBe('completed');
      expect(job!.attemptsMade).toBe(1); // handing back costs no attempt
      // the epoch running at SIGTERM was finished and checkpointed, not thrown away
      expect(job!.returnvalue.resumedAt).toBeGreaterThan(after.get(id)!);
      expect(job!.returnvalue.worker).toBe('second');
      expect(maskDigest(join(out, id, 'masks.pt')), `class ${TARGETS[i]}: masks differ from seam reengineer's`).toBe(want[i]);
    }
  });
});
