//! JS-facing functions, one file per op family. Each binding checks every length and shape
//! before a kernel touches memory, so bad input is an exception naming the op, never a crash.

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
mod mask_blocks;
mod cuda_masks;

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
    mask_blocks::register(env, exports);
    cuda_masks::register(env, exports);
}
