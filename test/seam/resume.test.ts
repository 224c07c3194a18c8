// A search killed with SIGKILL in the middle of an epoch and resumed from its checkpoint ends with
// the same masks and head, bit for bit, as an uninterrupted run with the same seed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '../helpers/child.js';

const script = join(import.meta.dirname, '..', 'helpers', 'search-run.ts');
const dir = mkdtempSync(join(tmpdir(), 'seam-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, SEAM_NUM_THREADS: '2' };

async function runToEnd(checkpoint: string, resume: boolean): Promise<{ hash: string; bestEpoch: number; epochsRun: number }> {
  const r = await runNode(['--import', 'tsx', script, checkpoint, ...(resume ? ['--resume'] : [])], env);
  if (r.code !== 0) throw new Error(`search run failed (${r.code}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

/** Starts a run and SIGKILLs it when it reports batch `b` of epoch `e`. */
function runAndKill(checkpoint: string, e: number, b: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, checkpoint], { env });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(`batch ${e} ${b}\n`)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`run ended before the kill (code ${code})`))));
  });
}

describe('search resume', () => {
  it('ends bit for bit like an uninterrupted run after a SIGKILL mid-epoch', async () => {
    const straight = await runToEnd(join(dir, 'straight.safetensors'), false);
    const ckpt = join(dir, 'killed.safetensors');
    await runAndKill(ckpt, 3, 4);
    const resumed = await runToEnd(ckpt, true);
    expect(resumed.epochsRun).toBe(straight.epochsRun);
    expect(resumed.bestEpoch).toBe(straight.bestEpoch);
    expect(resumed.hash).toBe(straight.hash);
  });
});
