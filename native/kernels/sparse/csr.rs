//! Sparse conv weights for inference: a conv's weight (O x C x KH x KW, groups 1) with its zeros
//! removed, stored per output channel (CSR): `row_ptr[o]..row_ptr[o+1]` index the kept values
//! `vals` and their source offsets `offs`. An offset says where the input a weight multiplies
//! starts in the "source" the forward builds, so one micro-kernel serves two lowerings:
//!
//! - `Direct`: the source is each image zero-padded to Hp x Wp; output position
//!   q = oh * Wp + ow reads source[q + off] with off = c*Hp*Wp + kh*dh*Wp + kw*dw (no im2col;
//!   positions with ow >= OW are computed and dropped). Strided convs read sh*sw phase planes
//!   per channel instead (see `SparseGeom::padded`).
//! - `Panel` (any stride): the source is the im2col matrix cut into panels of `tile` columns,
//!   each panel K x tile contiguous; off = k * tile.
//! - `Lanes`: the direct source with LANES images interleaved (position-major, one image per
//!   SIMD lane, see `lanes.rs`); off = LANES * the direct offset. No positions are lost
//!   to tile rounding per image, so small maps (4x4, 2x2) run without building im2col panels.
//!
//! The offsets depend on the geometry (C, H, W, padding, dilation, tile) but not on the batch.

use crate::kernels::conv::im2col::ConvShape;

/// Floats of output positions one micro-kernel call computes: a multiple of 16, at most 128.
pub const MAX_TILE: usize = 128;

/// Images per vector in the `Lanes` lowering (one AVX-512 register of f32).
pub const LANES: usize = 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lowering {
    Direct,
    Panel,
    Lanes,
}

impl Lowering {
    /// The number JS passes for the mode.
    pub fn code(self) -> usize {
        match self {
            Lowering::Direct => 0,
            Lowering::Panel => 1,
            Lowering::Lanes => 2,
        }
    }
}

/// How a sparse conv is lowered: the mode and the tile width (output positions per kernel call).
#[derive(Clone, Copy, Debug)]
pub struct SparseGeom {
    pub mode: Lowering,
    pub tile: usize,
}

impl SparseGeom {
    /// From the JS numbers (mode 0 = direct, 1 = panel, 2 = lanes); checks what the shape allows.
    pub fn new(op: &str, s: &ConvShape, mode: usize, tile: usize) -> Result<Self, String> {
        if s.g != 1 {
            return Err(format!("{op}: sparse conv supports groups=1 only ({})", s.describe()));
        }
        if tile == 0 || !tile.is_multiple_of(16) || tile > MAX_TILE {
            return Err(format!("{op}: tile must be a multiple of 16 in [16, {MAX_TILE}], got {tile}"));
        }
        let mode = match mode {
            0 => Lowering::Direct,
            1 => Lowering::Panel,
            2 => Lowering::Lanes,
            _ => return Err(format!("{op}: mode must be 0 (direct), 1 (panel) or 2 (lanes), got {mode}")),
        };
        Ok(SparseGeom { mode, tile })
    }

    /// Height and width of one plane of the direct source. Stride 1: the zero-padded image
    /// (Hp x Wp). Stride (sh, sw): the padded image split into sh*sw phase planes of
    /// ceil(Hp/sh) x ceil(Wp/sw), phase (a, b) holding padded rows a, a+sh, .. and columns b, b+sw, ..,
    /// so the strided conv becomes a stride-1 one over C*sh*sw planes.
    pub fn padded(s: &ConvShape) -> (usize, usize) {
        ((s.h + 2 * s.ph).div_ceil(s.sh), (s.w + 2 * s.pw).div_ceil(s.sw))
    }

    /// Planes of the direct source per image: C * sh * sw.
    pub fn planes(s: &ConvShape) -> usize {
        s.c * s.sh * s.sw
    }

    /// Output positions per image in direct mode: (OH - 1) * Wq + OW.
    pub fn direct_len(s: &ConvShape) -> usize {
        let (_, wp) = Self::padded(s);
        (s.oh - 1) * wp + s.ow
    }

    /// Source offset of weight column k = (c*KH + kh)*KW + kw.
    #[inline]
    pub fn offset(&self, s: &ConvShape, k: usize) -> usize {
        let direct = || {
            let (hp, wp) = Self::padded(s);
            let (c, r) = (k / (s.kh * s.kw), k % (s.kh * s.kw));
            let (kh, kw) = (r / s.kw * s.dh, r % s.kw * s.dw);
            let phase = (kh % s.sh) * s.sw + kw % s.sw;
            ((c * s.sh * s.sw + phase) * hp + kh / s.sh) * wp + kw / s.sw
        };
        match self.mode {
            Lowering::Direct => direct(),
            Lowering::Panel => k * self.tile,
            Lowering::Lanes => LANES * direct(),
        }
    }

