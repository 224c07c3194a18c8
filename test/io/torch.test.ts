import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTorchFile } from '../../src/io/torch.js';
import { serializeTorch, writeTorchFile } from '../../src/io/torch-write.js';
import { readSafetensorsSync } from '../../src/io/safetensors.js';
import { toFloat32 } from '../../src/io/dtype.js';
import type { RawTensor, StateDict } from '../../src/io/types.js';
import { expectError, expectSameStateDict, f32, fixture, goldenPath, itNeeds, tmp } from '../helpers/io.js';

const resnet20 = (): StateDict => readSafetensorsSync(goldenPath('cifar10_resnet20.safetensors')).tensors;

describe('torch .pt reader', () => {
  it('all four resnet20 variants (zip, legacy, wrapped, safetensors) give identical tensors', () => {
    const ref = resnet20();
    const zip = readTorchFile(goldenPath('cifar10_resnet20.pt'));
    const legacy = readTorchFile(goldenPath('cifar10_resnet20.legacy.pt'));
    const wrapped = readTorchFile(goldenPath('cifar10_resnet20.wrapped.pt'));
    expect([zip.format, legacy.format, wrapped.format]).toEqual(['zip', 'legacy', 'zip']);
    expect(wrapped.container).toBe('state_dict');
    expect(wrapped.extra).toEqual({ epoch: 7, best_acc: 0.91 });
    for (const r of [zip, legacy, wrapped]) expectSameStateDict(ref, r.stateDict);
    expect(zip.stateDict.get('bn1.num_batches_tracked')!.dtype).toBe('i64');
    expect(zip.stateDict.get('layer2.0.downsample.0.weight')!.shape).toEqual([32, 16, 1, 1]);
  });

  itNeeds(['golden/cifar100_vgg16_bn.pt'], 'reads the golden VGG16-BN checkpoint with the right keys and shapes', () => {
    const vgg = readTorchFile(goldenPath('cifar100_vgg16_bn.pt')).stateDict;
    expect(vgg.size).toBe(97);
    expect(vgg.get('features.0.weight')!.shape).toEqual([64, 3, 3, 3]);
    expect(vgg.get('classifier.6.weight')!.shape).toEqual([100, 512]);
    expect([...vgg.keys()].filter((k) => k.startsWith('features.') && k.endsWith('.weight')).length).toBe(26);
  });

  itNeeds(['golden/resnet18_10cls.pt'], 'reads the float16 ResNet18 checkpoint: widened to float32 or kept as float16', () => {
    const r18 = readTorchFile(goldenPath('resnet18_10cls.pt')).stateDict;
    expect(r18.get('conv1.weight')!).toMatchObject({ dtype: 'f32', shape: [64, 3, 7, 7] });
    expect(r18.get('fc.weight')!.shape).toEqual([10, 512]);
    expect(r18.get('bn1.num_batches_tracked')!.dtype).toBe('i64');
    const raw = readTorchFile(goldenPath('resnet18_10cls.pt'), { keepDtype: true }).stateDict;
    expect(raw.get('conv1.weight')!.dtype).toBe('f16');
    expect(toFloat32(raw.get('conv1.weight')!)).toEqual(r18.get('conv1.weight')!.data);
  });

  itNeeds(['golden/resnet_bottleneck_1111_w16.pt'], 'reads the bottleneck ResNet checkpoint with the right shapes', () => {
    const bott = readTorchFile(goldenPath('resnet_bottleneck_1111_w16.pt')).stateDict;
    expect(bott.get('layer1.0.conv3.weight')!.shape).toEqual([256, 16, 1, 1]);
    expect(bott.get('fc.weight')!.shape).toEqual([10, 2048]);
  });

  it('reads the SeaM mask file with the right keys and shapes', () => {
    const masks = readTorchFile(goldenPath('cifar10_resnet20.seam_masks.pt')).stateDict;
    expect(masks.get('layer1.0.conv1.weight_mask')!.shape).toEqual([16, 16, 3, 3]);
    expect(masks.get('fc.bias_mask')!.shape).toEqual([10]);
    expect(masks.get('module_head.1.weight')!.shape).toEqual([2, 10]);
    expect([...masks.keys()].filter((k) => k.endsWith('_mask')).length).toBe(23);
  });

  it('honours shared storages, offsets, strides and every dtype (zip and legacy)', () => {
    const expected = JSON.parse(readFileSync(fixture('views.expected.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
    const kinds: Record<string, string> = { float32: 'f32', float16: 'f32', bfloat16: 'f32', float64: 'f32', int32: 'i32', int16: 'i16', int8: 'i8', uint8: 'u8', bool: 'bool', int64: 'i64' };
    for (const f of ['views.pt', 'views.legacy.pt']) {
      const sd = readTorchFile(fixture(f)).stateDict;
      expect([...sd.keys()]).toEqual(Object.keys(expected));
      for (const [k, e] of Object.entries(expected)) {
        const t = sd.get(k)!;
        expect({ k, dtype: t.dtype, shape: t.shape }).toEqual({ k, dtype: kinds[e.dtype], shape: e.shape });
        const got = t.dtype === 'i64' ? [...(t.data as BigInt64Array)].map(Number) : t.dtype === 'f32' ? [...toFloat32(t)] : Array.from(t.data as Int32Array, Number);
        got.forEach((v, i) => expect(v, `${f} ${k}[${i}]`).toBeCloseTo(e.values[i]!, 5));
      }
      const kept = readTorchFile(fixture(f), { keepDtype: true }).stateDict;
      expect(['h', 'bf', 'd'].map((k) => kept.get(k)!.dtype)).toEqual(['f16', 'bf16', 'f64']);
      // each tensor owns its data, even when storages were shared in the file
      const a = sd.get('a')!.data as Float32Array;
      a[0] = 99;
      expect((sd.get('a_t')!.data as Float32Array)[0]).not.toBe(99);
    }
  });

  it('unwraps nested checkpoints, strips module. prefixes and returns extras as plain data', () => {
    const r = readTorchFile(fixture('dataparallel.pt'));
    expect(r.container).toBe('model');
    expect(r.strippedPrefix).toBe('module.');
    expect([...r.stateDict.keys()]).toEqual(['conv.weight', 'conv.bias', 'bn.running_mean', 'bn.num_batches_tracked']);
    expect(r.extra.epoch).toBe(3);
    expect(r.extra.args).toEqual({ lr: 0.1, arch: 'tiny', milestones: [10, 20] });
    const opt = r.extra.optimizer as { state: Record<string, { momentum_buffer: RawTensor }>; param_groups: { lr: number }[] };
    expect(opt.state['0']!.momentum_buffer.shape).toEqual([3, 2, 3, 3]);
    expect(opt.param_groups[0]!.lr).toBe(0.1);
    expect(readTorchFile(fixture('dataparallel.pt'), { stripPrefix: false }).stateDict.has('module.conv.weight')).toBe(true);
    const p = readTorchFile(fixture('parameters.pt')).stateDict;
    expect([...toFloat32(p.get('w')!)]).toEqual([1, 1, 1, 1]);
  });

  it('writes .pt files that read back identically (bare and nested, every dtype)', () => {
    const dir = tmp();
    const ref = resnet20();
    writeTorchFile(join(dir, 'r20.pt'), ref);
    expectSameStateDict(ref, readTorchFile(join(dir, 'r20.pt')).stateDict);
    writeTorchFile(join(dir, 'wrapped.pt'), ref, { container: 'state_dict', archiveName: 'r20' });
    const w = readTorchFile(join(dir, 'wrapped.pt'));
    expect(w.container).toBe('state_dict');
    expectSameStateDict(ref, w.stateDict);
    const views = readTorchFile(fixture('views.pt'), { keepDtype: true }).stateDict;
    const back = readTorchFile(serializeTorch(views), { keepDtype: true }).stateDict;
    expectSameStateDict(views, back);
    expectError(() => serializeTorch({ bad: f32([2, 2], [1]) }), /tensor "bad": shape \[2, 2\] needs 4 elements/);
  });

  it('torch.load reads what we write (when this machine has PyTorch)', (ctx) => {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    if (probe.status !== 0) return ctx.skip();
    const dir = tmp();
    const views = readTorchFile(fixture('views.pt'), { keepDtype: true }).stateDict;
    writeTorchFile(join(dir, 'views.pt'), views);
    writeTorchFile(join(dir, 'r20.pt'), resnet20(), { container: 'state_dict' });
    const script = [
      'import sys, torch',
      'ref = torch.load(sys.argv[1]); ours = torch.load(sys.argv[2])',
      'assert list(ref) == list(ours), (list(ref), list(ours))',
      'for k in ref: assert ref[k].dtype == ours[k].dtype and torch.equal(ref[k].contiguous(), ours[k]), k',
      'w = torch.load(sys.argv[3])["state_dict"]; g = torch.load(sys.argv[4])',
      'safe = torch.load(sys.argv[2], weights_only=True); assert list(safe) == list(ref)',
      'assert all(torch.equal(w[k], g[k]) for k in g) and list(w) == list(g)',
      'print("ok")',
    ].join('\n');
    const out = execFileSync('/usr/bin/python3', ['-c', script, fixture('views.pt'), join(dir, 'views.pt'), join(dir, 'r20.pt'), goldenPath('cifar10_resnet20.pt')]);
    expect(out.toString().trim()).toBe('ok');
  });

  it('gives clear errors for truncated, corrupted and unsafe checkpoints', () => {
    const dir = tmp();
    const zip = readFileSync(goldenPath('cifar10_resnet20.pt'));
    const legacy = readFileSync(goldenPath('cifar10_resnet20.legacy.pt'));
    expectError(() => readTorchFile(zip.subarray(0, 5000), { name: 'cut.pt' }), /cut\.pt: no end-of-central-directory record/);
    expectError(() => readTorchFile(legacy.subarray(0, legacy.length - 10), { name: 'cut.legacy.pt' }), /cut\.legacy\.pt: (truncated before the size of storage \d+|storage \d+ \(\d+ bytes at offset \d+\) runs past the end)/);
    expectError(() => readTorchFile(legacy.subarray(0, 3000), { name: 'c.pt' }), /pickle c\.pt:data: truncated stream/);
    const flipped = Buffer.from(zip);
    flipped[20000] ^= 0x40;
    expectError(() => readTorchFile(flipped, { name: 'flip.pt' }), /flip\.pt: entry "cifar10_resnet20\/data\/\d+": CRC-32 mismatch/);
    expectError(() => readTorchFile(Buffer.from('hello world'), { name: 'x.pt' }), /x\.pt: not a PyTorch checkpoint/);
    writeFileSync(join(dir, 'empty.pt'), '');
    expectError(() => readTorchFile(join(dir, 'empty.pt')), /empty\.pt: not a PyTorch checkpoint/);
    // a zip .pt whose data.pkl names a code-running global
    const evil = serializeTorch({ w: f32([1], [1]) });
    const z = Buffer.from(evil);
    const at = z.indexOf('collections\nOrderedDict');
    z.write('posix\nsystem\n\n\n\n\n\n\n\n\n\n', at, 'latin1');
    expectError(() => readTorchFile(z, { name: 'evil.pt', verifyCrc: false }), /refusing to load global posix\.system/);
  });
});
