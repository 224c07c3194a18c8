// The search loop on small synthetic problems: selection rule, NaN guard with an intact
// checkpoint, cancellation, and the per-layer report.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { binaryProblem, classListProblem, DataLoader, syntheticSplits, type TargetProblem, type TransformSpec } from '../../src/data/index.js';
import { CifarResNet } from '../../src/models/cifar-resnet.js';
import { manualSeed } from '../../src/nn/index.js';
import { loadCheckpoint } from '../../src/seam/checkpoint.js';
import { reengineer, SearchError, type SearchOptions } from '../../src/seam/search.js';
import { chosenEpoch, newSelection, observeEpoch } from '../../src/seam/selection.js';

const dir = mkdtempSync(join(tmpdir(), 'seam-search-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const transform: TransformSpec = { height: 8, width: 8, crop: 'center', padding: 0, flip: false, normalization: { mean: [0.5], std: [0.25] } };
const splits = syntheticSplits({ train: 64, test: 32, numClasses: 4, height: 8, width: 8, seed: 11 });

function setup(problem: TargetProblem) {
  manualSeed(1);
  const model = new CifarResNet({ depth: 20, numClasses: 4, inChannels: 1 }).eval();
  const data = {
    problem,
    train: new DataLoader(problem.train, { batchSize: 16, transform, shuffle: true, seed: 2 }),
    test: new DataLoader(problem.test, { batchSize: 32, transform }),
  };
  return { model, data };
}

describe('SeaM model selection', () => {
  it('follows the paper rule: arm on reaching acc0, prefer lower ratio, patience resets on a new per-mille ratio', () => {
    const s = newSelection(0.9, 2);
    expect(observeEpoch(s, 0, 0.85, 1.0)).toMatchObject({ selected: false, fallback: true });
    expect(observeEpoch(s, 1, 0.92, 0.8)).toMatchObject({ selected: true });
    expect(s.armed).toBe(true);
    expect(observeEpoch(s, 2, 0.95, 0.85)).toMatchObject({ selected: false }); // higher ratio: skipped
    expect(observeEpoch(s, 3, 0.91, 0.8)).toMatchObject({ selected: false }); // same ratio, lower accuracy
    expect(observeEpoch(s, 4, 0.93, 0.8)).toMatchObject({ selected: true }); // same ratio, better accuracy
    expect(observeEpoch(s, 5, 0.5, 0.7)).toMatchObject({ stop: false });
    expect(observeEpoch(s, 6, 0.5, 0.6)).toMatchObject({ stop: true });
    expect(chosenEpoch(s)).toBe(4);
  });

  it('falls back to max(acc - r) when accuracy never reaches the original', () => {
    const s = newSelection(0.99, -1);
    observeEpoch(s, 0, 0.9, 0.9);
    observeEpoch(s, 1, 0.8, 0.5);
    observeEpoch(s, 2, 0.7, 0.6);
    expect(chosenEpoch(s)).toBe(1);
  });
});

describe('SeaM search loop', () => {
  it('runs a binary problem, writes a checkpoint per epoch and reports per-layer retention', async () => {
    const { model, data } = setup(binaryProblem(splits, 2));
    const events: string[] = [];
    const ckpt = join(dir, 'a.safetensors');
    const r = await reengineer(model, data, { epochs: 6, lrMask: 0.3, checkpoint: ckpt, onEvent: (e) => events.push(e.type) });
    expect(r.epochsRun).toBe(6);
    expect(r.log.map((l) => l.phase)).toEqual(['head', 'both', 'both', 'both', 'both', 'head']);
    expect(r.log[r.log.length - 1].ratio).toBeLessThan(1); // the masks learn to drop weights
    expect(r.retention).toBeCloseTo(r.log.find((l) => l.epoch === r.bestEpoch)!.ratio, 6); // result = chosen epoch
    expect(r.layers).toHaveLength(23); // 21 conv weights (incl. 2 downsample), fc weight, fc bias
    expect(r.layers.map((l) => l.param)).toContain('layer2.0.downsample.0.weight');
    expect(events.filter((e) => e === 'epoch')).toHaveLength(6);
    expect(loadCheckpoint(ckpt).nextEpoch).toBe(6);
  });

  it('multi-class problems get a k-way head', async () => {
    const { model, data } = setup(classListProblem(splits, [0, 3, 1]));
    const r = await reengineer(model, data, { epochs: 1 });
    expect(r.head.parameters()[0].shape).toEqual([3, 4]);
  });

  it('stops on a NaN loss naming epoch and batch, leaving the last checkpoint intact', async () => {
    const { model, data } = setup(binaryProblem(splits, 0));
    const ckpt = join(dir, 'nan.safetensors');
    const opts: SearchOptions = { epochs: 2, checkpoint: ckpt };
    await reengineer(model, data, opts);
    const before = readFileSync(ckpt);
    (model as CifarResNet).conv1.weight.f32[0] = Number.NaN;
    await expect(reengineer(model, data, { ...opts, epochs: 4, resume: true })).rejects.toThrow(SearchError);
    await expect(reengineer(model, data, { ...opts, epochs: 4, resume: true })).rejects.toThrow(/loss is NaN at epoch 2, batch 0/);
    expect(readFileSync(ckpt).equals(before)).toBe(true);
  });

  it('can be cancelled between batches', async () => {
    const { model, data } = setup(binaryProblem(splits, 1));
    const ac = new AbortController();
    const r = await reengineer(model, data, { epochs: 5, signal: ac.signal, onEvent: (e) => e.type === 'batch' && e.epoch === 1 && ac.abort() });
    expect(r.cancelled).toBe(true);
    expect(r.epochsRun).toBe(1);
  });
});
