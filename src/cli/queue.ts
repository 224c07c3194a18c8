// `seam queue add|status|results`: many targets as jobs on a BullMQ queue in Redis (run by `seam worker`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_QUEUE, openQueue, redisUrl } from '../queue/connection.js';
import { commonFlags, expandTargets, fileSha256, jobId, type SeamJobData } from '../queue/job-spec.js';
import { renderResultsPage } from '../queue/results-page.js';
import { collectResults, resultsCsv, resultsTable } from '../queue/results.js';
import { formatStatus, queueStatus } from '../queue/status.js';
import { intFlag, UsageError } from './args.js';
import { REENGINEER_OPTIONS } from './reengineer.js';

export const QUEUE_USAGE = `seam queue add [--redis URL] [--queue NAME] --model FILE [--arch NAME] --data KIND:PATH
    (--targets 2,5,9 | --each-class | --target-sets "0,2;4,6" | --each-superclass [--superclass-csv FILE])
    [--epochs 300] [--alpha A] [--lr-mask L] [--lr-head 0.1] [--batch-size 64] [--seed 0] [--early-stop -1]
    [--mean M] [--std S] [--augment none|crop-flip] [--attempts 3] --out-root DIR [--json]
  seam queue status [--redis URL] [--queue NAME] [--json]
  seam queue results [--redis URL] [--queue NAME] --out-root DIR [--csv FILE] [--json]`;

const COMMON = { redis: { type: 'string' }, queue: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } } as const;
const { model, arch, data, epochs, alpha, 'lr-mask': lrMask, 'lr-head': lrHead, 'batch-size': batchSize, seed, 'early-stop': earlyStop,
  mean, std, augment, 'superclass-csv': superclassCsv } = REENGINEER_OPTIONS;
const ADD_OPTIONS = {
  ...COMMON, model, arch, data, epochs, alpha, 'lr-mask': lrMask, 'lr-head': lrHead, 'batch-size': batchSize, seed, 'early-stop': earlyStop,
  mean, std, augment, 'superclass-csv': superclassCsv,
  targets: { type: 'string' }, 'each-class': { type: 'boolean' }, 'target-sets': { type: 'string' }, 'each-superclass': { type: 'boolean' },
  attempts: { type: 'string' }, 'out-root': { type: 'string' },
} as const;

async function add(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: ADD_OPTIONS, strict: true });
  if (v.help) return usage();
  if (!v['out-root']) throw new UsageError(`missing --out-root\n${QUEUE_USAGE}`);
  const attempts = intFlag(v.attempts, 'attempts', 3);
  if (attempts < 1) throw new UsageError(`--attempts must be at least 1, got ${attempts}`);
  const { argv: common, identity, spec } = commonFlags(v);
  const csv = v['superclass-csv'] ? resolve(v['superclass-csv']) : undefined;
  if (csv && !v['each-superclass']) throw new UsageError('--superclass-csv goes with --each-superclass');
  const targets = await expandTargets(v, spec, csv);
  const modelSha256 = await fileSha256(resolve(v.model!));
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
        // a job that fails for a transient reason is retried with backoff: 30 s, 60 s, 120 s, ...
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
  const { values: v } = parseArgs({ args: argv, options: COMMON, strict: true });
  if (v.help) return usage();
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
  const { values: v } = parseArgs({ args: argv, options: { ...COMMON, 'out-root': { type: 'string' }, csv: { type: 'string' } }, strict: true });
  if (v.help) return usage();
  if (!v['out-root']) throw new UsageError(`missing --out-root\n${QUEUE_USAGE}`);
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

function usage(): number {
  process.stdout.write(`${QUEUE_USAGE}\n`);
  return 0;
}

const SUBCOMMANDS: Record<string, (argv: string[]) => Promise<number>> = { add, status, results };

export async function queueCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') return usage();
  const run = sub ? SUBCOMMANDS[sub] : undefined;
  if (!run) throw new UsageError(`${sub ? `unknown subcommand "${sub}"` : 'missing subcommand'} (add, status or results)\n${QUEUE_USAGE}`);
  return run(rest);
}
