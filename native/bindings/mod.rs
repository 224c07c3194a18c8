//! JS-facing functions, one file per op family. Each binding checks every length and shape
//! before a kernel touches memory, so bad input is an exception naming the op, never a crash.
//! The typed JS side of each is in src/native.ts (CPU) and src/backend/cuda-native.ts (CUDA).
//!
//! Map (file: JS functions -> kernels):
//! - `info.rs`: `info` (thread count, SIMD level).
//! - `blas.rs`: `gemm` -> `kernels/gemm/`.
//! - `conv.rs`: `conv2dForward`, `conv2dForwardBnRelu`, `conv2dBackwardData`,
//!   `conv2dBackwardWeight` -> `kernels/conv/` (which picks the algorithm itself).
//! - `nn.rs`: masked weight, mask gradient, ReLU, arithmetic, sums, argmax ->
//!   `kernels/elementwise.rs`, `kernels/reduce.rs`.
//! - `nn_norm_loss.rs`: BatchNorm2d (incl. the eval BatchNorm + ReLU), cross-entropy ->
//!   `kernels/nn/`.
//! - `nn_pool.rs`: max / average / global average pooling -> `kernels/nn/pooling.rs`.
//! - `optim.rs`: `adamStep`, `sgdStep` -> `kernels/optim.rs`.
//! - `sparse.rs`: the inference planner's `sparseConv*`, `denseConvFused`, `maxPool2x2Infer` ->
//!   `kernels/sparse/`, `kernels/infer/`.
//! - `cuda.rs`: `cudaAvailable`, device buffers and copies; `cuda_ops.rs`: one `cuda*` launcher
//!   per CPU op above -> `native/cuda/`.
//! - `check.rs`: the shape and length checks they share.

use crate::napi::{napi_env, napi_value};

mod check;
mod info;
mod blas;
mod conv;
mod nn;
mod nn_norm_loss;
mod nn_pool;
mod optim;
mod cuda;
mod cuda_ops;
mod sparse;

pub unsafe fn register(env: napi_env, exports: napi_value) {
    info::register(env, exports);
    blas::register(env, exports);
    conv::register(env, exports);
    nn::register(env, exports);
    nn_norm_loss::register(env, exports);
    nn_pool::register(env, exports);
    optim::register(env, exports);
    cuda::register(env, exports);
    sparse::register(env, exports);
}
