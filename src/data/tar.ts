/**
 * A small reader for (gzipped) tar archives held in memory: ustar, GNU long names and pax `path`
 * records. Enough for dataset archives such as cifar-10-binary.tar.gz; no links, no sparse files.
 */
import { maybeGunzip } from './bytes.js';

export interface TarEntry {
  /** full path inside the archive */
  name: string;
  /** a view into the archive buffer, no copy */
  data: Uint8Array;
}

const BLOCK = 512;
const decoder = new TextDecoder();

function cString(b: Uint8Array, off: number, len: number): string {
  let end = off;
  while (end < off + len && b[end] !== 0) end++;
  return decoder.decode(b.subarray(off, end));
}

function parseSize(b: Uint8Array, off: number, file: string, name: string): number {
  if (b[off]! & 0x80) {
    // GNU base-256 encoding for sizes >= 8 GiB
    let v = 0;
    for (let i = off + 1; i < off + 12; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cString(b, off, 12).trim();
  if (!/^[0-7]*$/.test(s)) throw new Error(`${file}: tar entry "${name}" has a malformed size field "${s}"`);
  return s === '' ? 0 : parseInt(s, 8);
}

function checksumOk(b: Uint8Array, off: number): boolean {
  const stored = cString(b, off + 148, 8).trim();
  if (!/^[0-7]+$/.test(stored)) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : b[off + i]!;
  return sum === parseInt(stored, 8);
}

function paxPath(data: Uint8Array): string | undefined {
  const text = decoder.decode(data);
  let pos = 0;
  let path: string | undefined;
  while (pos < text.length) {
    const sp = text.indexOf(' ', pos);
    if (sp < 0) break;
    const len = parseInt(text.slice(pos, sp), 10);
    if (!(len > 0)) break;
    const rec = text.slice(sp + 1, pos + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0 && rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    pos += len;
  }
  return path;
}

/** Iterate the regular files of a tar archive (already decompressed). */
export function* tarEntries(b: Uint8Array, file: string): Generator<TarEntry> {
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= b.length) {
    let zero = true;
    for (let i = off; i < off + BLOCK; i++) {
      if (b[i] !== 0) {
        zero = false;
        break;
      }
    }
    if (zero) return; // end-of-archive marker
    if (!checksumOk(b, off)) throw new Error(`${file}: not a tar archive or corrupt (bad header checksum at byte ${off})`);
    let name = cString(b, off, 100);
    const type = String.fromCharCode(b[off + 156]!);
    const size = parseSize(b, off + 124, file, name);
    if (cString(b, off + 257, 6).startsWith('ustar')) {
      const prefix = cString(b, off + 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const start = off + BLOCK;
    if (start + size > b.length) {
      throw new Error(`${file}: truncated tar archive: entry "${name}" needs ${size} bytes, ${b.length - start} left`);
    }
    const data = b.subarray(start, start + size);
    off = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = cString(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'g') continue;
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    if (type === '0' || type === '\0' || type === '7') yield { name, data };
  }
  throw new Error(`${file}: truncated tar archive (no end-of-archive marker)`);
}

/** Read all regular files of a .tar or .tar.gz buffer into a map keyed by full path. */
export async function readTar(bytes: Uint8Array, file: string): Promise<Map<string, Uint8Array>> {
  const raw = await maybeGunzip(bytes, file);
  const out = new Map<string, Uint8Array>();
  for (const e of tarEntries(raw, file)) out.set(e.name, e.data);
  return out;
}
