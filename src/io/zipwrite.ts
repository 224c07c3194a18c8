/**
 * Zip writer: stored (uncompressed) entries only, each entry's data aligned to `align` bytes
 * (64 by default, as torch.save does, through a padding extra field), zip64 records written when an
 * entry size, an offset or the entry count passes the 32-bit limits. Output goes to a sink so that a
 * file is written entry by entry, never assembled in memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { crc32 } from './crc32.js';

export interface ZipSink {
  write(bytes: Uint8Array): void;
}

interface Written { name: Uint8Array; crc: number; size: number; offset: number }

const MAX32 = 0xffffffff;
/** DOS date/time of 1980-01-01 00:00 (torch.save writes fixed timestamps too; keeps output reproducible). */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

export class ZipWriter {
  private pos = 0;
  private readonly done: Written[] = [];
  private readonly names = new Set<string>();
  private finished = false;

  constructor(private readonly sink: ZipSink, private readonly align = 64, private readonly forceZip64 = false) {}

  private put(b: Uint8Array): void {
    this.sink.write(b);
    this.pos += b.byteLength;
  }

  /** Adds one stored entry; `data` may be given in pieces (written in order, never concatenated). */
  add(name: string, data: Uint8Array | Uint8Array[]): void {
    if (this.finished) throw new Error('zip writer: add() after finish()');
    if (this.names.has(name)) throw new Error(`zip writer: duplicate entry "${name}"`);
    this.names.add(name);
    const parts = Array.isArray(data) ? data : [data];
    let size = 0;
    let crc = 0;
    for (const p of parts) {
      size += p.byteLength;
      crc = crc32(p, crc);
    }
    const nameBytes = Buffer.from(name, 'utf8');
    if (nameBytes.byteLength > 0xffff) throw new Error(`zip writer: entry name too long: "${name.slice(0, 40)}..."`);
    const zip64 = this.forceZip64 || size >= MAX32;
    const fixed = 30 + nameBytes.byteLength + (zip64 ? 20 : 0);
    // Padding extra field ("FB" like PyTorch's writer) so the data starts on an `align` boundary.
    const pad = (this.align - ((this.pos + fixed + 4) % this.align)) % this.align;
    const h = new Uint8Array(fixed + 4 + pad);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, zip64 ? 45 : 20, true);
    v.setUint16(6, 0x0800, true); // UTF-8 names
    v.setUint16(8, 0, true);
    v.setUint16(10, DOS_TIME, true);
    v.setUint16(12, DOS_DATE, true);
    v.setUint32(14, crc, true);
    v.setUint32(18, zip64 ? MAX32 : size, true);
    v.setUint32(22, zip64 ? MAX32 : size, true);
    v.setUint16(26, nameBytes.byteLength, true);
    v.setUint16(28, h.byteLength - 30 - nameBytes.byteLength, true);
    h.set(nameBytes, 30);
    let x = 30 + nameBytes.byteLength;
    if (zip64) {
      v.setUint16(x, 0x0001, true);
      v.setUint16(x + 2, 16, true);
      v.setBigUint64(x + 4, BigInt(size), true);
      v.setBigUint64(x + 12, BigInt(size), true);
      x += 20;
    }
    v.setUint16(x, 0x4246, true); // "FB"
    v.setUint16(x + 2, pad, true);
    h.fill(0x5a, x + 4); // PyTorch pads with 'Z'
    const offset = this.pos;
    this.put(h);
    for (const p of parts) this.put(p);
    this.done.push({ name: nameBytes, crc, size, offset });
  }

  /** Writes the central directory and end records. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const cdStart = this.pos;
    for (const e of this.done) {
      const big = this.forceZip64 || e.size >= MAX32 || e.offset >= MAX32;
      const xlen = big ? 28 : 0;
      const h = new Uint8Array(46 + e.name.byteLength + xlen);
      const v = new DataView(h.buffer);
      v.setUint32(0, 0x02014b50, true);
      v.setUint16(4, big ? 45 : 20, true);
      v.setUint16(6, big ? 45 : 20, true);
      v.setUint16(8, 0x0800, true);
      v.setUint16(10, 0, true);
      v.setUint16(12, DOS_TIME, true);
      v.setUint16(14, DOS_DATE, true);
      v.setUint32(16, e.crc, true);
      v.setUint32(20, big ? MAX32 : e.size, true);
      v.setUint32(24, big ? MAX32 : e.size, true);
      v.setUint16(28, e.name.byteLength, true);
      v.setUint16(30, xlen, true);
      v.setUint32(42, big ? MAX32 : e.offset, true);
      h.set(e.name, 46);
      if (big) {
        const x = 46 + e.name.byteLength;
        v.setUint16(x, 0x0001, true);
        v.setUint16(x + 2, 24, true);
        v.setBigUint64(x + 4, BigInt(e.size), true);
        v.setBigUint64(x + 12, BigInt(e.size), true);
        v.setBigUint64(x + 20, BigInt(e.offset), true);
      }
      this.put(h);
    }
    const cdSize = this.pos - cdStart;
    const n = this.done.length;
    const need64 = this.forceZip64 || n >= 0xffff || cdStart >= MAX32 || cdSize >= MAX32 || this.done.some((e) => e.size >= MAX32 || e.offset >= MAX32);
    if (need64) {
      const r = new Uint8Array(56 + 20);
      const v = new DataView(r.buffer);
      const at = this.pos;
      v.setUint32(0, 0x06064b50, true);
      v.setBigUint64(4, 44n, true);
      v.setUint16(12, 45, true);
      v.setUint16(14, 45, true);
      v.setBigUint64(24, BigInt(n), true);
      v.setBigUint64(32, BigInt(n), true);
      v.setBigUint64(40, BigInt(cdSize), true);
      v.setBigUint64(48, BigInt(cdStart), true);
      v.setUint32(56, 0x07064b50, true);
      v.setBigUint64(64, BigInt(at), true);
      v.setUint32(72, 1, true);
      this.put(r);
    }
    const end = new Uint8Array(22);
    const v = new DataView(end.buffer);
    v.setUint32(0, 0x06054b50, true);
    v.setUint16(8, need64 ? 0xffff : n, true);
    v.setUint16(10, need64 ? 0xffff : n, true);
    v.setUint32(12, need64 ? MAX32 : cdSize, true);
    v.setUint32(16, need64 ? MAX32 : cdStart, true);
    this.put(end);
  }
}

/** A sink collecting chunks in memory; `bytes()` joins them. */
export class MemorySink implements ZipSink {
  private readonly chunks: Uint8Array[] = [];
  write(b: Uint8Array): void {
    this.chunks.push(new Uint8Array(b));
  }
  bytes(): Uint8Array {
    return Buffer.concat(this.chunks);
  }
}

/** A sink writing straight to a file descriptor. */
export class FileSink implements ZipSink {
  private readonly fd: number;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  write(b: Uint8Array): void {
    let done = 0;
    while (done < b.byteLength) done += writeSync(this.fd, b, done, b.byteLength - done);
  }
  close(): void {
    closeSync(this.fd);
  }
}

export interface ZipInput { name: string; data: Uint8Array | Uint8Array[] }

/** Builds a whole zip in memory. */
export function buildZip(entries: ZipInput[], align = 64, forceZip64 = false): Uint8Array {
  const sink = new MemorySink();
  const w = new ZipWriter(sink, align, forceZip64);
  for (const e of entries) w.add(e.name, e.data);
  w.finish();
  return sink.bytes();
}

/** Writes a zip file entry by entry. */
export function writeZipSync(path: string, entries: ZipInput[], align = 64): void {
  const sink = new FileSink(path);
  try {
    const w = new ZipWriter(sink, align);
    for (const e of entries) w.add(e.name, e.data);
    w.finish();
  } finally {
    sink.close();
  }
}
