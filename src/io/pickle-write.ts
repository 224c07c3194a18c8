/**
 * A minimal pickler (protocol 2) for the streams we write ourselves: torch.save-style data.pkl files.
 * Values: null, boolean, number (ints and floats told apart by PyFloat), string, Uint8Array (bytes),
 * arrays (tuples), Map (dict), PyCall (a global called with a tuple, i.e. GLOBAL args REDUCE),
 * PyRef (a bare global), PersistentId. Globals are memoized so that each is spelled out once.
 */

export class PyRef { constructor(readonly module: string, readonly name: string) {} }
export class PyCall { constructor(readonly fn: PyRef, readonly args: PyValue[]) {} }
export class PyFloat { constructor(readonly value: number) {} }
export class PyList { constructor(readonly items: PyValue[]) {} }
export class PersistentId { constructor(readonly pid: PyValue) {} }
export type PyValue = null | boolean | number | bigint | string | Uint8Array | PyValue[] | Map<PyValue, PyValue> | PyRef | PyCall | PyFloat | PyList | PersistentId;

export class Pickler {
  private readonly chunks: Uint8Array[] = [];
  private buf = new Uint8Array(1 << 16);
  private len = 0;
  private readonly globals = new Map<string, number>();
  private memoNext = 0;

  private ensure(n: number): void {
    if (this.len + n <= this.buf.byteLength) return;
    this.chunks.push(this.buf.subarray(0, this.len));
    this.buf = new Uint8Array(Math.max(1 << 16, n));
    this.len = 0;
  }
  private byte(...bs: number[]): void { this.ensure(bs.length); for (const b of bs) this.buf[this.len++] = b; }
  private raw(b: Uint8Array): void { this.ensure(b.byteLength); this.buf.set(b, this.len); this.len += b.byteLength; }
  private u32(n: number): void { this.byte(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff); }

  private memoize(): number {
    const i = this.memoNext++;
    if (i < 256) this.byte(0x71, i); else { this.byte(0x72); this.u32(i); }
    return i;
  }
  private get(i: number): void {
    if (i < 256) this.byte(0x68, i); else { this.byte(0x6a); this.u32(i); }
  }

  private int(v: number | bigint): void {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error(`pickler: ${v} is not an integer (wrap floats in PyFloat)`);
    const n = BigInt(v);
    if (n >= 0n && n < 256n) return this.byte(0x4b, Number(n));
    if (n >= 0n && n < 65536n) return this.byte(0x4d, Number(n) & 0xff, Number(n) >> 8);
    if (n >= -(2n ** 31n) && n < 2n ** 31n) { this.byte(0x4a); this.u32(Number(n) | 0); return; }
    const bytes: number[] = [];
    let x = n;
    for (;;) {
      bytes.push(Number(x & 0xffn));
      x >>= 8n;
      const done = (x === 0n && !(bytes[bytes.length - 1]! & 0x80)) || (x === -1n && bytes[bytes.length - 1]! & 0x80);
      if (done) break;
    }
    this.byte(0x8a, bytes.length, ...bytes);
  }

  private str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.byteLength < 256) this.byte(0x8c, b.byteLength); else { this.byte(0x58); this.u32(b.byteLength); }
    this.raw(b);
  }

  private global(r: PyRef): void {
    const key = `${r.module}\n${r.name}\n`;
    const known = this.globals.get(key);
    if (known !== undefined) return this.get(known);
    this.byte(0x63);
    this.raw(Buffer.from(key, 'utf8'));
    this.globals.set(key, this.memoize());
  }

  private tuple(items: PyValue[]): void {
    if (items.length === 0) return this.byte(0x29);
    if (items.length > 3) this.byte(0x28);
    for (const x of items) this.value(x);
    this.byte(items.length === 1 ? 0x85 : items.length === 2 ? 0x86 : items.length === 3 ? 0x87 : 0x74);
  }

  value(v: PyValue): void {
    if (v === null) return this.byte(0x4e);
    if (v === true) return this.byte(0x88);
    if (v === false) return this.byte(0x89);
    if (typeof v === 'number' || typeof v === 'bigint') return this.int(v);
    if (typeof v === 'string') return this.str(v);
    if (v instanceof PyFloat) {
      this.byte(0x47);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, v.value, false);
      return this.raw(b);
    }
    if (v instanceof Uint8Array) { this.byte(0x42); this.u32(v.byteLength); return this.raw(v); }
    if (Array.isArray(v)) return this.tuple(v);
    if (v instanceof PyList) {
      this.byte(0x5d);
      for (let i = 0; i < v.items.length; i += 1000) {
        this.byte(0x28);
        for (const x of v.items.slice(i, i + 1000)) this.value(x);
        this.byte(0x65);
      }
      return;
    }
    if (v instanceof PyRef) return this.global(v);
    if (v instanceof PyCall) { this.global(v.fn); this.tuple(v.args); this.byte(0x52); return; }
    if (v instanceof PersistentId) { this.value(v.pid); this.byte(0x51); return; }
    if (v instanceof Map) return this.dictItems(v, () => this.byte(0x7d));
    throw new Error(`pickler: cannot pickle ${typeof v}`);
  }

  /** Emits `start()` (which pushes an empty dict-like object) then its items in SETITEMS batches of 1000. */
  dictItems(m: Map<PyValue, PyValue>, start: () => void): void {
    start();
    const entries = [...m.entries()];
    for (let i = 0; i < entries.length; i += 1000) {
      this.byte(0x28);
      for (const [k, x] of entries.slice(i, i + 1000)) { this.value(k); this.value(x); }
      this.byte(0x75);
    }
  }

  /** An OrderedDict: collections.OrderedDict() then SETITEMS. */
  orderedDict(m: Map<PyValue, PyValue>): void {
    this.dictItems(m, () => this.value(new PyCall(new PyRef('collections', 'OrderedDict'), [])));
  }

  /** PROTO 2, the top value, STOP; returns the bytes. */
  static dumps(top: (p: Pickler) => void): Uint8Array {
    const p = new Pickler();
    p.byte(0x80, 2);
    top(p);
    p.byte(0x2e);
    p.chunks.push(p.buf.subarray(0, p.len));
    return Buffer.concat(p.chunks);
  }
}
