// Fused optimizer steps, PyTorch semantics (torch.optim.Adam / SGD, single-tensor path), in place
// on the parameter and its state. CPU twins (src/native.ts): adamStep, sgdStep. Emulation
// reference: test/cuda-emu/ref.h.
#include "common.cuh"

// Adam with L2 weight decay added to the gradient (not AdamW). The launcher computes, in double
// like PyTorch's Python floats: stepSize = lr / (1 - beta1^step), bc2Sqrt = sqrt(1 - beta2^step).
SEAM_KERNEL void adam_step_f32(float* __restrict__ p, const float* __restrict__ g,
                               float* __restrict__ m, float* __restrict__ v, int n,
                               float beta1, float beta2, float eps, float weightDecay,
                               float stepSize, float bc2Sqrt) {
    SEAM_GRID_LOOP(i, n) {
        float grad = g[i];
        if (weightDecay != 0.0f) grad += weightDecay * p[i];
        const float mi = m[i] + (1.0f - beta1) * (grad - m[i]);  // exp_avg.lerp_(grad, 1 - beta1)
        const float vi = v[i] * beta2 + (1.0f - beta2) * grad * grad;
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / bc2Sqrt + eps;
        p[i] -= stepSize * (mi / denom);
    }
}

// SGD with momentum / dampening / Nesterov / L2 weight decay. buf may be null when momentum == 0.
// firstStep: the momentum buffer starts as a copy of the gradient (as torch does).
SEAM_KERNEL void sgd_step_f32(float* __restrict__ p, const float* __restrict__ g, float* __restrict__ buf,
                              int n, float lr, float momentum, float dampening, float weightDecay,
                              int nesterov, int firstStep) {
    SEAM_GRID_LOOP(i, n) {
        float d = g[i];
        if (weightDecay != 0.0f) d += weightDecay * p[i];
        if (momentum != 0.0f) {
            const float b = firstStep ? d : momentum * buf[i] + (1.0f - dampening) * d;
            buf[i] = b;
            d = nesterov ? d + momentum * b : b;
        }
        p[i] -= lr * d;
    }
}
