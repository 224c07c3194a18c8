// Redis restarting under running jobs loses nothing (a job that finishes while Redis is away is still
// recorded), and a worker stopped with SIGTERM ends its running epochs, hands its jobs back to the
// queue and exits; a new worker finishes them from their checkpoints with masks bit-identical to a
// plain `seam reengineer`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../src/queue/protocol.js';
import { maskDigest, QueueTestbed, seam, waitUntil, writeProblem } from '../helpers/queue-fixtures.js';
import { NO_REDIS, redisBinary } from '../helpers/redis-server.js';

const EPOCHS = 40;
const TARGETS = ['1', '2'];
const bed = new QueueTestbed('queue-restart');
const { dir, out } = bed;
afterAll(() => bed.dispose());

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
    const running = await waitUntil('both jobs two epochs in', async () => {
      const jobs = await bed.queue.getJobs(['active']);
      const p = jobs.map((j) => ({ id: j.id!, ...(j.progress as Partial<JobProgress>) }));
      return p.length === 2 && p.every((j) => j.epochsDone! >= 2) ? p : undefined;
    });
    // One job's process is frozen through the restart, so it is surely still running at SIGTERM; the
    // other runs on while Redis is away, and may even finish then (its completion must not be lost).
    const [frozen, free] = running as [{ id: string; pid: number; epochsDone: number }, { id: string }];
    process.kill(frozen.pid, 'SIGSTOP');

    // Redis goes away and comes back (append-only file): the jobs are still there
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.startAgain();
    expect(await bed.queue.getJobState(frozen.id)).toBe('active');
    await waitUntil('the worker to report Redis back', () => /redis: connected again/.test(first.output) || undefined, 30_000);

    first.kill('SIGTERM');
    await first.waitFor(/SIGTERM: ending the running epochs/, 10_000);
    process.kill(frozen.pid, 'SIGCONT');
    expect(await first.exit(30_000)).toEqual({ code: 0, signal: null });
    const freeState = await bed.queue.getJobState(free.id);
    expect(['waiting', 'completed']).toContain(freeState);
    const handedBack = freeState === 'waiting' ? ids : [frozen.id];
    for (const id of handedBack) {
      // (a fetch in flight as the worker stopped may take a job again just after it went back: it goes back again)
      expect(first.output).toContain(`job ${id} (class ${TARGETS[ids.indexOf(id)]}) handed back to the queue`);
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
      expect(maskDigest(join(out, id, 'masks.pt')), `class ${TARGETS[i]}: masks differ from seam reengineer's`).toBe(want[i]);
      if (!handedBack.includes(id)) continue;
      expect(job!.returnvalue.worker).toBe('second');
      expect(job!.returnvalue.resumedAt).toBeGreaterThan(0);
    }
    // the epoch the frozen job was in at SIGTERM was finished and checkpointed, not thrown away
    expect((await bed.queue.getJob(frozen.id))!.returnvalue.resumedAt).toBeGreaterThan(frozen.epochsDone);
  });
});
