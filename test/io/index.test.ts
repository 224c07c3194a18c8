import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { detectFormat, readStateDict, readStateDictSync } from '../../src/io/index.js';
import { expectError, expectSameStateDict, goldenPath, itNeeds } from '../helpers/io.js';

async function expectFormat(f: string, fmt: string): Promise<void> {
  expect(detectFormat(readFileSync(goldenPath(f)).subarray(0, 16)), f).toBe(fmt);
  const r = await readStateDict(goldenPath(f));
  expect(r.format).toBe(fmt);
  expect(readStateDictSync(readFileSync(goldenPath(f))).format).toBe(fmt);
}

describe('readStateDict', () => {
  it('detects every golden format from magic bytes, not the extension', async () => {
    const cases: [string, string][] = [
      ['cifar10_resnet20.pt', 'pt-zip'], ['cifar10_resnet20.legacy.pt', 'pt-legacy'], ['cifar10_resnet20.wrapped.pt', 'pt-zip'],
      ['cifar10_resnet20.safetensors', 'safetensors'], ['cifar10_resnet20.onnx', 'onnx'], ['cifar10_resnet20.seam_masks.pt', 'pt-zip'],
    ];
    for (const [f, fmt] of cases) await expectFormat(f, fmt);
    const st = await readStateDict(goldenPath('cifar10_resnet20.safetensors'));
    expectSameStateDict(st.stateDict, readStateDictSync(goldenPath('cifar10_resnet20.legacy.pt')).stateDict);
    expectSameStateDict(st.stateDict, readStateDictSync(readFileSync(goldenPath('cifar10_resnet20.wrapped.pt'))).stateDict);
    const onnx = readStateDictSync(goldenPath('cifar10_resnet20.onnx'));
    expect(onnx.graph!.opset).toBe(13);
    expect(onnx.stateDict.get('fc.weight')!.shape).toEqual([10, 64]);
  });

  itNeeds(['golden/resnet18_10cls.pt', 'golden/resnet_bottleneck_1111_w16.onnx'], 'detects the large golden files too; float16 widens unless asked to keep it', async () => {
    await expectFormat('resnet18_10cls.pt', 'pt-zip');
    await expectFormat('resnet_bottleneck_1111_w16.onnx', 'onnx');
    expect(readStateDictSync(goldenPath('resnet18_10cls.pt')).stateDict.get('conv1.weight')!.dtype).toBe('f32');
    expect(readStateDictSync(goldenPath('resnet18_10cls.pt'), { keepDtype: true }).stateDict.get('conv1.weight')!.dtype).toBe('f16');
  });

  it('names unknown formats', () => {
    expectError(() => readStateDictSync(Buffer.from('GIF89a........')), /<buffer>: unknown model format \(first bytes 474946383961/);
  });
});
