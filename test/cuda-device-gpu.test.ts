// Device tensors on a real GPU: the same checks as test/cuda-device.test.ts. Reported as SKIPPED
// (with the reason in its title) wherever the addon finds no usable CUDA device, never as passed.
import { describe } from 'vitest';
import { cudaStatus } from '../src/backend/cuda-native.js';
import { defineDeviceTests } from './cuda/device-step.js';

const status = cudaStatus();
const emulated = status.device?.includes('emulation') ?? false;

describe.skipIf(!status.available || emulated)(
  status.available && !emulated
    ? `device tensors on ${status.device} (cc ${status.cc})`
    : `device tensors on a GPU (skipped: ${emulated ? 'SEAM_LIBCUDA points at the emulator' : status.reason})`,
  () => defineDeviceTests(),
);
