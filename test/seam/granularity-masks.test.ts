// Issue 16: kernel and channel masks on a real model. The mask shapes and the BatchNorm each
// channel mask gates; masks.pt in SeaM's layout (every key `<state_dict key>_mask` of its
// parameter's shape) rebuilds the very model the search ran, read our way and the way SeaM's own
// tools read it (W * (mask > 0) for every key); the compact file beside it expands to the same.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/node.js';
import { buildOnnxExport } from '../../src/export/onnx.js';
import { applyMaskFile, readMaskFile, reengineeredLogits } from '../../src/export/pruned.js';
import { planModel } from '../../src/infer/index.js';
import { serializeOnnx } from '../../src/io/onnx-write.js';
import { loadModel } from '../../src/models/load.js';
import type { Module, Sequential } from '../../src/nn/index.js';
import { compactMaskPath, saveCompactMaskFile } from '../../src/seam/mask-compact.js';
import { saveMaskFile } from '../../src/seam/mask-file.js';
import { attachMasks, type Granularity, type MaskEntry } from '../../src/seam/masks.js';
import { layerRetention } from '../../src/seam/search.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { goldenPath, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { seededHead, tempDir } from '../helpers/export-fixtures.js';
import { ort, ORT_MISSING, ortRun } from '../helpers/ort.js';

const SAMPLE = [3, 32, 32];
const x = Tensor.randn([2, ...SAMPLE], new Rng(5));
const load = () => loadModel(goldenPath('cifar10_resnet20.pt')).model;

/** Random mask values, about `fraction` of the elements negative (masked out). */
function randomMasks(masks: MaskEntry[], fraction: number, seed = 1): void {
  const rng = new Rng(seed);
  for (const m of masks) for (let i = 0; i < m.mask.size; i++) m.mask.f32[i] = rng.nextFloat() < fraction ? -0.1 - rng.nextFloat() : 0.1 + rng.nextFloat();
}

function searched(granularity: Granularity, fraction = 0.3): { model: Module; masks: MaskEntry[]; head: Sequential } {
  const model = load();
  const masks = attachMasks(model, { granularity, sampleShape: SAMPLE });
  randomMasks(masks, fraction);
  return { model: model.eval(), masks, head: seededHead(10) };
}

