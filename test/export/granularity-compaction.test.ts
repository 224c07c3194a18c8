// Issue 16: compaction of channel and kernel masks is exact. Masked channels of a channel mask go
// (internal ones always, residual ones when every producer of the channel is masked) and the
// compacted model gives the masked model's logits, also with channel counts rounded up to a multiple
// (zero channels added); a kernel mask that leaves an input channel unread removes the channel from
// its producer even though its values vary; onnxruntime runs the exported compacted model.
import { describe, expect, it } from 'vitest';
import { compactModel, type CompactionReport } from '../../src/export/compaction/index.js';
import { buildOnnxExport } from '../../src/export/onnx.js';
import { applyMaskFile, reengineeredLogits } from '../../src/export/pruned.js';
import { serializeOnnx } from '../../src/io/onnx-write.js';
import { loadModel } from '../../src/models/load.js';
import type { Module, Sequential } from '../../src/nn/index.js';
import { maskFileTensors } from '../../src/seam/mask-file.js';
import { attachMasks, type Granularity, type MaskEntry } from '../../src/seam/masks.js';
import { fromRaw } from '../../src/tensor/raw.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { Rng } from '../../src/util/rng.js';
import { goldenPath, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { seededHead } from '../helpers/export-fixtures.js';
import { ort, ORT_MISSING, ortRun } from '../helpers/ort.js';

const SAMPLE = [3, 32, 32];
const x = Tensor.randn([2, ...SAMPLE], new Rng(7));
const load = () => loadModel(goldenPath('cifar10_resnet20.pt')).model;
const entry = (masks: MaskEntry[], param: string): MaskEntry => masks.find((m) => m.param === param)!;
const layer = (r: CompactionReport, name: string) => r.layers.find((l) => l.layer === name)!;

/** A channel-masked ResNet20: internal channels masked in every block, and residual channel 5 of
 *  stage 1 masked on every path into it (stem and the three conv2). */
function channelMasked(): { model: Module; masks: MaskEntry[]; head: Sequential; internal: Map<string, number[]> } {
  const model = load();
  const masks = attachMasks(model, { granularity: 'channel', sampleShape: SAMPLE });
  const rng = new Rng(3);
  const internal = new Map<string, number[]>();
  for (const m of masks.filter((e) => /conv1\.weight$/.test(e.param) && e.param !== 'conv1.weight')) {
    const dead: number[] = [];
    for (let k = 0; k < m.mask.size; k++) if (rng.nextFloat() < 0.6) (m.mask.f32[k] = -0.2, dead.push(k));
    internal.set(m.param.replace(/\.weight$/, ''), dead);
  }
  for (const p of ['conv1', 'layer1.0.conv2', 'layer1.1.conv2', 'layer1.2.conv2']) entry(masks, `${p}.weight`).mask.f32[5] = -1;
  entry(masks, 'layer2.1.conv2.weight').mask.f32[4] = -1; // one residual path only: stays
  return { model: model.eval(), masks, head: seededHead(10), internal };
}

function expectSameLogits(model: Module, head: Sequential, ref: Tensor): void {
  const err = relErr(reengineeredLogits(model, head, x).data, ref.data);
  expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
}

describe('compaction of channel masks', () => {
  it('removes every masked internal channel and a fully masked residual channel; logits unchanged', () => {
    const { model, head, internal } = channelMasked();
    const ref = reengineeredLogits(model, head, x);
    const r = compactModel(model, head, { sampleShape: SAMPLE });
    expectSameLogits(model, head, ref);
    for (const [conv, dead] of internal) {
      expect(layer(r, conv).removed.slice().sort((a, b) => a - b), conv).toEqual(expect.arrayContaining(dead));
      expect(layer(r, conv).after, conv).toBe(layer(r, conv).before - dead.length);
    }
    for (const l of ['conv1', 'layer1.0.conv2', 'layer1.1.conv2', 'layer1.2.conv2']) expect(layer(r, l).removed, l).toContain(5);
    expect(layer(r, 'layer2.1.conv2').removed).not.toContain(4);
    expect(r.flops!.after.dense).toBeLessThan(0.8 * r.flops!.before.dense);
  });

  it('the model rebuilt from masks.pt compacts to the same shapes', () => {
    const a = channelMasked();
    const file = new Map([...maskFileTensors(a.masks, a.head)].map(([k, t]) => [k, fromRaw(t, k)]));
    const b = load();
    const { head } = applyMaskFile(b, file);
    const ra = compactModel(a.model, a.head, { sampleShape: SAMPLE });
    const rb = compactModel(b, head, { sampleShape: SAMPLE });
    expect(rb.layers.map((l) => [l.layer, l.after])).toEqual(ra.layers.map((l) => [l.layer, l.after]));
  });

  for (const multiple of [8, 16]) {
    it(`keeps multiples of ${multiple} channels with exact zero channels`, () => {
      const { model, head } = channelMasked();
      const ref = reengineeredLogits(model, head, x);
      const r = compactModel(model, head, { sampleShape: SAMPLE, channelMultiple: multiple });
      expectSameLogits(model, head, ref);
      for (const l of r.layers) {
        if (l.layer.startsWith('module_head') || l.layer === 'fc') continue;
        expect(l.after === l.before || l.after % multiple === 0, `${l.layer}: ${l.after} of ${l.before}`).toBe(true);
        expect(l.after).toBeGreaterThan(0);
      }
    });
  }

  // a dead layer is not padded back to `multiple` zero channels (the export pads to 16 by default)
  for (const multiple of [1, 16]) {
    it(`a conv whose channels are all masked keeps one zero channel (multiple ${multiple})`, () => {
      const model = load();
      const masks = attachMasks(model, { granularity: 'channel', sampleShape: SAMPLE });
      entry(masks, 'layer3.2.conv1.weight').mask.f32.fill(-1);
      const head = seededHead(10);
      model.eval();
      const ref = reengineeredLogits(model, head, x);
      const r = compactModel(model, head, { sampleShape: SAMPLE, channelMultiple: multiple });
      expect(layer(r, 'layer3.2.conv1').after).toBe(1);
      expectSameLogits(model, head, ref);
    });
  }

  it.skipIf(!ort)(`onnxruntime runs the exported compacted model with the masked model's logits${ort ? '' : ` (skipped: ${ORT_MISSING})`}`, async () => {
    const { model, head } = channelMasked();
    const ref = reengineeredLogits(model, head, x);
    compactModel(model, head, { sampleShape: SAMPLE, channelMultiple: 8 });
    const y = await ortRun(serializeOnnx(buildOnnxExport(model, head, [1, ...SAMPLE])), x);
    expect(relErr(y.data, ref.data)).toBeLessThan(TOL_CONV_GEMM);
  });
});

describe('compaction of kernel masks', () => {
  it('an input channel no kernel reads goes from its producer, whatever its values', () => {
    const model = load();
    const masks = attachMasks(model, { granularity: 'kernel' as Granularity });
    const m = entry(masks, 'layer1.0.conv2.weight'); // [16, 16, 1, 1]: kernel (o, c)
    for (const c of [2, 9]) for (let o = 0; o < 16; o++) m.mask.f32[o * 16 + c] = -1;
    const head = seededHead(10);
    model.eval();
    const ref = reengineeredLogits(model, head, x);
    const r = compactModel(model, head, { sampleShape: SAMPLE });
    expectSameLogits(model, head, ref);
    expect(layer(r, 'layer1.0.conv1').removed.sort((a, b) => a - b)).toEqual([2, 9]);
    expect(layer(r, 'layer1.0.conv2').inputsRemoved).toBe(2);
    expect(r.kept.some((k) => k.layers.includes('layer1.0.conv1'))).toBe(false);
  });
});
