// `seam queue add|status|results`: many targets as jobs on a BullMQ queue in Redis (run by `seam worker`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_QUEUE, DEFAULT_REDIS, openQueue, redisUrl } from '../queue/connection.js';
import { commonFlags, expandTargets, fileSha256, jobId, type SeamJobData } from '../queue/job-spec.js';
import { renderResultsPage } from '../queue/results-page.js';
import { collectResults, resultsCsv, resultsTable } from '../queue/results.js';
import { formatStatus, queueStatus } from '../queue/status.js';
import { intFlag, UsageError } from './args.js';
import { helpText, parseCommand, synopsis, type CommandSpec } from './command.js';
import { REENGINEER } from './reengineer.js';

/** Where the queue is: shared by every queue command and `seam worker`. */
export const REDIS_OPTIONS = {
  redis: { value: 'URL', help: 'the Redis server (>= 6.2) holding the queue', default: `$SEAM_REDIS_URL, else ${DEFAULT_REDIS}` },
  queue: { value: 'NAME', help: 'the queue (several can share one Redis)', default: DEFAULT_QUEUE },
} as const;

const o = REENGINEER.options;
export const QUEUE_ADD = {
  name: 'queue add',
  summary: 'add one job per target; a job runs `seam reengineer` with these options into --out-root/<job id>/ (the same targets twice add nothing)',
  options: {
    ...REDIS_OPTIONS,
    model: o.model, arch: o.arch, data: o.data, mean: o.mean, std: o.std,
    targets: { value: 'A,B,...', help: 'one binary problem per class (index or name)' },
    'each-class': { help: 'one binary problem for every class of the data' },
    'target-sets': { value: '"A,B;C,D"', help: 'one class-set problem per ;-separated group' },
    'each-superclass': { help: "one problem per CIFAR-100 superclass, or per superclass of --superclass-csv" },
    'superclass-csv': { value: 'FILE', help: 'class,superclass mapping for --each-superclass' },
    epochs: o.epochs, alpha: o.alpha, 'lr-mask': o['lr-mask'], 'lr-head': o['lr-head'], 'batch-size': o['batch-size'], seed: o.seed,
    'early-stop': o['early-stop'], augment: o.augment,
    attempts: { value: 'N', help: 'tries of a job that fails for a passing reason (exponential backoff from 30 s)', default: '3' },
    'out-root': { value: 'DIR', required: true, help: 'each job writes into DIR/<job id>/ (a shared folder when workers run on several machines)' },
    json: { help: 'print one JSON object: how many were added, and every job with its state' },
  },
  example: 'seam queue add --model r20.pt --data fashion-mnist:data/fmnist --each-class --epochs 30 --out-root runs/all',
} as const satisfies CommandSpec;

export const QUEUE_STATUS = {
  name: 'queue status',
  summary: 'jobs per state (BullMQ names) and, for each running job, its epoch, accuracy and kept weights',
  options: { ...REDIS_OPTIONS, json: { help: 'print one JSON object: counts (by state), active, failed' } },
  example: 'seam queue status --redis redis://127.0.0.1:6379',
} as const satisfies CommandSpec;

export const QUEUE_RESULTS = {
  name: 'queue results',
  summary: "one row per target of an output root (accuracy, kept, FLOPs, best epoch, seconds, worker) and DIR/results.html linking each target's report",
  options: {
    ...REDIS_OPTIONS,
    'out-root': { value: 'DIR', required: true, help: 'the output root the jobs were added with' },
    csv: { value: 'FILE', help: 'also write the rows as CSV' },
    json: { help: 'print one JSON object with the rows instead of the table' },
  },
  example: 'seam queue results --out-root runs/all --csv runs/all.csv',
} as const satisfies CommandSpec;

const SUBCOMMANDS = [QUEUE_ADD, QUEUE_STATUS, QUEUE_RESULTS] as const;

export const QUEUE = {
  name: 'queue',
  summary: 'many targets as jobs on a BullMQ queue in Redis, run by `seam worker` (seam queue SUBCOMMAND --help)',
  positional: 'add|status|results',
  options: {},
  example: 'seam queue add --model r20.pt --data fashion-mnist:data/fmnist --targets 0,3,5 --out-root runs/three',
} as const satisfies CommandSpec;

