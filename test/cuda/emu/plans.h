// Launch plans: the grid/block choices and kernel sequences of the Rust launchers
// (native/cuda/launch.rs, native/cuda/ops.rs, native/cuda/conv.rs), restated in C++ so the emulation
// runs the kernels exactly as the addon composes them. Keep the two in step.
#pragma once
#include <algorithm>
#include <utility>
#include <vector>
#include "ref.h"

inline dim3 grid1d(long long n) {  // launch.rs grid_1d
    long long b = (n + SEAM_THREADS - 1) / SEAM_THREADS;
    return dim3((unsigned)std::max(1LL, std::min(b, (long long)SEAM_MAX_BLOCKS)));
}

// ops.rs split_k: K splits and chunk length for a GEMM with few output tiles and a long K.
inline std::pair<int, int> split_k(int M, int N, int K, int batch) {
    const long long tiles = (long long)((M + 63) / 64) * ((N + 63) / 64) * batch;
    if (tiles >= 256 || K < 1024) return {1, std::max(K, 1)};
    const long long want = std::max(1LL, std::min((512 + tiles - 1) / tiles, (long long)K / 512));
    const int chunk = (int)(((K + want - 1) / want + 15) / 16 * 16);
    return {(K + chunk - 1) / chunk, chunk};
}

// ops.rs gemm_raw: C[b] = alpha op(A[b % aMod]) op(B[b % bMod]) + beta C[b], with split-K partials
// summed by splitk_reduce_f32 when split_k asks for more than one split.
inline void plan_gemm(bool tf32, bool ta, bool tb, int M, int N, int K, float alpha, const float* A, int lda,
                      long long sA, int aMod, const float* B, int ldb, long long sB, int bMod, float beta, float* C,
                      int ldc, long long sC, int batch) {
    const auto [splits, chunk] = split_k(M, N, K, batch);
    const dim3 grid((N + 63) / 64, (M + 63) / 64, batch * splits);
    std::vector<float> part(splits > 1 ? (size_t)splits * batch * M * N : 0);
    float* out = splits > 1 ? part.data() : C;
    const float a1 = splits > 1 ? 1.0f : alpha, b1 = splits > 1 ? 0.0f : beta;
    const int ldo = splits > 1 ? N : ldc;
    const long long so = splits > 1 ? (long long)M * N : sC;
    if (tf32)
        EMU_LAUNCH(gemm_tf32_f32, grid, dim3(128), ta, tb, M, N, K, a1, A, lda, sA, aMod, B, ldb, sB, bMod, b1, out, ldo, so,
                   batch, chunk);
    else
        EMU_LAUNCH(gemm_f32, grid, dim3(256), ta, tb, M, N, K, a1, A, lda, sA, aMod, B, ldb, sB, bMod, b1, out, ldo, so, batch,
                   chunk);
    if (splits > 1)
        EMU_LAUNCH(splitk_reduce_f32, grid1d((long long)batch * M * N), dim3(SEAM_THREADS), part.data(), splits, batch, M, N,
                   alpha, beta, C, ldc, sC);
}

inline SeamConvGeom conv_geom(const ConvP& p) {
    return SeamConvGeom{p.C, p.H, p.W, p.KH, p.KW, p.sH, p.sW, p.pH, p.pW, p.dH, p.dW, p.OH(), p.OW()};
}

// conv.rs: images per chunk so that one chunk's columns fit the workspace budget.
inline int conv_chunk(const ConvP& p, long long budgetFloats) {
    const long long per = (long long)p.C * p.KH * p.KW * p.OH() * p.OW() + (long long)p.O * p.OH() * p.OW();
    return (int)std::max(1LL, std::min((long long)p.N, budgetFloats / std::max(1LL, per)));
}

enum class ConvPass { Forward, BackwardData, BackwardWeight };

