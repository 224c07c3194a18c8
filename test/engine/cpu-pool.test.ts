// The CPU buffer pool: recycled buffers are handed out again by size, within a bound; when full,
// the sizes used least recently make room (an earlier phase's sizes never crowd out the current one's).
import { afterEach, describe, expect, it } from 'vitest';
import { recycle, setSpareFloatLimit, spareFloatCount, uninitF32 } from '../../src/backend/cpu-pool.js';

// sizes no other test allocates, so the pool holds only ours of them
const A = [7, 13, 61];   // 5551 floats
const B = [11, 17, 31];  // 5797 floats
const C = [5, 19, 67];   // 6365 floats

let limit: number | null = null;
afterEach(() => {
  if (limit !== null) setSpareFloatLimit(limit);
  limit = null;
});

describe('the CPU buffer pool', () => {
  it('when full, drops the sizes used least recently to take a new one', () => {
    const held = spareFloatCount();
    limit = setSpareFloatLimit(held + 5551 * 2 + 5797);
    const a = [uninitF32(A), uninitF32(A)];
    const b = uninitF32(B);
    for (const t of [...a, b]) recycle(t.f32.buffer);
    expect(spareFloatCount()).toBe(held + 5551 * 2 + 5797);
    expect(uninitF32(B).f32.buffer, 'B was pooled').toBe(b.f32.buffer); // B is now the most recent size
    recycle(b.f32.buffer);
    // no room for C: the A buffers (used least recently) go, B stays
    const c = uninitF32(C);
    recycle(c.f32.buffer);
    expect(uninitF32(C).f32.buffer, 'C was taken in').toBe(c.f32.buffer);
    expect(uninitF32(B).f32.buffer, 'B survived').toBe(b.f32.buffer);
    const againA = uninitF32(A);
    expect(a.map((t) => t.f32.buffer)).not.toContain(againA.f32.buffer);
  });

  it('never holds more than its limit, and a buffer larger than the limit is not kept', () => {
    const held = spareFloatCount();
    limit = setSpareFloatLimit(held + 6000);
    for (const t of [uninitF32(A), uninitF32(B), uninitF32(C)]) {
      recycle(t.f32.buffer);
      expect(spareFloatCount()).toBeLessThanOrEqual(held + 6000);
    }
    setSpareFloatLimit(5000);
    expect(spareFloatCount()).toBeLessThanOrEqual(5000);
    recycle(uninitF32(C).f32.buffer);
    expect(spareFloatCount()).toBeLessThanOrEqual(5000);
  });
});
