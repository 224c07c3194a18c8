// The golden files copied into test/fixtures/golden/ are byte-identical to the reference set in
// ../shared/golden (checked where that folder is present), so the repository's copies cannot drift.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, SHARED_DIR, sharedFile } from '../helpers/shared.js';

const files = readdirSync(fixture('golden')).filter((f) => f !== 'README.md');

describe('test/fixtures/golden', () => {
  it('holds the small golden files the tests read', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  const absent = files.filter((f) => !sharedFile(`golden/${f}`));
  const why = !SHARED_DIR ? 'skipped: no ../shared beside the checkout (SEAM_SHARED unset)'
    : absent.length ? `skipped: ${absent.join(', ')} not found in ${SHARED_DIR}/golden` : '';
  it.skipIf(!!why)(`each equals its original in ../shared/golden${why ? ` (${why})` : ''}`, () => {
    for (const f of files) expect(readFileSync(fixture(`golden/${f}`)).equals(readFileSync(sharedFile(`golden/${f}`)!)), f).toBe(true);
  });
});
