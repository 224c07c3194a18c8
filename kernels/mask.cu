// SeaM's masks. CPU twins (src/native.ts): maskedWeight, maskGrad. Emulation reference:
// test/cuda-emu/ref.h.
#include "common.cuh"

// out = w * (m > 0)   (the forward weight of a masked Conv2d/Linear)
SEAM_KERNEL void masked_weight_f32(const float* __restrict__ w, const float* __restrict__ m,
                                   float* __restrict__ out, int n) {
    SEAM_GRID_LOOP(i, n) out[i] = m[i] > 0.0f ? w[i] : 0.0f * w[i];
}

// gm = clamp(gWeff * w, -1, 1): the straight-through mask gradient. NaN propagates.
SEAM_KERNEL void mask_grad_f32(const float* __restrict__ g, const float* __restrict__ w,
                               float* __restrict__ gm, int n) {
    SEAM_GRID_LOOP(i, n) {
        const float v = g[i] * w[i];
        gm[i] = v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
    }
}
