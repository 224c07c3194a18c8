// Redis connections for the queue. BullMQ and ioredis are loaded here, lazily, so that only the queue
// commands pay for them (the library and the other commands never import them).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SeamJobData } from './job-spec.js';
import type { JobResult } from './protocol.js';

export const DEFAULT_QUEUE = 'seam';
export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';
const MIN_REDIS = [6, 2];

export type SeamQueue = Queue<SeamJobData, JobResult>;

/** --redis, else $SEAM_REDIS_URL, else a local server on the default port. */
export function redisUrl(flag: string | undefined): string {
  return flag ?? process.env['SEAM_REDIS_URL'] ?? DEFAULT_REDIS;
}

/** The URL without its password, for messages. */
export function shownUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

export async function bullmq(): Promise<typeof import('bullmq')> {
  return import('bullmq');
}

/** Checks the server's version (BullMQ needs Redis >= 6.2) and its eviction policy. */
async function checkServer(client: Redis, url: string, warn: (line: string) => void): Promise<void> {
  const info = await client.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '0';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major < MIN_REDIS[0]! || (major === MIN_REDIS[0] && minor < MIN_REDIS[1]!)) {
    throw new Error(`Redis at ${url} is version ${version}; the queue needs Redis >= ${MIN_REDIS.join('.')}`);
  }
  const policy = (await client.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
  if (policy[1] && policy[1] !== 'noeviction') warn(`warning: Redis at ${url} has maxmemory-policy ${policy[1]}; set it to noeviction or it may drop jobs`);
}

/**
 * A connection to Redis. `retryForever`: reconnects and holds commands while Redis is away (a worker
 * rides out a Redis restart); otherwise a command fails with a clear message when Redis cannot be reached.
 */
export async function connect(url: string, o: { retryForever?: boolean; warn?: (line: string) => void } = {}): Promise<Redis> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, o.retryForever
    ? { maxRetriesPerRequest: null }
    : { maxRetriesPerRequest: 1, connectTimeout: 5000, retryStrategy: (times) => (times > 3 ? null : 200 * times) });
  let lastError = '';
  let connected = false;
  const warn = o.warn ?? ((line: string) => void process.stderr.write(`${line}\n`));
  client.on('error', (err: Error) => {
    if (o.retryForever && !connected && !lastError) warn(`waiting for Redis at ${shownUrl(url)}: ${err.message}`);
    lastError = err.message;
  });
  try {
    await client.ping();
    connected = true;
    await checkServer(client, shownUrl(url), warn);
  } catch (err) {
    client.disconnect();
    const why = lastError || (err as Error).message;
    throw new Error(`cannot use Redis at ${shownUrl(url)}: ${why}${/ECONNREFUSED|ENOTFOUND/.test(why) ? ' (start it with `redis-server`; see the README, "Many targets")' : ''}`);
  }
  return client;
}

/** The queue's handle for adding and reading jobs; `close` also closes the connection. */
export async function openQueue(url: string, name: string, o: { retryForever?: boolean } = {}): Promise<{ queue: SeamQueue; close: () => Promise<void> }> {
  const client = await connect(url, o);
  const { Queue } = await bullmq();
  const queue: SeamQueue = new Queue<SeamJobData, JobResult>(name, { connection: client });
  queue.on('error', () => undefined); // connection errors reach the caller through its commands
  return {
    queue,
    close: async () => {
      await queue.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
