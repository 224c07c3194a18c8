// Device tensors on a real GPU: the same checks as test/cuda/device.test.ts. Reported as SKIPPED
// (with the reason in its title) wherever the addon finds no usable CUDA device, never as passed.
import { describe, expect, it } from 'vitest';
import { cudaStatus } from '../../src/backend/cuda-native.js';
import { defineDeviceTests } from '../helpers/cuda-device-step.js';

const status = cudaStatus();
const emulated = status.device?.includes('emulation') ?? false;

describe.skipIf(!status.available || emulated)(
  status.available && !emulated
    ? `device tensors on ${status.device} (cc ${status.cc})`
    : `device tensors on a GPU (skipped: ${emulated ? 'SEAM_LIBCUDA points at the emulator' : status.reason})`,
  () => defineDeviceTests(),
);

describe.skipIf(status.available)('--device cuda without a usable device', () => {
  it('fails with the reason from cudaAvailable; a bad --device value is a usage error', async () => {
    const { deviceFlag } = await import('../../src/cli/reengineer.js');
    const { Tensor } = await import('../../src/tensor/tensor.js');
    expect(() => deviceFlag('cuda')).toThrow(`--device cuda: CUDA is not available: ${status.reason}`);
    expect(() => deviceFlag('gpu')).toThrow(/--device must be cpu or cuda/);
    expect(deviceFlag(undefined)).toBe('cpu');
    expect(() => Tensor.ones([2]).to('cuda')).toThrow(/^to: CUDA is not available: /);
  });
});
