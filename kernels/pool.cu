// Pooling over x[N*C planes][H][W]. CPU twins (src/native.ts): maxPool2dForward/Backward,
// avgPool2dForward/Backward, globalAvgPoolForward/Backward (the forward is reduce.cu's row_sum_f32
// with scale 1/HW). Emulation reference: test/cuda-emu/ref.h.
// Output sizes (PyTorch's, incl. ceil mode) are computed by the launcher and passed in. Backward
// passes gather (each input pixel sums the windows that picked it, in (kh, kw) order): no atomics.
// argmax holds the flat index h*W + w inside the input plane (PyTorch's convention).
#include "common.cuh"

struct SeamPoolGeom {
    int NC, H, W, KH, KW, sH, sW, pH, pW, dH, dW, OH, OW;
};

SEAM_KERNEL void max_pool2d_forward_f32(const float* __restrict__ x, float* __restrict__ y,
                                        int* __restrict__ argmax, SeamPoolGeom g) {
    SEAM_GRID_LOOP(i, (long long)g.NC * g.OH * g.OW) {
        const int ow = (int)(i % g.OW), oh = (int)((i / g.OW) % g.OH);
        const long long nc = i / ((long long)g.OW * g.OH);
        const float* plane = x + nc * g.H * g.W;
        float best = -INFINITY;
        int at = -1;
        for (int kh = 0; kh < g.KH; ++kh) {
            const int h = oh * g.sH - g.pH + kh * g.dH;
            if (h < 0 || h >= g.H) continue;
            for (int kw = 0; kw < g.KW; ++kw) {
                const int w = ow * g.sW - g.pW + kw * g.dW;
                if (w < 0 || w >= g.W) continue;
                const float v = plane[h * g.W + w];
                if (at < 0 || v > best || (v != v && best == best)) {  // first max; NaN wins
                    best = v;
                    at = h * g.W + w;
                }
            }
        }
        y[i] = best;
        argmax[i] = at;
    }
}

// Input pixel (h, w) sits at window offset kh of output row oh when oh*s - p + kh*d == h.
#define SEAM_POOL_WINDOWS(BODY)                                         \
    for (int kh = 0; kh < g.KH; ++kh) {                                 \
        const int th = h + g.pH - kh * g.dH;                            \
        if (th < 0 || th % g.sH != 0 || th / g.sH >= g.OH) continue;    \
        const int oh = th / g.sH;                                       \
        for (int kw = 0; kw < g.KW; ++kw) {                             \
            const int tw = w + g.pW - kw * g.dW;                        \
            if (tw < 0 || tw % g.sW != 0 || tw / g.sW >= g.OW) continue; \
            const int ow = tw / g.sW;                                   \
            BODY                                                        \
        }                                                               \
    }

SEAM_KERNEL void max_pool2d_backward_f32(const float* __restrict__ gy, const int* __restrict__ argmax,
                                         float* __restrict__ gx, SeamPoolGeom g) {
    SEAM_GRID_LOOP(i, (long long)g.NC * g.H * g.W) {
        const int w = (int)(i % g.W), h = (int)((i / g.W) % g.H);
        const long long base = (i / ((long long)g.W * g.H)) * g.OH * g.OW;
        const int self = h * g.W + w;
        float acc = 0.0f;
        SEAM_POOL_WINDOWS({
            const long long o = base + (long long)oh * g.OW + ow;
            if (argmax[o] == self) acc += gy[o];
        })
        gx[i] = acc;
    }
}

namespace seam_pool {
// PyTorch's avg_pool2d divisor for output (oh, ow).
__device__ __forceinline__ int avg_divisor(const SeamPoolGeom& g, int oh, int ow, int countIncludePad) {
    int hs = oh * g.sH - g.pH, ws = ow * g.sW - g.pW;
    int he = min(hs + g.KH, g.H + g.pH), we = min(ws + g.KW, g.W + g.pW);
    const int poolSize = (he - hs) * (we - ws);
    hs = max(hs, 0);
    ws = max(ws, 0);
    he = min(he, g.H);
    we = min(we, g.W);
    return countIncludePad ? poolSize : (he - hs) * (we - ws);
}
}  // namespace seam_pool

// Average pooling has no dilation (PyTorch's); the launcher requires dH = dW = 1.
SEAM_KERNEL void avg_pool2d_forward_f32(const float* __restrict__ x, float* __restrict__ y, SeamPoolGeom g,
                                        int countIncludePad) {
    SEAM_GRID_LOOP(i, (long long)g.NC * g.OH * g.OW) {
        const int ow = (int)(i % g.OW), oh = (int)((i / g.OW) % g.OH);
        const float* plane = x + (i / ((long long)g.OW * g.OH)) * g.H * g.W;
        const int hs = oh * g.sH - g.pH, ws = ow * g.sW - g.pW;
        float acc = 0.0f;
        for (int h = max(hs, 0); h < min(hs + g.KH, g.H); ++h)
            for (int w = max(ws, 0); w < min(ws + g.KW, g.W); ++w) acc += plane[h * g.W + w];
        const int div = seam_pool::avg_divisor(g, oh, ow, countIncludePad);
        y[i] = div > 0 ? acc / (float)div : 0.0f;
    }
}

SEAM_KERNEL void avg_pool2d_backward_f32(const float* __restrict__ gy, float* __restrict__ gx, SeamPoolGeom g,
                                         int countIncludePad) {
    SEAM_GRID_LOOP(i, (long long)g.NC * g.H * g.W) {
        const int w = (int)(i % g.W), h = (int)((i / g.W) % g.H);
        const long long base = (i / ((long long)g.W * g.H)) * g.OH * g.OW;
        float acc = 0.0f;
        SEAM_POOL_WINDOWS({
            const int div = seam_pool::avg_divisor(g, oh, ow, countIncludePad);
            if (div > 0) acc += gy[base + (long long)oh * g.OW + ow] / (float)div;
        })
        gx[i] = acc;
    }
}

// gx[nc, i] = gy[nc] / HW
SEAM_KERNEL void global_avg_pool_backward_f32(const float* __restrict__ gy, float* __restrict__ gx, int NC, int HW) {
    SEAM_GRID_LOOP(i, (long long)NC * HW) gx[i] = gy[i / HW] / (float)HW;
}
