/** Paths of the io test inputs (no vitest import, so the fuzz runner can use it too). */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const GOLDEN = join(here, '..', '..', '..', 'shared', 'golden');
/** The golden folder: ../shared/golden from the repo root, else the shared checkout path. */
export const golden = (f: string): string => {
  const p = join(GOLDEN, f);
  return existsSync(p) ? p : join('/work/shared/golden', f);
};
export const fixture = (f: string): string => join(here, '..', 'fixtures', f);
export const tmp = (): string => mkdtempSync(join(tmpdir(), 'seam-io-'));
