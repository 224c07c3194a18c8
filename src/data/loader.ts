/**
 * Batches of normalised float32 NCHW samples. The sample order of epoch e is a permutation seeded by
 * (seed, e), and every random crop/flip by (seed, e, position), so any epoch can be reproduced alone
 * (resume) and the result does not depend on decoding order. File-backed datasets decode a whole batch
 * concurrently and keep `prefetch` batches in flight, so decoding overlaps the consumer's compute.
 */
import type { Dataset, Image } from './dataset.js';
import { Rng, hashSeed } from './rng.js';
import { SampleTransform, type TransformSpec } from './transforms.js';

export interface Batch {
  /** N*C*H*W float32, normalised */
  x: Float32Array;
  shape: [number, number, number, number];
  /** labels of the dataset being loaded */
  y: Int32Array;
  /** dataset index of every sample in the batch */
  indices: Int32Array;
}

export interface LoaderOptions {
  batchSize: number;
  transform: TransformSpec;
  /** reshuffle every epoch (seeded); default false: dataset order */
  shuffle?: boolean;
  /** random crop/flip draws; default: transform.crop === 'random' || transform.flip */
  augment?: boolean;
  seed?: number;
  /** drop the last incomplete batch */
  dropLast?: boolean;
  /** file-backed data: batches decoded ahead of the consumer (default 2) */
  prefetch?: number;
}

const AUG_SALT = 0x5eed_a06;
const ORDER_SALT = 0x0dde_5eed;

export class DataLoader implements AsyncIterable<Batch> {
  readonly transform: SampleTransform;
  readonly batchSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly augment: boolean;
  readonly dropLast: boolean;
  readonly prefetch: number;
  /** the epoch `for await (const b of loader)` runs next; incremented by each such loop */
  nextEpoch = 0;

  constructor(readonly dataset: Dataset, opts: LoaderOptions) {
    if (!(Number.isInteger(opts.batchSize) && opts.batchSize > 0)) throw new Error(`loader: batch size must be a positive integer, got ${opts.batchSize}`);
    if (!dataset.image && !dataset.decode) throw new Error(`loader: ${dataset.name} gives neither in-memory images nor a decoder`);
    if (dataset.image && opts.transform.resizeShorter !== undefined) {
      throw new Error(`loader: ${dataset.name} is in memory; resizeShorter applies to image folders only`);
    }
    this.transform = new SampleTransform(opts.transform, dataset.channels);
    this.batchSize = opts.batchSize;
    this.seed = opts.seed ?? 0;
    this.shuffle = opts.shuffle ?? false;
    this.augment = opts.augment ?? (opts.transform.crop === 'random' || opts.transform.flip);
    this.dropLast = opts.dropLast ?? false;
    this.prefetch = Math.max(0, opts.prefetch ?? 2);
  }

  /** batches per epoch (for progress bars) */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** dataset indices in the order epoch `epoch` visits them */
  order(epoch: number): Int32Array {
    const n = this.dataset.length;
    if (this.shuffle) return new Rng(hashSeed(this.seed, epoch, ORDER_SALT)).permutation(n);
    const o = new Int32Array(n);
    for (let i = 0; i < n; i++) o[i] = i;
    return o;
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.epoch(this.nextEpoch++);
  }

  /** iterate the batches of one epoch */
  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const order = this.order(epoch);
    const nb = this.length;
    if (this.dataset.image) {
      for (let b = 0; b < nb; b++) yield this.buildInMemory(order, epoch, b);
      return;
    }
    const inflight: Promise<Batch | null>[] = [];
    let next = 0;
    const launch = (): void => {
      const p = this.buildDecoded(order, epoch, next++);
      p.catch(() => undefined); // rejections surface when awaited below; avoid unhandled-rejection noise
      inflight.push(p);
    };
    while (next < nb && inflight.length <= this.prefetch) launch();
    while (inflight.length > 0) {
      const batch = await inflight.shift()!;
      if (next < nb) launch();
      if (batch) yield batch;
    }
  }

  private positions(b: number): [number, number] {
    const start = b * this.batchSize;
    return [start, Math.min(start + this.batchSize, this.dataset.length)];
  }

  private buildInMemory(order: Int32Array, epoch: number, b: number): Batch {
    const ds = this.dataset;
    const image = ds.image!;
    const [start, end] = this.positions(b);
    const n = end - start;
    const t = this.transform;
    const { height: h, width: w } = t.spec;
    const x = new Float32Array(n * t.sampleSize);
    const y = new Int32Array(n);
    const indices = new Int32Array(n);
    const rng = this.augment ? new Rng() : null;
    for (let j = 0; j < n; j++) {
      const pos = start + j;
      const i = order[pos]!;
      const img = t.prepare(image(i));
      if (rng) rng.reseed(hashSeed(this.seed, epoch, pos, AUG_SALT));
      t.apply(img, t.params(img.height, img.width, rng), x, j * t.sampleSize);
      y[j] = ds.labels[i]!;
      indices[j] = i;
    }
    return { x, shape: [n, t.channels, h, w], y, indices };
  }

  private async buildDecoded(order: Int32Array, epoch: number, b: number): Promise<Batch | null> {
    const ds = this.dataset;
    const [start, end] = this.positions(b);
    const { resizeShorter, resize } = this.transform.spec;
    const opts = resizeShorter !== undefined ? { resizeShorter } : resize ? { resizeTo: resize } : {};
    const imgs: (Image | null)[] = await Promise.all(
      Array.from(order.subarray(start, end), (i) => ds.decode!(i, opts)),
    );
    const kept: number[] = [];
    for (let j = 0; j < imgs.length; j++) if (imgs[j]) kept.push(j);
    if (kept.length === 0) return null;
    const t = this.transform;
    const { height: h, width: w } = t.spec;
    const n = kept.length;
    const x = new Float32Array(n * t.sampleSize);
    const y = new Int32Array(n);
    const indices = new Int32Array(n);
    const rng = this.augment ? new Rng() : null;
    for (let k = 0; k < n; k++) {
      const j = kept[k]!;
      const pos = start + j;
      const i = order[pos]!;
      const img = t.prepare(imgs[j]!);
      if (rng) rng.reseed(hashSeed(this.seed, epoch, pos, AUG_SALT));
      t.apply(img, t.params(img.height, img.width, rng), x, k * t.sampleSize);
      y[k] = ds.labels[i]!;
      indices[k] = i;
    }
    return { x, shape: [n, t.channels, h, w], y, indices };
  }
}
