// BatchNorm2d over x[N][C][HW]. CPU twins (src/native.ts): batchNorm2dForward (training and eval),
// batchNorm2dBackward. Emulation reference: test/cuda-emu/ref.h.
// Training kernels run one block of SEAM_THREADS per channel and accumulate in double in a fixed
// order (deterministic). saveInvstd = 1 / sqrt(var_biased + eps); the running variance gets the
// unbiased variance (M / (M - 1), M = N * HW; the launcher rejects M < 2 in training, like PyTorch).
#include "common.cuh"

namespace seam_bn {
__device__ __forceinline__ const float* chan(const float* x, int n, int c, int C, int HW) {
    return x + ((long long)n * C + c) * HW;
}
}  // namespace seam_bn

SEAM_KERNEL void __launch_bounds__(SEAM_THREADS)
batch_norm2d_train_forward_f32(const float* __restrict__ x, const float* __restrict__ gamma,
                               const float* __restrict__ beta, float* __restrict__ runningMean,
                               float* __restrict__ runningVar, float* __restrict__ y,
                               float* __restrict__ saveMean, float* __restrict__ saveInvstd,
                               int N, int C, int HW, float momentum, float eps) {
    using namespace seam_bn;
    const int c = blockIdx.x;
    const long long M = (long long)N * HW;
    double s = 0.0;
    for (long long i = threadIdx.x; i < M; i += blockDim.x) s += chan(x, (int)(i / HW), c, C, HW)[i % HW];
    const double mean = seam_block_sum(s) / (double)M;
    double q = 0.0;
    for (long long i = threadIdx.x; i < M; i += blockDim.x) {
        const double d = chan(x, (int)(i / HW), c, C, HW)[i % HW] - mean;
        q += d * d;
    }
    const double var = seam_block_sum(q) / (double)M;
    const float meanf = (float)mean, invstd = (float)(1.0 / sqrt(var + (double)eps));
    if (threadIdx.x == 0) {
        saveMean[c] = meanf;
        saveInvstd[c] = invstd;
        const double unbiased = var * (double)M / (double)(M - 1);
        runningMean[c] = (1.0f - momentum) * runningMean[c] + momentum * meanf;
        runningVar[c] = (1.0f - momentum) * runningVar[c] + momentum * (float)unbiased;
    }
    const float ga = gamma[c], be = beta[c];
    for (long long i = threadIdx.x; i < M; i += blockDim.x) {
        const long long off = ((i / HW) * C + c) * HW + i % HW;
        y[off] = (x[off] - meanf) * invstd * ga + be;
    }
}

// Eval: running statistics normalise; saveMean / saveInvstd receive them (threads with i < C).
SEAM_KERNEL void batch_norm2d_eval_forward_f32(const float* __restrict__ x, const float* __restrict__ gamma,
                                               const float* __restrict__ beta, const float* __restrict__ runningMean,
                                               const float* __restrict__ runningVar, float* __restrict__ y,
                                               float* __restrict__ saveMean, float* __restrict__ saveInvstd,
                                               int N, int C, int HW, float eps) {
    SEAM_GRID_LOOP(i, (long long)N * C * HW) {
        const int c = (int)((i / HW) % C);
        const float invstd = 1.0f / sqrtf(runningVar[c] + eps);
        y[i] = (x[i] - runningMean[c]) * invstd * gamma[c] + beta[c];
        if (i < C) {
            saveMean[i] = runningMean[i];
            saveInvstd[i] = 1.0f / sqrtf(runningVar[i] + eps);
        }
    }
}

// Backward, one block per channel. training: gx = gamma*invstd*(gy - mean(gy) - xhat*mean(gy*xhat));
// eval: gx = gy*gamma*invstd. ggamma = sum(gy*xhat), gbeta = sum(gy) when not null (overwritten).
SEAM_KERNEL void __launch_bounds__(SEAM_THREADS)
batch_norm2d_backward_f32(const float* __restrict__ x, const float* __restrict__ gy,
                          const float* __restrict__ gamma, const float* __restrict__ saveMean,
                          const float* __restrict__ saveInvstd, float* __restrict__ gx,
                          float* __restrict__ ggamma, float* __restrict__ gbeta,
                          int N, int C, int HW, int training) {
    const int c = blockIdx.x;
    const long long M = (long long)N * HW;
    const float mean = saveMean[c], invstd = saveInvstd[c];
    double sg = 0.0, sgx = 0.0;
    for (long long i = threadIdx.x; i < M; i += blockDim.x) {
        const long long off = ((i / HW) * C + c) * HW + i % HW;
        const float xhat = (x[off] - mean) * invstd;
        sg += gy[off];
        sgx += (double)gy[off] * xhat;
    }
    sg = seam_block_sum(sg);
    sgx = seam_block_sum(sgx);
    if (threadIdx.x == 0) {
        if (ggamma) ggamma[c] = (float)sgx;
        if (gbeta) gbeta[c] = (float)sg;
    }
    const float k = gamma[c] * invstd;
    const float mg = (float)(sg / (double)M), mgx = (float)(sgx / (double)M);
    for (long long i = threadIdx.x; i < M; i += blockDim.x) {
        const long long off = ((i / HW) * C + c) * HW + i % HW;
        if (training) {
            const float xhat = (x[off] - mean) * invstd;
            gx[off] = k * (gy[off] - mg - xhat * mgx);
        } else {
            gx[off] = k * gy[off];
        }
    }
}

// Eval-mode backward when neither ggamma nor gbeta is wanted (a SeaM step: BatchNorm frozen):
// gx = gy * gamma * invstd, elementwise over all N*C*HW, with no per-channel reduction.
SEAM_KERNEL void batch_norm2d_eval_backward_f32(const float* __restrict__ gy, const float* __restrict__ gamma,
                                                const float* __restrict__ saveInvstd, float* __restrict__ gx,
                                                int C, int HW, long long total) {
    SEAM_GRID_LOOP(i, total) {
        const int c = (int)((i / HW) % C);
        gx[i] = gamma[c] * saveInvstd[c] * gy[i];
    }
}
