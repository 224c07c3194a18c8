//! F(2x2, 3x3) Winograd for wide maps with few channels (AVX-512): the transforms run across 16
//! tiles at a time instead of across channels. A block of tile rows goes from the zero-padded
//! image straight into packed-B strips (no channels-last copy, no packing pass) and from the 16
//! GEMM results straight into output rows, and a block's buffers stay in L2. Lanes hold 16
//! consecutive tiles of one tile row (maps whose width is a multiple of 32) or 8 tiles of two
//! consecutive tile rows (16-wide maps). Same transforms, GEMMs and summation order as
//! `conv_winograd`, so the two paths agree bitwise; each image is one unit of work, so the
//! result does not depend on the thread count either.

use super::conv_epilogue::Epilogue;
use super::conv_winograd::{plane_stride, with_weights, TILES};
use super::gemm::isa;
use super::gemm_prepacked::{packed_a_len, sgemm_packed};
use super::im2col::ConvShape;
use super::im2col_s1::{pad_images, padded_len};
use crate::pool::{num_threads, run_shares, SharedMut};

/// Per-thread budget of a block's transformed inputs and GEMM results (floats): half of L2.
const BLOCK_FLOATS: usize = 128 << 10;

/// Where this path beats both the direct convolution and the channel-vectorised Winograd
/// (measured on Zen 4 in ResNet20 and VGG16 at batch 16 and 64): 3x3 stride-1 layers with 16 to
/// 128 channels on maps of even size whose tile rows fill whole lanes.
pub fn wanted(s: &ConvShape) -> bool {
    let geometry_ok = s.kh == 3 && s.kw == 3 && s.sh == 1 && s.sw == 1 && s.dh == 1 && s.dw == 1 && s.g == 1
        && s.oh % 2 == 0 && s.ow % 2 == 0 && Lanes::unit_rows(s).is_some_and(|u| (s.oh / 2) % u == 0);
    geometry_ok && super::conv_winograd::enabled() && isa().name == "avx512" && s.n >= num_threads()
        && (16..=128).contains(&s.c) && (16..=128).contains(&s.o)
}

/// How the output tiles of one image are cut into lane vectors and blocks.
struct Lanes {
    tw: usize,
    /// padded input row length and output row length
    wp: usize,
    ow: usize,
    /// a lane vector covers 8 tiles of two tile rows (16-wide maps)
    paired: bool,
    /// tile rows per block, tiles per block
    rows: usize,
    tiles: usize,
}

impl Lanes {
    /// Tile rows of the smallest block whose tile count is a multiple of 32 (whole B strips).
    fn unit_rows(s: &ConvShape) -> Option<usize> {
        match s.ow / 2 {
            8 => Some(4),
            tw if tw % 32 == 0 => Some(1),
            tw if tw % 16 == 0 => Some(2),
            _ => None,
        }
    }

    fn new(s: &ConvShape) -> Lanes {
        let (th, tw) = (s.oh / 2, s.ow / 2);
        let unit = Self::unit_rows(s).expect("conv winograd lanes: unsupported width");
        // The most unit multiples that divide the tile rows and keep the block in budget.
        let per_row = 16 * (s.c + s.o) * tw;
        let mut rows = unit;
        for r in (unit..=th).step_by(unit) {
            if th % r == 0 && r * per_row <= BLOCK_FLOATS {
                rows = r;
            }
        }
        Lanes { tw, wp: s.w + 2 * s.pw, ow: s.ow, paired: tw == 8, rows, tiles: rows * tw }
    }

    /// Tile row and first tile column of lane vector v of the block starting at tile row ty0.
    fn origin(&self, ty0: usize, v: usize) -> (usize, usize) {
        if self.paired {
            (ty0 + 2 * v, 0)
        } else {
            let per = self.tw / 16;
            (ty0 + v / per, 16 * (v % per))
        }
    }

