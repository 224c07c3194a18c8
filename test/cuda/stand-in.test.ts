// The CUDA parity suite over the addon's real CUDA path (handles, launchers, parameter packing,
// grid shapes, conv chunking, copies), with libcuda replaced by test/cuda/emu/fake_libcuda.cpp:
// the driver API implemented on the CPU around the emulated kernels, buffers ending at guard
// pages. Needs g++ (skipped otherwise); says nothing about real GPU timing or hardware numerics.
import { describe, expect, it } from 'vitest';
import { NVCC_FAILED, emulatedDriverGate } from '../helpers/cuda-emulated.js';
import { compileEmu, gxxVersion } from '../helpers/gxx.js';

const gxx = gxxVersion();
let lib = '';
if (gxx) {
  lib = compileEmu('libcuda-emu.so', ['fake_libcuda.cpp'], ['-shared', '-fPIC']);
  // read by the addon when CUDA is first touched in this process (vitest runs each file in its own fork)
  process.env.SEAM_LIBCUDA = lib;
  process.env.SEAM_CUDA_CONV_WORKSPACE = '2000'; // floats: forces several image chunks per conv
}
const { cudaNative, cudaStatus } = await import('../../src/backend/cuda-native.js');
const { defineCudaParity } = await import('../helpers/cuda-parity.js');
const status = gxx ? cudaStatus() : null;
// An addon built without kernels (no nvcc, SEAM_NO_CUDA=1) reports CUDA unavailable even here:
// skip; one whose nvcc failed on kernels/*.cu fails below.
const { skip: why, nvccError } = emulatedDriverGate(gxx, status);

describe.skipIf(why !== '')(why ? `CUDA parity on the emulated driver (skipped: ${why})` : 'CUDA parity through the addon on the emulated driver', () => {
  it('the addon loaded the stand-in driver', () => {
    expect(nvccError, NVCC_FAILED).toBe('');
    expect(status?.available, JSON.stringify(status)).toBe(true);
    expect(status?.device).toMatch(/emulation/);
  });
  if (status?.available) defineCudaParity(cudaNative);
});
