// Input-pipeline benchmark. `npx tsx bench/data.ts` prints one JSON object on the last line of stdout:
//   data_fmnist_aug_imgs_per_s: Fashion-MNIST train, random crop 28 pad 4 + flip + normalise + batches
//     of 64, a full shuffled epoch (median of 10 after 3 warm-ups);
//   data_folder_jpeg_224_imgs_per_s: generated ~500x375 JPEGs decoded by sharp, resize 256, random crop
//     224 + flip + normalise, batches of 32 (median of 5 epochs after 1 warm-up).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { DataLoader, FolderDataset, loadIdxDir, NORMALIZATION, Rng, type TransformSpec } from '../src/data/index.js';

const log = (m: string): void => void process.stderr.write(`${m}\n`);
const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function timeEpochs(dl: DataLoader, warmup: number, reps: number): Promise<number[]> {
  const rates: number[] = [];
  for (let e = 0; e < warmup + reps; e++) {
    const t0 = performance.now();
    let n = 0;
    for await (const b of dl.epoch(e)) n += b.y.length;
    const s = (performance.now() - t0) / 1000;
    if (e >= warmup) rates.push(n / s);
  }
  return rates;
}

function findFmnist(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const c = [process.env['SEAM_SHARED'], join(root, '..', 'shared'), join(root, 'shared'), join(root, '..', '..', 'shared')]
    .filter((d): d is string => !!d)
    .map((d) => join(d, 'data', 'fashion-mnist'));
  const found = c.find((d) => existsSync(d));
  if (!found) throw new Error(`bench/data: Fashion-MNIST not found (tried ${c.join(', ')})`);
  return found;
}

export async function benchFmnist(o: { warmup?: number; reps?: number } = {}): Promise<number> {
  const { train } = await loadIdxDir(findFmnist(), { name: 'fashion-mnist' });
  const spec: TransformSpec = { height: 28, width: 28, crop: 'random', padding: 4, flip: true, normalization: NORMALIZATION['fashion-mnist'] };
  const dl = new DataLoader(train, { batchSize: 64, transform: spec, shuffle: true, seed: 0 });
  const rates = await timeEpochs(dl, o.warmup ?? 3, o.reps ?? 10);
  log(`fmnist crop+flip+normalise b64: median ${median(rates).toFixed(0)} img/s over ${rates.length} epochs`);
  return median(rates);
}

async function makeJpegs(dir: string, perClass: number, classes: number): Promise<void> {
  const rng = new Rng(1);
  const jobs: Promise<unknown>[] = [];
  for (let c = 0; c < classes; c++) {
    mkdirSync(join(dir, `class${c}`), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const w = 480 + rng.int(60), h = 360 + rng.int(40);
      const px = new Uint8Array(w * h * 3);
      // smooth gradients plus noise: compresses like a photo, not like a flat colour
      const fx = 1 + rng.int(5), fy = 1 + rng.int(5);
      for (let y = 0, p = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let ch = 0; ch < 3; ch++) px[p++] = (128 + 100 * Math.sin((x * fx + ch * 40) / 37) * Math.cos((y * fy) / 29) + (rng.nextU32() & 31)) & 255;
      jobs.push(sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(dir, `class${c}`, `${i}.jpg`)));
    }
  }
  await Promise.all(jobs);
}

export async function benchFolderJpeg(o: { images?: number; warmup?: number; reps?: number } = {}): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'seam-bench-jpeg-'));
  try {
    const n = o.images ?? 256;
    await makeJpegs(dir, Math.ceil(n / 4), 4);
    const ds = new FolderDataset(dir);
    const spec: TransformSpec = { height: 224, width: 224, crop: 'random', padding: 0, flip: true, resizeShorter: 256, normalization: NORMALIZATION.imagenet };
    const dl = new DataLoader(ds, { batchSize: 32, transform: spec, shuffle: true, seed: 0, prefetch: 2 });
    const rates = await timeEpochs(dl, o.warmup ?? 1, o.reps ?? 5);
    log(`folder JPEG ~500x375 -> resize 256, crop 224, flip, normalise, b32: median ${median(rates).toFixed(0)} img/s over ${rates.length} epochs of ${ds.length}`);
    return median(rates);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchData(): Promise<{ data_fmnist_aug_imgs_per_s: number; data_folder_jpeg_224_imgs_per_s: number }> {
  const fm = await benchFmnist();
  const jpeg = await benchFolderJpeg();
  return { data_fmnist_aug_imgs_per_s: Math.round(fm), data_folder_jpeg_224_imgs_per_s: Math.round(jpeg) };
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const r = await benchData();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
