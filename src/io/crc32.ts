/**
 * CRC-32 (IEEE 802.3, as zip uses). Uses node:zlib's native crc32 where the runtime has it
 * (Node >= 20.15, about 5 GB/s) and a slice-by-8 table version otherwise (about 0.7 GB/s).
 */
import * as zlib from 'node:zlib';

type Crc = (data: Uint8Array, value?: number) => number;
const native: Crc | undefined = (zlib as unknown as { crc32?: Crc }).crc32;

const TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let j = 0; j < 8; j++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0]![i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) t[k]![i] = (t[0]![t[k - 1]![i]! & 0xff]! ^ (t[k - 1]![i]! >>> 8)) >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes`, continuing from `crc` (pass the previous result to checksum in pieces). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  return native ? native(bytes, crc) : crc32Js(bytes, crc);
}

/** The portable implementation (exported for tests). */
export function crc32Js(bytes: Uint8Array, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  const end8 = n - (n % 8);
  while (i < end8) {
    const a = (c ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0;
    c =
      t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
      t3[bytes[i + 4]!]! ^ t2[bytes[i + 5]!]! ^ t1[bytes[i + 6]!]! ^ t0[bytes[i + 7]!]!;
    i += 8;
  }
  while (i < n) c = t0[(c ^ bytes[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}
