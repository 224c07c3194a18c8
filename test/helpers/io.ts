/** Shared helpers for the io tests. */
import { expect } from 'vitest';
export { goldenPath, fixture, tmp } from './shared.js';
export { itNeeds } from './golden.js';
import type { RawTensor, StateDict } from '../../src/io/types.js';


export function bytesOfTensor(t: RawTensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** Same keys (in order), dtypes, shapes and bytes. */
export function expectSameStateDict(a: StateDict, b: StateDict): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of a) {
    const u = b.get(k)!;
    expect({ k, dtype: u.dtype, shape: u.shape }).toEqual({ k, dtype: t.dtype, shape: t.shape });
    expect(bytesOfTensor(u).equals(bytesOfTensor(t)), `bytes of ${k}`).toBe(true);
  }
}

/** Expects `fn` to throw an Error whose message matches `re`. */
export function expectError(fn: () => unknown, re: RegExp): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error matching ${re}`).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(re);
}

export const f32 = (shape: number[], values: number[]): RawTensor => ({ dtype: 'f32', shape, data: Float32Array.from(values) });
