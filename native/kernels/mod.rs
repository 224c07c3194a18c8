//! CPU kernels: plain Rust over slices, parallelised with `crate::pool`. No N-API here.
// SIMD tiles index several register arrays (accumulators, B vectors) by one row / vector index.
#![allow(clippy::needless_range_loop)]

pub mod simd;
pub mod elementwise;
pub mod mask_blocks;
pub mod reduce;
pub mod batchnorm;
pub mod pooling;
pub mod loss;
pub mod optim;

/// The SIMD level the GEMM micro-kernel uses on this CPU.
pub fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") { return "avx512"; }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") { return "avx2"; }
    }
    "portable"
}

pub mod gemm;
pub mod gemm_prepacked;
pub mod gemm_nt;
pub mod im2col;
pub mod im2col_s1;
mod col2im_s2;
pub mod conv;
pub mod conv_implicit;
pub mod conv_rows;
pub mod conv_epilogue;
pub mod conv_winograd;
#[cfg(target_arch = "x86_64")]
pub mod conv_winograd_lanes;
#[cfg(target_arch = "x86_64")]
pub mod conv_winograd_lanes_wgrad;
pub mod conv_winograd_wgrad;
pub mod conv_wgrad;
#[cfg(target_arch = "x86_64")]
mod transpose;
mod gemm_pack;
mod gemm_portable;
#[cfg(target_arch = "x86_64")]
mod gemm_avx2;
#[cfg(target_arch = "x86_64")]
mod gemm_avx512;
mod gemm_tests;
mod test_util;
mod conv_tests;
pub mod sparse;
pub mod sparse_tile;
pub mod sparse_conv;
pub mod sparse_lanes;
pub mod infer_dense;
mod sparse_tests;
pub mod infer_pool;
mod pool_2x2;
