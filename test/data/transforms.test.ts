// The fused crop/flip/normalise kernel against a plain reference, seeded determinism, and the loader.
import { describe, expect, it } from 'vitest';
import type { Dataset, Image } from '../../src/data/dataset.js';
import { DataLoader } from '../../src/data/loader.js';
import { Rng } from '../../src/data/rng.js';
import { syntheticDataset } from '../../src/data/synthetic.js';
import { SampleTransform, normalizationLut, writeCropFlipNormalize, type TransformSpec } from '../../src/data/transforms.js';

function reference(img: Image, top: number, left: number, flip: boolean, oh: number, ow: number, mean: number[], std: number[]): Float32Array {
  const out = new Float32Array(img.channels * oh * ow);
  for (let c = 0; c < img.channels; c++)
    for (let y = 0; y < oh; y++)
      for (let x = 0; x < ow; x++) {
        const sy = top + y;
        const sx = left + (flip ? ow - 1 - x : x);
        const inside = sy >= 0 && sy < img.height && sx >= 0 && sx < img.width;
        const v = inside ? img.data[img.offset + c * img.strideC + sy * img.strideY + sx * img.strideX]! : 0;
        out[c * oh * ow + y * ow + x] = Math.fround((v / 255 - mean[c]!) / std[c]!);
      }
  return out;
}

describe('crop/flip/normalise kernel', () => {
  const r = new Rng(5);
  const C = 3, H = 7, W = 9;
  const data = new Uint8Array(C * H * W + 5);
  for (let i = 0; i < data.length; i++) data[i] = r.int(256);
  const chw: Image = { data, offset: 5, channels: C, height: H, width: W, strideC: H * W, strideY: W, strideX: 1 };
  const hwc: Image = { data, offset: 5, channels: C, height: H, width: W, strideC: 1, strideY: W * C, strideX: C };
  const mean = [0.4, 0.5, 0.6], std = [0.2, 0.25, 0.3];
  const lut = normalizationLut({ mean, std }, C);

  it('matches the reference for every offset, padding and flip, CHW and HWC', () => {
    for (const img of [chw, hwc])
      for (const [oh, ow] of [[7, 9], [5, 4], [10, 12], [1, 1]] as const)
        for (let top = -4; top <= 4; top++)
          for (let left = -5; left <= 5; left++)
            for (const flip of [false, true]) {
              const out = new Float32Array(C * oh * ow + 3).fill(NaN);
              writeCropFlipNormalize(img, { top, left, flip }, oh, ow, lut, out, 3);
              expect(out.subarray(3)).toEqual(reference(img, top, left, flip, oh, ow, mean, std));
            }
  });

  it('draws crops and flips deterministically per seed, within the padded range, flipping about half', () => {
    const t = new SampleTransform({ height: 7, width: 9, crop: 'random', padding: 2, flip: true, normalization: { mean: [0], std: [1] } }, 1);
    const draw = (seed: number) => Array.from({ length: 200 }, ((g) => () => t.params(7, 9, g))(new Rng(seed)));
    const a = draw(1);
    expect(draw(1)).toEqual(a);
    expect(draw(2)).not.toEqual(a);
    let flips = 0;
    for (const p of a) {
      expect(p.top >= -2 && p.top <= 2 && p.left >= -2 && p.left <= 2).toBe(true);
      flips += p.flip ? 1 : 0;
    }
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
    expect(new Set(a.map((p) => `${p.top},${p.left}`)).size).toBe(25);
    // centre crop follows torchvision (round half to even)
    const c = new SampleTransform({ height: 224, width: 224, crop: 'center', padding: 0, flip: false, normalization: { mean: [0], std: [1] } }, 3);
    expect(c.params(256, 341, null)).toEqual({ top: 16, left: 58, flip: false });
    expect(c.params(256, 343, null)).toEqual({ top: 16, left: 60, flip: false });
  });

  it('rejects mismatched normalisation and impossible crops', () => {
    expect(() => normalizationLut({ mean: [0.1, 0.2], std: [1] }, 3)).toThrow(/mean has 2 values for 3 channels/);
    expect(() => normalizationLut({ mean: [0.1], std: [0] }, 1)).toThrow(/std must be positive/);
    const t = new SampleTransform({ height: 40, width: 40, crop: 'random', padding: 4, flip: false, normalization: { mean: [0], std: [1] } }, 1);
    expect(() => t.params(28, 28, new Rng(0))).toThrow(/cannot crop 40x40 from 28x28 with padding 4/);
  });
});

