// Where ../shared/data lives: SEAM_SHARED, ../shared beside the checkout, shared/ inside it, or /work/shared.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CANDIDATES = [process.env['SEAM_SHARED'], join(ROOT, '..', 'shared'), join(ROOT, 'shared'), join(ROOT, '..', '..', 'shared')].filter(
  (d): d is string => !!d,
);

export const SHARED_DIR = CANDIDATES.find((d) => existsSync(join(d, 'data'))) ?? join(ROOT, '..', 'shared');
export const FMNIST_DIR = join(SHARED_DIR, 'data', 'fashion-mnist');
