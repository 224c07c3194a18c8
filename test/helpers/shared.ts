// Where the tests' input files live, and temp folders. No vitest import: the child-process scripts
// (io-fuzz-runner.ts) use it too.
//
// Golden files (written by PyTorch, see test/fixtures/README.md): the small ones are in the repository
// under test/fixtures/golden/; the large ones (the VGG16, ResNet18 and bottleneck ResNet checkpoints)
// and Fashion-MNIST are read from the team's shared folder, ../shared beside the checkout (SEAM_SHARED
// overrides; `shared/` inside the checkout is where the device machine puts it). Tests that need a
// file found in neither place skip, naming it.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CANDIDATES = [process.env['SEAM_SHARED'], join(ROOT, '..', 'shared'), join(ROOT, 'shared')].filter((d): d is string => !!d);

/** The shared folder, or null when there is none. */
export const SHARED_DIR: string | null = CANDIDATES.find((d) => existsSync(join(d, 'golden')) || existsSync(join(d, 'data'))) ?? null;
const FIXTURES = join(ROOT, 'test', 'fixtures');

export const fixture = (f: string): string => join(FIXTURES, f);
export const tmp = (): string => mkdtempSync(join(tmpdir(), 'seam-io-'));

/** A file of the shared folder (path relative to it), or null when it is not there. */
export function sharedFile(rel: string): string | null {
  const p = SHARED_DIR ? join(SHARED_DIR, rel) : null;
  return p && existsSync(p) ? p : null;
}

/** A golden file: test/fixtures/golden/NAME, else ../shared/golden/NAME; null when neither exists. */
export function goldenFile(name: string): string | null {
  const local = join(FIXTURES, 'golden', name);
  return existsSync(local) ? local : sharedFile(join('golden', name));
}

/** The path of a golden file; throws naming it when it is missing. */
export function goldenPath(name: string): string {
  const p = goldenFile(name);
  if (!p) throw new Error(`golden file ${name} is missing: not in test/fixtures/golden, nor in ${SHARED_DIR ? join(SHARED_DIR, 'golden') : '../shared/golden (no shared folder found; SEAM_SHARED sets it)'}`);
  return p;
}

/** Why a test needing these shared files (paths relative to the shared folder) must skip; '' when all are there. */
export function missingShared(...rels: string[]): string {
  const missing = rels.filter((r) => (r.startsWith('golden/') ? !goldenFile(r.slice(7)) : !sharedFile(r)));
  if (missing.length === 0) return '';
  const where = SHARED_DIR ? `not found in ${SHARED_DIR}` : 'no ../shared beside the checkout (SEAM_SHARED unset)';
  return `skipped: needs ../shared/${missing.join(', ../shared/')}; ${where}`;
}

export const FMNIST = 'data/fashion-mnist';
export const FMNIST_DIR = SHARED_DIR ? join(SHARED_DIR, FMNIST) : join(ROOT, '..', 'shared', FMNIST);
