// `seam worker`: runs queued re-engineering jobs (see `seam queue`) until stopped.
import { DEFAULT_QUEUE, redisUrl } from '../queue/connection.js';
import { CORES, defaultWorkerName, parallelism, runWorker } from '../queue/worker.js';
import { intFlag, UsageError } from './args.js';
import { parseCommand, type CommandSpec } from './command.js';
import { REDIS_OPTIONS } from './queue.js';
import { deviceFlag } from './reengineer.js';

export const WORKER = {
  name: 'worker',
  summary: 'run queued jobs (seam queue add), each in its own process, until stopped; SIGTERM or Ctrl-C ends the running epochs and hands their jobs back',
  options: {
    ...REDIS_OPTIONS,
    concurrency: { value: 'N', help: 'jobs at once', default: 'the cores / --threads (2 with --device cuda)' },
    threads: { value: 'T', help: 'threads per job', default: '1 below 16 cores, 2 from 16, 4 from 64 (cuda: half the cores)' },
    device: { value: 'cpu|cuda', help: 'where the jobs search (several jobs share one GPU)', default: 'cpu' },
    name: { value: 'NAME', help: "this worker's name in the results", default: 'HOST:PID' },
    'lock-duration': { value: 'MS', help: "a job's lock; a killed worker's job is taken over after it", default: '30000' },
    'stalled-interval': { value: 'MS', help: 'how often to look for jobs of killed workers', default: '30000' },
    'until-empty': { help: 'exit once the queue has no job left to start' },
  },
  example: 'seam worker --redis redis://queue-host:6379 --concurrency 4 --threads 2',
} as const satisfies CommandSpec;

export async function workerCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(WORKER, argv);
  if (!parsed) return 0;
  const v = parsed.values;
  const positive = (raw: string | undefined, flag: string): number | undefined => {
    if (raw === undefined) return undefined;
    const n = intFlag(raw, flag, 0);
    if (n < 1) throw new UsageError(`--${flag} must be at least 1, got ${n}`);
    return n;
  };
  const device = deviceFlag(v.device); // --device cuda fails here, before any job is taken, where CUDA is unusable
  const { concurrency, threads } = parallelism({ cores: CORES, device, concurrency: positive(v.concurrency, 'concurrency'), threads: positive(v.threads, 'threads') });
  return runWorker({
    redis: redisUrl(v.redis), queue: v.queue ?? DEFAULT_QUEUE, concurrency, threads, device, name: v.name ?? defaultWorkerName(),
    lockDuration: positive(v['lock-duration'], 'lock-duration') ?? 30_000, stalledInterval: positive(v['stalled-interval'], 'stalled-interval') ?? 30_000,
    untilEmpty: Boolean(v['until-empty']),
  }, (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`));
}
