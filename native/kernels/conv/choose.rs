//! Which algorithm runs a convolution: the one place where `conv2d.rs`'s three entry points pick
//! their path. Each `pub fn` below is the whole ordered chain for one entry point (the first rule
//! that holds wins); each rule under it is one predicate over the shape, the thread count and the
//! CPU, documented with the measurements behind its thresholds (Zen 4, 2 threads unless said).
//! A rule only moves speed: every path computes the same convolution, and conv/tests.rs checks
//! each against direct loops. A kernel that relies on its rule (AVX-512, kernel width, whole
//! vectors of channels) asserts that rule on entry.

use super::im2col::ConvShape;
use crate::kernels::gemm::sgemm::isa;
use crate::kernels::simd::has_avx512;
use crate::threads::num_threads;

/// The forward's algorithms, named after the file that runs each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forward {
    /// `winograd/lanes.rs`: F(2x2, 3x3) vectorised across 16 output tiles.
    #[cfg(target_arch = "x86_64")]
    WinogradLanes,
    /// `winograd/channels.rs`: F(2x2, 3x3) vectorised across channels.
    WinogradChannels,
    /// `rows.rs`: each thread lowers the whole batch and takes a share of the output channels.
    Rows,
    /// `implicit.rs`: a GEMM reading the padded images in place (no column matrix).
    Implicit,
    /// `conv2d.rs` itself: im2col (none for 1x1) + packed GEMM over chunks of whole images.
    Im2col,
}

/// The forward's chain (also the data gradient's when that runs as a forward).
pub fn forward(s: &ConvShape) -> Forward {
    #[cfg(target_arch = "x86_64")]
    if winograd_lanes(s) {
        return Forward::WinogradLanes;
    }
    if winograd_channels(s) {
        return Forward::WinogradChannels;
    }
    if rows(s) {
        return Forward::Rows;
    }
    if implicit(s) {
        return Forward::Implicit;
    }
    Forward::Im2col
}

/// The data gradient's algorithms.
#[derive(Clone, Copy, Debug)]
pub enum DataGrad {
    /// A stride-1 forward convolution of gy with the flipped, transposed weights, over this shape
    /// (which `forward` then places like any other).
    AsForward(ConvShape),
    /// W^T gy per chunk of images, then col2im (`col2im_s2.rs` for ResNet's stride-2 3-tap rows).
    Col2im,
}

/// The data gradient's chain: for stride 1, gx is itself a stride-1 convolution of gy with the
/// weights flipped and in/out channels swapped, padded by dil*(k-1)-pad when that is >= 0. Few
/// input channels per group (< 8) would make that forward's GEMM too thin (M = C/G): col2im then.
pub fn data_grad(s: &ConvShape) -> DataGrad {
    let (qh, qw) = (s.dh * (s.kh - 1), s.dw * (s.kw - 1));
    if s.sh != 1 || s.sw != 1 || s.ph > qh || s.pw > qw || s.cg() < 8 {
        return DataGrad::Col2im;
    }
    let p = [s.n, s.o, s.oh, s.ow, s.c, s.kh, s.kw, 1, 1, qh - s.ph, qw - s.pw, s.dh, s.dw, s.g];
    match ConvShape::from_params("conv2d", &p.map(|v| v as i32)) {
        Ok(t) if t.oh == s.h && t.ow == s.w => DataGrad::AsForward(t),
        _ => DataGrad::Col2im,
    }
}

/// The weight gradient's algorithms, named after the file that runs each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightGrad {
    /// `winograd/lanes_wgrad.rs`: Winograd on the forward's tile lanes.
    #[cfg(target_arch = "x86_64")]
    WinogradLanes,
    /// `winograd/channels_wgrad.rs`: Winograd vectorised across channels.
    WinogradChannels,
    /// `outer_wgrad.rs`: register-blocked outer products.
    OuterProduct,
    /// `implicit.rs`: straight from the padded images.
    Implicit,
    /// `conv2d.rs` itself: gy times the im2col matrix transposed (`gemm::nt`).
    Im2col,
}

