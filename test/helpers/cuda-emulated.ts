// When the suites on the emulated CUDA driver (test/cuda/emu/fake_libcuda.cpp) run. They need g++
// and an addon with CUDA kernels. An addon built without kernels for want of nvcc (or with
// SEAM_NO_CUDA=1) makes them skip with build.rs's note; one whose build found nvcc but saw it
// fail on kernels/*.cu makes them fail with nvcc's error, since that is a broken build.
import type { CudaStatus } from '../../src/backend/cuda-native.js';

export interface EmulatedGate {
  /** why the suite skips ('' when it runs) */
  skip: string;
  /** nvcc's error when it failed at build time ('' otherwise): the suite must fail with it */
  nvccError: string;
}

export function emulatedDriverGate(gxx: string | null, status: CudaStatus | null): EmulatedGate {
  if (!gxx) return { skip: 'g++ not found', nvccError: '' };
  if (status?.nvccFailed) return { skip: '', nvccError: status.build };
  if (status?.build) return { skip: `the addon has no CUDA kernels: ${status.build}`, nvccError: '' };
  return { skip: '', nvccError: '' };
}

/** The message of the expectation that fails a suite when nvcc failed. */
export const NVCC_FAILED = 'nvcc was found but failed to compile kernels/*.cu when the addon was built';
