// Item 1a/1b of issue 6: SeaM's mask file applied to the original model, and the pruned state_dict
// (+ head) written as .pt / .safetensors and read back.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTorchFile } from '../../src/io/torch.js';
import { readSafetensorsSync } from '../../src/io/safetensors.js';
import { applyMaskFile, loadReengineered, prunedStateDict, readMaskFile, reengineeredLogits, writeStateDict } from '../../src/export/pruned.js';
import { loadModel } from '../../src/models/load.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { goldenPath, itNeeds, loadGolden, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { tempDir } from '../helpers/export-fixtures.js';

const io = loadGolden('cifar10_resnet20.seam_masks.io.safetensors');
const maskPath = goldenPath('cifar10_resnet20.seam_masks.pt');

function masked() {
  const loaded = loadModel(goldenPath('cifar10_resnet20.pt'));
  return { loaded, ...applyMaskFile(loaded.model, maskPath) };
}

describe('SeaM mask file on the original model', () => {
  it('reproduces the re-engineered logits written by PyTorch', () => {
    const { loaded, head } = masked();
    const y = reengineeredLogits(loaded.model, head, io.get('input'));
    expect(y.shape).toEqual([io.get('input').shape[0], 2]);
    const err = relErr(y.data, io.get('logits').data);
    expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
  });

  it('exported .pt and .safetensors reload into the original architecture + head with the same logits', () => {
    const { loaded, head } = masked();
    const ref = io.get('logits');
    const sd = prunedStateDict(loaded.model, head);
    const modelKeys = [...loaded.stateDict.keys()];
    expect([...sd.keys()]).toEqual([...modelKeys, 'module_head.1.weight', 'module_head.1.bias']);
    const masks = readMaskFile(maskPath);
    const w = sd.get('layer1.0.conv1.weight')!.data as Float32Array;
    const m = masks.get('layer1.0.conv1.weight_mask')!.f32;
    const orig = loaded.stateDict.get('layer1.0.conv1.weight')!.f32;
    for (let i = 0; i < w.length; i++) expect(w[i]).toBe(m[i] > 0 ? orig[i] : 0);
    const dir = tempDir();
    for (const format of ['pt', 'safetensors'] as const) {
      const file = join(dir, `model.${format}`);
      writeStateDict(file, sd, format);
      const back = loadReengineered(file);
      expect(back.arch).toBe('cifar_resnet20');
      expect(back.head).not.toBeNull();
      const y = reengineeredLogits(back.model, back.head!, io.get('input'));
      const err = relErr(y.data, ref.data);
      expect(err, `${format}: relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
    }
    // the .pt keeps PyTorch's key order and int64 num_batches_tracked
    const pt = readTorchFile(join(dir, 'model.pt')).stateDict;
    expect([...pt.keys()]).toEqual([...sd.keys()]);
    expect(pt.get('bn1.num_batches_tracked')!.dtype).toBe('i64');
    expect(readSafetensorsSync(join(dir, 'model.safetensors')).tensors.size).toBe(sd.size);
  });

  itNeeds(['golden/cifar100_vgg16_bn.pt'], 'a mask file for another model is refused with the names that do not fit', () => {
    const vgg = loadModel(goldenPath('cifar100_vgg16_bn.pt'));
    expect(() => applyMaskFile(vgg.model, maskPath)).toThrow(/no mask for \d+ parameters: features\.0\.weight_mask/);
  });

  it('wrong mask shapes and a head of the wrong width are refused clearly', () => {
    const file = readMaskFile(maskPath);
    const bad = new Map(file);
    bad.set('layer1.0.conv1.weight_mask', Tensor.ones([16, 16, 3, 1]));
    expect(() => applyMaskFile(loadModel(goldenPath('cifar10_resnet20.pt')).model, bad)).toThrow(/layer1\.0\.conv1\.weight_mask has shape \[16, 16, 3, 1\], the parameter has \[16, 16, 3, 3\]/);
    const wide = new Map(file);
    wide.set('module_head.1.weight', Tensor.zeros([2, 100]));
    expect(() => applyMaskFile(loadModel(goldenPath('cifar10_resnet20.pt')).model, wide)).toThrow(/head takes 100 inputs but the model has 10 outputs/);
    const noHead = new Map(file);
    noHead.delete('module_head.1.weight');
    expect(() => applyMaskFile(loadModel(goldenPath('cifar10_resnet20.pt')).model, noHead)).toThrow(/no module_head\.1\.weight/);
    const extra = new Map(file);
    extra.set('layer9.conv.weight_mask', Tensor.ones([1]));
    expect(() => applyMaskFile(loadModel(goldenPath('cifar10_resnet20.pt')).model, extra)).toThrow(/match no parameter.*layer9/);
  });
});
