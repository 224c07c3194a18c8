// Input-pipeline benchmark. `node --import tsx bench/tools/data.ts` prints one JSON object on the last line of stdout:
//   data_fmnist_aug_imgs_per_s: Fashion-MNIST train, random crop 28 pad 4 + flip + normalise + batches
//     of 64, a full shuffled epoch (median of 10 after 3 warm-ups);
//   data_folder_jpeg_224_imgs_per_s: generated ~500x375 JPEGs decoded by sharp, resize 256, random crop
//     224 + flip + normalise, batches of 32 (median of 5 epochs after 1 warm-up).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DataLoader, FolderDataset, NORMALIZATION, Rng, type TransformSpec } from '../../src/data/index.js';
import { epochRates, median } from '../timing.js';
import { benchFmnist } from '../workloads.js';

const log = (m: string): void => void process.stderr.write(`${m}\n`);

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

async function benchFolderJpeg(o: { images?: number; warmup?: number; reps?: number } = {}): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'seam-bench-jpeg-'));
  try {
    const n = o.images ?? 256;
    await makeJpegs(dir, Math.ceil(n / 4), 4);
    const ds = new FolderDataset(dir);
    const spec: TransformSpec = { height: 224, width: 224, crop: 'random', padding: 0, flip: true, resizeShorter: 256, normalization: NORMALIZATION.imagenet };
    const dl = new DataLoader(ds, { batchSize: 32, transform: spec, shuffle: true, seed: 0, prefetch: 2 });
    const rates = await epochRates(dl, o.warmup ?? 1, o.reps ?? 5);
    log(`folder JPEG ~500x375 -> resize 256, crop 224, flip, normalise, b32: median ${median(rates).toFixed(0)} img/s over ${rates.length} epochs of ${ds.length}`);
    return median(rates);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fm = await benchFmnist();
const jpeg = await benchFolderJpeg();
process.stdout.write(`${JSON.stringify({ data_fmnist_aug_imgs_per_s: Math.round(fm), data_folder_jpeg_224_imgs_per_s: Math.round(jpeg) })}\n`);
