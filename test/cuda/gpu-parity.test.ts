// CUDA parity on a real GPU: every CUDA launcher against its CPU twin. Runs only where the addon
// reports a usable CUDA device; elsewhere the suite is reported as SKIPPED (with the reason in its
// title), never as passed. Without a GPU, one test checks that CUDA calls fail cleanly instead.
import { describe, expect, it } from 'vitest';
import { cudaNative, cudaStatus } from '../../src/backend/cuda-native.js';
import { defineCudaParity } from '../helpers/cuda-parity.js';

const status = cudaStatus();
const emulated = status.device?.includes('emulation') ?? false;

describe.skipIf(!status.available || emulated)(
  status.available && !emulated
    ? `CUDA parity on ${status.device} (cc ${status.cc}, ${status.image})`
    : `CUDA parity on a GPU (skipped: ${emulated ? 'SEAM_LIBCUDA points at the emulator' : status.reason})`,
  () => defineCudaParity(cudaNative),
);

describe.skipIf(status.available)('CUDA without a usable device', () => {
  it('reports why, and every CUDA call throws that reason instead of crashing', () => {
    expect(status.available).toBe(false);
    expect(status.reason.length).toBeGreaterThan(0);
    expect(() => cudaNative.cudaAlloc(4)).toThrow(/^cudaAlloc: CUDA is not available: /);
    expect(() => cudaNative.cudaConv2dForward(1, 2, null, 3, new Int32Array(14))).toThrow(/^cudaConv2dForward: CUDA is not available/);
    expect(() => cudaNative.cudaSum(1)).toThrow(/not available/);
  });
});
