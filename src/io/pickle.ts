/**
 * A restricted unpickler (protocols 0-5). It is a stack machine over the opcode stream that builds
 * plain JS data: None -> null, bool, int -> number (bigint beyond 2^53), float -> number, str -> string,
 * bytes/bytearray -> Uint8Array, list/tuple -> Array, dict/OrderedDict -> Map, set/frozenset -> Set.
 * Python 2 strings (STRING/BINSTRING) become latin-1 JS strings, as numpy's `encoding='latin1'` expects.
 *
 * Globals (GLOBAL, STACK_GLOBAL, INST) resolve only through the whitelist in pickle-globals.ts into
 * data-only constructors; any other name throws "refusing to load global module.name". Nothing is
 * imported or executed. Persistent ids go to the caller's `persistentLoad`. The stream, the stack,
 * the mark stack and the memo are bounded; every read is checked, so a bad stream throws, never hangs.
 */
import type { RawTensor } from './types.js';
import { resolveGlobal, callGlobal, buildObject, NdArray, PyGlobal } from './pickle-globals.js';

export interface UnpickleOptions {
  /** Called for BINPERSID / PERSID with the persistent id; its result is pushed. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Name for error messages (file and entry). */
  name?: string;
  maxStack?: number;
  maxMemo?: number;
  maxMarks?: number;
}

export class PickleError extends Error {}

/** Unpickles one complete stream; bytes after its STOP are ignored. */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions = {}): unknown {
  return new Unpickler(bytes, opts).load();
}

/** Unpickles the stream starting at `start`; returns the value and the offset just past its STOP. */
export function unpickleAt(bytes: Uint8Array, start: number, opts: UnpickleOptions = {}): { value: unknown; end: number } {
  const u = new Unpickler(bytes, opts, start);
  const value = u.load();
  return { value, end: u.offset };
}

class Unpickler {
  private pos = 0;
  private stack: unknown[] = [];
  private marks: number[] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;
  private readonly name: string;
  private readonly maxStack: number;
  private readonly maxMemo: number;
  private readonly maxMarks: number;
  private opPos = 0;

  constructor(private readonly b: Uint8Array, private readonly opts: UnpickleOptions, start = 0) {
    this.pos = start;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.name = opts.name ?? '<pickle>';
    this.maxStack = opts.maxStack ?? 10_000_000;
    this.maxMemo = opts.maxMemo ?? 10_000_000;
    this.maxMarks = opts.maxMarks ?? 100_000;
  }

  get offset(): number {
    return this.pos;
  }