/// The weight gradient's chain. `x_finite` is asked last, and only when the implicit GEMM would
/// otherwise be taken: its padded-grid junk columns multiply zeros by real inputs, which is only
/// exact when x holds no infinity or NaN.
pub fn weight_grad(s: &ConvShape, x_finite: impl FnOnce() -> bool) -> WeightGrad {
    #[cfg(target_arch = "x86_64")]
    if winograd_lanes_wgrad(s) {
        return WeightGrad::WinogradLanes;
    }
    if winograd_channels_wgrad(s) {
        return WeightGrad::WinogradChannels;
    }
    if outer_wgrad(s) {
        return WeightGrad::OuterProduct;
    }
    if implicit(s) && x_finite() {
        return WeightGrad::Implicit;
    }
    WeightGrad::Im2col
}

/// Whether Winograd convolutions may be used at all (SEAM_WINOGRAD=0 turns them off).
fn winograd_enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("SEAM_WINOGRAD").map_or(true, |v| v != "0"))
}

/// A 3x3 stride-1 undilated ungrouped conv, with Winograd convolutions enabled: what every
/// Winograd path needs.
fn winograd_shape(s: &ConvShape) -> bool {
    winograd_enabled() && s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.g == 1
}

/// Tile-lane Winograd forward: where it beats both the direct convolution and the
/// channel-vectorised Winograd (measured at batch 16 and 64): 3x3 stride-1 layers with 16 to 256
/// channels (1.2-1.85x faster; 512 channels on 8x8 maps are level) where at least 3/4 of the
/// computed outputs are real (maps of 7x7 and up; 4x4 and 2x2 maps waste too many lanes). Needs
/// the AVX-512 GEMM and an image per thread (each image is one unit of work).
#[cfg(target_arch = "x86_64")]
pub(super) fn winograd_lanes(s: &ConvShape) -> bool {
    winograd_shape(s) && isa().name == "avx512" && s.n >= num_threads()
        && (16..=256).contains(&s.c) && (16..=256).contains(&s.o)
        && 4 * s.ohw() >= 3 * super::winograd::lanes::computed_outputs(s)
}

/// Channel-vectorised Winograd forward (and the data gradient, which runs as one): a Winograd
/// shape with enough channels for the 16 GEMMs to run near peak, and enough tiles to repay the
/// weight transform (which reads the weights and writes 16/9 of them, every call) and the GEMMs'
/// passes over the transformed weights. Measured on VGG16 shapes: C, O >= 64 from 256 tiles (512
/// channels, 4x4 maps, batch 64: 1.5x faster); with 64-128 tiles the direct GEMM wins (512
/// channels at 2x2 x 64 or 4x4 x 16-32: by 7-57%).
pub(super) fn winograd_channels(s: &ConvShape) -> bool {
    winograd_shape(s) && s.c >= 64 && s.o >= 64 && s.n * s.oh.div_ceil(2) * s.ow.div_ceil(2) >= 256
}

/// Tile-lane Winograd weight gradient: where it beats the other weight gradients (batch 16 and
/// 64): the lane forward's shapes with whole 16-channel vectors of output channels and at most 128
/// channels (32-128: 1.35-1.5x faster; 256 channels lose 7-13% to the channel-vectorised one).
#[cfg(target_arch = "x86_64")]
pub(super) fn winograd_lanes_wgrad(s: &ConvShape) -> bool {
    winograd_lanes(s) && s.o.is_multiple_of(16) && s.c <= 128 && s.o <= 128
}

/// Channel-vectorised Winograd weight gradient: where it beats the outer products: at least 128
/// channels each way and twice as many output pixels as input channels. Measured at batch 64:
/// 128-512 channels 10-30% faster (512 channels on 2x2 maps too, where the forward loses); 64
/// channels 13-30% slower.
pub(super) fn winograd_channels_wgrad(s: &ConvShape) -> bool {
    winograd_shape(s) && s.c >= 128 && s.o >= 128 && 2 * s.n * s.ohw() >= s.c
}