// One conv pass as conv.rs runs it. Forward: a=x, b=w, bias, out=y. BackwardData: a=gy, b=w, out=gx.
// BackwardWeight: a=x, b=gy, out=gw, bias=gb (output, may be null).
inline void plan_conv(ConvPass pass, const ConvP& p, const float* a, const float* b, float* bias, float* out,
                      long long budgetFloats, bool tf32) {
    const int OH = p.OH(), OW = p.OW(), ohw = OH * OW, Cg = p.C / p.G, Og = p.O / p.G;
    const int ckk = p.C * p.KH * p.KW, cgkk = Cg * p.KH * p.KW;
    const int nb = conv_chunk(p, budgetFloats);
    std::vector<float> col((size_t)ckk * nb * ohw), tmp((size_t)p.O * nb * ohw);
    const SeamConvGeom g = conv_geom(p);
    for (int n0 = 0; n0 < p.N; n0 += nb) {
        const int cnt = std::min(nb, p.N - n0), cols = cnt * ohw;
        const long long xoff = (long long)n0 * p.C * p.H * p.W, yoff = (long long)n0 * p.O * ohw;
        const long long nCol = (long long)ckk * cols, nY = (long long)p.O * cols;
        if (pass == ConvPass::Forward) {
            EMU_LAUNCH(im2col_f32, grid1d(nCol), dim3(SEAM_THREADS), a + xoff, col.data(), cnt, g, (long long)cols, (long long)ohw);
            plan_gemm(tf32, false, false, Og, cols, cgkk, 1.0f, b, cgkk, (long long)Og * cgkk, p.G, col.data(), cols,
                      (long long)cgkk * cols, p.G, 0.0f, tmp.data(), cols, (long long)Og * cols, p.G);
            EMU_LAUNCH(cnhw_to_nchw_f32, grid1d(nY), dim3(SEAM_THREADS), tmp.data(), (const float*)bias, out + yoff, cnt, p.O, ohw);
        } else if (pass == ConvPass::BackwardData) {
            EMU_LAUNCH(nchw_to_cnhw_f32, grid1d(nY), dim3(SEAM_THREADS), a + yoff, tmp.data(), cnt, p.O, ohw);
            plan_gemm(tf32, true, false, cgkk, cols, Og, 1.0f, b, cgkk, (long long)Og * cgkk, p.G, tmp.data(), cols,
                      (long long)Og * cols, p.G, 0.0f, col.data(), cols, (long long)cgkk * cols, p.G);
            EMU_LAUNCH(col2im_f32, grid1d((long long)cnt * p.C * p.H * p.W), dim3(SEAM_THREADS), col.data(), out + xoff, cnt, g,
                       (long long)cols, (long long)ohw);
        } else {
            const float beta = n0 == 0 ? 0.0f : 1.0f;
            EMU_LAUNCH(im2col_f32, grid1d(nCol), dim3(SEAM_THREADS), a + xoff, col.data(), cnt, g, (long long)cols, (long long)ohw);
            EMU_LAUNCH(nchw_to_cnhw_f32, grid1d(nY), dim3(SEAM_THREADS), b + yoff, tmp.data(), cnt, p.O, ohw);
            plan_gemm(tf32, false, true, Og, cgkk, cols, 1.0f, tmp.data(), cols, (long long)Og * cols, p.G, col.data(), cols,
                      (long long)cgkk * cols, p.G, beta, out, cgkk, (long long)Og * cgkk, p.G);
            if (bias) {
                const int rowsPerBlock = SEAM_THREADS / 32;
                EMU_LAUNCH(row_sum_f32, dim3((unsigned)std::min((p.O + rowsPerBlock - 1) / rowsPerBlock, SEAM_MAX_BLOCKS)),
                           dim3(SEAM_THREADS), tmp.data(), bias, p.O, cols, 1.0f, n0 == 0 ? 0 : 1);
            }
        }
    }
}

inline SeamPoolGeom pool_geom(const PoolP& p) {
    return SeamPoolGeom{p.N * p.C, p.H, p.W, p.KH, p.KW, p.sH, p.sW, p.pH, p.pW, p.dH, p.dW, p.OH(), p.OW()};
}

// ops.rs sum / countPositive: partials over grid1d(n) blocks, then one block.
inline double plan_reduce(bool count, const float* x, int n) {
    const dim3 grid = grid1d(n);
    std::vector<double> part(grid.x), out(1);
    if (count) EMU_LAUNCH(count_positive_partial_f32, grid, dim3(SEAM_THREADS), x, n, part.data());
    else EMU_LAUNCH(sum_partial_f32, grid, dim3(SEAM_THREADS), x, n, part.data());
    EMU_LAUNCH(reduce_final_f64, dim3(1), dim3(SEAM_THREADS), (const double*)part.data(), (int)grid.x, out.data());
    return out[0];
}

inline dim3 grid_warp_rows(int rows) {  // one warp per row, 8 rows per block
    const int per = SEAM_THREADS / 32;
    return dim3((unsigned)std::max(1, std::min((rows + per - 1) / per, SEAM_MAX_BLOCKS)));
}
