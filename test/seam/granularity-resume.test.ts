// Issue 16: kernel and channel searches resume like SeaM's: killed mid-epoch and resumed from the
// checkpoint, they end with the same masks and head, bit for bit, as an uninterrupted run; a
// checkpoint of another granularity is refused. The retained ratio is the weights kept.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNode } from '../helpers/child.js';

const script = join(import.meta.dirname, 'granularity-run.ts');
const dir = mkdtempSync(join(tmpdir(), 'seam-granularity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, SEAM_NUM_THREADS: '2' };

interface Summary { hash: string; bestEpoch: number; epochsRun: number; retention: number; granularity: string; layers: [number, number, number][] }

async function runToEnd(checkpoint: string, granularity: string, resume: boolean): Promise<Summary> {
  const r = await runNode(['--import', 'tsx', script, checkpoint, granularity, ...(resume ? ['--resume'] : [])], env);
  if (r.code !== 0) throw new Error(`search run failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

function runAndKill(checkpoint: string, granularity: string, e: number, b: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, checkpoint, granularity], { env });
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(`batch ${e} ${b}\n`)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`run ended before the kill (code ${code})`))));
  });
}

describe('kernel and channel searches', () => {
  for (const granularity of ['kernel', 'channel']) {
    it(`${granularity}: resume after a SIGKILL ends bit for bit like an uninterrupted run`, async () => {
      const straight = await runToEnd(join(dir, `${granularity}-straight.safetensors`), granularity, false);
      expect(straight.granularity).toBe(granularity);
      const weights = straight.layers.reduce((a, [, t, c]) => a + t * c, 0);
      const kept = straight.layers.reduce((a, [k, , c]) => a + k * c, 0);
      expect(straight.retention).toBeCloseTo(kept / weights, 6);
      expect(straight.retention).toBeLessThan(1);
      const ckpt = join(dir, `${granularity}-killed.safetensors`);
      await runAndKill(ckpt, granularity, 2, 3);
      const resumed = await runToEnd(ckpt, granularity, true);
      expect(resumed.epochsRun).toBe(straight.epochsRun);
      expect(resumed.bestEpoch).toBe(straight.bestEpoch);
      expect(resumed.hash).toBe(straight.hash);
      const other = granularity === 'kernel' ? 'channel' : 'kernel';
      await expect(runToEnd(ckpt, other, true)).rejects.toThrow(/cannot resume .* different options/);
    }, 300_000);
  }
});