    /// The largest offset any weight of this shape can have.
    pub fn max_offset(&self, s: &ConvShape) -> usize {
        // The last channel holds the largest offsets (in phase-plane order, not always its last tap).
        let k = s.ckk().max(1);
        (k.saturating_sub(s.kh * s.kw)..k).map(|kk| self.offset(s, kk)).max().unwrap_or(0)
    }
}

/// The tile (a multiple of 16 floats) for `len` consecutive units of `unit` floats: wide tiles
/// (fewer weight reloads) unless rounding the units up to whole tiles adds work.
fn best_tile(len: usize, unit: usize) -> usize {
    let mut best = (f64::MAX, 16);
    for tile in (16..=MAX_TILE).step_by(16).filter(|t| t % unit == 0) {
        let per = tile / unit;
        let cost = (len.div_ceil(per) * per) as f64 * (1.0 + 0.5 / (tile as f64 / 16.0));
        if cost < best.0 {
            best = (cost, tile);
        }
    }
    best.1
}

/// The lowering and tile a shape runs best with at batch s.n (measured on Zen 4; see
/// sparseCrossover in src/infer/plan.ts): direct when the padded positions waste at most a
/// quarter of the work; else (small maps) lanes when the batch fills most of its groups of LANES
/// images (4x4 / 2x2 maps of VGG16 at batch 16: 2x / 2.3x faster than panels, no im2col), else panels.
pub fn choose_geom(s: &ConvShape) -> SparseGeom {
    // Panels of K x tile: keep one within ~half of L2 (a K x 64 panel of a 512-channel 3x3 conv is 1.2 MB).
    let k = s.ckk();
    let panel = SparseGeom { mode: Lowering::Panel, tile: if k >= 2048 { 16 } else if k >= 1024 { 32 } else { 64 } };
    if s.g != 1 {
        return panel;
    }
    let len = SparseGeom::direct_len(s);
    let tile = best_tile(len, 1);
    if (s.ohw() as f64) / (len.div_ceil(tile) * tile) as f64 >= 0.75 {
        SparseGeom { mode: Lowering::Direct, tile }
    } else if s.n >= LANES && s.n as f64 / (s.n.div_ceil(LANES) * LANES) as f64 >= 0.75 {
        SparseGeom { mode: Lowering::Lanes, tile: best_tile(len, LANES) }
    } else {
        panel
    }
}

/// Number of nonzero weights.
pub fn count_nonzero(w: &[f32]) -> usize {
    w.iter().filter(|&&v| v != 0.0).count()
}

/// Fills the CSR arrays from a dense weight (lengths checked by the caller: row_ptr O+1,
/// offs and vals count_nonzero(w)). Zeros (and -0.0) are dropped; everything else is kept.
pub fn pack(s: &ConvShape, g: &SparseGeom, w: &[f32], row_ptr: &mut [i32], offs: &mut [i32], vals: &mut [f32]) {
    let k = s.ckk();
    let mut j = 0;
    row_ptr[0] = 0;
    for o in 0..s.o {
        for (kk, &v) in w[o * k..(o + 1) * k].iter().enumerate() {
            if v != 0.0 {
                offs[j] = g.offset(s, kk) as i32;
                vals[j] = v;
                j += 1;
            }
        }
        row_ptr[o + 1] = j as i32;
    }
}

/// Checks a CSR that came from JS before any kernel reads through it: row_ptr starts at 0, never
/// decreases and ends at nnz; every offset lies in [0, max_offset].
pub fn validate(op: &str, s: &ConvShape, g: &SparseGeom, row_ptr: &[i32], offs: &[i32], vals: &[f32]) -> Result<(), String> {
    if row_ptr.len() != s.o + 1 {
        return Err(format!("{op}: rowPtr has {} elements, expected O+1 = {}", row_ptr.len(), s.o + 1));
    }
    if offs.len() != vals.len() {
        return Err(format!("{op}: offs has {} elements but vals has {}; they must match", offs.len(), vals.len()));
    }
    if row_ptr[0] != 0 || row_ptr[s.o] as i64 != vals.len() as i64 {
        return Err(format!("{op}: rowPtr must start at 0 and end at nnz = {} (got {} .. {})", vals.len(), row_ptr[0], row_ptr[s.o]));
    }
    if let Some(o) = row_ptr.windows(2).position(|p| p[1] < p[0]) {
        return Err(format!("{op}: rowPtr decreases at output channel {o}"));
    }
    let max = g.max_offset(s) as i64;
    let (mut lo, mut hi) = (0i32, 0i32);
    for &v in offs {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo < 0 || hi as i64 > max {
        return Err(format!("{op}: offsets must lie in [0, {max}] for this shape and lowering (got {lo}..{hi}); pack with the same params, mode and tile"));
    }
    Ok(())
}
