// Item 1d of issue 6: the compact file stores only kept weights and restores the state_dict exactly.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactSizeReport, parseCompact, serializeCompact, writeCompactFile } from '../../src/export/compact-file.js';
import { applyMaskFile, loadReengineered, prunedStateDict, reengineeredLogits, writeStateDict } from '../../src/export/pruned.js';
import type { RawTensor, StateDict } from '../../src/io/types.js';
import { loadModel } from '../../src/models/load.js';
import { goldenPath, loadGolden, relErr, TOL_CONV_GEMM } from '../helpers/golden.js';
import { tempDir } from '../helpers/export-fixtures.js';

function expectSameBits(a: StateDict, b: StateDict): void {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [k, t] of a) {
    const u = b.get(k)!;
    expect(u.dtype, k).toBe(t.dtype);
    expect(u.shape, k).toEqual(t.shape);
    expect(Buffer.from(u.data.buffer, u.data.byteOffset, u.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)), k).toBe(true);
  }
}

const f32 = (shape: number[], fill: (i: number) => number): RawTensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'f32', shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) };
};

describe('compact file', () => {
  it('round-trips the pruned ResNet20 exactly, smaller than the dense file, and reloads with the same logits', () => {
    const loaded = loadModel(goldenPath('cifar10_resnet20.pt'));
    const { head } = applyMaskFile(loaded.model, goldenPath('cifar10_resnet20.seam_masks.pt'));
    const sd = prunedStateDict(loaded.model, head);
    const dir = tempDir();
    const file = join(dir, 'model.seamc');
    const bytes = writeCompactFile(file, sd, { arch: 'cifar_resnet20' });
    expectSameBits(sd, parseCompact(file).stateDict);
    writeStateDict(join(dir, 'model.safetensors'), sd, 'safetensors');
    expect(bytes).toBeLessThan(statSync(join(dir, 'model.safetensors')).size);
    const report = compactSizeReport(sd, readFileSync(file));
    expect(report.compactBytes).toBe(bytes);
    expect(report.ratio).toBeLessThan(1);
    const io = loadGolden('cifar10_resnet20.seam_masks.io.safetensors');
    const back = loadReengineered(file);
    const err = relErr(reengineeredLogits(back.model, back.head!, io.get('input')).data, io.get('logits').data);
    expect(err, `relative error ${err}`).toBeLessThan(TOL_CONV_GEMM);
  });

  it('picks dense, bitmask or CSR per tensor and keeps -0, NaN, integers and long rows', () => {
    const sd: StateDict = new Map<string, RawTensor>([
      ['dense', f32([8, 9], (i) => i + 1)],
      ['half', f32([16, 16], (i) => (i % 2 ? 0 : i - 100))],
      ['sparse', f32([4, 256], (i) => (i % 97 === 0 ? -i : 0))],
      ['signs', f32([5], (i) => [0, -0, NaN, Infinity, 1e-40][i])],
      ['long_row', f32([1, 70000], (i) => (i === 69999 || i === 3 ? 7 : 0))],
      ['zeros', f32([4, 4], () => 0)],
      ['scalar', f32([], () => 2.5)],
      ['steps', { dtype: 'i64', shape: [], data: BigInt64Array.from([123n]) }],
    ]);
    const bytes = serializeCompact(sd);
    const back = parseCompact(bytes);
    expectSameBits(sd, back.stateDict);
    const enc = Object.fromEntries(back.entries.map((e) => [e.name, e.encoding]));
    expect(enc).toMatchObject({ dense: 'dense', half: 'bitmask', sparse: 'csr', long_row: 'csr', steps: 'dense' });
    expect(back.entries.find((e) => e.name === 'long_row')!.index).toBe('u32');
  });

  it('corrupt or foreign files give clear errors', () => {
    const dir = tempDir();
    const sd: StateDict = new Map([['w', f32([4, 4], (i) => (i % 5 ? 0 : 1))]]);
    const bytes = serializeCompact(sd);
    expect(() => parseCompact(bytes.subarray(0, bytes.byteLength - 8))).toThrow(/"w" runs past the end/);
    const foreign = join(dir, 'x.bin');
    writeFileSync(foreign, 'PK\u0003\u0004 not ours');
    expect(() => parseCompact(foreign)).toThrow(/not a seam compact file/);
    const broken = bytes.slice();
    broken[broken.byteLength - 20] ^= 0xff; // inside the row pointers / indices
    expect(() => parseCompact(broken)).toThrow(/corrupt|past the end/);
  });
});
