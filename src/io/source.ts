/**
 * Random-access byte sources: a file descriptor (read on demand, so large files are never held whole)
 * or an in-memory buffer. Every read is bounds-checked against the source size.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteSource {
  /** Name used in error messages (a path or "<buffer>"). */
  readonly name: string;
  readonly size: number;
  /** `len` bytes at `pos` (a view for buffers, a fresh copy for files). */
  read(pos: number, len: number): Uint8Array;
  /** Fills `dst` with the bytes at `pos`. */
  readInto(pos: number, dst: Uint8Array): void;
  close(): void;
}

function check(name: string, size: number, pos: number, len: number): void {
  if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(len) || pos < 0 || len < 0 || pos + len > size) {
    throw new Error(`${name}: read of ${len} bytes at offset ${pos} is outside the ${size}-byte file`);
  }
}

export function bufferSource(buf: Uint8Array, name = '<buffer>'): ByteSource {
  return {
    name,
    size: buf.byteLength,
    read(pos, len) {
      check(name, buf.byteLength, pos, len);
      return buf.subarray(pos, pos + len);
    },
    readInto(pos, dst) {
      check(name, buf.byteLength, pos, dst.byteLength);
      dst.set(buf.subarray(pos, pos + dst.byteLength));
    },
    close() {},
  };
}

export function fileSource(path: string): ByteSource {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  let open = true;
  const readInto = (pos: number, dst: Uint8Array): void => {
    if (!open) throw new Error(`${path}: read after close`);
    check(path, size, pos, dst.byteLength);
    let done = 0;
    while (done < dst.byteLength) {
      const got = readSync(fd, dst, done, dst.byteLength - done, pos + done);
      if (got === 0) throw new Error(`${path}: unexpected end of file at offset ${pos + done}`);
      done += got;
    }
  };
  return {
    name: path,
    size,
    read(pos, len) {
      const dst = new Uint8Array(len);
      readInto(pos, dst);
      return dst;
    },
    readInto,
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** A source over a path or bytes. */
export function toSource(input: string | Uint8Array, name?: string): ByteSource {
  return typeof input === 'string' ? fileSource(input) : bufferSource(input, name);
}
