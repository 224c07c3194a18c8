/**
 * Zip archives: a reader (central directory, stored and deflated entries, zip64, data descriptors,
 * bounds checks on every length and offset) and a writer of stored entries (data aligned to 64 bytes
 * as torch.save does, zip64 records when sizes or offsets pass 4 GiB).
 *
 * Why our own code rather than an npm package: .pt checkpoints need random access to stored entries
 * read straight into typed arrays at known offsets (no extraction into intermediate buffers, no
 * streaming API in the way), strict bounds checks with errors that name the file and entry for the
 * fuzz tests, the 64-byte alignment torch.save uses, and no dependency to audit on a path that
 * parses untrusted files. Inflate comes from node:zlib; the zip container itself is a few hundred lines.
 */
import { inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32.js';
import type { ByteSource } from './source.js';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_LOCATOR64 = 0x07064b50;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(v: DataView, off: number, what: string): number {
  const n = v.getBigUint64(off, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what}: 64-bit value ${n} is too large`);
  return Number(n);
}

export class ZipReader {
  readonly entries: ZipEntry[] = [];
  private readonly byName = new Map<string, ZipEntry>();
  private readonly dataOffsets = new Map<ZipEntry, number>();

  constructor(readonly src: ByteSource, readonly verifyCrc = true) {
    const name = src.name;
    if (src.size < 22) throw new Error(`zip ${name}: ${src.size} bytes is too short for a zip archive`);
    // End of central directory: last record with the signature, within 22 + 65535 bytes of the end.
    const tailLen = Math.min(src.size, 22 + 0xffff);
    const tail = src.read(src.size - tailLen, tailLen);
    const tv = dv(tail);
    let e = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === SIG_EOCD && i + 22 + tv.getUint16(i + 20, true) <= tailLen) { e = i; break; }
    }
    if (e < 0) throw new Error(`zip ${name}: no end-of-central-directory record (not a zip file, or truncated)`);
    const eocdPos = src.size - tailLen + e;
    let count = tv.getUint16(e + 10, true);
    let cdSize = tv.getUint32(e + 12, true);
    let cdOffset = tv.getUint32(e + 16, true);
    if (tv.getUint16(e + 4, true) !== 0 || tv.getUint16(e + 6, true) !== 0) throw new Error(`zip ${name}: multi-disk archives are not supported`);
    let cdEnd = eocdPos;
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      if (eocdPos < 20) throw new Error(`zip ${name}: zip64 locator missing`);
      const loc = dv(src.read(eocdPos - 20, 20));
      if (loc.getUint32(0, true) !== SIG_LOCATOR64) throw new Error(`zip ${name}: zip64 end-of-central-directory locator missing`);
      const e64 = u64(loc, 8, `zip ${name}`);
      if (e64 + 56 > eocdPos - 20) throw new Error(`zip ${name}: zip64 end-of-central-directory offset ${e64} out of range`);
      const r = dv(src.read(e64, 56));
      if (r.getUint32(0, true) !== SIG_EOCD64) throw new Error(`zip ${name}: bad zip64 end-of-central-directory signature at ${e64}`);
      count = u64(r, 32, `zip ${name}`);
      cdSize = u64(r, 40, `zip ${name}`);
      cdOffset = u64(r, 48, `zip ${name}`);
      cdEnd = e64;
    }
    if (cdOffset + cdSize > cdEnd) throw new Error(`zip ${name}: central directory [${cdOffset}, +${cdSize}) runs past its end record at ${cdEnd}`);
    if (count * 46 > cdSize) throw new Error(`zip ${name}: ${count} entries cannot fit a ${cdSize}-byte central directory`);
    const cd = src.read(cdOffset, cdSize);
    this.parseCentral(cd, count, cdOffset);
  }

  private parseCentral(cd: Uint8Array, count: number, cdOffset: number): void {
    const name = this.src.name;
    const v = dv(cd);
    const dec = new TextDecoder('utf-8', { fatal: false });
    let p = 0;
    for (let i = 0; i < count; i++) {
      const at = `zip ${name}: central directory entry ${i} (offset ${cdOffset + p})`;
      if (p + 46 > cd.byteLength) throw new Error(`${at}: truncated`);
      if (v.getUint32(p, true) !== SIG_CENTRAL) throw new Error(`${at}: bad signature`);
      const flags = v.getUint16(p + 8, true);
      const method = v.getUint16(p + 10, true);
      const crc = v.getUint32(p + 16, true);
      let csize = v.getUint32(p + 20, true);
      let size = v.getUint32(p + 24, true);
      const nlen = v.getUint16(p + 28, true);
      const xlen = v.getUint16(p + 30, true);
      const clen = v.getUint16(p + 32, true);
      let local = v.getUint32(p + 42, true);
      if (p + 46 + nlen + xlen + clen > cd.byteLength) throw new Error(`${at}: name/extra/comment run past the central directory`);
      const entryName = dec.decode(cd.subarray(p + 46, p + 46 + nlen));
      const where = `zip ${name}: entry "${entryName}"`;
      // zip64 extra field: the 0xffffffff fields, in order size, compressed size, local header offset.
      let x = p + 46 + nlen;
      const xEnd = x + xlen;
      while (x + 4 <= xEnd) {
        const id = v.getUint16(x, true);
        const len = v.getUint16(x + 2, true);
        if (x + 4 + len > xEnd) throw new Error(`${where}: extra field runs past its entry`);
        if (id === 0x0001) {
          let q = x + 4;
          const take = (): number => {
            if (q + 8 > x + 4 + len) throw new Error(`${where}: zip64 extra field too short`);
            const n = u64(v, q, where);
            q += 8;
            return n;
          };
          if (size === 0xffffffff) size = take();
          if (csize === 0xffffffff) csize = take();
          if (local === 0xffffffff) local = take();
        }
        x += 4 + len;
      }
      if (flags & 1) throw new Error(`${where}: encrypted entries are not supported`);
      if (method !== 0 && method !== 8) throw new Error(`${where}: compression method ${method} is not supported (only stored and deflate)`);
      if (method === 0 && csize !== size) throw new Error(`${where}: stored entry has compressed size ${csize} != size ${size}`);
      if (local + 30 + csize > cdOffset) throw new Error(`${where}: local header offset ${local} + ${csize} data bytes runs past the central directory`);
      const entry: ZipEntry = { name: entryName, method, compressedSize: csize, size, crc32: crc, localHeaderOffset: local };
      this.entries.push(entry);
      if (this.byName.has(entryName)) throw new Error(`${where}: duplicate entry name`);
      this.byName.set(entryName, entry);
      p += 46 + nlen + xlen + clen;
    }
  }

  get names(): string[] {
    return this.entries.map((e) => e.name);
  }

  get(entryName: string): ZipEntry | undefined {
    return this.byName.get(entryName);
  }

  private entry(e: ZipEntry | string): ZipEntry {
    if (typeof e !== 'string') return e;
    const found = this.byName.get(e);
    if (!found) throw new Error(`zip ${this.src.name}: no entry "${e}"`);
    return found;
  }

  /** Absolute offset of an entry's (possibly compressed) data, from its local header. */
  dataOffset(ref: ZipEntry | string): number {
    const e = this.entry(ref);
    const known = this.dataOffsets.get(e);
    if (known !== undefined) return known;
    const where = `zip ${this.src.name}: entry "${e.name}"`;
    if (e.localHeaderOffset + 30 > this.src.size) throw new Error(`${where}: local header at ${e.localHeaderOffset} is outside the file`);
    const h = dv(this.src.read(e.localHeaderOffset, 30));
    if (h.getUint32(0, true) !== SIG_LOCAL) throw new Error(`${where}: bad local header signature at ${e.localHeaderOffset}`);
    const off = e.localHeaderOffset + 30 + h.getUint16(26, true) + h.getUint16(28, true);
    if (off + e.compressedSize > this.src.size) throw new Error(`${where}: data [${off}, +${e.compressedSize}) runs past the end of the file`);
    this.dataOffsets.set(e, off);
    return off;
  }

  /** The entry's uncompressed bytes (CRC-checked unless disabled). */
  read(ref: ZipEntry | string): Uint8Array {
    const e = this.entry(ref);
    const raw = this.src.read(this.dataOffset(e), e.compressedSize);
    let out: Uint8Array;
    if (e.method === 0) {
      out = raw;
    } else {
      try {
        out = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
      } catch (err) {
        throw new Error(`zip ${this.src.name}: entry "${e.name}": inflate failed (${(err as Error).message})`);
      }
      if (out.byteLength !== e.size) throw new Error(`zip ${this.src.name}: entry "${e.name}": inflated to ${out.byteLength} bytes, header says ${e.size}`);
    }
    this.checkCrc(e, out);
    return out;
  }

  /** Reads `dst.byteLength` uncompressed bytes of an entry starting at `pos` into `dst`. */
  readInto(ref: ZipEntry | string, pos: number, dst: Uint8Array): void {
    const e = this.entry(ref);
    const where = `zip ${this.src.name}: entry "${e.name}"`;
    if (pos < 0 || pos + dst.byteLength > e.size) throw new Error(`${where}: read of ${dst.byteLength} bytes at ${pos} is outside its ${e.size} bytes`);
    if (e.method !== 0 || this.verifyCrc) {
      dst.set(this.read(e).subarray(pos, pos + dst.byteLength));
      return;
    }
    this.src.readInto(this.dataOffset(e) + pos, dst);
  }

  /** Reads a whole stored entry straight into `dst` (exactly its size), checking the CRC there. */
  readWholeInto(ref: ZipEntry | string, dst: Uint8Array): void {
    const e = this.entry(ref);
    if (dst.byteLength !== e.size) throw new Error(`zip ${this.src.name}: entry "${e.name}" is ${e.size} bytes, not ${dst.byteLength}`);
    if (e.method !== 0) {
      dst.set(this.read(e));
      return;
    }
    this.src.readInto(this.dataOffset(e), dst);
    this.checkCrc(e, dst);
  }

  private checkCrc(e: ZipEntry, data: Uint8Array): void {
    if (!this.verifyCrc) return;
    const c = crc32(data);
    if (c !== e.crc32) {
      throw new Error(`zip ${this.src.name}: entry "${e.name}": CRC-32 mismatch (stored ${e.crc32.toString(16)}, computed ${c.toString(16)}): the file is corrupted`);
    }
  }
}
