// Data for models that expect other inputs: --resize N|HxW and gray-to-RGB in the input pipeline.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArrayDataset } from '../../src/data/dataset.js';
import { DataLoader, type Batch } from '../../src/data/loader.js';
import { replicateChannels, resizeImage } from '../../src/data/resize-image.js';
import { dataSpecFromArgs, evalLoader, openData, parseSize } from '../../src/data/spec.js';
import { tempDir } from '../helpers/export-fixtures.js';
import { FMNIST_MISSING, FMNIST_PRESENT, writeFmnistSubset } from './fmnist-subset.js';

async function firstBatch(loader: AsyncIterable<Batch>): Promise<Batch> {
  for await (const b of loader) return b;
  throw new Error('the loader gave no batch');
}

const gray = (h: number, w: number, f: (y: number, x: number) => number): ArrayDataset =>
  new ArrayDataset('t', Uint8Array.from({ length: h * w }, (_, i) => f(Math.floor(i / w), i % w)), Int32Array.of(0), 1, h, w, ['a']);

describe('--resize and --channels', () => {
  it('parses N and HxW and rejects anything else', () => {
    expect(parseSize('64')).toEqual({ shorter: 64 });
    expect(parseSize('32x48')).toEqual({ height: 32, width: 48 });
    for (const bad of ['0', '-3', '3x', 'x4', '2.5', 'big']) expect(() => parseSize(bad)).toThrow(/--resize/);
    expect(dataSpecFromArgs({ data: 'idx:/p', resize: '28x30', channels: '3' })).toMatchObject({ size: { height: 28, width: 30 }, channels: 3 });
    expect(() => dataSpecFromArgs({ data: 'idx:/p', channels: 'three' })).toThrow(/--channels "three"/);
  });

  it('bilinear resizing: constants stay, a ramp stays a ramp, shrinking averages', () => {
    const img = (d: ArrayDataset) => d.image(0);
    expect(Array.from(resizeImage(img(gray(3, 5, () => 77)), 7, 4).data).every((v) => v === 77)).toBe(true);
    // half-pixel centres: upsampling 0, 100 by 2 gives 0, 25, 75, 100
    expect(Array.from(resizeImage(img(gray(1, 2, (_, x) => 100 * x)), 1, 4).data)).toEqual([0, 25, 75, 100]);
    // a 0/255 checkerboard shrunk by 4 is mid-gray everywhere (antialiased, not sampled)
    const small = resizeImage(img(gray(16, 16, (y, x) => ((x + y) % 2) * 255)), 4, 4);
    for (const v of small.data) expect(Math.abs(v - 127.5)).toBeLessThanOrEqual(8);
  });

  it('gray-to-RGB repeats the channel without a copy', () => {
    const img = replicateChannels(gray(2, 2, (y, x) => 10 * y + x).image(0), 3);
    expect(img.channels).toBe(3);
    expect(img.strideC).toBe(0);
    expect(() => replicateChannels({ ...img, channels: 2, strideC: 4 }, 3)).toThrow(/only 1-channel/);
  });

  it('a loader gives [n, 3, 64, 64] batches whose channels are the same resized image', async () => {
    const d = gray(28, 28, (y, x) => (3 * x + 5 * y) % 256);
    const loader = new DataLoader(d, { batchSize: 1, transform: { height: 64, width: 64, crop: 'center', padding: 0, flip: false,
      resize: { height: 64, width: 64 }, channels: 3, normalization: { mean: [0], std: [1] } } });
    const b = await firstBatch(loader);
    expect(b.shape).toEqual([1, 3, 64, 64]);
    const plane = 64 * 64;
    expect(Array.from(b.x.subarray(plane, 2 * plane))).toEqual(Array.from(b.x.subarray(0, plane)));
    expect(Array.from(b.x.subarray(0, plane))).toEqual(Array.from(resizeImage(d.image(0), 64, 64).data, (v) => v / 255).map(Math.fround));
  });

  it.skipIf(!FMNIST_PRESENT)(`Fashion-MNIST opened at 3x40x40 and at 3x32x48${FMNIST_PRESENT ? '' : ` (skipped: ${FMNIST_MISSING})`}`, async () => {
    const dir = await writeFmnistSubset(join(tempDir(), 'fm'), 20, 10);
    for (const [resize, shape] of [['40', [3, 40, 40]], ['32x48', [3, 32, 48]]] as const) {
      const data = await openData(dataSpecFromArgs({ data: `fashion-mnist:${dir}`, resize, channels: '3' }));
      expect([data.channels, data.evalTransform.height, data.evalTransform.width]).toEqual(shape);
      expect(data.normalization.mean).toHaveLength(3);
      const b = await firstBatch(evalLoader(data, data.test, { batchSize: 4 }));
      expect(b.shape).toEqual([4, ...shape]);
    }
    await expect(openData({ ...dataSpecFromArgs({ data: `fashion-mnist:${dir}` }), channels: 3 })).resolves.toBeTruthy();
  });
});
