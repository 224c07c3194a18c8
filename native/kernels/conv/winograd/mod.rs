//! 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3): 16 multiplies per 2x2
//! output tile and channel pair where the direct form does 36. Two vectorisations, each with a
//! forward (which also serves the data gradient, run as a forward) and a weight gradient:
//!
//! - `channels.rs` / `channels_wgrad.rs`: transforms vectorised across channels, through a
//!   channels-last copy; any map size, any ISA. `channels.rs` also holds what both share: the
//!   `Tiling`, the transformed weights (`with_weights`), the per-thread `TILES` scratch.
//! - `lanes.rs` / `lanes_wgrad.rs` (x86-64, AVX-512): transforms across 16 output tiles at a
//!   time, straight from the padded image into packed GEMM strips; maps from about 7x7.
//!
//! Which one runs (or neither) is decided in `../choose.rs`; `SEAM_WINOGRAD=0` turns both off.

pub mod channels;
pub mod channels_wgrad;
#[cfg(target_arch = "x86_64")]
pub mod lanes;
#[cfg(target_arch = "x86_64")]
pub mod lanes_wgrad;
