// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, with leading dimensions and a batch in
// gridDim.z (conv runs one GEMM per group this way).
// CPU twin: NativeBinding.gemm (src/native.ts); emulation reference: test/cuda-emu/ref.h ref_gemm.
// Launcher: native/cuda/ops.rs gemm(). beta == 0 means C is not read (BLAS convention).
//
// Batch b = blockIdx.z % batch reads A at (b % aMod) * sA, B at (b % bMod) * sB and writes C at
// blockIdx.z * sC. Split-K: block z also takes the K range [s * kChunk, (s + 1) * kChunk) with
// s = blockIdx.z / batch, so a GEMM with few output tiles and a long K (conv backward-weight: a
// 16x144 result summed over 65536 pixels) still fills the GPU; the launcher then points C at a
// workspace of partials that splitk_reduce_f32 sums in split order (deterministic, no atomics).
#include "common.cuh"

#define GEMM_BM 64
#define GEMM_BN 64
#define GEMM_BK 16

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

// Round to TF32 (10-bit mantissa, nearest, ties away): what cvt.rna.tf32.f32 does.
__device__ __forceinline__ float to_tf32(float x) {
#if defined(SEAM_CUDA_MMA) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    unsigned u;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(u) : "f"(x));
    return __uint_as_float(u);
#else
    unsigned u = __float_as_uint(x);
    if ((u & 0x7f800000u) != 0x7f800000u) u = (u + 0x1000u) & 0xffffe000u;  // finite values only
    return __uint_as_float(u);
#endif
}

// D = A(16x8) * B(8x8) + C for one warp, fragments in the PTX m16n8k8 tf32 layout:
// g = lane / 4, t = lane % 4; a = {A[g][t], A[g+8][t], A[g][t+4], A[g+8][t+4]};
// b = {B[t][g], B[t+4][g]}; c/d = {C[g][2t], C[g][2t+1], C[g+8][2t], C[g+8][2t+1]}.
__device__ __forceinline__ void mma_16x8x8(float d[4], const float a[4], const float b[2]) {
#if defined(SEAM_CUDA_MMA) && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(__float_as_uint(a[0])), "r"(__float_as_uint(a[1])), "r"(__float_as_uint(a[2])),
          "r"(__float_as_uint(a[3])), "r"(__float_as_uint(b[0])), "r"(__float_as_uint(b[1])));
#else
    // Portable path: gather the operands each lane needs from the lanes holding them.
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    #pragma unroll
    for (int k = 0; k < 8; ++k) {
        const int hi = k >> 2, src = k & 3;
        const float a_lo = __shfl_sync(0xffffffffu, a[hi ? 2 : 0], g * 4 + src);
        const float a_hi = __shfl_sync(0xffffffffu, a[hi ? 3 : 1], g * 4 + src);
        const float b0 = __shfl_sync(0xffffffffu, b[hi], (2 * t) * 4 + src);
        const float b1 = __shfl_sync(0xffffffffu, b[hi], (2 * t + 1) * 4 + src);
        d[0] = fmaf(a_lo, b0, d[0]);
        d[1] = fmaf(a_lo, b1, d[1]);
        d[2] = fmaf(a_hi, b0, d[2]);
        d[3] = fmaf(a_hi, b1, d[3]);
    }
#endif
}

}  // namespace seam_gemm

// FP32 path: 64x64 tile per block of 256 threads, each thread a 4x4 strided micro-tile. Every C
// element is one thread's sum in k order, so results are deterministic.
SEAM_KERNEL void __launch_bounds__(256)
gemm_f32(int transA, int transB, int M, int N, int K, float alpha,
         const float* __restrict__ A, int lda, long long sA, int aMod,
         const float* __restrict__ B, int ldb, long long sB, int bMod,
         float beta, float* __restrict__ C, int ldc, long long sC, int batch, int kChunk) {
    using namespace seam_gemm;
    __shared__ float As[GEMM_BK][GEMM_BM + 1];
    __shared__ float Bs[GEMM_BK][GEMM_BN + 1];
    const int b = blockIdx.z % batch, kBegin = (blockIdx.z / batch) * kChunk, kEnd = min(K, kBegin + kChunk);
    A += (long long)(b % aMod) * sA;
    B += (long long)(b % bMod) * sB;
    C += (long long)blockIdx.z * sC;
    const int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    float acc[4][4];
    #pragma unroll
    for (int i = 0; i < 4; ++i)
        #pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = 0.0f;

    for (int k0 = kBegin; k0 < kEnd; k0 += GEMM_BK) {
        #pragma unroll
        for (int l = 0; l < 4; ++l) {
            const int idx = tid + 256 * l;
            // coalesced along the stored row of each operand
            int r = transA ? (idx & 63) : (idx >> 4), c = transA ? (idx >> 6) : (idx & 15);
            As[c][r] = load_a(A, transA, lda, M, kEnd, m0 + r, k0 + c);
            r = transB ? (idx & 15) : (idx >> 6);
            c = transB ? (idx >> 4) : (idx & 63);
            Bs[r][c] = load_b(B, transB, ldb, kEnd, N, k0 + r, n0 + c);
        }
        __syncthreads();
        #pragma unroll
        for (int kk = 0; kk < GEMM_BK; ++kk) {
            float a[4], bv[4];
            #pragma unroll
            for (int i = 0; i < 4; ++i) a[i] = As[kk][ty + 16 * i];
            #pragma unroll
            for (int j = 0; j < 4; ++j) bv[j] = Bs[kk][tx + 16 * j];
            #pragma unroll
            for (int i = 0; i < 4; ++i)
                #pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(a[i], bv[j], acc[i][j]);
        }
        __syncthreads();
    }
    #pragma unroll
    for (int i = 0; i < 4; ++i)
        #pragma unroll
        for (int j = 0; j < 4; ++j)
            store_c(C, ldc, M, N, m0 + ty + 16 * i, n0 + tx + 16 * j, acc[i][j], alpha, beta);
}

