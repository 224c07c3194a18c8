// Issue 16: kernel and channel searches resume like SeaM's: killed mid-epoch and resumed from the
// checkpoint, they end with the same masks and head, bit for bit, as an uninterrupted run; a
// checkpoint of another granularity is refused. The retained ratio is the weights kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSearchAndKill, runSearchToEnd } from '../helpers/search-child.js';

const dir = mkdtempSync(join(tmpdir(), 'seam-granularity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const settings = ['--epochs', '5', '--lr-mask', '0.2', '--alpha', '3'];

describe('kernel and channel searches', () => {
  for (const granularity of ['kernel', 'channel']) {
    it(`${granularity}: resume after a SIGKILL ends bit for bit like an uninterrupted run`, async () => {
      const args = ['--granularity', granularity, ...settings];
      const straight = await runSearchToEnd(join(dir, `${granularity}-straight.safetensors`), args);
      expect(straight.granularity).toBe(granularity);
      const weights = straight.layers.reduce((a, [, t, c]) => a + t * c, 0);
      const kept = straight.layers.reduce((a, [k, , c]) => a + k * c, 0);
      expect(straight.retention).toBeCloseTo(kept / weights, 6);
      expect(straight.retention).toBeLessThan(1);
      const ckpt = join(dir, `${granularity}-killed.safetensors`);
      await runSearchAndKill(ckpt, 2, 3, args);
      const resumed = await runSearchToEnd(ckpt, [...args, '--resume']);
      expect(resumed.epochsRun).toBe(straight.epochsRun);
      expect(resumed.bestEpoch).toBe(straight.bestEpoch);
      expect(resumed.hash).toBe(straight.hash);
      const other = granularity === 'kernel' ? 'channel' : 'kernel';
      await expect(runSearchToEnd(ckpt, ['--granularity', other, ...settings, '--resume'])).rejects.toThrow(/cannot resume .* different options/);
    }, 300_000);
  }
});
