// Device tensors end to end (Tensor.to('cuda'), ops, autograd, Adam/SGD, Module.to, deviceScope,
// the caching allocator) on the emulated CUDA driver test/cuda/emu/fake_libcuda.cpp: the addon's
// whole CUDA path runs, with kernels executed on the CPU. Needs g++ (skipped otherwise). Says
// nothing about real-GPU timing or hardware numerics: test/cuda/device-gpu.test.ts covers a GPU.
import { describe, expect, it } from 'vitest';
import { compileEmu, gxxVersion } from '../helpers/gxx.js';

const gxx = gxxVersion();
if (gxx) process.env.SEAM_LIBCUDA = compileEmu('libcuda-emu-device.so', ['fake_libcuda.cpp'], ['-shared', '-fPIC']);
const { cudaStatus } = await import('../../src/backend/cuda-native.js');
const { defineDeviceTests } = await import('../helpers/cuda-device-step.js');
const status = gxx ? cudaStatus() : null;
const why = !gxx ? 'g++ not found' : status?.build ? `the addon has no CUDA kernels: ${status.build}` : !status?.available ? status?.reason : '';

describe.skipIf(Boolean(why))(why ? `device tensors on the emulated driver (skipped: ${why})` : 'device tensors on the emulated CUDA driver', () => {
  it('runs on the stand-in driver', () => expect(status?.device).toMatch(/emulation/));
  defineDeviceTests();
});
