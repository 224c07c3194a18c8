// Tile loads and stores shared by the GEMM kernels (gemm.cu, gemm_large.cu).
#ifndef SEAM_GEMM_COMMON_CUH
#define SEAM_GEMM_COMMON_CUH
#include "common.cuh"

namespace seam_gemm {

// op(A)[r][c] for the tile loads; zero outside the matrix.
__device__ __forceinline__ float load_a(const float* A, int transA, int lda, int M, int K, int r, int c) {
    if (r >= M || c >= K) return 0.0f;
    return transA ? A[(long long)c * lda + r] : A[(long long)r * lda + c];
}
__device__ __forceinline__ float load_b(const float* B, int transB, int ldb, int K, int N, int r, int c) {
    if (r >= K || c >= N) return 0.0f;
    return transB ? B[(long long)c * ldb + r] : B[(long long)r * ldb + c];
}

__device__ __forceinline__ void store_c(float* C, int ldc, int M, int N, int r, int c, float acc,
                                        float alpha, float beta) {
    if (r >= M || c >= N) return;
    float* p = C + (long long)r * ldc + c;
    float v = alpha * acc;
    if (beta != 0.0f) v += beta * *p;
    *p = v;
}

}  // namespace seam_gemm
#endif
