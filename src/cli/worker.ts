// `seam worker`: runs queued re-engineering jobs (see `seam queue`) until stopped.
import { parseArgs } from 'node:util';
import { DEFAULT_QUEUE, redisUrl } from '../queue/connection.js';
import { CORES, defaultWorkerName, parallelism, runWorker } from '../queue/worker.js';
import { intFlag, UsageError } from './args.js';
import { deviceFlag } from './reengineer.js';

export const WORKER_USAGE = `seam worker [--redis URL] [--queue NAME] [--concurrency N] [--threads T] [--device cpu|cuda] [--name NAME]
    [--lock-duration 30000] [--stalled-interval 30000] [--until-empty]`;

export async function workerCommand(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      redis: { type: 'string' }, queue: { type: 'string' }, concurrency: { type: 'string' }, threads: { type: 'string' },
      device: { type: 'string' }, name: { type: 'string' }, 'lock-duration': { type: 'string' }, 'stalled-interval': { type: 'string' },
      'until-empty': { type: 'boolean' }, help: { type: 'boolean' },
    },
    strict: true,
  });
  if (v.help) {
    process.stdout.write(`${WORKER_USAGE}\n`);
    return 0;
  }
  const positive = (raw: string | undefined, flag: string): number | undefined => {
    if (raw === undefined) return undefined;
    const n = intFlag(raw, flag, 0);
    if (n < 1) throw new UsageError(`--${flag} must be at least 1, got ${n}`);
    return n;
  };
  const device = deviceFlag(v.device); // --device cuda fails here, before any job is taken, where CUDA is unusable
  const { concurrency, threads } = parallelism({ cores: CORES, device, concurrency: positive(v.concurrency, 'concurrency'), threads: positive(v.threads, 'threads') });
  const lockDuration = positive(v['lock-duration'], 'lock-duration') ?? 30_000;
  return runWorker({
    redis: redisUrl(v.redis), queue: v.queue ?? DEFAULT_QUEUE, concurrency, threads, device, name: v.name ?? defaultWorkerName(),
    lockDuration, stalledInterval: positive(v['stalled-interval'], 'stalled-interval') ?? 30_000, untilEmpty: Boolean(v['until-empty']),
  }, (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
}
