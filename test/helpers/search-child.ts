// Runs test/helpers/search-run.ts (a small seeded search) as a child process for the resume
// tests: to its end, or killed with SIGKILL when it reports a given batch.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runNode } from './child.js';

const script = join(import.meta.dirname, 'search-run.ts');
const env = { ...process.env, SEAM_NUM_THREADS: '2' };

export interface SearchSummary {
  hash: string;
  bestEpoch: number;
  epochsRun: number;
  retention: number;
  granularity: string;
  /** per masked parameter: [kept, total, cover] */
  layers: [number, number, number][];
}

/** Runs the search (args after the checkpoint: --resume, --granularity ...) and returns its summary. */
export async function runSearchToEnd(checkpoint: string, args: string[] = []): Promise<SearchSummary> {
  const r = await runNode(['--import', 'tsx', script, checkpoint, ...args], env);
  if (r.code !== 0) throw new Error(`search run failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/** Starts the search and SIGKILLs it when it reports batch `b` of epoch `e`. */
export function runSearchAndKill(checkpoint: string, e: number, b: number, args: string[] = []): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, checkpoint, ...args], { env });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(`batch ${e} ${b}\n`)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`run ended before the kill (code ${code})`))));
  });
}
