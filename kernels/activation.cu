// ReLU. CPU twins (src/native.ts): relu, reluBackward. Emulation reference: test/cuda-emu/ref.h.
#include "common.cuh"

// y = max(x, 0); NaN becomes 0 like the CPU's comparison form.
SEAM_KERNEL void relu_f32(const float* x, float* y, int n) {
    SEAM_GRID_LOOP(i, n) {
        const float v = x[i];
        y[i] = v > 0.0f ? v : 0.0f;
    }
}

// gx = y > 0 ? gy : 0
SEAM_KERNEL void relu_backward_f32(const float* __restrict__ y, const float* __restrict__ gy,
                                   float* __restrict__ gx, int n) {
    SEAM_GRID_LOOP(i, n) gx[i] = y[i] > 0.0f ? gy[i] : 0.0f;
}
