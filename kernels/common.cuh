// Shared by every kernels/*.cu: launch constants, grid-stride loops, warp/block reductions, and
// the compile-time switches.
//
// Switches
//   SEAM_CUDA_MMA  defined by build.rs for nvcc: gemm_tf32_f32 issues the tensor-core
//                  `mma.sync.m16n8k8.tf32` instruction on sm_80+. Undefined (the emulation under
//                  test/cuda-emu, or an nvcc build without it) gives the portable path: the same
//                  fragment layout computed with warp shuffles and FMAs.
//   SEAM_EMU       defined by test/cuda-emu/emu.h, which makes these sources plain C++ for g++.
//
// Rules every kernel follows (the emulation checks the first two):
//   - every thread of a block reaches every __syncthreads (no early return before a barrier);
//   - warp shuffles are called by all 32 lanes of a warp (block sizes are multiples of 32);
//   - sizes arrive as int (the Rust launchers check they fit), element loops index in long long;
//   - results never depend on scheduling: no float atomics, reductions in a fixed tree order.
#ifndef SEAM_COMMON_CUH
#define SEAM_COMMON_CUH

#define SEAM_KERNEL extern "C" __global__

// Threads per block for 1-D kernels, and the cap on their grid (grid-stride loops cover the rest).
// native/cuda/launch.rs mirrors these numbers.
#define SEAM_THREADS 256
#define SEAM_MAX_BLOCKS 4096

// for (long long i = global thread index; i < n; i += total threads)
#define SEAM_GRID_LOOP(i, n)                                                          \
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (long long)(n); \
         i += (long long)blockDim.x * gridDim.x)

__device__ __forceinline__ double seam_warp_sum(double v) {
    for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off);
    return v;
}

__device__ __forceinline__ float seam_warp_max(float v) {
    for (int off = 16; off > 0; off >>= 1) {
        float o = __shfl_down_sync(0xffffffffu, v, off);
        v = (o > v || o != o) ? o : v;  // NaN wins, like the CPU's max scan
    }
    return __shfl_sync(0xffffffffu, v, 0);
}

// Sum over the block in a fixed order; every thread of the block must call it; every thread gets
// the total. blockDim.x must be a multiple of 32 and at most 1024.
__device__ __forceinline__ double seam_block_sum(double v) {
    __shared__ double part[32];
    __shared__ double total;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = seam_warp_sum(v);
    __syncthreads();  // the previous call's readers are done with part/total
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        double w = (lane < (int)(blockDim.x >> 5)) ? part[lane] : 0.0;
        w = seam_warp_sum(w);
        if (lane == 0) total = w;
    }
    __syncthreads();
    return total;
}

#endif  // SEAM_COMMON_CUH
