// End to end on real data: `seam reengineer` runs 3 epochs on (a subset of) Fashion-MNIST, resized
// and repeated into 3 channels, for a MobileNetV3, a DenseNet and the small ViT imported from ONNX;
// `seam export --format onnx` writes a graph with a dynamic batch and the search's input shape,
// using no op type the original did not have (the head's Relu aside), and onnxruntime gives our
// logits. A search on 28x28 data exports a graph that takes 28x28 inputs at any batch size.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyMaskFile, readMaskFile, reengineeredLogits } from '../../src/export/pruned.js';
import { readOnnx } from '../../src/io/onnx.js';
import { loadModel } from '../../src/models/load.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from '../helpers/export-fixtures.js';
import { relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { ORT_MISSING, ort, ortRun } from '../helpers/ort.js';
import { missingShared, sharedFile } from '../helpers/shared.js';
import { FAMILIES_DIR } from './fixtures.js';
import { FMNIST_MISSING, FMNIST_PRESENT, writeFmnistSubset } from './fmnist-subset.js';
import { runCli as run } from '../helpers/cli.js';

const skipNote = !FMNIST_PRESENT ? ` (skipped: ${FMNIST_MISSING})` : !ort ? ` (skipped: ${ORT_MISSING})` : '';
const rng = new Rng(1919);

describe.skipIf(!FMNIST_PRESENT || !ort)(`imported models re-engineered on Fashion-MNIST and exported${skipNote}`, () => {
  const root = tempDir();
  // Written on first use: a skipped suite's body still runs at collection, where ../shared may be absent.
  let subset: Promise<string> | undefined;
  const data = (): Promise<string> => (subset ??= writeFmnistSubset(join(root, 'fmnist'), 1000, 300));

  for (const stem of ['mobilenet_v3_small', 'densenet', 'vit_b_16']) {
    it(`${stem}: 3 epochs at 64x64 from gray, exported ONNX gives our logits in onnxruntime`, async () => {
      const model = join(FAMILIES_DIR, `${stem}.onnx`);
      const out = join(root, stem);
      const r = await run(['reengineer', '--model', model, '--data', `fashion-mnist:${await data()}`, '--target-class', '0', '--epochs', '3',
        '--batch-size', '32', '--lr-mask', '2', '--resize', '64', '--out', out, '--quiet', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary.epochs_run).toBe(3);
      const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(report.inputShape).toEqual([3, 64, 64]);
      expect(Array.from(readMaskFile(join(out, 'masks.pt')).get('input_shape')!.i32)).toEqual([3, 64, 64]);
      expect(Math.min(...report.epochs.map((ep: { ratio: number }) => ep.ratio)), 'the masks moved').toBeLessThan(1);

      const file = join(out, `${stem}.seam.onnx`);
      const e = await run(['export', '--model', model, '--masks', join(out, 'masks.pt'), '--format', 'onnx', '--out', file, '--quiet']);
      expect(e.code, e.stderr).toBe(0);
      const exported = readOnnx(file);
      expect(exported.inputs[0].shape).toEqual(['batch', 3, 64, 64]);
      const before = new Set(readOnnx(model).nodes.map((n) => n.opType));
      expect([...new Set(exported.nodes.map((n) => n.opType))].filter((op) => !before.has(op) && op !== 'Relu')).toEqual([]);

      const loaded = loadModel(model);
      const { head } = applyMaskFile(loaded.model, join(out, 'masks.pt'));
      const x = Tensor.randn([5, 3, 64, 64], rng);
      const ours = reengineeredLogits(loaded.model, head, x);
      const theirs = await ortRun(file, x);
      expect(theirs.shape).toEqual([5, 2]);
      const err = relErr(theirs.f32, ours.f32);
      expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
    });
  }

  const zoo = sharedFile('data/fmnist_resnet20.pt') ?? '';
  const noZoo = missingShared('data/fmnist_resnet20.pt');
  it.skipIf(!zoo)(`a search on 28x28 data exports a graph that onnxruntime runs on 28x28 inputs at any batch size${noZoo ? ` (${noZoo})` : ''}`, async () => {
    const out = join(root, 'r20');
    const r = await run(['reengineer', '--model', zoo, '--data', `fashion-mnist:${await data()}`, '--target-class', '3', '--epochs', '1',
      '--batch-size', '64', '--out', out, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const file = join(out, 'r20.onnx');
    const e = await run(['export', '--model', zoo, '--masks', join(out, 'masks.pt'), '--format', 'onnx', '--out', file, '--quiet']);
    expect(e.code, e.stderr).toBe(0);
    expect(readOnnx(file).inputs[0].shape).toEqual(['batch', 1, 28, 28]);
    const loaded = loadModel(zoo);
    const { head } = applyMaskFile(loaded.model, join(out, 'masks.pt'));
    for (const batch of [1, 3, 17]) {
      const x = Tensor.randn([batch, 1, 28, 28], rng);
      const theirs = await ortRun(file, x);
      expect(theirs.shape).toEqual([batch, 2]);
      expect(relErr(theirs.f32, reengineeredLogits(loaded.model, head, x).f32)).toBeLessThan(TOL_CONV_GEMM);
    }
    // --input-size overrides the recorded shape
    const big = join(out, 'r20-32.onnx');
    expect((await run(['export', '--model', zoo, '--masks', join(out, 'masks.pt'), '--format', 'onnx', '--input-size', '32x30', '--out', big, '--quiet'])).code).toBe(0);
    expect(readOnnx(big).inputs[0].shape).toEqual(['batch', 1, 32, 30]);
  });
});
