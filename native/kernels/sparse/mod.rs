//! Sparse convolution: a conv's weights with their zeros removed (CSR per output channel),
//! forward only, with a fused bias / residual / ReLU epilogue. Groups 1. The inference engine
//! uses it through its planner, the training step through `train.rs`.
//!
//! Map:
//! - `csr.rs`: the format and its three lowerings (`Direct`: padded images read in place;
//!   `Panel`: im2col panels; `Lanes`: 16 images interleaved, for small maps), `pack` /
//!   `validate`, and `choose_geom`, where the lowering and tile width are picked per shape and
//!   batch (direct when padding wastes at most a quarter of the work, else lanes when the batch
//!   fills its groups of 16, else panels). Whether a layer runs sparse at all is the inference
//!   planner's choice (src/infer/plan.ts).
//! - `forward.rs`: `sparse_conv_forward` for the direct and panel lowerings (one pass per image
//!   when the batch splits over the threads, else build the source then compute).
//! - `lanes.rs`: the `Lanes` lowering's forward.
//! - `train.rs`: sparse forward and data gradient inside the training step, packed per call;
//!   whether a call runs sparse is `conv::choose::sparse_train`.
//! - `tile.rs`: the micro-kernel, one output channel over a tile of positions (AVX-512, or a
//!   portable loop; `SEAM_SPARSE_ISA=portable` forces it).

pub mod csr;
pub mod tile;
pub mod forward;
pub mod lanes;
pub mod train;
#[cfg(test)]
mod tests;
