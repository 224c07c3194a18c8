//! CPU kernels: plain Rust over slices, parallelised with `crate::threads`. No N-API here: the
//! bindings in `native/bindings/` check JS arguments and call these.
//!
//! Map (one folder per family; each folder's mod.rs has its own map):
//! - `gemm/`: single-precision GEMM (blocked, packed operands, C += A B^T); the micro-kernel
//!   (AVX-512, AVX2 or portable) is picked once per process in `gemm/sgemm.rs`.
//! - `conv/`: 2-D convolution forward, data and weight gradients: im2col + GEMM, implicit GEMM,
//!   an output-channel split, Winograd (`conv/winograd/`); which one runs for which shape is
//!   decided in `conv/choose.rs` and nowhere else.
//! - `sparse/`: conv over weights with their zeros removed (CSR), for the inference planner.
//! - `infer/`: the planner's dense conv with a fused epilogue, and max pooling without argmax.
//! - `nn/`: BatchNorm, max / average / global pooling, cross-entropy.
//! - `elementwise.rs` (masked weight, ReLU, arithmetic), `reduce.rs` (sums, argmax),
//!   `optim.rs` (Adam, SGD steps): flat-array kernels whose results never depend on the threads.
//! - `simd.rs` (run-time SIMD dispatch, fixed-lane reductions) and `transpose.rs` (AVX-512
//!   16 x 16 transposes): helpers the families share.
//!
//! Tests: every folder with tests has one `tests.rs`, declared last in its mod.rs as
//! `#[cfg(test)] mod tests;` (one inline module per file when it covers several); `test_util.rs`
//! holds the helpers they share. `cargo test --release` runs them all.

// SIMD tiles index several register arrays (accumulators, B vectors) by one row / vector index.
#![allow(clippy::needless_range_loop)]

pub mod simd;
#[cfg(target_arch = "x86_64")]
mod transpose;
pub mod elementwise;
pub mod reduce;
pub mod optim;
pub mod gemm;
pub mod conv;
pub mod sparse;
pub mod infer;
pub mod nn;

/// The SIMD level the GEMM micro-kernel uses on this CPU.
pub fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") { return "avx512"; }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") { return "avx2"; }
    }
    "portable"
}

#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;
