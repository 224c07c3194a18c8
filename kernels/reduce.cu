// Reductions, accumulated in double in a fixed order (deterministic for a given launch shape).
// CPU twins (src/native.ts): sum and countPositive (two passes: *_partial then reduce_final_f64),
// sumRows (column sums of a matrix), globalAvgPoolForward (row_sum_f32 with scale 1/HW; also the
// conv bias gradient), argmax. Emulation reference: test/cuda-emu/ref.h.
#include "common.cuh"

// partial[blockIdx.x] = sum of this block's grid-stride share of x.
SEAM_KERNEL void __launch_bounds__(SEAM_THREADS)
sum_partial_f32(const float* __restrict__ x, int n, double* __restrict__ partial) {
    double s = 0.0;
    SEAM_GRID_LOOP(i, n) s += x[i];
    s = seam_block_sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// partial[blockIdx.x] = number of elements > 0 in this block's share (exact below 2^53).
SEAM_KERNEL void __launch_bounds__(SEAM_THREADS)
count_positive_partial_f32(const float* __restrict__ x, int n, double* __restrict__ partial) {
    double s = 0.0;
    SEAM_GRID_LOOP(i, n) s += x[i] > 0.0f ? 1.0 : 0.0;
    s = seam_block_sum(s);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// out[0] = sum of partial[0..parts), one block.
SEAM_KERNEL void __launch_bounds__(SEAM_THREADS)
reduce_final_f64(const double* __restrict__ partial, int parts, double* __restrict__ out) {
    double s = 0.0;
    for (int i = threadIdx.x; i < parts; i += blockDim.x) s += partial[i];
    s = seam_block_sum(s);
    if (threadIdx.x == 0) out[0] = s;
}

// out[c] = sum_r g[r, c]: one thread per column, rows in order (coalesced across columns).
SEAM_KERNEL void sum_rows_f32(const float* __restrict__ g, float* __restrict__ out, int rows, int cols) {
    SEAM_GRID_LOOP(c, cols) {
        double s = 0.0;
        for (int r = 0; r < rows; ++r) s += g[(long long)r * cols + c];
        out[c] = (float)s;
    }
}

// out[r] = (accumulate ? out[r] : 0) + scale * sum_c x[r, c]: one warp per row.
SEAM_KERNEL void __launch_bounds__(SEAM_THREADS)
row_sum_f32(const float* __restrict__ x, float* __restrict__ out, int rows, int cols, float scale,
            int accumulate) {
    const int lane = threadIdx.x & 31;
    const long long warps = (long long)gridDim.x * (blockDim.x >> 5);
    // Every lane of a warp runs the same number of iterations (the shuffle needs all 32).
    for (long long r = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); r < rows; r += warps) {
        double s = 0.0;
        for (int c = lane; c < cols; c += 32) s += x[r * cols + c];
        s = seam_warp_sum(s);
        if (lane == 0) out[r] = (accumulate ? out[r] : 0.0f) + (float)(s * (double)scale);
    }
}

// out[r] = index of the first maximum of row r (NaN counts as the maximum, first one wins).
SEAM_KERNEL void argmax_rows_f32(const float* __restrict__ x, int* __restrict__ out, int rows, int cols) {
    SEAM_GRID_LOOP(r, rows) {
        const float* row = x + r * (long long)cols;
        int at = 0;
        float best = row[0];
        for (int c = 1; c < cols && best == best; ++c)
            if (row[c] > best || row[c] != row[c]) {
                best = row[c];
                at = c;
            }
        out[r] = at;
    }
}
