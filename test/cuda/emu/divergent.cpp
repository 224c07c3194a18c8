// A deliberately wrong kernel (threads return before a barrier the others wait at): the emulator
// must report it (exit status 3) instead of hanging or passing. Used by test/cuda/emu.test.ts.
#include "../../../kernels/common.cuh"

SEAM_KERNEL void divergent_f32(float* x) {
    if (threadIdx.x >= 16) return;
    __syncthreads();
    x[threadIdx.x] = 1.0f;
}

int main() {
    float x[64] = {};
    EMU_LAUNCH(divergent_f32, dim3(1), dim3(64), x);
    return 0;
}
