import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { ZipReader } from '../../src/io/zip.js';
import { buildZip, writeZipSync } from '../../src/io/zipwrite.js';
import { bufferSource, fileSource } from '../../src/io/source.js';
import { crc32, crc32Js } from '../../src/io/crc32.js';
import { expectError, goldenPath, tmp } from '../helpers/io.js';

/** A one-entry deflated archive built by hand (our writer only stores). */
function deflatedZip(name: string, content: Uint8Array): Uint8Array {
  const comp = deflateRawSync(content);
  const nb = Buffer.from(name);
  const local = Buffer.alloc(30 + nb.length);
  local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc32(content), 14); local.writeUInt32LE(comp.length, 18); local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nb.length, 26); nb.copy(local, 30);
  const cd = Buffer.alloc(46 + nb.length);
  cd.writeUInt32LE(0x02014b50, 0); cd.writeUInt16LE(20, 4); cd.writeUInt16LE(20, 6); cd.writeUInt16LE(8, 10);
  cd.writeUInt32LE(crc32(content), 16); cd.writeUInt32LE(comp.length, 20); cd.writeUInt32LE(content.length, 24);
  cd.writeUInt16LE(nb.length, 28); cd.writeUInt32LE(0, 42); nb.copy(cd, 46);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(local.length + comp.length, 16);
  return Buffer.concat([local, comp, cd, end]);
}

describe('zip', () => {
  it('reads the golden torch archive: names, stored entries, 64-byte aligned data', () => {
    const z = new ZipReader(fileSource(goldenPath('cifar10_resnet20.pt')));
    expect(z.entries.length).toBe(130);
    expect(z.names[0]).toBe('cifar10_resnet20/data.pkl');
    expect(new TextDecoder().decode(z.read('cifar10_resnet20/version')).trim()).toBe('3');
    for (const e of z.entries) expect(z.dataOffset(e) % 64).toBe(0);
    z.src.close();
  });

  it('round-trips entries (pieces, empty, unicode names) through memory and file writers', () => {
    const entries = [
      { name: 'a/data.pkl', data: Buffer.from('pickle bytes') },
      { name: 'a/data/0', data: [Buffer.from('ab'), Buffer.from('cd'), new Uint8Array(0)] },
      { name: 'a/empty', data: new Uint8Array(0) },
      { name: 'a/ünï/çødé', data: new Uint8Array(1000).fill(7) },
    ];
    const mem = buildZip(entries);
    const dir = tmp();
    writeZipSync(join(dir, 'x.zip'), entries);
    expect(Buffer.from(mem).equals(readFileSync(join(dir, 'x.zip')))).toBe(true);
    for (const src of [bufferSource(mem), fileSource(join(dir, 'x.zip'))]) {
      const z = new ZipReader(src);
      expect(z.names).toEqual(entries.map((e) => e.name));
      expect(Buffer.from(z.read('a/data/0')).toString()).toBe('abcd');
      expect(z.read('a/empty').byteLength).toBe(0);
      expect(z.read('a/ünï/çødé').every((b) => b === 7)).toBe(true);
      for (const e of z.entries) expect(z.dataOffset(e) % 64).toBe(0);
      const part = new Uint8Array(2);
      z.readInto('a/data/0', 1, part);
      expect(Buffer.from(part).toString()).toBe('bc');
      src.close();
    }
  });

  it('writes and reads zip64 records', () => {
    const mem = buildZip([{ name: 'big/one', data: Buffer.from('hello') }, { name: 'big/two', data: Buffer.from('world') }], 64, true);
    const z = new ZipReader(bufferSource(mem));
    expect(z.names).toEqual(['big/one', 'big/two']);
    expect(Buffer.from(z.read('big/two')).toString()).toBe('world');
  });

  it('inflates deflated entries and checks their size and CRC', () => {
    const content = Buffer.from('deflate me '.repeat(500));
    const z = new ZipReader(bufferSource(deflatedZip('d.txt', content)));
    expect(Buffer.from(z.read('d.txt')).equals(content)).toBe(true);
    const bad = deflatedZip('d.txt', content);
    bad[40] ^= 0xff; // inside the compressed stream
    expectError(() => new ZipReader(bufferSource(bad, 'bad.zip')).read('d.txt'), /bad\.zip: entry "d\.txt": (inflate failed|CRC-32 mismatch|inflated to)/);
  });

  it('crc32 matches the reference value, native and portable', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
    const b = new Uint8Array(1001).map((_, i) => (i * 31) & 0xff);
    expect(crc32Js(b.subarray(500), crc32Js(b.subarray(0, 500)))).toBe(crc32(b));
  });

  it('gives clear errors for truncated and corrupted archives', () => {
    const good = buildZip([{ name: 'x/a', data: Buffer.from('0123456789') }, { name: 'x/b', data: Buffer.from('abc') }]);
    expectError(() => new ZipReader(bufferSource(new Uint8Array(10), 'tiny.zip')), /tiny\.zip: 10 bytes is too short/);
    expectError(() => new ZipReader(bufferSource(good.subarray(0, good.length - 30), 'cut.zip')), /cut\.zip: no end-of-central-directory record/);
    const flipped = new Uint8Array(good);
    flipped[64 + 3] ^= 1; // a data byte of x/a
    expectError(() => new ZipReader(bufferSource(flipped, 'f.zip')).read('x/a'), /f\.zip: entry "x\/a": CRC-32 mismatch .* corrupted/);
    expect(Buffer.from(new ZipReader(bufferSource(flipped), false).read('x/a')).toString()).not.toBe('0123456789');
    const eocd = good.length - 22;
    const badCount = new Uint8Array(good);
    new DataView(badCount.buffer).setUint16(eocd + 10, 500, true);
    expectError(() => new ZipReader(bufferSource(badCount, 'c.zip')), /c\.zip: 500 entries cannot fit/);
    const badOffset = new Uint8Array(good);
    new DataView(badOffset.buffer).setUint32(eocd + 16, 0x7fffffff, true);
    expectError(() => new ZipReader(bufferSource(badOffset, 'o.zip')), /o\.zip: central directory .* runs past/);
    const cdStart = new DataView(good.buffer, good.byteOffset).getUint32(eocd + 16, true);
    const badLocal = new Uint8Array(good);
    new DataView(badLocal.buffer).setUint32(cdStart + 42, 0x10000, true);
    expectError(() => new ZipReader(bufferSource(badLocal, 'l.zip')), /l\.zip: entry "x\/a": local header offset 65536/);
    const badMethod = new Uint8Array(good);
    new DataView(badMethod.buffer).setUint16(cdStart + 10, 12, true);
    expectError(() => new ZipReader(bufferSource(badMethod, 'm.zip')), /entry "x\/a": compression method 12 is not supported/);
    const badSig = new Uint8Array(good);
    badSig[0] = 0;
    expectError(() => new ZipReader(bufferSource(badSig, 's.zip')).read('x/a'), /s\.zip: entry "x\/a": bad local header signature at 0/);
    expectError(() => new ZipReader(bufferSource(good, 'g.zip')).read('nope'), /g\.zip: no entry "nope"/);
  });
});
