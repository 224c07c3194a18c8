// Redis restarting under running jobs loses nothing, and a worker stopped with SIGTERM ends its running
// epochs, hands its jobs back to the queue and exits; a new worker finishes them from their checkpoints
// with masks bit-identical to a plain `seam reengineer`.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openQueue, type SeamQueue } from '../../src/queue/connection.js';
import type { JobProgress } from '../../src/queue/protocol.js';
import { maskDigest, seam, waitUntil, WorkerProcess, writeProblem } from '../helpers/queue-fixtures.js';
import { NO_REDIS, redisBinary, RedisServer } from '../helpers/redis-server.js';

const EPOCHS = 40;
const TARGETS = ['1', '2'];
const QUEUE = 'restart-test';
const dir = mkdtempSync(join(tmpdir(), 'seam-queue-restart-'));
const out = join(dir, 'out');
let redis: RedisServer | undefined;
let q: { queue: SeamQueue; close: () => Promise<void> } | undefined;
const workers: WorkerProcess[] = [];

afterAll(async () => {
  workers.forEach((w) => w.proc.exitCode === null && w.kill('SIGKILL'));
  await q?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** epochs done per active job, by job id */
async function activeEpochs(queue: SeamQueue): Promise<Map<string, number>> {
  const jobs = await queue.getJobs(['active']);
  return new Map(jobs.map((j) => [j.id!, (j.progress as Partial<JobProgress>)?.epochsDone ?? 0]));
}

describe.skipIf(!redisBinary)(redisBinary ? 'queue: Redis restarts and worker SIGTERM' : `queue: Redis restarts and worker SIGTERM (skipped: ${NO_REDIS})`, () => {
  it('keeps every job through a Redis restart and hands running jobs back on SIGTERM', async () => {
    const problem = writeProblem(dir, EPOCHS);
    redis = await RedisServer.start(mkdtempSync(join(dir, 'redis-')));
    const common = ['--redis', redis.url, '--queue', QUEUE];
    const refs = Promise.all(TARGETS.map(async (c) => {
      const r = await seam(['reengineer', ...problem.flags, '--target-class', c, '--out', join(dir, 'ref', c), '--quiet']);
      if (r.code !== 0) throw new Error(`reference run for class ${c} failed: ${r.stderr}`);
      return maskDigest(join(dir, 'ref', c, 'masks.pt'));
    }));
    const added = await seam(['queue', 'add', ...common, ...problem.flags, '--targets', TARGETS.join(','), '--out-root', out, '--json']);
    expect(added.code, added.stderr).toBe(0);
    const ids = (JSON.parse(added.stdout).jobs as { id: string }[]).map((j) => j.id);
    q = await openQueue(redis.url, QUEUE, { retryForever: true });

    const first = new WorkerProcess([...common, '--concurrency', '2', '--name', 'first']);
    workers.push(first);
    const before = await waitUntil('both jobs two epochs in', async () => {
      const e = await activeEpochs(q!.queue);
      return e.size === 2 && [...e.values()].every((n) => n >= 2) ? e : undefined;
    });

    // Redis goes away and comes back (append-only file): the jobs are still there and keep going
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.startAgain();
    const after = await waitUntil('both jobs to report progress again', async () => {
      const e = await activeEpochs(q!.queue).catch(() => new Map<string, number>());
      return e.size === 2 && ids.every((id) => e.get(id)! > before.get(id)!) ? e : undefined;
    });
    await waitUntil('the worker to report Redis back', () => /redis: connected again/.test(first.output) || undefined, 30_000);

    first.kill('SIGTERM');
    expect(await first.exit(30_000)).toEqual({ code: 0, signal: null });
    expect(first.output.match(/handed back to the queue/g)).toHaveLength(2);
    for (const id of ids) {
      expect(await q.queue.getJobState(id)).toBe('waiting');
      expect(existsSync(join(out, id, 'checkpoint.safetensors'))).toBe(true);
      expect(existsSync(join(out, id, 'masks.pt'))).toBe(false); // a handed-back job writes no final files
    }

    const second = new WorkerProcess([...common, '--concurrency', '2', '--name', 'second', '--until-empty']);
    workers.push(second);
    expect(await second.exit(90_000)).toEqual({ code: 0, signal: null });
    const want = await refs;
    for (const [i, id] of ids.entries()) {
      const job = await q.queue.getJob(id);
      expect(await job!.getState()).toBe('completed');
      expect(job!.attemptsMade).toBe(1); // handing back costs no attempt
      // the epoch running at SIGTERM was finished and checkpointed, not thrown away
      expect(job!.returnvalue.resumedAt).toBeGreaterThan(after.get(id)!);
      expect(job!.returnvalue.worker).toBe('second');
      expect(maskDigest(join(out, id, 'masks.pt')), `class ${TARGETS[i]}: masks differ from seam reengineer's`).toBe(want[i]);
    }
  });
});
