// A real redis-server for the queue tests, on a free port, with append-only persistence in a temp
// folder so that a restart keeps the jobs. `redisBinary` is null where no redis-server is installed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const redisBinary: string | null = (() => {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  return dirs.map((d) => join(d, 'redis-server')).find((f) => existsSync(f)) ?? null;
})();

export const NO_REDIS = 'redis-server is not installed (apt-get install redis-server); the queue tests need a real Redis';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves when the server answers PING with PONG (not "-LOADING": a restart replays its append-only
 *  file first), or rejects after `ms`. */
function waitForPong(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const sock = connect(port, '127.0.0.1');
      let buf = '';
      let over = false;
      const retry = (): void => {
        if (over) return; // one retry per attempt (a timeout and an error may both come)
        over = true;
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server on port ${port} did not answer PONG within ${ms} ms (last reply: ${JSON.stringify(buf)})`));
        else setTimeout(attempt, 50);
      };
      sock.setTimeout(1000, retry);
      sock.on('connect', () => sock.write('PING\r\n'));
      sock.on('data', (d) => {
        buf += d.toString();
        if (!buf.includes('\r\n')) return;
        if (buf.startsWith('+PONG')) {
          sock.destroy();
          resolve();
        } else retry();
      });
      sock.on('error', retry);
    };
    attempt();
  });
}

export class RedisServer {
  private proc: ChildProcess | null = null;
  log = '';

  constructor(readonly port: number, readonly dir: string) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(dir: string): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), dir);
    await server.startAgain();
    return server;
  }

  /** Starts the server (again, on the same port and folder: the append-only file brings the jobs back). */
  async startAgain(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always',
      '--save', '', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning'];
    const proc = spawn(redisBinary!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d) => (this.log += d));
    proc.stderr!.on('data', (d) => (this.log += d));
    this.proc = proc;
    try {
      await waitForPong(this.port, 10_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${this.log}`);
    }
  }

  /** Shuts the server down (SIGTERM: it flushes the append-only file) and waits for it to exit. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }
}
