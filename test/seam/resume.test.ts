// A search killed with SIGKILL in the middle of an epoch and resumed from its checkpoint ends with
// the same masks and head, bit for bit, as an uninterrupted run with the same seed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSearchAndKill, runSearchToEnd } from '../helpers/search-child.js';

const dir = mkdtempSync(join(tmpdir(), 'seam-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('search resume', () => {
  it('ends bit for bit like an uninterrupted run after a SIGKILL mid-epoch', async () => {
    const straight = await runSearchToEnd(join(dir, 'straight.safetensors'));
    const ckpt = join(dir, 'killed.safetensors');
    await runSearchAndKill(ckpt, 3, 4);
    const resumed = await runSearchToEnd(ckpt, ['--resume']);
    expect(resumed.epochsRun).toBe(straight.epochsRun);
    expect(resumed.bestEpoch).toBe(straight.bestEpoch);
    expect(resumed.hash).toBe(straight.hash);
  });
});
