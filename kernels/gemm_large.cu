// GEMM for large outputs: the same contract and parameters as gemm_f32 (kernels/gemm.cu: batch and
// split-K in gridDim.z, beta == 0 does not read C), with a 128x128 tile per block of 256 threads,
// each thread an 8x8 micro-tile: four times the arithmetic per shared-memory load of gemm_f32's
// 4x4. The launcher (native/cuda/ops.rs gemm_raw) picks it when both M and N are at least 128.
// Every C element is still one thread's sum in k order, so results are deterministic.
#include "gemm_common.cuh"

#define GEMM_L_BM 128
#define GEMM_L_BN 128
#define GEMM_L_BK 8

SEAM_KERNEL void __launch_bounds__(256)
gemm_f32_128(int transA, int transB, int M, int N, int K, float alpha,
             const float* __restrict__ A, int lda, long long sA, int aMod,
             const float* __restrict__ B, int ldb, long long sB, int bMod,
             float beta, float* __restrict__ C, int ldc, long long sC, int batch, int kChunk) {
    using namespace seam_gemm;
    // [k][m] and [k][n]: a thread's 4 consecutive m (or n) values sit side by side (vector loads)
    __shared__ __align__(16) float As[GEMM_L_BK][GEMM_L_BM];
    __shared__ __align__(16) float Bs[GEMM_L_BK][GEMM_L_BN];
    const int b = blockIdx.z % batch, kBegin = (blockIdx.z / batch) * kChunk, kEnd = min(K, kBegin + kChunk);
    A += (long long)(b % aMod) * sA;
    B += (long long)(b % bMod) * sB;
    C += (long long)blockIdx.z * sC;
    const int m0 = blockIdx.y * GEMM_L_BM, n0 = blockIdx.x * GEMM_L_BN;
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    float acc[8][8];
    #pragma unroll
    for (int i = 0; i < 8; ++i)
        #pragma unroll
        for (int j = 0; j < 8; ++j) acc[i][j] = 0.0f;

    for (int k0 = kBegin; k0 < kEnd; k0 += GEMM_L_BK) {
        #pragma unroll
        for (int l = 0; l < 4; ++l) {
            const int idx = tid + 256 * l;
            // coalesced along the stored row of each operand
            int r = transA ? (idx & 127) : (idx >> 3), c = transA ? (idx >> 7) : (idx & 7);
            As[c][r] = load_a(A, transA, lda, M, kEnd, m0 + r, k0 + c);
            r = transB ? (idx & 7) : (idx >> 7);
            c = transB ? (idx >> 3) : (idx & 127);
            Bs[r][c] = load_b(B, transB, ldb, kEnd, N, k0 + r, n0 + c);
        }
        __syncthreads();
        #pragma unroll
        for (int kk = 0; kk < GEMM_L_BK; ++kk) {
            // rows ty*4 .. +3 and 64 + ty*4 .. +3; columns likewise with tx
            float a[8], bv[8];
            #pragma unroll
            for (int i = 0; i < 4; ++i) {
                a[i] = As[kk][ty * 4 + i];
                a[i + 4] = As[kk][64 + ty * 4 + i];
                bv[i] = Bs[kk][tx * 4 + i];
                bv[i + 4] = Bs[kk][64 + tx * 4 + i];
            }
            #pragma unroll
            for (int i = 0; i < 8; ++i)
                #pragma unroll
                for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], bv[j], acc[i][j]);
        }
        __syncthreads();
    }
    #pragma unroll
    for (int i = 0; i < 8; ++i) {
        const int row = m0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
        #pragma unroll
        for (int j = 0; j < 8; ++j)
            store_c(C, ldc, M, N, row, n0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4), acc[i][j], alpha, beta);
    }
}
