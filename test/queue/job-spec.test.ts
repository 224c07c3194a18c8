// The parts of the queue that need no Redis: targets and job ids, the worker's parallelism defaults,
// the results CSV, and that the CLI and the library do not load BullMQ until a queue command runs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { shownUrl } from '../../src/queue/connection.js';
import { commonFlags, expandTargets, jobId } from '../../src/queue/job-spec.js';
import { resultsCsv, type ResultRow } from '../../src/queue/results.js';
import { parallelism } from '../../src/queue/worker.js';
import { runNode } from '../helpers/child.js';
import { seam } from '../helpers/queue-fixtures.js';
import { freePort } from '../helpers/redis-server.js';

const flags = { model: 'm.pt', data: 'fashion-mnist:data/fmnist', epochs: '5', 'lr-mask': '0.05' };

describe('queue jobs', () => {
  it('expands each kind of target list', async () => {
    const { spec } = commonFlags(flags);
    expect((await expandTargets({ targets: '2, 5,Dress' }, spec)).map((t) => [t.flags, t.slug])).toEqual([
      [['--target-class', '2'], 'class2'], [['--target-class', '5'], 'class5'], [['--target-class', 'Dress'], 'classDress'],
    ]);
    expect((await expandTargets({ 'each-class': true }, spec)).map((t) => t.label)).toEqual(Array.from({ length: 10 }, (_, c) => `class ${c}`));
    expect((await expandTargets({ 'target-sets': '0,2; 4,6,8' }, spec)).map((t) => t.flags)).toEqual([['--target-classes', '0,2'], ['--target-classes', '4,6,8']]);
    const cifar100 = commonFlags({ ...flags, data: 'cifar100:data/c100' }).spec;
    const supers = await expandTargets({ 'each-superclass': true }, cifar100);
    expect(supers).toHaveLength(20);
    expect(supers[14]!.flags).toEqual(['--superclass', '14']);
  });

  it('rejects target lists that cannot work', async () => {
    const { spec } = commonFlags(flags);
    await expect(expandTargets({ targets: '1', 'each-class': true }, spec)).rejects.toThrow(/give exactly one of --targets, --each-class, --target-sets, --each-superclass \(got targets, each-class\)/);
    await expect(expandTargets({}, spec)).rejects.toThrow(UsageError);
    await expect(expandTargets({ 'target-sets': '0,2;3' }, spec)).rejects.toThrow(/a set needs at least two classes, got "3"/);
    await expect(expandTargets({ targets: '1,2,1' }, spec)).rejects.toThrow(/class 1 is given twice/);
    await expect(expandTargets({ 'each-superclass': true }, spec)).rejects.toThrow(/--each-superclass needs CIFAR-100 data or a --superclass-csv/);
    expect(() => commonFlags({ ...flags, alpha: 'lots' })).toThrow(/--alpha must be a number, got "lots"/);
  });

  it('names a job by the model, data, target and options, not by how they were spelled', async () => {
    const t = (await expandTargets({ targets: '3' }, commonFlags(flags).spec))[0]!;
    const id = (f: Record<string, string>, sha = 'a'.repeat(64)): string => jobId(sha, commonFlags(f).identity, t);
    expect(id(flags)).toMatch(/^class3-[0-9a-f]{16}$/);
    expect(id({ ...flags, epochs: '5.0', data: 'fashion-mnist:data/../data/fmnist' })).toBe(id(flags));
    expect(id({ ...flags, epochs: '6' })).not.toBe(id(flags));
    expect(id(flags, 'b'.repeat(64))).not.toBe(id(flags));
    expect(commonFlags(flags).argv).toEqual(['--model', join(process.cwd(), 'm.pt'), '--data', `fashion-mnist:${join(process.cwd(), 'data/fmnist')}`,
      '--epochs', '5', '--lr-mask', '0.05']);
  });

  it('fills a 2-core machine and a 64-core server, and lets several jobs share a GPU', () => {
    expect(parallelism({ cores: 2, device: 'cpu' })).toEqual({ concurrency: 2, threads: 1 });
    expect(parallelism({ cores: 64, device: 'cpu' })).toEqual({ concurrency: 16, threads: 4 });
    expect(parallelism({ cores: 16, device: 'cpu', threads: 8 })).toEqual({ concurrency: 2, threads: 8 });
    expect(parallelism({ cores: 16, device: 'cpu', concurrency: 4 })).toEqual({ concurrency: 4, threads: 4 });
    expect(parallelism({ cores: 16, device: 'cuda' })).toEqual({ concurrency: 2, threads: 8 });
    expect(parallelism({ cores: 16, device: 'cuda', concurrency: 8 })).toEqual({ concurrency: 8, threads: 2 });
  });

  it('writes CSV cells that hold commas and quotes', () => {
    const row: ResultRow = { id: 'class1-x', target: 'class 1', state: 'failed', originalAccuracy: null, accuracy: null, kept: null, flopsDense: null,
      flopsEffective: null, bestEpoch: null, epochsRun: null, seconds: null, worker: null, report: null, reason: 'bad "x", really' };
    expect(resultsCsv([row]).split('\n')[1]).toBe('class 1,class1-x,failed,,,,,,,,,,,"bad ""x"", really"');
  });

  it('says clearly when Redis cannot be reached, without its password', async () => {
    expect(shownUrl('redis://:s3cret@db.example:6379/2')).toBe('redis://:***@db.example:6379/2');
    expect(shownUrl('rediss://user:s3cret@db:6380')).toBe('rediss://user:***@db:6380');
    expect(shownUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    const port = await freePort(); // nothing listens there
    const r = await seam(['queue', 'status', '--redis', `redis://:pw@127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`cannot use Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*start it with \`redis-server\``));
  });

  it('loads BullMQ and ioredis only when a queue command runs', async () => {
    const script = `
      const { createRequire } = await import('node:module');
      const cache = createRequire(process.cwd() + '/').cache;
      const loaded = () => Object.keys(cache).filter((k) => /node_modules\\/(bullmq|ioredis)\\//.test(k)).length;
      await import('./src/index.ts');
      await import('./src/cli/main.ts');
      const before = loaded();
      await import('./src/queue/connection.ts').then((m) => m.bullmq());
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const r = await runNode(['--import', 'tsx', '--input-type=module', '-e', script]);
    expect(r.code, r.stderr).toBe(0);
    const { before, after } = JSON.parse(r.stdout);
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0); // the probe sees them once they are loaded
  });
});
