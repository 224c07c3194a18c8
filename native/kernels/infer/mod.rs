//! Kernels only the inference planner (src/infer/) uses, besides `sparse/`:
//!
//! - `dense.rs`: `dense_conv_fused`, the dense conv (the same algorithm choice as training,
//!   `conv/choose.rs`) with the planner's epilogue fused in: bias, residual, ReLU.
//! - `max_pool.rs`: 2x2 stride-2 max pooling with no argmax (nothing flows backward), on
//!   `nn/pool_2x2.rs` where the CPU has AVX-512.

pub mod dense;
pub mod max_pool;
#[cfg(test)]
mod tests;
