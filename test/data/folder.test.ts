// An image folder of generated PNG and JPEG files (sharp, temp dir): labels, decoding, crops, and
// corrupt files (named in the error, or skipped with a warning when asked).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { FolderDataset, openImageFolders } from '../../src/data/folder.js';
import { DataLoader } from '../../src/data/loader.js';
import { openData } from '../../src/data/spec.js';
import { NORMALIZATION } from '../../src/data/transforms.js';

const CLASSES = ['cat', 'dog', 'zebra', 'ant'];
const root = mkdtempSync(join(tmpdir(), 'seam-folder-'));
const COLORS: Record<string, [number, number, number]> = { ant: [200, 30, 30], cat: [30, 200, 30], dog: [30, 30, 200], zebra: [128, 128, 128] };

async function makeImage(file: string, cls: string, i: number): Promise<void> {
  const [r, g, b] = COLORS[cls]!;
  const w = 40 + (i % 7) * 9;
  const h = 36 + (i % 5) * 11;
  const img = sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } });
  await (file.endsWith('.png') ? img.png() : file.endsWith('.webp') ? img.webp({ lossless: true }) : img.jpeg({ quality: 95 })).toFile(file);
}

beforeAll(async () => {
  const jobs: Promise<void>[] = [];
  for (const split of ['train', 'val']) {
    for (const cls of CLASSES) {
      mkdirSync(join(root, split, cls), { recursive: true });
      const n = split === 'train' ? 55 : 6;
      for (let i = 0; i < n; i++) {
        const ext = i % 3 === 0 ? 'png' : i % 3 === 1 ? 'jpg' : i % 10 === 2 ? 'webp' : 'JPEG';
        jobs.push(makeImage(join(root, split, cls, `img${String(i).padStart(3, '0')}.${ext}`), cls, i));
      }
    }
  }
  writeFileSync(join(root, 'train', 'cat', 'notes.txt'), 'not an image');
  await Promise.all(jobs);
});

describe('image folders', () => {
  it('lists >= 200 PNG/JPEG/WebP files with sorted classes and the right labels', async () => {
    const { train, test } = openImageFolders(root);
    expect(train.classNames).toEqual(['ant', 'cat', 'dog', 'zebra']);
    expect(train.length).toBe(220);
    expect(test.length).toBe(24);
    for (let i = 0; i < train.length; i++) {
      expect(train.files[i]!.split('/').at(-2)).toBe(train.classNames[train.labels[i]!]);
    }
  });

  it('decodes, resizes the shorter side, crops to 3x16x16 with the right colours', async () => {
    const data = await openData({ kind: 'folder', path: root, resize: 20, cropSize: 16 });
    expect(data.trainTransform).toMatchObject({ crop: 'random', flip: true, height: 16, width: 16, resizeShorter: 20 });
    expect(data.evalTransform).toMatchObject({ crop: 'center', flip: false });
    const img = await data.train.decode!(0, { resizeShorter: 20 });
    expect(Math.min(img!.height, img!.width)).toBe(20);
    const dl = new DataLoader(data.train, { batchSize: 32, transform: data.trainTransform, shuffle: true, seed: 3 });
    const seen = new Set<number>();
    const { mean, std } = NORMALIZATION.imagenet;
    for await (const b of dl) {
      expect(b.shape.slice(1)).toEqual([3, 16, 16]);
      for (let j = 0; j < b.y.length; j++) {
        seen.add(b.indices[j]!);
        expect(b.y[j]).toBe(data.train.labels[b.indices[j]!]);
        const rgb = COLORS[data.train.classNames[b.y[j]!]!]!;
        // a centre pixel of every channel is the class colour (JPEG within a few levels)
        for (let c = 0; c < 3; c++) {
          const v = b.x[j * 768 + c * 256 + 8 * 16 + 8]! * std[c]! + mean[c]!;
          expect(Math.abs(v * 255 - rgb[c]!)).toBeLessThan(6);
        }
      }
    }
    expect(seen.size).toBe(220);
  });

  it('a corrupt image names the file; skipCorrupt warns and skips it', async () => {
    const d = mkdtempSync(join(tmpdir(), 'seam-corrupt-'));
    mkdirSync(join(d, 'a'));
    mkdirSync(join(d, 'b'));
    await makeImage(join(d, 'a', 'good.png'), 'cat', 0);
    await makeImage(join(d, 'b', 'good.jpg'), 'dog', 1);
    writeFileSync(join(d, 'b', 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5]));
    const spec = { height: 8, width: 8, crop: 'center' as const, padding: 0, flip: false, resizeShorter: 8, normalization: NORMALIZATION.imagenet };
    const strict = new FolderDataset(d);
    const run = async (ds: FolderDataset) => {
      const out: number[] = [];
      for await (const b of new DataLoader(ds, { batchSize: 2, transform: spec })) out.push(...b.indices);
      return out;
    };
    await expect(run(strict)).rejects.toThrow(new RegExp(`${join(d, 'b', 'broken.jpg').replace(/[/.]/g, '\\$&')}: cannot decode image`));
    const warnings: string[] = [];
    const lenient = new FolderDataset(d, { skipCorrupt: true, onWarning: (m) => warnings.push(m) });
    const got = await run(lenient);
    expect(got.sort()).toEqual([0, 2]); // a/good.png, b/good.jpg; b/broken.jpg (1) skipped
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain('broken.jpg');
    await run(lenient); // second epoch: no second warning
    expect(warnings.length).toBe(1);
  });

  it('missing splits and empty folders are clear errors', () => {
    const d = mkdtempSync(join(tmpdir(), 'seam-nofolder-'));
    expect(() => openImageFolders(d)).toThrow(/missing train split/);
    mkdirSync(join(d, 'train', 'x'), { recursive: true });
    expect(() => openImageFolders(d)).toThrow(/missing val split/);
    mkdirSync(join(d, 'val'));
    expect(() => openImageFolders(d)).toThrow(/no images with extensions/);
  });
});
