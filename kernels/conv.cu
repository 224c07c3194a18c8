// Convolution pieces: conv = im2col + GEMM (kernels/gemm.cu), so the launcher (native/cuda/conv.rs)
// composes these per chunk of images:
//   forward:         im2col(x) -> col[CKK][nb*OHW];  tmp_g = W_g * col_g;  y = to_nchw(tmp) + bias
//   backward-data:   gyT = to_cnhw(gy);  gcol_g = W_g^T * gyT_g;  gx = col2im(gcol)
//   backward-weight: col = im2col(x); gyT = to_cnhw(gy);  gW_g (+)= gyT_g * col_g^T;  gb (+)= rowsum(gyT)
// CPU twins: NativeBinding.conv2dForward / conv2dBackwardData / conv2dBackwardWeight (src/native.ts);
// emulation reference: test/cuda-emu/ref.h ref_conv2d_*.
// Column layout: element (row = (c*KH + kh)*KW + kw, image n, pixel p) sits at
// row*rowStride + n*imgStride + p, so one kernel serves [CKK][N*OHW] and [N][CKK][OHW].
#include "common.cuh"

struct SeamConvGeom {
    int C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, OH, OW;
};

namespace seam_conv {
// One im2col element; I is int when the whole index space fits it (32-bit division is several
// times cheaper on the GPU than 64-bit), else long long.
template <typename I>
__device__ __forceinline__ void im2col_at(I i, const float* __restrict__ x, float* __restrict__ col, const SeamConvGeom& g,
                                          long long rowStride, long long imgStride) {
    const I ohw = (I)g.OH * g.OW, ckk = (I)g.C * g.KH * g.KW;
    const int p = (int)(i % ohw);
    const I t = i / ohw;
    const int row = (int)(t % ckk), n = (int)(t / ckk);
    const int kw = row % g.KW, kh = (row / g.KW) % g.KH, c = row / (g.KW * g.KH);
    const int oh = p / g.OW, ow = p % g.OW;
    const int ih = oh * g.sH - g.pH + kh * g.dH, iw = ow * g.sW - g.pW + kw * g.dW;
    float v = 0.0f;
    if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
        v = x[(((long long)n * g.C + c) * g.H + ih) * g.W + iw];
    col[row * rowStride + n * imgStride + p] = v;
}
}  // namespace seam_conv

SEAM_KERNEL void im2col_f32(const float* __restrict__ x, float* __restrict__ col, int nImg,
                            SeamConvGeom g, long long rowStride, long long imgStride) {
    const long long total = (long long)nImg * g.C * g.KH * g.KW * g.OH * g.OW;
    if (total <= 0x7fffffffLL) {
        SEAM_GRID_LOOP(i, total) seam_conv::im2col_at<int>((int)i, x, col, g, rowStride, imgStride);
    } else {
        SEAM_GRID_LOOP(i, total) seam_conv::im2col_at<long long>(i, x, col, g, rowStride, imgStride);
    }
}

// Gather form of col2im: each input pixel sums the column entries that came from it, in (kh, kw)
// order. No atomics, so the result is deterministic. Overwrites x.
SEAM_KERNEL void col2im_f32(const float* __restrict__ col, float* __restrict__ x, int nImg,
                            SeamConvGeom g, long long rowStride, long long imgStride) {
    const long long total = (long long)nImg * g.C * g.H * g.W;
    SEAM_GRID_LOOP(i, total) {
        const int w = (int)(i % g.W), h = (int)((i / g.W) % g.H);
        const long long nc = i / ((long long)g.W * g.H);
        const int c = (int)(nc % g.C), n = (int)(nc / g.C);
        float acc = 0.0f;
        for (int kh = 0; kh < g.KH; ++kh) {
            const int th = h + g.pH - kh * g.dH;
            if (th < 0 || th % g.sH != 0) continue;
            const int oh = th / g.sH;
            if (oh >= g.OH) continue;
            for (int kw = 0; kw < g.KW; ++kw) {
                const int tw = w + g.pW - kw * g.dW;
                if (tw < 0 || tw % g.sW != 0) continue;
                const int ow = tw / g.sW;
                if (ow >= g.OW) continue;
                const long long row = ((long long)c * g.KH + kh) * g.KW + kw;
                acc += col[row * rowStride + n * imgStride + (long long)oh * g.OW + ow];
            }
        }
        x[i] = acc;
    }
}

// [N][C][HW] -> [C][N][HW]
SEAM_KERNEL void nchw_to_cnhw_f32(const float* __restrict__ x, float* __restrict__ y, int N, int C, int HW) {
    const long long total = (long long)N * C * HW;
    SEAM_GRID_LOOP(i, total) {
        const int p = (int)(i % HW);
        const long long t = i / HW;
        const int n = (int)(t % N), c = (int)(t / N);
        y[i] = x[((long long)n * C + c) * HW + p];
    }
}

// [C][N][HW] -> [N][C][HW], adding bias[c] when bias is not null.
SEAM_KERNEL void cnhw_to_nchw_f32(const float* __restrict__ x, const float* __restrict__ bias,
                                  float* __restrict__ y, int N, int C, int HW) {
    const long long total = (long long)N * C * HW;
    SEAM_GRID_LOOP(i, total) {
        const int p = (int)(i % HW);
        const long long t = i / HW;
        const int c = (int)(t % C), n = (int)(t / C);
        float v = x[((long long)c * N + n) * HW + p];
        if (bias) v += bias[c];
        y[i] = v;
    }
}
