import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SEED = Number(process.env.SEAM_FUZZ_SEED ?? 20240607);
const CASES = Number(process.env.SEAM_FUZZ_CASES ?? 2000);
/** A case that prints nothing for this long is a hang. */
const STALL_MS = 15_000;
/** Every case must finish within this bound (the slowest seen is far below it). */
const CASE_MS = 5_000;

interface Summary { cases: number; parsed: number; errors: number; maxMs: number; slowest: string; nonErrors: string[]; top: [string, number][] }

function runFuzz(): Promise<{ code: number | null; signal: string | null; last: string; summary?: Summary; stderr: string; stalled: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/io-fuzz-runner.ts', String(SEED), String(CASES)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let last = '';
    let summary: Summary | undefined;
    let stderr = '';
    let buf = '';
    let stalled = false;
    let timer = setTimeout(onStall, STALL_MS);
    function onStall(): void {
      stalled = true;
      child.kill('SIGKILL');
    }
    child.stdout.on('data', (d: Buffer) => {
      clearTimeout(timer);
      timer = setTimeout(onStall, STALL_MS);
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('case ')) last = l;
        else if (l.startsWith('summary ')) summary = JSON.parse(l.slice(8)) as Summary;
      }
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = { code, signal, last, stderr, stalled } as { code: number | null; signal: string | null; last: string; summary?: Summary; stderr: string; stalled: boolean };
      if (summary) out.summary = summary;
      resolve(out);
    });
  });
}

describe('io fuzz', () => {
  it(`${CASES} seeded mutations of golden files either parse or throw an Error, each bounded in time`, async () => {
    const r = await runFuzz();
    expect(r.stalled, `hang at: ${r.last}`).toBe(false);
    expect(r.code, `crash (signal ${r.signal}) at: ${r.last}\n${r.stderr.slice(-2000)}`).toBe(0);
    const s = r.summary!;
    expect(s.cases).toBe(CASES);
    expect(s.nonErrors).toEqual([]);
    expect(s.parsed + s.errors).toBe(CASES);
    expect(s.maxMs, `slowest case: ${s.slowest}`).toBeLessThan(CASE_MS);
    expect(s.errors).toBeGreaterThan(CASES / 4);
  }, 300_000);
});
