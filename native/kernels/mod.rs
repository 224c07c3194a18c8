//! CPU kernels: plain Rust over slices, parallelised with `crate::threads`. No N-API here.
// SIMD tiles index several register arrays (accumulators, B vectors) by one row / vector index.
#![allow(clippy::needless_range_loop)]

pub mod simd;
pub mod elementwise;
pub mod reduce;
pub mod nn;
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
pub mod conv;
pub mod sparse;
pub mod infer;
#[cfg(target_arch = "x86_64")]
mod transpose;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;
