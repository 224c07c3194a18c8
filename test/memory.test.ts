// Memory stays flat across training steps: 200 SeaM steps on ResNet20 do not grow the process's
// RSS by more than 10% over its peak after 20 steps (run in a child process to measure it alone).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('memory', () => {
  it('200 SeaM steps on ResNet20 keep RSS within 10% of the peak after 20 steps', () => {
    const script = join(import.meta.dirname, 'fixtures', 'rss-run.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, '200', '64'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const { peak20, peak } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const growth = peak / peak20 - 1;
    expect(growth, `RSS ${(peak20 / 2 ** 20).toFixed(0)} MiB after 20 steps, ${(peak / 2 ** 20).toFixed(0)} MiB after 200`).toBeLessThan(0.1);
  });
});
