import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  parseSafetensors, readSafetensors, readSafetensorsSync, serializeSafetensors, writeSafetensors, writeSafetensorsSync,
} from '../../src/io/safetensors.js';
import { floatToHalf, halfToFloat, toFloat32 } from '../../src/io/dtype.js';
import type { RawTensor, StateDict } from '../../src/io/types.js';
import { expectError, expectSameStateDict, f32, goldenPath, tmp } from '../helpers/io.js';

/** A safetensors file from a hand-written header object and data bytes. */
function craft(header: unknown, data: Uint8Array | number = 0, rawHeader?: string): Uint8Array {
  const h = Buffer.from(rawHeader ?? JSON.stringify(header));
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

describe('safetensors', () => {
  it('reads the golden files three ways with identical results', async () => {
    for (const f of ['cifar10_resnet20.safetensors', 'ops.safetensors', 'seam_step.safetensors']) {
      const a = readSafetensorsSync(goldenPath(f));
      const b = parseSafetensors(readFileSync(goldenPath(f)));
      const c = await readSafetensors(goldenPath(f));
      expectSameStateDict(a.tensors, b.tensors);
      expectSameStateDict(a.tensors, c.tensors);
      expect(a.metadata).toEqual(c.metadata);
    }
    const r = readSafetensorsSync(goldenPath('cifar10_resnet20.safetensors'));
    expect(r.tensors.size).toBe(128);
    expect(r.tensors.get('conv1.weight')!.shape).toEqual([16, 3, 3, 3]);
    expect(r.tensors.get('bn1.num_batches_tracked')!.dtype).toBe('i64');
    expect(r.tensors.get('fc.weight')!.shape).toEqual([10, 64]);
    const ops = readSafetensorsSync(goldenPath('ops.safetensors'));
    expect(JSON.parse(ops.metadata.cases!)).toHaveProperty('conv_k3s1p1');
  });

  it('round-trips every dtype through the file writer, sync and async', async () => {
    const tensors: StateDict = new Map<string, RawTensor>([
      ['w', f32([2, 3], [1, 2, 3, 4, 5, 6])],
      ['h', { dtype: 'f16', shape: [2], data: Uint16Array.from([floatToHalf(1.5), floatToHalf(-2)]) }],
      ['bf', { dtype: 'bf16', shape: [1], data: Uint16Array.from([0x3fc0]) }],
      ['d', { dtype: 'f64', shape: [1], data: Float64Array.from([Math.PI]) }],
      ['n', { dtype: 'i64', shape: [], data: BigInt64Array.from([-(2n ** 40n)]) }],
      ['i', { dtype: 'i32', shape: [2], data: Int32Array.from([-1, 7]) }],
      ['s', { dtype: 'i16', shape: [1], data: Int16Array.from([-300]) }],
      ['c', { dtype: 'i8', shape: [1], data: Int8Array.from([-5]) }],
      ['u', { dtype: 'u8', shape: [3], data: Uint8Array.from([0, 128, 255]) }],
      ['b', { dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) }],
      ['e', f32([0, 4], [])],
    ]);
    const dir = tmp();
    writeSafetensorsSync(join(dir, 'a.safetensors'), tensors, { note: 'x' });
    await writeSafetensors(join(dir, 'b.safetensors'), Object.fromEntries(tensors), { note: 'x' });
    const a = readSafetensorsSync(join(dir, 'a.safetensors'));
    const b = await readSafetensors(join(dir, 'b.safetensors'));
    expect(readFileSync(join(dir, 'a.safetensors')).equals(readFileSync(join(dir, 'b.safetensors')))).toBe(true);
    for (const [k, t] of tensors) {
      expect(a.tensors.get(k)).toEqual(t);
      expect(b.tensors.get(k)).toEqual(t);
    }
    expect(a.metadata).toEqual({ note: 'x' });
    // Header padded to 8 bytes, keys in the reference order: larger dtypes first, then by name.
    const bytes = readFileSync(join(dir, 'a.safetensors'));
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const keys = Object.keys(JSON.parse(bytes.subarray(8, 8 + n).toString())).filter((k) => k !== '__metadata__');
    expect(keys).toEqual(['n', 'd', 'e', 'w', 'i', 'bf', 'h', 's', 'c', 'u', 'b']);
  });

  it('golden resnet20 round-trips byte for byte in tensors', () => {
    const a = readSafetensorsSync(goldenPath('cifar10_resnet20.safetensors'));
    const b = parseSafetensors(serializeSafetensors(a.tensors, a.metadata));
    for (const [k, t] of a.tensors) expect(b.tensors.get(k)).toEqual(t);
  });

  it('widens f16, bf16, f64 and integers with toFloat32', () => {
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    for (let h = 0; h < 0x7c00; h += 37) expect(floatToHalf(halfToFloat(h))).toBe(h);
    expect(floatToHalf(65520)).toBe(0x7c00);
    expect([...toFloat32({ dtype: 'f16', shape: [2], data: Uint16Array.from([0x3c00, 0xbc00]) })]).toEqual([1, -1]);
    expect([...toFloat32({ dtype: 'bf16', shape: [1], data: Uint16Array.from([0x3fc0]) })]).toEqual([1.5]);
    expect([...toFloat32({ dtype: 'i64', shape: [1], data: BigInt64Array.from([-3n]) })]).toEqual([-3]);
    expect([...toFloat32({ dtype: 'f64', shape: [1], data: Float64Array.from([0.25]) })]).toEqual([0.25]);
    expect([...toFloat32({ dtype: 'u8', shape: [1], data: Uint8Array.from([200]) })]).toEqual([200]);
  });

  it('gives clear errors for malformed files, naming the file and key', () => {
    const ok = { w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    expect(parseSafetensors(craft(ok, 8)).tensors.get('w')!.shape).toEqual([2]);
    expectError(() => parseSafetensors(new Uint8Array(5), 'f.st'), /f\.st.*shorter than the 8-byte header length/);
    const big = craft(ok, 8);
    new DataView(big.buffer).setBigUint64(0, 10_000n, true);
    expectError(() => parseSafetensors(big, 'f.st'), /f\.st: header length 10000 runs past the end/);
    new DataView(big.buffer).setBigUint64(0, 2n ** 63n, true);
    expectError(() => parseSafetensors(big), /exceeds the 100000000-byte limit/);
    expectError(() => parseSafetensors(craft(null, 0, '{"w": [1,')), /not valid JSON/);
    expectError(() => parseSafetensors(craft(null, 0, '[1,2]')), /not a JSON object/);
    expectError(() => parseSafetensors(craft({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, 2)), /tensor "w": unsupported dtype "F8_E4M3"/);
    expectError(() => parseSafetensors(craft({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8)), /tensor "w": data_offsets span 8 bytes but F32 \[3\] needs 12/);
    expectError(() => parseSafetensors(craft({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }, 8)), /tensor "w": data_offsets \[0, 16\] out of range/);
    expectError(() => parseSafetensors(craft({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8)), /tensor "w": bad shape/);
    expectError(() => parseSafetensors(craft({ w: { dtype: 'F32', shape: [2], data_offsets: [8] } }, 8)), /tensor "w": bad data_offsets/);
    expectError(
      () => parseSafetensors(craft({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12)),
      /tensor "b" data \[4, 12\) overlaps/,
    );
    expectError(() => parseSafetensors(craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8)), /hole in the data section before tensor "a"/);
    expectError(() => parseSafetensors(craft(ok, 12)), /tensors cover 8 bytes but the data section holds 12/);
    expectError(() => parseSafetensors(craft({ __metadata__: { a: 1 } }, 0)), /__metadata__ value for "a" is not a string/);
    expectError(() => serializeSafetensors({ w: f32([3], [1, 2]) }), /tensor "w": shape \[3\] needs 3 elements, data has 2/);
  });

  it('reports truncation of a real file when reading from disk', () => {
    const dir = tmp();
    const bytes = readFileSync(goldenPath('cifar10_resnet20.safetensors'));
    const p = join(dir, 'cut.safetensors');
    writeFileSync(p, bytes.subarray(0, bytes.length - 100));
    expectError(() => readSafetensorsSync(p), /cut\.safetensors: tensor "fc\.weight": data_offsets \[\d+, \d+\] out of range/);
    writeFileSync(p, bytes.subarray(0, 500));
    expectError(() => readSafetensorsSync(p), /header length \d+ runs past the end of the 500-byte file/);
  });
});
