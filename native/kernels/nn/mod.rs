//! Layer kernels with PyTorch semantics, forward and backward, over NCHW planes.
//!
//! Map:
//! - `batchnorm.rs`: BatchNorm2d (train and eval; f64 statistics per channel in a fixed order),
//!   and the fused eval BatchNorm + ReLU that `conv/epilogue.rs` matches bit for bit.
//! - `pooling.rs`: max / average pooling (ceil mode, padding, dilation, count_include_pad) and
//!   global average pooling. The 2x2 stride-2 unpadded max pool takes `pool_2x2.rs` (AVX-512,
//!   16 outputs per step) when the CPU has it, the general loop otherwise.
//! - `loss.rs`: cross-entropy with mean reduction (stable softmax, label checks).

pub mod batchnorm;
pub mod pooling;
pub(crate) mod pool_2x2;
pub mod loss;
#[cfg(test)]
mod tests;