    /// Offsets of the two 16-float halves of vector v: in the padded plane (top-left of the
    /// patches) and in the output plane (the first output row).
    fn offsets(&self, ty0: usize, v: usize) -> [usize; 4] {
        let (ty, tx) = self.origin(ty0, v);
        let (i, o) = ((2 * ty) * self.wp + 2 * tx, (2 * ty) * self.ow + 2 * tx);
        let (di, d_o) = if self.paired { (2 * self.wp, 2 * self.ow) } else { (16, 16) };
        [i, i + di, o, o + d_o]
    }
}

/// y = epi(conv(x, w) + bias), as `conv2d_forward_epi` (lengths already checked there).
pub fn forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], epi: Option<&Epilogue>) {
    assert!(wanted(s), "conv winograd lanes: unsupported shape ({})", s.describe());
    let (c, o, ohw) = (s.c, s.o, s.ohw());
    let lanes = Lanes::new(s);
    let (nt, nvec) = (lanes.tiles, lanes.tiles / 16);
    let plane = (s.h + 2 * s.ph) * lanes.wp;
    let (sv, sm) = (plane_stride(nt * c), plane_stride(o * nt));
    let pal = packed_a_len(o, c);
    with_weights(w, o, c, |pu, su| {
        let yp = SharedMut::new(y);
        let yp = &yp;
        run_shares(s.n, |_, imgs| TILES.with(|ts| {
            let [xt, _, pv, _, m, _] = &mut *ts.borrow_mut();
            let (xt, pv, m) = (xt.get(padded_len(s, 1)), pv.get(16 * sv), m.get(16 * sm));
            for b in imgs {
                pad_images(s, x, b, 1, 0, xt);
                // Safety: image b's outputs belong to this share alone.
                let yb = unsafe { yp.slice(b * o * ohw, o * ohw) };
                for ty0 in (0..s.oh / 2).step_by(lanes.rows) {
                    let offs: Vec<[usize; 4]> = (0..nvec).map(|v| lanes.offsets(ty0, v)).collect();
                    for ci in 0..c {
                        // Safety: every patch of the block lies inside the padded plane (the
                        // geometry of `wanted`); stores stay inside pv's 16 planes of nt * c.
                        unsafe { avx512::input(&xt[ci * plane..][..plane], lanes.wp, &offs, [ci, c, nt, sv], pv) };
                    }
                    for xi in 0..16 {
                        sgemm_packed(o, nt, c, 1.0, &pu[xi * su..][..pal], &pv[xi * sv..][..nt * c], 0.0,
                                     &mut m[xi * sm..][..o * nt], nt);
                    }
                    for oi in 0..o {
                        let add = bias.map_or(0.0, |bv| bv[oi]);
                        // Safety: as for the input; the output rows of the block lie in the plane.
                        unsafe { avx512::output(m, [sm, oi * nt], &offs, lanes.ow, add, &mut yb[oi * ohw..][..ohw]) };
                    }
                }
                if let Some(e) = epi {
                    e.apply(s, yb, b, 1);
                }
            }
        }));
    });
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    const EVEN: [i32; 16] = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];
    const ODD: [i32; 16] = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31];
    const LOW: [i32; 16] = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
    const HIGH: [i32; 16] = [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31];

    #[inline(always)]
    unsafe fn idx(v: &[i32; 16]) -> __m512i { _mm512_loadu_si512(v.as_ptr() as *const _) }

    /// B^T d B of channel ci for every lane vector of the block (`offs` from `Lanes::offsets`),
    /// into packed-B strips: transform point xi, tile t at pv[xi * sv + strip(t) * c + ci * 32 + t % 32];
    /// dims = [ci, C, tiles, sv]. `p`: the channel's padded plane, rows of `wp`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn input(p: &[f32], wp: usize, offs: &[[usize; 4]], dims: [usize; 4], pv: &mut [f32]) {
        let [ci, c, nt, sv] = dims;
        debug_assert!(nt % 32 == 0 && pv.len() >= 15 * sv + nt * c);
        let (even, odd) = (idx(&EVEN), idx(&ODD));
        let (pp, out) = (p.as_ptr(), pv.as_mut_ptr());
        for (v, &[a, b, _, _]) in offs.iter().enumerate() {
            debug_assert!(b + 3 * wp + 18 <= p.len() && a + 3 * wp + 18 <= p.len());
            // d[k][l] = patch row k, column l of the 16 tiles.
            let mut d = [[_mm512_setzero_ps(); 4]; 4];
            for (k, dk) in d.iter_mut().enumerate() {
                let (ra, rb) = (pp.add(a + k * wp), pp.add(b + k * wp));
                let (lo, hi) = (_mm512_loadu_ps(ra), _mm512_loadu_ps(rb));
                let (lo2, hi2) = (_mm512_loadu_ps(ra.add(2)), _mm512_loadu_ps(rb.add(2)));
                *dk = [_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi),
                       _mm512_permutex2var_ps(lo2, even, hi2), _mm512_permutex2var_ps(lo2, odd, hi2)];
            }
            // rows of B^T d (per column l): d0-d2, d1+d2, d2-d1, d1-d3
            let t: [[__m512; 4]; 4] = [
                std::array::from_fn(|l| _mm512_sub_ps(d[0][l], d[2][l])),
                std::array::from_fn(|l| _mm512_add_ps(d[1][l], d[2][l])),
                std::array::from_fn(|l| _mm512_sub_ps(d[2][l], d[1][l])),
                std::array::from_fn(|l| _mm512_sub_ps(d[1][l], d[3][l])),
            ];
            let tile = 16 * v;
            let dst = out.add((tile & !31) * c + ci * 32 + (tile & 31));
            // the same on columns
            for (i, r) in t.iter().enumerate() {
                let row = dst.add(4 * i * sv);
                _mm512_storeu_ps(row, _mm512_sub_ps(r[0], r[2]));
                _mm512_storeu_ps(row.add(sv), _mm512_add_ps(r[1], r[2]));
                _mm512_storeu_ps(row.add(2 * sv), _mm512_sub_ps(r[2], r[1]));
                _mm512_storeu_ps(row.add(3 * sv), _mm512_sub_ps(r[1], r[3]));
            }
        }
    }

    /// A^T m A + bias of output channel `oi` (row oi * tiles of each GEMM result, at m[xi * sm..])
    /// for every lane vector of the block, into the output plane `y` (rows of `ow`);
    /// dims = [sm, oi * tiles].
    #[target_feature(enable = "avx512f")]
    pub unsafe fn output(m: &[f32], dims: [usize; 2], offs: &[[usize; 4]], ow: usize, bias: f32, y: &mut [f32]) {
        let [sm, row] = dims;
        let (low, high, bias) = (idx(&LOW), idx(&HIGH), _mm512_set1_ps(bias));
        let yp = y.as_mut_ptr();
        for (v, &[_, _, a, b]) in offs.iter().enumerate() {
            debug_assert!(a.max(b) + ow + 16 <= y.len() && 15 * sm + row + 16 * v + 16 <= m.len());
            let mm: [__m512; 16] = std::array::from_fn(|xi| _mm512_loadu_ps(m.as_ptr().add(xi * sm + row + 16 * v)));
            let add3 = |x, y, z| _mm512_add_ps(_mm512_add_ps(x, y), z);
            let sub3 = |x, y, z| _mm512_sub_ps(_mm512_sub_ps(x, y), z);
            // rows of A^T m (per column j): m0+m1+m2, m1-m2-m3
            let r0: [__m512; 4] = std::array::from_fn(|j| add3(mm[j], mm[4 + j], mm[8 + j]));
            let r1: [__m512; 4] = std::array::from_fn(|j| sub3(mm[4 + j], mm[8 + j], mm[12 + j]));
            // the same on columns, plus the bias; then even and odd columns interleaved
            for (i, r) in [r0, r1].iter().enumerate() {
                let left = _mm512_add_ps(add3(r[0], r[1], r[2]), bias);
                let right = _mm512_add_ps(sub3(r[1], r[2], r[3]), bias);
                _mm512_storeu_ps(yp.add(a + i * ow), _mm512_permutex2var_ps(left, low, right));
                _mm512_storeu_ps(yp.add(b + i * ow), _mm512_permutex2var_ps(left, high, right));
            }
        }
    }
}