/// Output-channel split: small feature maps with many output channels (the deep VGG layers at
/// small batch), where the image split would leave each thread a GEMM under 256 columns wide.
pub(super) fn rows(s: &ConvShape) -> bool {
    let t = num_threads();
    let cols_per_thread = s.n.div_ceil(t) * s.ohw();
    s.g == 1 && t > 1 && s.og() >= 16 * t && cols_per_thread < 256 && s.n * s.ohw() <= 2048
}

/// Implicit GEMM: stride 1, not 1x1, maps of 256+ outputs whose padded width adds at most 1/8 junk
/// columns (Wp / OW: 6% at 32x32, 12.5% at 16x16), a kernel reach of at most 32 columns, on the
/// 12-row AVX-512 micro-kernel it is written for.
pub(super) fn implicit(s: &ConvShape) -> bool {
    let wp = s.w + 2 * s.pw;
    s.sh == 1 && s.sw == 1 && !s.is_pointwise() && s.ohw() >= 256 && wp * 8 <= s.ow * 9
        && (s.kw - 1) * s.dw <= 32 && isa().name == "avx512" && isa().mr == 12
}

/// Outer-product weight gradient: taken wherever its AVX-512 tiles apply (kernel width 3
/// undilated, whole 16-channel vectors of output channels per group).
pub(super) fn outer_wgrad(s: &ConvShape) -> bool {
    s.kw == 3 && s.dw == 1 && s.og().is_multiple_of(16) && has_avx512()
}

/// Shapes the training step's sparse path (`sparse/train.rs`) may take: groups 1 (what the sparse
/// kernel supports), not a strided 1x1 (a subsampling copy and a tiny GEMM: memory bound either
/// way), at least 64 weights per output channel (thinner layers, the 1- or 3-channel first conv,
/// are bound by writing their output: sparse was 1.2-2.5x slower at every kept fraction), and
/// enough work per call for the packing to pay (1M+ dense multiply-adds).
pub fn sparse_train_shape(s: &ConvShape) -> bool {
    let strided_pointwise = s.kh == 1 && s.kw == 1 && (s.sh != 1 || s.sw != 1);
    s.g == 1 && !strided_pointwise && s.ckk() >= 64 && s.n * s.o * s.ohw() * s.ckk() >= 1 << 20
}

/// Whether a training forward (or data gradient run as one) over weights with this kept fraction
/// runs sparse: below the crossover of its kind of shape. The dense 3x3 stride-1 convs run as
/// Winograd F(2x2, 3x3) (2.25x fewer multiplies than the direct sum the sparse kernel computes),
/// so the sparse path wins only well below 1/2.25 kept.
pub fn sparse_train(s: &ConvShape, density: f64) -> bool {
    sparse_train_shape(s) && density < sparse_train_crossover(s)
}

/// The kept fraction below which the sparse path is faster. Measured on a quiet 2-core Zen 4
/// (`bench/tools/sparse-train.ts`, batch 64, packing included; sparse / dense time):
/// - 2x2 maps (VGG16's last 512-channel layers): 0.81 at 5%, 1.11 at 10%.
/// - stride 2 (direct over phase planes; its data gradient stays dense, col2im): 0.62-0.77 at 5%,
///   0.76-0.97 at 20%, 0.83-1.07 at 25%.
/// - 16-32 input channels, stride 1 (ResNet20 on CIFAR and Fashion-MNIST): 0.38-0.48 at 5%,
///   0.83-0.94 at 20%, 0.96-1.17 at 25%.
/// - 64-512 input channels, stride 1 (VGG16, ResNet20's last stage): 0.38-0.51 at 5%, 0.54-0.74 at
///   10%, 0.64-1.02 at 15%, 0.86-1.36 at 20%.
pub fn sparse_train_crossover(s: &ConvShape) -> f64 {
    if s.ohw() <= 4 {
        0.05
    } else if s.sh > 1 || s.sw > 1 {
        0.22
    } else if s.ckk() <= 288 {
        0.2
    } else {
        0.13
    }
}
