// Device tensors end to end (Tensor.to('cuda'), ops, autograd, Adam/SGD, Module.to, deviceScope,
// the caching allocator) on the emulated CUDA driver test/cuda/emu/fake_libcuda.cpp: the addon's
// whole CUDA path runs, with kernels executed on the CPU. Needs g++ (skipped otherwise). Says
// nothing about real-GPU timing or hardware numerics: test/cuda/device-gpu.test.ts covers a GPU.
import { describe, expect, it } from 'vitest';
import { NVCC_FAILED, emulatedDriverGate } from '../helpers/cuda-emulated.js';
import { compileEmu, gxxVersion } from '../helpers/gxx.js';

const gxx = gxxVersion();
if (gxx) process.env.SEAM_LIBCUDA = compileEmu('libcuda-emu-device.so', ['fake_libcuda.cpp'], ['-shared', '-fPIC']);
const { cudaStatus } = await import('../../src/backend/cuda-native.js');
const { defineDeviceTests } = await import('../helpers/cuda-device-step.js');
const status = gxx ? cudaStatus() : null;
// No nvcc (or SEAM_NO_CUDA=1), or CUDA otherwise unavailable: skip. nvcc failed on kernels/*.cu: fail.
const gate = emulatedDriverGate(gxx, status);
const why = gate.skip || (!gate.nvccError && !status?.available ? status?.reason : '');

describe.skipIf(Boolean(why))(why ? `device tensors on the emulated driver (skipped: ${why})` : 'device tensors on the emulated CUDA driver', () => {
  it('runs on the stand-in driver', () => {
    expect(gate.nvccError, NVCC_FAILED).toBe('');
    expect(status?.device).toMatch(/emulation/);
  });
  if (!gate.nvccError) defineDeviceTests();
});
