// Softmax cross-entropy over logits[rows][classes]. CPU twins (src/native.ts): crossEntropyForward
// (the launcher sums rowLoss with reduce.cu and divides by rows), crossEntropyBackward.
// Emulation reference: test/cuda-emu/ref.h. Labels live on the device, so they are checked here:
// a label outside [0, classes) sets *bad = 1 and that row's loss to NaN; nothing is read out of bounds.
#include "common.cuh"

// One warp per row: probs = softmax(row); rowLoss = logsumexp(row) - row[label].
SEAM_KERNEL void __launch_bounds__(SEAM_THREADS)
cross_entropy_forward_f32(const float* __restrict__ logits, const int* __restrict__ labels,
                          float* __restrict__ probs, float* __restrict__ rowLoss, int* __restrict__ bad,
                          int rows, int classes) {
    const int lane = threadIdx.x & 31;
    const long long warps = (long long)gridDim.x * (blockDim.x >> 5);
    for (long long r = (long long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5); r < rows; r += warps) {
        const float* x = logits + r * classes;
        float mx = -INFINITY;
        for (int c = lane; c < classes; c += 32) mx = (x[c] > mx || x[c] != x[c]) ? x[c] : mx;
        mx = seam_warp_max(mx);
        double s = 0.0;
        for (int c = lane; c < classes; c += 32) s += expf(x[c] - mx);
        s = seam_warp_sum(s);
        s = __shfl_sync(0xffffffffu, s, 0);
        const float inv = (float)(1.0 / s);
        for (int c = lane; c < classes; c += 32) probs[r * classes + c] = expf(x[c] - mx) * inv;
        if (lane == 0) {
            const int label = labels[r];
            if (label < 0 || label >= classes) {
                *bad = 1;
                rowLoss[r] = NAN;
            } else {
                rowLoss[r] = (float)(log(s) - (double)(x[label] - mx));
            }
        }
    }
}

// gx = (probs - onehot(labels)) * scale; an invalid label leaves the row as probs * scale.
SEAM_KERNEL void cross_entropy_backward_f32(const float* __restrict__ probs, const int* __restrict__ labels,
                                            float* __restrict__ gx, int rows, int classes, float scale) {
    SEAM_GRID_LOOP(i, (long long)rows * classes) {
        const int c = (int)(i % classes);
        const float hot = labels[i / classes] == c ? 1.0f : 0.0f;
        gx[i] = (probs[i] - hot) * scale;
    }
}
