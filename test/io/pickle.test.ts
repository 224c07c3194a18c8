import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ndarrayTensor, pyGet, unpickle, unpickleAt } from '../../src/io/pickle.js';
import { Pickler, PyCall, PyFloat, PyList, PyRef, type PyValue } from '../../src/io/pickle-write.js';
import { TensorRef } from '../../src/io/pickle-globals.js';
import { expectError, fixture, tmp } from '../helpers/io.js';

/** Bytes from pieces: numbers are single bytes, strings latin-1. */
const P = (...parts: (number | string)[]): Uint8Array =>
  Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : Buffer.from(p, 'latin1'))));
const u32 = (n: number): string => Buffer.from(new Uint32Array([n]).buffer).toString('latin1');

describe('restricted unpickler', () => {
  it('refuses posix.system through GLOBAL + REDUCE, with the global named and no side effect', () => {
    const dir = tmp();
    const marker = join(dir, 'pwned');
    const cmd = `touch ${marker}`;
    // protocol 2: cposix\nsystem\n (X<len>cmd) tuple REDUCE STOP  -- what pickle.dumps of a malicious __reduce__ gives
    const evil = P(0x80, 2, 'c', 'posix\nsystem\n', 'q', 0, 'X', u32(cmd.length), cmd, 0x85, 'R', '.');
    expectError(() => unpickle(evil), /refusing to load global posix\.system/);
    expect(existsSync(marker)).toBe(false);
    // STACK_GLOBAL (protocol 4), os.system and builtins.eval, INST, nested inside a state dict
    const sg = P(0x80, 4, 0x8c, 2, 'os', 0x8c, 6, 'system', 0x93, 0x8c, cmd.length, cmd, 0x85, 'R', '.');
    expectError(() => unpickle(sg), /refusing to load global os\.system/);
    expectError(() => unpickle(P(0x80, 2, 'c', '__builtin__\neval\n', 'X', u32(4), '1+1;', 0x85, 'R', '.')), /refusing to load global builtins\.eval/);
    expectError(() => unpickle(P('(', 'S', `'${cmd}'\n`, 'i', 'subprocess\ncall\n', '.')), /refusing to load global subprocess\.call/);
    expectError(() => unpickle(P(0x80, 2, '}', 'X', u32(1), 'k', 'c', 'torch.nn.modules.conv\nConv2d\n', 's', '.')), /refusing to load global torch\.nn\.modules\.conv\.Conv2d.*state_dict/);
    expect(existsSync(marker)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it('decodes the opcodes of protocols 0-5', () => {
    // protocol 0 text opcodes
    expect(unpickle(P('(', 'I', '42\n', 'I', '01\n', 'L', '123456789012345678901L\n', 'F', '2.5\n', 'S', "'a\\nb'\n", 'V', 'caf\\u00e9\n', 'N', 'l', 'p', '0\n', 'g', '0\n', '0', '.')))
      .toEqual([42, true, 123456789012345678901n, 2.5, 'a\nb', 'café', null]);
    // binary ints of every width, LONG1 (negative, big), BINFLOAT
    const ints = unpickle(P(0x80, 2, '(', 'K', 255, 'M', 0x34, 0x12, 'J', u32(0xfffffffe), 0x8a, 1, 0xff, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x8a, 0, 'G', 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18, 't', '.'));
    expect(ints).toEqual([255, 0x1234, -2, -1, 2n ** 64n, 0, Math.PI]);
    // strings, bytes, bytearray, containers, memo, sets, frozenset, FRAME, MEMOIZE
    const v = unpickle(P(
      0x80, 5, 0x95, ...new Array(8).fill(0), '}', 0x94, '(', 0x8c, 1, 'a', ']', 0x94, '(', 'K', 1, 'K', 2, 'e', 'K', 3, 'a',
      0x8c, 1, 'b', 'C', 2, 'hi', 0x8c, 1, 'c', 0x96, 2, 0, 0, 0, 0, 0, 0, 0, 'yo', 0x8c, 1, 'd', 0x8f, '(', 'K', 1, 'K', 1, 0x90,
      0x8c, 1, 'e', '(', 'K', 5, 0x91, 0x8c, 1, 'f', 'h', 1, 0x8c, 1, 'g', 0x88, 0x89, 'N', 0x87, 'u', '.'));
    expect(v).toBeInstanceOf(Map);
    const m = v as Map<string, unknown>;
    expect(m.get('a')).toEqual([1, 2, 3]);
    expect(Buffer.from(m.get('b') as Uint8Array).toString()).toBe('hi');
    expect(Buffer.from(m.get('c') as Uint8Array).toString()).toBe('yo');
    expect(m.get('d')).toEqual(new Set([1]));
    expect(m.get('e')).toEqual(new Set([5]));
    expect(m.get('f')).toBe(m.get('a')); // BINGET returns the same object
    expect(m.get('g')).toEqual([true, false, null]);
  });

  it('round-trips what our pickler writes', () => {
    const od = new Map<PyValue, PyValue>([['x', 1], ['y', new PyFloat(0.5)], ['z', ['s', -70000, 2n ** 70n, null, true]], ['w', new PyList([1, 2])]]);
    const bytes = Pickler.dumps((p) => p.orderedDict(od));
    const back = unpickle(bytes) as Map<string, unknown>;
    expect([...back.entries()]).toEqual([['x', 1], ['y', 0.5], ['z', ['s', -70000, 2n ** 70n, null, true]], ['w', [1, 2]]]);
    const t = unpickle(Pickler.dumps((p) => p.value(new PyCall(new PyRef('torch._utils', '_rebuild_tensor_v2'), ['S', 2, [3, 4], [4, 1], false, new Map()]))));
    expect(t).toBeInstanceOf(TensorRef);
    expect((t as TensorRef).size).toEqual([3, 4]);
    const twice = new Uint8Array([...bytes, ...bytes]);
    const first = unpickleAt(twice, 0);
    expect(first.end).toBe(bytes.length);
    expect(unpickleAt(twice, first.end).end).toBe(twice.length);
  });

  it('reads numpy arrays pickled with protocols 2 and 4 (bytes keys, Fortran order, big-endian, scalars)', () => {
    for (const f of ['numpy_p2.pkl', 'numpy_p4.pkl']) {
      const m = unpickle(readFileSync(fixture(f)), { name: f }) as Map<unknown, unknown>;
      const data = ndarrayTensor(pyGet(m, 'data'))!;
      expect(data.dtype).toBe('u8');
      expect(data.shape).toEqual([4, 6]);
      expect([...data.data]).toEqual([...Array(24).keys()]);
      expect(pyGet(m, 'labels')).toEqual([1, 0, 3, 9]);
      const fortran = ndarrayTensor(m.get('fortran'))!;
      expect(fortran.shape).toEqual([2, 3]);
      expect([...fortran.data]).toEqual([0, 1, 2, 3, 4, 5]);
      expect([...ndarrayTensor(m.get('big'))!.data]).toEqual([0, 1, 2]);
      expect([...ndarrayTensor(m.get('i64'))!.data]).toEqual([-1n, 2n ** 40n]);
      expect([...ndarrayTensor(m.get('f64'))!.data]).toEqual([0.5, -2.25]);
      expect(m.get('scalar')).toBe(1.5);
      expect([...ndarrayTensor(m.get('b'))!.data]).toEqual([1, 0]);
    }
  });

  it('reads a Python 2 style CIFAR batch (SHORT_BINSTRING keys, BINSTRING array data)', () => {
    const pixels = '\x00\x01\x02\xfd\xfe\xff';
    const stream = P(
      0x80, 2, '}', 'q', 0, '(',
      'U', 4, 'data', 'c', 'numpy.core.multiarray\n_reconstruct\n', 'c', 'numpy\nndarray\n', 'K', 0, 0x85, 'U', 1, 'b', 0x87, 'R',
      '(', 'K', 1, 'K', 2, 'K', 3, 0x86, 'c', 'numpy\ndtype\n', 'U', 2, 'u1', 'K', 0, 'K', 1, 0x87, 'R',
      '(', 'K', 3, 'U', 1, '|', 'N', 'N', 'N', 'J', u32(0xffffffff), 'J', u32(0xffffffff), 'K', 0, 't', 'b',
      0x89, 'T', u32(6), pixels, 't', 'b',
      'U', 6, 'labels', ']', '(', 'K', 1, 'K', 7, 'e', 'u', '.');
    const m = unpickle(stream, { name: 'data_batch_1' }) as Map<unknown, unknown>;
    const data = ndarrayTensor(pyGet(m, 'data'))!;
    expect(data).toEqual({ dtype: 'u8', shape: [2, 3], data: Uint8Array.from([0, 1, 2, 253, 254, 255]) });
    expect(pyGet(m, 'labels')).toEqual([1, 7]);
  });

  it('fails cleanly on truncated, malformed and oversized streams', () => {
    const good = Pickler.dumps((p) => p.orderedDict(new Map<PyValue, PyValue>([['a', [1, 2, 3]], ['b', 'text']])));
    for (let n = 0; n < good.length; n++) expectError(() => unpickle(good.subarray(0, n), { name: 'cut.pkl' }), /pickle cut\.pkl: .*(truncated|underflow|no MARK|STOP)/);
    expectError(() => unpickle(P(0x80, 2, 'h', 9, '.')), /memo key 9 not found/);
    expectError(() => unpickle(P(0x80, 2, 'X', u32(0xfffffff0), 'abc', '.')), /truncated stream: need 4294967280 bytes/);
    expectError(() => unpickle(P(0x80, 9, '.')), /unsupported pickle protocol 9/);
    expectError(() => unpickle(P(0x80, 2, 0xff)), /unknown opcode 0xff/);
    expectError(() => unpickle(P(0x80, 2, 'K', 1, 'K', 2, '.')), /STOP with 2 items/);
    expectError(() => unpickle(P(0x80, 2, 'K', 0, 'K', 1, 'K', 2, 's', '.')), /SETITEM on number/);
    expectError(() => unpickle(P(0x80, 2, 'K', 1, 0x82, 1, '.')), /extension-registry/);
    expectError(() => unpickle(P(0x80, 2, 'K', 1, 'Q', '.')), /persistent id in a stream that allows none/);
    expectError(() => unpickle(P(0x80, 2, ...new Array(20).fill(0x28), 'N', '.'), { maxMarks: 10 }), /too many MARKs/);
    expectError(() => unpickle(P(0x80, 2, 'N', ...new Array(20).fill(0x32), '.'), { maxStack: 10 }), /stack exceeds 10 items/);
    expectError(() => unpickle(P(0x80, 2, 'N', 'r', u32(1), 'r', u32(2), 'r', u32(3), '.'), { maxMemo: 2 }), /memo exceeds 2 entries/);
    expectError(() => unpickle(P(0x80, 2, 0x8b, u32(100000), '.')), /LONG4 length 100000 out of range/);
    expectError(() => unpickle(P(0x80, 2, 'c', 'torch._utils\n_rebuild_tensor_v2\n', ')', 'R', '.')), /_rebuild_tensor needs at least 4 arguments/);
  });
});
