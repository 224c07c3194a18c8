//! 2-D convolution, NCHW f32: forward (with an optional fused epilogue), data gradient, weight
//! gradient. Entry points: `conv2d.rs` (`conv2d_forward`, `conv2d_forward_epi`,
//! `conv2d_backward_data`, `conv2d_backward_weight`); the shape type `ConvShape` (parameter
//! checks, sizes) is in `im2col.rs`.
//!
//! Which algorithm serves which shape is decided in `choose.rs` alone, one ordered chain per entry
//! point (first match wins; each rule there carries its measurements):
//!
//! | forward (`choose::forward`)      | taken for                                                  |
//! |----------------------------------|------------------------------------------------------------|
//! | `winograd/lanes.rs`              | 3x3 stride 1, 16-256 channels, maps from ~7x7, AVX-512, an image per thread |
//! | `winograd/channels.rs`           | 3x3 stride 1, C and O >= 64, >= 256 output tiles           |
//! | `rows.rs` (output-channel split) | small maps, many output channels, groups 1, 2+ threads     |
//! | `implicit.rs` (no column matrix) | stride 1, >= 256 outputs per map, little padding, AVX-512  |
//! | `conv2d.rs`: im2col + GEMM       | everything else (1x1 convs use the image as the matrix)    |
//!
//! | data gradient (`choose::data_grad`) | taken for                                               |
//! |-------------------------------------|---------------------------------------------------------|
//! | as a forward (the chain above)      | stride 1, padding <= dil*(k-1), >= 8 channels per group |
//! | `conv2d.rs`: W^T gy + col2im        | everything else (`col2im_s2.rs` for stride-2 3-tap rows on AVX-512) |
//!
//! | weight gradient (`choose::weight_grad`) | taken for                                           |
//! |-----------------------------------------|-----------------------------------------------------|
//! | `winograd/lanes_wgrad.rs`               | the lane forward's shapes with O a multiple of 16, C and O <= 128 |
//! | `winograd/channels_wgrad.rs`            | 3x3 stride 1, C and O >= 128, 2 N OH OW >= C        |
//! | `outer_wgrad.rs` (outer products)       | kernel width 3 undilated, O/G a multiple of 16, AVX-512 |
//! | `implicit.rs`                           | the implicit forward's shapes, when x is finite     |
//! | `conv2d.rs`: gy x im2col^T (`gemm::nt`) | everything else                                     |
//!
//! Lowering helpers of the im2col paths: `im2col.rs` (any shape), `im2col_s1.rs` (stride 1 or 2
//! through a zero-padded copy; used whenever the stride allows), `col2im_s2.rs`. `epilogue.rs`
//! applies eval BatchNorm (+ residual) + ReLU to a forward's output while it is in cache.
//! `tests.rs` checks every path against direct loops, and that each listed shape takes its path.

pub mod choose;
pub mod conv2d;
pub mod im2col;
pub mod im2col_s1;
mod col2im_s2;
pub mod implicit;
pub mod rows;
pub mod epilogue;
pub mod winograd;
pub mod outer_wgrad;
#[cfg(test)]
mod tests;
