// Elementwise arithmetic. CPU twins (src/native.ts): add, mul, scale, axpy, addScalar, addRowBias;
// fill_f32 has none (device buffers need a memset). Emulation reference: test/cuda-emu/ref.h.
// Outputs may alias inputs only where noted (axpy, add_scalar, add_row_bias work in place).
#include "common.cuh"

SEAM_KERNEL void fill_f32(float* __restrict__ x, int n, float v) {
    SEAM_GRID_LOOP(i, n) x[i] = v;
}

SEAM_KERNEL void add_f32(const float* a, const float* b, float* out, int n) {
    SEAM_GRID_LOOP(i, n) out[i] = a[i] + b[i];
}

SEAM_KERNEL void mul_f32(const float* a, const float* b, float* out, int n) {
    SEAM_GRID_LOOP(i, n) out[i] = a[i] * b[i];
}

// out = a * s
SEAM_KERNEL void scale_f32(const float* a, float s, float* out, int n) {
    SEAM_GRID_LOOP(i, n) out[i] = a[i] * s;
}

// y += alpha * x (in place on y)
SEAM_KERNEL void axpy_f32(float alpha, const float* x, float* y, int n) {
    SEAM_GRID_LOOP(i, n) y[i] += alpha * x[i];
}

// x += s (in place)
SEAM_KERNEL void add_scalar_f32(float* x, float s, int n) {
    SEAM_GRID_LOOP(i, n) x[i] += s;
}

// y[r, c] += b[c] for a rows x cols matrix (in place on y)
SEAM_KERNEL void add_row_bias_f32(float* __restrict__ y, const float* __restrict__ b, int rows, int cols) {
    SEAM_GRID_LOOP(i, (long long)rows * cols) y[i] += b[i % cols];
}
