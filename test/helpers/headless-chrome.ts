// Opens pages in a real headless Chromium (Debian's `chromium` package) over the DevTools protocol on
// a pipe (--remote-debugging-pipe: no port, no extra npm package, no browser download), collecting
// console errors, uncaught exceptions and failed loads. `chromiumBinary` is null where none is installed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';

export const chromiumBinary: string | null = [process.env['CHROME_PATH'], '/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
  .find((f): f is string => !!f && existsSync(f)) ?? null;

export const NO_CHROMIUM = 'no Chromium installed (apt-get install chromium, or set CHROME_PATH)';

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
}

export interface OpenedPage {
  /** evaluates `expression` in the page and returns its (JSON) value */
  evaluate<T>(expression: string): Promise<T>;
  /** console errors, exceptions and failed loads seen so far */
  errors: string[];
}

export class HeadlessChrome {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly listeners: ((m: Message) => void)[] = [];
  private buf = '';
  private stderr = '';

  private constructor(private readonly proc: ChildProcess, private readonly profile: string) {
    const out = proc.stdio[4] as Readable;
    out.on('data', (d: Buffer) => {
      this.buf += d.toString('utf8');
      let end;
      while ((end = this.buf.indexOf('\0')) >= 0) {
        const msg = JSON.parse(this.buf.slice(0, end)) as Message;
        this.buf = this.buf.slice(end + 1);
        if (msg.id !== undefined) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.error) p?.reject(new Error(`${msg.error.message}`));
          else p?.resolve(msg.result ?? {});
        } else this.listeners.forEach((l) => l(msg));
      }
    });
    proc.stderr!.on('data', (d) => (this.stderr += d));
    proc.on('exit', () => this.pending.forEach((p) => p.reject(new Error(`chromium exited:\n${this.stderr.slice(-2000)}`))));
  }

  static launch(): HeadlessChrome {
    const profile = mkdtempSync(join(tmpdir(), 'seam-chromium-'));
    const proc = spawn(chromiumBinary!, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    return new HeadlessChrome(proc, profile);
  }

  private send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      (this.proc.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  /** Loads a local file in a new tab and waits for its load event. */
  async open(file: string, timeoutMs = 20_000): Promise<OpenedPage> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const errors: string[] = [];
    let loaded: () => void = () => undefined;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    this.listeners.push((m) => {
      if (m.sessionId !== sessionId) return;
      const p = m.params as Record<string, any>;
      if (m.method === 'Page.loadEventFired') loaded();
      else if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) errors.push(`console.${p.type}: ${JSON.stringify(p.args?.map((a: any) => a.value ?? a.description))}`);
      else if (m.method === 'Runtime.exceptionThrown') errors.push(`exception: ${p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text}`);
      else if (m.method === 'Log.entryAdded' && p.entry?.level === 'error') errors.push(`log: ${p.entry.text} ${p.entry.url ?? ''}`);
      else if (m.method === 'Network.loadingFailed') errors.push(`load failed: ${p.errorText}`);
    });
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await this.send(`${domain}.enable`, {}, sessionId);
    await this.send('Page.navigate', { url: pathToFileURL(file).href }, sessionId);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([load, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${file} did not load in ${timeoutMs} ms`)), timeoutMs)))]);
    clearTimeout(timer);
    return {
      errors,
      evaluate: async <T>(expression: string): Promise<T> => {
        const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true }, sessionId)) as { result: { value: T }; exceptionDetails?: { text: string } };
        if (r.exceptionDetails) throw new Error(`evaluate ${expression}: ${r.exceptionDetails.text}`);
        return r.result.value;
      },
    };
  }

  async close(): Promise<void> {
    await this.send('Browser.close').catch(() => undefined);
    if (this.proc.exitCode === null) await new Promise((resolve) => this.proc.once('exit', resolve));
    rmSync(this.profile, { recursive: true, force: true });
  }
}
