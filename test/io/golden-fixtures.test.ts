// The golden files copied into test/fixtures/golden/ are byte-identical to the reference set in
// ../shared/golden (checked where that folder is present), so the repository's copies cannot drift.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, sharedFile } from '../helpers/shared.js';

const files = readdirSync(fixture('golden')).filter((f) => f !== 'README.md');

describe('test/fixtures/golden', () => {
  it('holds the small golden files the tests read', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  for (const f of files) {
    const ref = sharedFile(`golden/${f}`);
    it.skipIf(!ref)(`${f} equals ../shared/golden/${f}${ref ? '' : ' (skipped: no ../shared/golden beside the checkout)'}`, () => {
      expect(readFileSync(fixture(`golden/${f}`)).equals(readFileSync(ref!))).toBe(true);
    });
  }
});
