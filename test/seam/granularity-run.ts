// A small, seeded SeaM search at a given granularity on synthetic data, run as a child process by
// granularity-resume.test.ts. argv: CHECKPOINT_PATH GRANULARITY [--resume]. Prints "batch E B" per
// batch and a final JSON line with a hash of the chosen masks and head.
import { createHash } from 'node:crypto';
import { binaryProblem, DataLoader, syntheticSplits, type TransformSpec } from '../../src/data/index.js';
import { CifarResNet } from '../../src/models/cifar-resnet.js';
import { manualSeed } from '../../src/nn/index.js';
import type { Granularity } from '../../src/seam/masks.js';
import { reengineer } from '../../src/seam/search.js';

const [checkpoint, granularity, flag] = process.argv.slice(2);
manualSeed(7);
const model = new CifarResNet({ depth: 20, numClasses: 4, inChannels: 1 }).eval();
const splits = syntheticSplits({ train: 96, test: 32, numClasses: 4, height: 8, width: 8, seed: 3 });
const problem = binaryProblem(splits, 1, { seed: 0 });
const transform: TransformSpec = { height: 8, width: 8, crop: 'random', padding: 1, flip: true, normalization: { mean: [0.5], std: [0.25] } };
const result = await reengineer(model, {
  problem,
  train: new DataLoader(problem.train, { batchSize: 8, transform, shuffle: true, seed: 5 }),
  test: new DataLoader(problem.test, { batchSize: 16, transform: { ...transform, crop: 'center', padding: 0, flip: false }, augment: false }),
}, {
  epochs: 5, lrMask: 0.2, lrHead: 0.1, alpha: 3, seed: 0, checkpoint, resume: flag === '--resume', granularity: granularity as Granularity,
  onEvent: (e) => {
    if (e.type === 'batch') console.log(`batch ${e.epoch} ${e.batch}`);
  },
});
const h = createHash('sha256');
for (const m of result.masks) h.update(new Uint8Array(m.mask.f32.buffer, m.mask.f32.byteOffset, m.mask.f32.byteLength));
for (const p of result.head.parameters()) h.update(new Uint8Array(p.f32.buffer, p.f32.byteOffset, p.f32.byteLength));
const layers = result.layers.map((l) => [l.kept, l.total, l.cover]);
console.log(JSON.stringify({ hash: h.digest('hex'), bestEpoch: result.bestEpoch, epochsRun: result.epochsRun, retention: result.retention, granularity: result.granularity, layers }));
