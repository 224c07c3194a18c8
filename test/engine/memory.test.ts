// Memory stays flat across training steps: 200 SeaM steps on ResNet20 (the bench's step workload, batch 64)
// do not grow the process's RSS by more than 10% over its peak after 20 steps. Runs in a child
// process (asynchronously, so the test worker stays responsive) to measure it alone.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers/child.js';

describe('memory', () => {
  it('200 SeaM steps on ResNet20 keep RSS within 10% of the peak after 20 steps', async () => {
    const script = join(import.meta.dirname, '..', 'helpers', 'rss-run.ts');
    const r = await runNode(['--import', 'tsx', script, '200', '64']);
    expect(r.code, r.stderr).toBe(0);
    const { peak20, peak } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const growth = peak / peak20 - 1;
    expect(growth, `RSS ${(peak20 / 2 ** 20).toFixed(0)} MiB after 20 steps, ${(peak / 2 ** 20).toFixed(0)} MiB after 200`).toBeLessThan(0.1);
  }, 600_000);
});
