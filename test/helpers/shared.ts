// Where the tests' input files live, and temp folders. No vitest import: the child-process scripts
// (io-fuzz-runner.ts) use it too. ../shared (SEAM_SHARED overrides) is the team's shared folder beside
// the checkout; `shared/` inside the checkout is where the device machine puts it.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CANDIDATES = [process.env['SEAM_SHARED'], join(ROOT, '..', 'shared'), join(ROOT, 'shared')].filter((d): d is string => !!d);

export const SHARED_DIR = CANDIDATES.find((d) => existsSync(join(d, 'data'))) ?? join(ROOT, '..', 'shared');
export const GOLDEN = join(SHARED_DIR, 'golden');
export const FMNIST_DIR = join(SHARED_DIR, 'data', 'fashion-mnist');

export const golden = (f: string): string => join(GOLDEN, f);
export const fixture = (f: string): string => join(ROOT, 'test', 'fixtures', f);
export const tmp = (): string => mkdtempSync(join(tmpdir(), 'seam-io-'));
