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

// Masks over contiguous blocks of a row-major weight: one mask element covers `block` consecutive
// weights (a convolution kernel, an output channel). CPU twins (src/native.ts): maskedWeightBlocks,
// maskGradBlocks (native/kernels/mask_blocks.rs). The launcher sends block = 1 (with bound 1) to the
// per-weight kernels above.

// out[i] = w[i] * (m[i / block] > 0)
SEAM_KERNEL void masked_weight_blocks_f32(const float* __restrict__ w, const float* __restrict__ m,
                                          float* __restrict__ out, int n, int block) {
    SEAM_GRID_LOOP(i, n) out[i] = m[i / block] > 0.0f ? w[i] : 0.0f * w[i];
}

// gm[e] = clamp(sum over block e of g * w, -bound, bound), one thread per mask element; the exact
// float products summed in double in index order, as the CPU twin does, so both give the same bits.
SEAM_KERNEL void mask_grad_blocks_f32(const float* __restrict__ g, const float* __restrict__ w,
                                      float* __restrict__ gm, int nm, int block, float bound) {
    SEAM_GRID_LOOP(e, nm) {
        const long long base = e * block;
        double s = 0.0;
        for (int j = 0; j < block; ++j) s += (double)g[base + j] * (double)w[base + j];
        const float v = (float)s;
        gm[e] = v < -bound ? -bound : (v > bound ? bound : v);
    }
}