// TF32 tensor-core path (opt-in: results carry TF32's 10-bit mantissa rounding of A and B).
// 64x64 tile per block of 128 threads = 4 warps in 2x2, each warp 32x32 = 2x4 mma tiles.
#define TF_PAD_A 4
#define TF_PAD_B 8
SEAM_KERNEL void __launch_bounds__(128)
gemm_tf32_f32(int transA, int transB, int M, int N, int K, float alpha,
              const float* __restrict__ A, int lda, long long sA, int aMod,
              const float* __restrict__ B, int ldb, long long sB, int bMod,
              float beta, float* __restrict__ C, int ldc, long long sC, int batch, int kChunk) {
    using namespace seam_gemm;
    __shared__ float As[GEMM_BM][GEMM_BK + TF_PAD_A];  // [m][k]
    __shared__ float Bs[GEMM_BK][GEMM_BN + TF_PAD_B];  // [k][n]
    const int bz = blockIdx.z % batch, kBegin = (blockIdx.z / batch) * kChunk, kEnd = min(K, kBegin + kChunk);
    A += (long long)(bz % aMod) * sA;
    B += (long long)(bz % bMod) * sB;
    C += (long long)blockIdx.z * sC;
    const int m0 = blockIdx.y * GEMM_BM, n0 = blockIdx.x * GEMM_BN;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;
    const int g = lane >> 2, t = lane & 3;
    float acc[2][4][4];
    #pragma unroll
    for (int i = 0; i < 2; ++i)
        #pragma unroll
        for (int j = 0; j < 4; ++j)
            #pragma unroll
            for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.0f;

    for (int k0 = kBegin; k0 < kEnd; k0 += GEMM_BK) {
        #pragma unroll
        for (int l = 0; l < 8; ++l) {
            const int idx = tid + 128 * l;
            int r = transA ? (idx & 63) : (idx >> 4), c = transA ? (idx >> 6) : (idx & 15);
            As[r][c] = to_tf32(load_a(A, transA, lda, M, kEnd, m0 + r, k0 + c));
            r = transB ? (idx & 15) : (idx >> 6);
            c = transB ? (idx >> 4) : (idx & 63);
            Bs[r][c] = to_tf32(load_b(B, transB, ldb, kEnd, N, k0 + r, n0 + c));
        }
        __syncthreads();
        #pragma unroll
        for (int kk = 0; kk < GEMM_BK; kk += 8) {
            float af[2][4], bf[4][2];
            #pragma unroll
            for (int i = 0; i < 2; ++i) {
                const int row = wm + i * 16 + g;
                af[i][0] = As[row][kk + t];
                af[i][1] = As[row + 8][kk + t];
                af[i][2] = As[row][kk + t + 4];
                af[i][3] = As[row + 8][kk + t + 4];
            }
            #pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int col = wn + j * 8 + g;
                bf[j][0] = Bs[kk + t][col];
                bf[j][1] = Bs[kk + t + 4][col];
            }
            #pragma unroll
            for (int i = 0; i < 2; ++i)
                #pragma unroll
                for (int j = 0; j < 4; ++j) mma_16x8x8(acc[i][j], af[i], bf[j]);
        }
        __syncthreads();
    }
    #pragma unroll
    for (int i = 0; i < 2; ++i)
        #pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int row = m0 + wm + i * 16 + g, col = n0 + wn + j * 8 + 2 * t;
            store_c(C, ldc, M, N, row, col, acc[i][j][0], alpha, beta);
            store_c(C, ldc, M, N, row, col + 1, acc[i][j][1], alpha, beta);
            store_c(C, ldc, M, N, row + 8, col, acc[i][j][2], alpha, beta);
            store_c(C, ldc, M, N, row + 8, col + 1, acc[i][j][3], alpha, beta);
        }
}

// Split-K epilogue: C[b][r][c] = alpha * sum over s of part[s][b][r][c] + beta * C[b][r][c], the
// partials summed in s order. part is [splits][batch][M][N], dense.
SEAM_KERNEL void splitk_reduce_f32(const float* __restrict__ part, int splits, int batch, int M, int N,
                                   float alpha, float beta, float* __restrict__ C, int ldc, long long sC) {
    const long long per = (long long)batch * M * N;
    SEAM_GRID_LOOP(i, per) {
        const int c = (int)(i % N), r = (int)((i / N) % M), b = (int)(i / ((long long)M * N));
        float acc = 0.0f;
        for (int s = 0; s < splits; ++s) acc += part[s * per + i];
        float* p = C + b * sC + (long long)r * ldc + c;
        float v = alpha * acc;
        if (beta != 0.0f) v += beta * *p;
        *p = v;
    }
}