  private fail(msg: string): never {
    throw new PickleError(`pickle ${this.name}: ${msg} (opcode at offset ${this.opPos})`);
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.b.byteLength) this.fail(`truncated stream: need ${n} bytes at offset ${this.pos}, have ${this.b.byteLength - this.pos}`);
  }
  private u8(): number { this.need(1); return this.b[this.pos++]!; }
  private u16(): number { this.need(2); const v = this.view.getUint16(this.pos, true); this.pos += 2; return v; }
  private i32(): number { this.need(4); const v = this.view.getInt32(this.pos, true); this.pos += 4; return v; }
  private u32(): number { this.need(4); const v = this.view.getUint32(this.pos, true); this.pos += 4; return v; }
  private u64(): number {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(this.b.byteLength)) this.fail(`length ${v} exceeds the stream size`);
    return Number(v);
  }
  private bytes(n: number): Uint8Array { this.need(n); const s = this.b.subarray(this.pos, this.pos + n); this.pos += n; return s; }
  private line(): string {
    const end = this.b.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('truncated stream: missing newline');
    const s = Buffer.from(this.b.buffer, this.b.byteOffset + this.pos, end - this.pos).toString('latin1');
    this.pos = end + 1;
    return s.endsWith('\r') ? s.slice(0, -1) : s;
  }
  private utf8(n: number): string { return Buffer.from(this.bytes(n)).toString('utf8'); }

  private push(v: unknown): void {
    if (this.stack.length >= this.maxStack) this.fail(`stack exceeds ${this.maxStack} items`);
    this.stack.push(v);
  }
  private pop(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.stack.length <= this.marks[this.marks.length - 1]!)) this.fail('stack underflow');
    return this.stack.pop();
  }
  private top(): unknown {
    if (this.stack.length === 0 || (this.marks.length > 0 && this.stack.length <= this.marks[this.marks.length - 1]!)) this.fail('stack underflow');
    return this.stack[this.stack.length - 1];
  }
  private popMark(): unknown[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail('no MARK on the stack');
    return this.stack.splice(m);
  }
  private put(i: number): void {
    if (!this.memo.has(i) && this.memo.size >= this.maxMemo) this.fail(`memo exceeds ${this.maxMemo} entries`);
    this.memo.set(i, this.top());
  }
  private get(i: number): void {
    if (!this.memo.has(i)) this.fail(`memo key ${i} not found`);
    this.push(this.memo.get(i));
  }
  private long(bytes: Uint8Array): number | bigint {
    if (bytes.length === 0) return 0;
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    if (bytes[bytes.length - 1]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
    return small(v);
  }
  private global(module: string, name: string): void {
    this.push(resolveGlobal(module, name, this.name));
  }
  private call(fn: unknown, args: unknown, op: string): unknown {
    if (!(fn instanceof PyGlobal)) this.fail(`${op} on a non-callable ${describe(fn)}`);
    if (!Array.isArray(args)) this.fail(`${op} arguments are not a tuple`);
    return callGlobal(fn, args, this.name);
  }
  private setItems(target: unknown, items: unknown[]): void {
    if (items.length % 2 !== 0) this.fail('odd number of items for SETITEMS');
    if (!(target instanceof Map)) this.fail(`SETITEM on ${describe(target)}`);
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  }
  private append(target: unknown, items: unknown[]): void {
    if (Array.isArray(target)) for (const x of items) target.push(x);
    else if (target instanceof Set) for (const x of items) target.add(x);
    else this.fail(`APPEND on ${describe(target)}`);
  }

  load(): unknown {
    const b = this.b;
    while (this.pos < b.byteLength) {
      this.opPos = this.pos;
      const op = b[this.pos++]!;
      switch (op) {
        case 0x80: { const p = this.u8(); if (p > 5) this.fail(`unsupported pickle protocol ${p}`); break; } // PROTO
        case 0x95: this.u64(); break; // FRAME: framing is only a hint for buffered readers
        case 0x2e: { // STOP
          if (this.stack.length !== 1 || this.marks.length !== 0) this.fail(`STOP with ${this.stack.length} items on the stack`);
          return this.stack.pop();
        }
        case 0x28: if (this.marks.length >= this.maxMarks) this.fail('too many MARKs'); this.marks.push(this.stack.length); break; // MARK
        case 0x30: this.pop(); break; // POP
        case 0x31: this.popMark(); break; // POP_MARK
        case 0x32: this.push(this.top()); break; // DUP
        case 0x7d: this.push(new Map()); break; // EMPTY_DICT
        case 0x5d: this.push([]); break; // EMPTY_LIST
        case 0x29: this.push([]); break; // EMPTY_TUPLE
        case 0x8f: this.push(new Set()); break; // EMPTY_SET
        case 0x74: this.push(this.popMark()); break; // TUPLE
        case 0x6c: this.push(this.popMark()); break; // LIST
        case 0x85: this.push([this.pop()]); break; // TUPLE1
        case 0x86: { const y = this.pop(); const x = this.pop(); this.push([x, y]); break; } // TUPLE2
        case 0x87: { const z = this.pop(); const y = this.pop(); const x = this.pop(); this.push([x, y, z]); break; } // TUPLE3
        case 0x64: { const m = new Map(); this.setItems(m, this.popMark()); this.push(m); break; } // DICT
        case 0x91: this.push(new Set(this.popMark())); break; // FROZENSET
        case 0x90: { const items = this.popMark(); this.append(this.top(), items); break; } // ADDITEMS
        case 0x73: { const v = this.pop(); const k = this.pop(); this.setItems(this.top(), [k, v]); break; } // SETITEM
        case 0x75: { const items = this.popMark(); this.setItems(this.top(), items); break; } // SETITEMS
        case 0x61: { const v = this.pop(); this.append(this.top(), [v]); break; } // APPEND
        case 0x65: { const items = this.popMark(); this.append(this.top(), items); break; } // APPENDS
        case 0x4e: this.push(null); break; // NONE
        case 0x88: this.push(true); break; // NEWTRUE
        case 0x89: this.push(false); break; // NEWFALSE
        case 0x4a: this.push(this.i32()); break; // BININT
        case 0x4b: this.push(this.u8()); break; // BININT1
        case 0x4d: this.push(this.u16()); break; // BININT2
        case 0x8a: this.push(this.long(this.bytes(this.u8()))); break; // LONG1
        case 0x8b: { const n = this.i32(); if (n < 0 || n > 4096) this.fail(`LONG4 length ${n} out of range`); this.push(this.long(this.bytes(n))); break; }
        case 0x49: this.push(parseIntLine(this.line(), (m) => this.fail(m))); break; // INT
        case 0x4c: this.push(parseIntLine(this.line().replace(/L$/, ''), (m) => this.fail(m))); break; // LONG
        case 0x47: { this.need(8); const v = this.view.getFloat64(this.pos, false); this.pos += 8; this.push(v); break; } // BINFLOAT
        case 0x46: { const s = this.line(); const v = Number(s); if (Number.isNaN(v) && !/nan/i.test(s)) this.fail(`bad FLOAT ${s}`); this.push(v); break; }
        case 0x58: this.push(this.utf8(this.u32())); break; // BINUNICODE
        case 0x8c: this.push(this.utf8(this.u8())); break; // SHORT_BINUNICODE
        case 0x8d: this.push(this.utf8(this.u64())); break; // BINUNICODE8
        case 0x56: this.push(rawUnicodeEscape(this.line())); break; // UNICODE
        case 0x42: this.push(new Uint8Array(this.bytes(this.u32()))); break; // BINBYTES
        case 0x43: this.push(new Uint8Array(this.bytes(this.u8()))); break; // SHORT_BINBYTES
        case 0x8e: this.push(new Uint8Array(this.bytes(this.u64()))); break; // BINBYTES8
        case 0x96: this.push(new Uint8Array(this.bytes(this.u64()))); break; // BYTEARRAY8
        case 0x54: { const n = this.i32(); if (n < 0) this.fail('negative BINSTRING length'); this.push(Buffer.from(this.bytes(n)).toString('latin1')); break; }
        case 0x55: this.push(Buffer.from(this.bytes(this.u8())).toString('latin1')); break; // SHORT_BINSTRING
        case 0x53: this.push(pyStringLiteral(this.line(), (m) => this.fail(m))); break; // STRING
        case 0x71: this.put(this.u8()); break; // BINPUT
        case 0x72: this.put(this.u32()); break; // LONG_BINPUT
        case 0x94: this.put(this.memo.size); break; // MEMOIZE
        case 0x70: this.put(parseIndex(this.line(), (m) => this.fail(m))); break; // PUT
        case 0x68: this.get(this.u8()); break; // BINGET
        case 0x6a: this.get(this.u32()); break; // LONG_BINGET
        case 0x67: this.get(parseIndex(this.line(), (m) => this.fail(m))); break; // GET
        case 0x63: { const m = this.line(); const n = this.line(); this.global(m, n); break; } // GLOBAL
        case 0x93: { // STACK_GLOBAL
          const n = this.pop(); const m = this.pop();
          if (typeof m !== 'string' || typeof n !== 'string') this.fail('STACK_GLOBAL needs two strings');
          this.global(m, n);
          break;
        }
        case 0x52: { const args = this.pop(); const fn = this.pop(); this.push(this.call(fn, args, 'REDUCE')); break; } // REDUCE
        case 0x81: { const args = this.pop(); const cls = this.pop(); this.push(this.call(cls, args, 'NEWOBJ')); break; } // NEWOBJ
        case 0x92: { this.pop(); const args = this.pop(); const cls = this.pop(); this.push(this.call(cls, args, 'NEWOBJ_EX')); break; }
        case 0x69: { const m = this.line(); const n = this.line(); const args = this.popMark(); this.push(this.call(resolveGlobal(m, n, this.name), args, 'INST')); break; }
        case 0x6f: { const items = this.popMark(); if (items.length === 0) this.fail('OBJ without a class'); this.push(this.call(items[0], items.slice(1), 'OBJ')); break; }
        case 0x62: { const state = this.pop(); buildObject(this.top(), state, this.name); break; } // BUILD
        case 0x51: this.push(this.persistent(this.pop())); break; // BINPERSID
        case 0x50: this.push(this.persistent(this.line())); break; // PERSID
        case 0x82: case 0x83: case 0x84: this.fail('extension-registry opcodes (EXT1/2/4) are not supported');
        // falls through (fail never returns)
        case 0x97: case 0x98: this.fail('out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported');
        // falls through
        default: this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
    this.fail('truncated stream: no STOP opcode');
  }

  private persistent(pid: unknown): unknown {
    if (!this.opts.persistentLoad) this.fail('persistent id in a stream that allows none');
    return this.opts.persistentLoad(pid);
  }
}

function small(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseIntLine(s: string, fail: (m: string) => never): number | bigint | boolean {
  if (s === '01') return true;
  if (s === '00') return false;
  if (!/^[-+]?\d{1,4300}$/.test(s)) fail(`bad integer literal ${JSON.stringify(s.slice(0, 40))}`);
  return small(BigInt(s));
}

function parseIndex(s: string, fail: (m: string) => never): number {
  if (!/^\d{1,10}$/.test(s)) fail(`bad memo index ${JSON.stringify(s.slice(0, 40))}`);
  return Number(s);
}

/** Protocol-0 STRING: a quoted Python literal with backslash escapes. */
function pyStringLiteral(s: string, fail: (m: string) => never): string {
  const q = s[0];
  if (s.length < 2 || (q !== "'" && q !== '"') || s[s.length - 1] !== q) fail('STRING argument is not quoted');
  const body = s.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    const map: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v' };
    return map[e] ?? `\\${e}`;
  });
}

/** Protocol-0 UNICODE: raw-unicode-escape (only \uXXXX and \UXXXXXXXX are escapes). */
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u?: string, U?: string) => {
    const cp = parseInt((u ?? U)!, 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd';
  });
}

/**
 * Looks `key` up in an unpickled dict whose keys may be str or bytes (Python 2 / `encoding='bytes'`
 * pickles such as the CIFAR python batches use b'data', b'labels').
 */
export function pyGet(m: Map<unknown, unknown>, key: string): unknown {
  if (m.has(key)) return m.get(key);
  const want = Buffer.from(key, 'utf8');
  for (const [k, v] of m) if (k instanceof Uint8Array && Buffer.compare(Buffer.from(k.buffer, k.byteOffset, k.byteLength), want) === 0) return v;
  return undefined;
}

/** The RawTensor of an unpickled numpy array (undefined for anything else). */
export function ndarrayTensor(v: unknown): RawTensor | undefined {
  return v instanceof NdArray ? v.tensor : undefined;
}

export function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v instanceof PyGlobal) return `${v.module}.${v.name}`;
  if (Array.isArray(v)) return 'a tuple/list';
  if (v instanceof Map) return 'a dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