describe('DataLoader', () => {
  const ds = syntheticDataset({ length: 203, channels: 2, height: 6, width: 5, numClasses: 7, seed: 9 });
  const spec: TransformSpec = { height: 6, width: 5, crop: 'random', padding: 2, flip: true, normalization: { mean: [0.5], std: [0.25] } };
  const collect = async (dl: DataLoader, epoch: number) => {
    const bs = [];
    for await (const b of dl.epoch(epoch)) bs.push(b);
    return bs;
  };

  it('covers every index exactly once per epoch, shapes and labels right; reshuffles per epoch', async () => {
    const dl = new DataLoader(ds, { batchSize: 16, transform: spec, shuffle: true, seed: 4 });
    expect(dl.length).toBe(13);
    const e0 = await collect(dl, 0);
    expect(e0.length).toBe(13);
    expect(e0.at(-1)!.shape).toEqual([11, 2, 6, 5]);
    const idx = e0.flatMap((b) => Array.from(b.indices));
    expect(idx.slice().sort((a, b) => a - b)).toEqual(Array.from({ length: 203 }, (_, i) => i));
    for (const b of e0) for (let j = 0; j < b.y.length; j++) expect(b.y[j]).toBe(ds.labels[b.indices[j]!]);
    const e1 = await collect(dl, 1);
    expect(e1.flatMap((b) => Array.from(b.indices))).not.toEqual(idx);
  });

  it('drop-last drops the incomplete batch', async () => {
    const dl = new DataLoader(ds, { batchSize: 16, transform: spec, shuffle: true, dropLast: true });
    expect(dl.length).toBe(12);
    const bs = await collect(dl, 0);
    expect(bs.length).toBe(12);
    expect(bs.every((b) => b.y.length === 16)).toBe(true);
    expect(new Set(bs.flatMap((b) => Array.from(b.indices))).size).toBe(192);
  });

  it('reproduces any epoch alone (resume), and differs by seed', async () => {
    const a = new DataLoader(ds, { batchSize: 32, transform: spec, shuffle: true, seed: 11 });
    for await (const _ of a) void _; // epoch 0
    const e1 = await collect(a, 1);
    const fresh = new DataLoader(ds, { batchSize: 32, transform: spec, shuffle: true, seed: 11 });
    const e1b = await collect(fresh, 1);
    expect(e1b.map((b) => Array.from(b.x))).toEqual(e1.map((b) => Array.from(b.x)));
    expect(a.nextEpoch).toBe(1);
    const other = await collect(new DataLoader(ds, { batchSize: 32, transform: spec, shuffle: true, seed: 12 }), 1);
    expect(other[0]!.indices).not.toEqual(e1[0]!.indices);
  });

  it('without shuffle and augmentation gives the dataset in order, unchanged', async () => {
    const plain: TransformSpec = { ...spec, crop: 'center', padding: 0, flip: false };
    const bs = await collect(new DataLoader(ds, { batchSize: 50, transform: plain }), 0);
    expect(Array.from(bs[0]!.indices.subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
    const img = ds.image(0);
    expect(bs[0]!.x[0]).toBeCloseTo((img.data[img.offset]! / 255 - 0.5) / 0.25, 6);
  });

  it('prefetches file-backed batches and keeps their order and content', async () => {
    let inflight = 0, maxInflight = 0;
    const slow: Dataset = {
      name: 'slow', length: ds.length, channels: 2, height: null, width: null, numClasses: 7, classNames: ds.classNames, labels: ds.labels,
      describe: (i) => `slow#${i}`,
      decode: async (i) => {
        inflight++;
        maxInflight = Math.max(maxInflight, inflight);
        await new Promise((r) => setTimeout(r, 1 + (i % 3)));
        inflight--;
        return ds.image(i);
      },
    };
    const opts = { batchSize: 16, transform: spec, shuffle: true, seed: 5, prefetch: 2 };
    const got = await collect(new DataLoader(slow, opts), 3);
    const want = await collect(new DataLoader(ds, opts), 3);
    expect(got.map((b) => Array.from(b.x))).toEqual(want.map((b) => Array.from(b.x)));
    expect(maxInflight).toBeGreaterThan(16); // more than one batch decoding at once
  });
});
