// Small models and synthetic loaders for the defect-inheritance tests: a conv-bn-relu-pool-linear
// CNN and separable synthetic images (class-dependent brightness and stripe), normalised.
import { DataLoader, syntheticSplits, type Dataset, type TransformSpec } from '../../src/data/index.js';
import { AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential, manualSeed } from '../../src/nn/index.js';

export function tinyCnn(numClasses: number, seed = 1, channels = 1): Sequential {
  manualSeed(seed);
  return new Sequential(
    new Conv2d(channels, 8, 3, { padding: 1 }), new BatchNorm2d(8), new ReLU(), new MaxPool2d({ kernelSize: 2 }),
    new Conv2d(8, 12, 3, { padding: 1 }), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(12, numClasses),
  );
}

export const TINY_TRANSFORM: TransformSpec = {
  height: 8, width: 8, crop: 'center', padding: 0, flip: false, normalization: { mean: [0.5], std: [0.25] },
};

export function loaders(o: { numClasses: number; train: number; test: number; seed: number; batchSize?: number }): {
  train: DataLoader; test: DataLoader; trainSet: Dataset; testSet: Dataset;
} {
  const s = syntheticSplits({ numClasses: o.numClasses, train: o.train, test: o.test, seed: o.seed, height: 8, width: 8 });
  const batchSize = o.batchSize ?? 32;
  return {
    train: new DataLoader(s.train, { batchSize, transform: TINY_TRANSFORM, shuffle: true, seed: o.seed }),
    test: new DataLoader(s.test, { batchSize: 64, transform: TINY_TRANSFORM }),
    trainSet: s.train,
    testSet: s.test,
  };
}