describe('kernel and channel masks on CIFAR ResNet20', () => {
  it('have one element per kernel / per channel; channel masks gate the BatchNorm after each conv; fc keeps its logits', () => {
    const k = attachMasks(load(), { granularity: 'kernel' });
    expect(k.find((m) => m.param === 'layer1.0.conv1.weight')!.mask.shape).toEqual([16, 16, 1, 1]);
    expect(k.find((m) => m.param === 'layer1.0.conv1.weight')!.cover).toBe(9);
    expect(k.find((m) => m.param === 'fc.weight')!.mask.shape).toEqual([10, 64]);
    const c = attachMasks(load(), { granularity: 'channel', sampleShape: SAMPLE });
    const convs = c.filter((m) => m.granularity === 'channel');
    expect(convs).toHaveLength(21);
    for (const m of convs) {
      expect(m.mask.shape, m.param).toEqual([m.weight.shape[0]]);
      const bn = m.param.replace('conv', 'bn').replace('downsample.0', 'downsample.1').replace(/\.weight$/, '');
      expect(m.gateBn?.path, m.param).toBe(bn);
    }
    expect(c.filter((m) => m.granularity !== 'channel').map((m) => [m.param, m.granularity])).toEqual([['fc.weight', 'kernel'], ['fc.bias', 'kernel']]);
    expect(() => attachMasks(load(), { granularity: 'channel' })).toThrow(/shape of one input sample/);
  });

  it('per-layer retention counts kernels and channels, with the weights each covers', () => {
    const { masks } = searched('channel');
    const layers = layerRetention(masks);
    const l = layers.find((r) => r.param === 'layer2.0.conv1.weight')!;
    expect(l).toMatchObject({ granularity: 'channel', total: 32, cover: 16 * 9 });
    expect(l.kept).toBe([...masks.find((m) => m.param === 'layer2.0.conv1.weight')!.mask.f32].filter((v) => v > 0).length);
  });

  for (const granularity of ['kernel', 'channel'] as Granularity[]) {
    it(`${granularity}: masks.pt (SeaM's layout) and the compact file rebuild the searched model, our way and SeaM's way`, () => {
      const { model, masks, head } = searched(granularity);
      const ref = reengineeredLogits(model, head, x);
      const dir = tempDir();
      const file = join(dir, 'masks.pt');
      saveMaskFile(file, masks, head);
      saveCompactMaskFile(compactMaskPath(file), masks, head, granularity);

      // ours
      for (const f of [file, compactMaskPath(file)]) {
        const back = load();
        const { head: h } = applyMaskFile(back, f);
        expect(relErr(reengineeredLogits(back, h, x).data, ref.data), f).toBeLessThan(TOL_CONV_GEMM);
      }

      // SeaM's loader: every key but the head is `<state_dict key>_mask` of that parameter's shape; W * (mask > 0)
      const tensors = readMaskFile(file);
      const seam = load();
      const sd = seam.stateDict();
      for (const [key, t] of tensors) {
        if (key.startsWith('module_head.')) continue;
        const p = sd.get(key.replace(/_mask$/, ''));
        expect(p, key).toBeDefined();
        expect(t.shape, key).toEqual(p!.shape);
        for (let i = 0; i < p!.size; i++) if (!(t.f32[i] > 0)) p!.f32[i] = 0;
      }
      if (granularity === 'channel') expect(tensors.has('layer1.0.bn1.weight_mask') && tensors.has('layer1.0.bn1.bias_mask')).toBe(true);
      expect(relErr(reengineeredLogits(seam.eval(), head, x).data, ref.data)).toBeLessThan(TOL_CONV_GEMM);

      // the compact file holds one value per element, broadcastable against the weight
      const compact = readMaskFile(compactMaskPath(file));
      expect(compact.metadata?.granularity).toBe(granularity);
      expect(compact.get('layer1.0.conv1.weight_mask')!.shape).toEqual(granularity === 'kernel' ? [16, 16, 1, 1] : [16, 1, 1, 1]);
    });
  }

  it('the inference planner runs the searched channel-masked model as it is', () => {
    const { model } = searched('channel');
    const ref = noGrad(() => model.forward(x));
    expect(relErr(planModel(model, SAMPLE, { kernel: 'dense' }).run(x.f32, 2), ref.data)).toBeLessThan(TOL_CONV_GEMM);
  });

  it.skipIf(!ort)(`the ONNX export of the searched channel-masked model gives its logits in onnxruntime${ort ? '' : ` (skipped: ${ORT_MISSING})`}`, async () => {
    const { model, head } = searched('channel');
    const y = await ortRun(serializeOnnx(buildOnnxExport(model, head, [1, ...SAMPLE])), x);
    expect(relErr(y.data, reengineeredLogits(model, head, x).data)).toBeLessThan(TOL_CONV_GEMM);
  });

  it('a masked channel outputs exactly 0 wherever its gate acts (after the ReLU, before a residual add, at a lone BatchNorm)', () => {
    const { model, masks } = searched('channel', 0);
    for (const [param, k] of [['conv1.weight', 3], ['layer1.0.conv1.weight', 5], ['layer2.0.conv2.weight', 7], ['layer2.0.downsample.0.weight', 7]] as const) {
      masks.find((m) => m.param === param)!.mask.f32[k] = -1;
    }
    const seen = new Map<string, Tensor>();
    const root = model as unknown as { layer2: Sequential; layer1: Sequential };
    const block = root.layer2.layers[0] as unknown as { conv1: { forward: (...a: unknown[]) => Tensor }; downsample: Sequential };
    // the downsample's output (a lone BatchNorm after the conv) and the stage's first block input
    const ds = block.downsample;
    const orig = ds.forward.bind(ds);
    ds.forward = (t: Tensor) => {
      const y = orig(t);
      seen.set('downsample', y);
      return y;
    };
    const l1 = root.layer1.layers[0] as unknown as { conv1: { forward: (...a: unknown[]) => Tensor } };
    const c1 = l1.conv1.forward.bind(l1.conv1);
    l1.conv1.forward = (...a: unknown[]) => {
      const y = c1(...a);
      seen.set('layer1.0.conv1', y);
      return y;
    };
    model.forward(x);
    const plane = (t: Tensor, c: number): number[] => {
      const [n, ch, h, w] = t.shape;
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(...t.f32.subarray((i * ch + c) * h * w, (i * ch + c + 1) * h * w));
      return out;
    };
    expect(plane(seen.get('layer1.0.conv1')!, 5).every((v) => v === 0)).toBe(true);
    expect(plane(seen.get('downsample')!, 7).every((v) => v === 0)).toBe(true);
    expect(plane(seen.get('downsample')!, 6).some((v) => v !== 0)).toBe(true);
  });
});
