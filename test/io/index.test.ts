import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { detectFormat, readStateDict, readStateDictSync } from '../../src/io/index.js';
import { expectError, expectSameStateDict, golden } from '../helpers/io.js';

describe('readStateDict', () => {
  it('detects every golden format from magic bytes, not the extension', async () => {
    const cases: [string, string][] = [
      ['cifar10_resnet20.pt', 'pt-zip'], ['cifar10_resnet20.legacy.pt', 'pt-legacy'], ['cifar10_resnet20.wrapped.pt', 'pt-zip'],
      ['cifar10_resnet20.safetensors', 'safetensors'], ['cifar10_resnet20.onnx', 'onnx'], ['resnet18_10cls.pt', 'pt-zip'],
      ['resnet_bottleneck_1111_w16.onnx', 'onnx'], ['cifar10_resnet20.seam_masks.pt', 'pt-zip'],
    ];
    for (const [f, fmt] of cases) {
      expect(detectFormat(readFileSync(golden(f)).subarray(0, 16)), f).toBe(fmt);
      const r = await readStateDict(golden(f));
      expect(r.format).toBe(fmt);
      expect(readStateDictSync(readFileSync(golden(f))).format).toBe(fmt);
    }
    const st = await readStateDict(golden('cifar10_resnet20.safetensors'));
    expectSameStateDict(st.stateDict, readStateDictSync(golden('cifar10_resnet20.legacy.pt')).stateDict);
    expectSameStateDict(st.stateDict, readStateDictSync(readFileSync(golden('cifar10_resnet20.wrapped.pt'))).stateDict);
    const onnx = readStateDictSync(golden('cifar10_resnet20.onnx'));
    expect(onnx.graph!.opset).toBe(13);
    expect(onnx.stateDict.get('fc.weight')!.shape).toEqual([10, 64]);
    expect(readStateDictSync(golden('resnet18_10cls.pt')).stateDict.get('conv1.weight')!.dtype).toBe('f32');
    expect(readStateDictSync(golden('resnet18_10cls.pt'), { keepDtype: true }).stateDict.get('conv1.weight')!.dtype).toBe('f16');
  });

  it('names unknown formats', () => {
    expectError(() => readStateDictSync(Buffer.from('GIF89a........')), /<buffer>: unknown model format \(first bytes 474946383961/);
  });
});
