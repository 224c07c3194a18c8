// Many targets on a real Redis: 4 targets, 2 workers, one SIGKILLed in the middle of a job. Every
// target finishes with masks bit-identical to a plain `seam reengineer` with the same seed; adding the
// same targets again adds nothing; a target that cannot work fails once with its reason; the results
// page and a target's report open in a real headless Chromium without errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgress } from '../../src/queue/protocol.js';
import type { QueueStatus } from '../../src/queue/status.js';
import { chromiumBinary, HeadlessChrome, NO_CHROMIUM } from '../helpers/headless-chrome.js';
import { maskDigest, processAlive, QueueTestbed, seam, waitUntil, writeProblem } from '../helpers/queue-fixtures.js';
import { NO_REDIS, redisBinary } from '../helpers/redis-server.js';

const EPOCHS = 24;
const TARGETS = ['0', '1', '2', '3'];
const bed = new QueueTestbed('queue-crash');
const { dir, out } = bed;
afterAll(() => bed.dispose());

const progressOf = (p: unknown): Partial<JobProgress> => (typeof p === 'object' && p ? p : {}) as Partial<JobProgress>;

describe.skipIf(!redisBinary)(redisBinary ? 'queue: workers that survive a crash' : `queue: workers that survive a crash (skipped: ${NO_REDIS})`, () => {
  const problem = writeProblem(dir, EPOCHS);
  const workers: ReturnType<QueueTestbed['worker']>[] = [];
  beforeAll(() => bed.start());

  it('runs 4 targets on 2 workers, one SIGKILLed mid-job, to masks bit-identical to seam reengineer', { timeout: 240_000 }, async () => {
    const refs = bed.references(problem, TARGETS);
    const added = await seam(['queue', 'add', ...bed.common, ...problem.flags, '--targets', TARGETS.join(','), '--out-root', out, '--json']);
    expect(added.code, added.stderr).toBe(0);
    const jobs = JSON.parse(added.stdout).jobs as { id: string; target: string; added: boolean }[];
    expect(jobs.map((j) => [j.target, j.added])).toEqual(TARGETS.map((c) => [`class ${c}`, true]));

    const fast = ['--concurrency', '1', '--lock-duration', '4000', '--stalled-interval', '1000'];
    const a = bed.worker([...fast, '--name', 'A']);
    workers.push(a, bed.worker([...fast, '--name', 'B']));
    const victim = await waitUntil('a job of worker A three epochs in', async () => {
      for (const job of await bed.queue.getJobs(['active'])) {
        const p = progressOf(job.progress);
        if (p.worker === 'A' && p.epochsDone! >= 3 && p.epochsDone! < EPOCHS - 3) return { id: job.id!, pid: p.pid!, epochsDone: p.epochsDone! };
      }
      return undefined;
    });
    a.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    // the job's process notices its worker is gone and exits: no orphan writing the job's folder
    await waitUntil(`job process ${victim.pid} to exit`, () => !processAlive(victim.pid), 15_000);

    await waitUntil('4 completed jobs', async () => (await bed.queue.getJobCounts('completed')).completed === 4 || undefined);
    const taken = await bed.queue.getJob(victim.id);
    expect(taken!.returnvalue.worker).toBe('B');
    expect(taken!.returnvalue.resumedAt).toBeGreaterThanOrEqual(victim.epochsDone);
    const { logs } = await bed.queue.getJobLogs(victim.id);
    expect(logs.join('\n')).toMatch(new RegExp(`B: resumed from the checkpoint at epoch ${taken!.returnvalue.resumedAt}`));

    const want = await refs;
    for (const [i, j] of jobs.entries()) {
      expect(maskDigest(join(out, j.id, 'masks.pt')), `${j.target}: masks differ from seam reengineer's`).toBe(want[i]);
      const report = JSON.parse(readFileSync(join(out, j.id, 'report.json'), 'utf8'));
      expect(report.epochsRun).toBe(EPOCHS);
      expect(readFileSync(join(out, j.id, 'log.jsonl'), 'utf8').trim().split('\n')).toHaveLength(EPOCHS);
    }
  });

  it('adds nothing when the same targets are added again', async () => {
    const again = await seam(['queue', 'add', ...bed.common, ...problem.flags, '--targets', TARGETS.join(','), '--out-root', out, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const r = JSON.parse(again.stdout);
    expect(r.added).toBe(0);
    expect(r.jobs.map((j: { state: string }) => j.state)).toEqual(TARGETS.map(() => 'completed'));
    expect(await bed.queue.getJobCountByTypes('waiting', 'active', 'delayed', 'completed', 'failed')).toBe(TARGETS.length);
  });

  it('fails a target that cannot work once, with its reason, and rejects bad options when adding', async () => {
    const bad = await seam(['queue', 'add', ...bed.common, ...problem.flags, '--targets', '9', '--attempts', '3', '--out-root', out, '--json']);
    expect(bad.code, bad.stderr).toBe(0);
    const id = JSON.parse(bad.stdout).jobs[0].id as string;
    const state = await waitUntil('the class-9 job to fail', async () => {
      const s = await bed.queue.getJobState(id);
      return s === 'failed' || s === 'completed' || s === 'delayed' ? s : undefined;
    }, 60_000);
    expect(state).toBe('failed'); // not 'delayed': no retry
    const job = await bed.queue.getJob(id);
    expect(job!.attemptsMade).toBe(1);
    expect(job!.failedReason).toMatch(/class 9 is out of range 0\.\.3/);
    await workers[1]!.waitFor(new RegExp(`job ${id} \\(class 9\\) failed: .*class 9 is out of range`), 10_000);

    const usage = await seam(['queue', 'add', ...bed.common, ...problem.flags, '--epochs', 'ten', '--targets', '1', '--out-root', out]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--epochs must be a number, got "ten"/);
    const both = await seam(['queue', 'add', ...bed.common, ...problem.flags, '--targets', '1', '--each-class', '--out-root', out]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/give exactly one of --targets, --each-class/);
  });

  it('reports status and results (table, CSV, page)', async () => {
    const st = await seam(['queue', 'status', ...bed.common, '--json']);
    expect(st.code, st.stderr).toBe(0);
    const s = JSON.parse(st.stdout) as QueueStatus;
    expect(s.counts).toMatchObject({ waiting: 0, active: 0, completed: 4, failed: 1 });
    expect(s.failed).toEqual([expect.objectContaining({ target: 'class 9', state: 'failed', attempts: 1 })]);

    const csv = join(dir, 'results.csv');
    const res = await seam(['queue', 'results', ...bed.common, '--out-root', out, '--csv', csv]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^target\s+state\s+original\s+accuracy\s+kept\s+FLOPs\s+best\s+seconds\s+worker/);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('target,job,state,original_accuracy,accuracy,kept,flops_dense,flops_effective,best_epoch,epochs_run,seconds,worker,report,reason');
    expect(lines).toHaveLength(6);
    for (const c of TARGETS) expect(lines.find((l) => l.startsWith(`class ${c},`))).toMatch(/,completed,[\d.]+,[\d.]+,[\d.e-]+,\d+,\d+,\d+,24,[\d.]+,[AB],class\d-[0-9a-f]{16}\/report\.html,$/);
    expect(lines.find((l) => l.startsWith('class 9,'))).toMatch(/,failed,.*class 9 is out of range/);
  });

  describe.skipIf(!chromiumBinary)(chromiumBinary ? 'in a browser' : `in a browser (skipped: ${NO_CHROMIUM})`, () => {
    it('renders the results page and a target report with table, plots and links, and no errors', async () => {
      const chrome = HeadlessChrome.launch();
      try {
        const page = await chrome.open(join(out, 'results.html'));
        const seen = await page.evaluate<{ rows: number; charts: number; bars: number; links: string[] }>(`({
          rows: document.querySelectorAll('table tbody tr').length,
          charts: document.querySelectorAll('figure svg').length,
          bars: document.querySelectorAll('figure svg rect').length,
          links: [...document.querySelectorAll('table a')].map((a) => a.getAttribute('href')),
        })`);
        expect(seen.rows).toBe(5);
        expect(seen.charts).toBe(2);
        expect(seen.bars).toBeGreaterThanOrEqual(16); // 4 targets x 2 bars x 2 charts (+ legends)
        expect(seen.links).toHaveLength(4);
        expect(page.errors).toEqual([]);
        const report = await chrome.open(join(out, seen.links[0]!));
        const r = await report.evaluate<{ rows: number; lines: number; title: string }>(`({
          rows: document.querySelectorAll('table tr').length, lines: document.querySelectorAll('svg polyline').length, title: document.title })`);
        expect(r.title).toMatch(/^seam report: binary: class \d/);
        expect(r.rows).toBe(4);
        expect(r.lines).toBeGreaterThanOrEqual(3); // accuracy, retained, original accuracy (and more)
        expect(report.errors).toEqual([]);
      } finally {
        await chrome.close();
      }
    });
  });

  it('stops an idle worker cleanly on SIGTERM', async () => {
    const b = workers[1]!;
    b.kill('SIGTERM');
    expect(await b.exit(30_000)).toEqual({ code: 0, signal: null });
  });
});