async function add(argv: string[]): Promise<number> {
  const parsed = parseCommand(QUEUE_ADD, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const attempts = intFlag(v.attempts, 'attempts', 3);
  if (attempts < 1) throw new UsageError(`--attempts must be at least 1, got ${attempts}`);
  const { argv: common, identity, spec } = commonFlags(v);
  const csv = v['superclass-csv'] ? resolve(v['superclass-csv']) : undefined;
  if (csv && !v['each-superclass']) throw new UsageError('--superclass-csv goes with --each-superclass');
  const targets = await expandTargets(v, spec, csv);
  const modelSha256 = await fileSha256(resolve(v.model));
  const outRoot = resolve(v['out-root']);
  const { queue, close } = await openQueue(redisUrl(v.redis), v.queue ?? DEFAULT_QUEUE);
  const added: { id: string; target: string; added: boolean; state: string; out: string }[] = [];
  try {
    for (const t of targets) {
      const id = jobId(modelSha256, identity, t);
      const existing = await queue.getJob(id);
      const state = existing ? await existing.getState() : 'waiting';
      if (!existing) {
        const data: SeamJobData = { argv: [...common, ...t.flags], outRoot, target: t.label, modelSha256 };
        // a job that fails for a passing reason is retried with backoff: 30 s, 60 s, 120 s, ...
        await queue.add('reengineer', data, { jobId: id, attempts, backoff: { type: 'exponential', delay: 30_000 } });
      }
      added.push({ id, target: t.label, added: !existing, state, out: join(existing?.data.outRoot ?? outRoot, id) });
    }
  } finally {
    await close();
  }
  if (v.json) console.log(JSON.stringify({ added: added.filter((a) => a.added).length, jobs: added }));
  else {
    for (const a of added) process.stdout.write(`${a.added ? 'added  ' : `exists (${a.state})`} ${a.id}  ${a.target}  -> ${a.out}\n`);
    const n = added.filter((a) => a.added).length;
    process.stdout.write(`${n} job(s) added, ${added.length - n} already in the queue\n`);
  }
  return 0;
}

async function status(argv: string[]): Promise<number> {
  const parsed = parseCommand(QUEUE_STATUS, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const { queue, close } = await openQueue(redisUrl(v.redis), v.queue ?? DEFAULT_QUEUE);
  try {
    const s = await queueStatus(queue);
    process.stdout.write(v.json ? `${JSON.stringify(s)}\n` : formatStatus(s));
  } finally {
    await close();
  }
  return 0;
}

async function results(argv: string[]): Promise<number> {
  const parsed = parseCommand(QUEUE_RESULTS, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const name = v.queue ?? DEFAULT_QUEUE;
  const outRoot = resolve(v['out-root']);
  const { queue, close } = await openQueue(redisUrl(v.redis), name);
  let rows;
  try {
    rows = await collectResults(queue, outRoot);
  } finally {
    await close();
  }
  mkdirSync(outRoot, { recursive: true });
  const page = join(outRoot, 'results.html');
  writeFileSync(page, renderResultsPage(rows, { outRoot, queue: name }));
  if (v.csv) writeFileSync(v.csv, resultsCsv(rows));
  if (v.json) console.log(JSON.stringify({ page, csv: v.csv ?? null, rows }));
  else process.stdout.write(`${resultsTable(rows)}wrote ${page}${v.csv ? ` and ${v.csv}` : ''}\n`);
  return 0;
}

const RUN: Record<(typeof SUBCOMMANDS)[number]['name'], (argv: string[]) => Promise<number>> = {
  'queue add': add, 'queue status': status, 'queue results': results,
};

export async function queueCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    const subs = SUBCOMMANDS.map((s) => `  ${synopsis(s)}\n      ${s.summary}`).join('\n');
    process.stdout.write(`${helpText(QUEUE)}\nsubcommands (each with --help):\n${subs}\n`);
    return 0;
  }
  const spec = SUBCOMMANDS.find((s) => s.name === `queue ${sub}`);
  if (!spec) throw new UsageError(`${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'}: add, status or results (seam queue --help)`);
  return RUN[spec.name](rest);
}
