//! F(2x2, 3x3) Winograd across tile lanes (AVX-512): the transforms run across 16 output tiles
//! at a time instead of across channels. A block of tile rows goes from the zero-padded image
//! straight into packed-B strips (no channels-last copy, no packing pass) and from the 16 GEMM
//! results straight into output rows, and a block's buffers stay in L2. A lane vector holds 16
//! tiles of one tile row, 8 of two rows or 4 of four (by the map's width); tile rows are padded to
//! whole vectors and the tile grid to whole tiles, the extra lanes computed on zeros and never
//! stored. Same transforms, GEMMs and summation order as `channels.rs`; each image is one unit
//! of work, so the result does not depend on the thread count.

use super::channels::{plane_stride, with_weights, TILES};
use crate::kernels::conv::choose::winograd_lanes;
use crate::kernels::conv::epilogue::Epilogue;
use crate::kernels::conv::im2col::ConvShape;
use crate::kernels::conv::im2col_s1::pad_images_to;
use crate::kernels::gemm::prepacked::{packed_a_len, packed_b_len, sgemm_packed};
use crate::threads::{num_threads, run_shares, SharedMut};

/// Per-thread budget of a block's transformed inputs and GEMM results (floats): half of L2.
const BLOCK_FLOATS: usize = 128 << 10;

/// Outputs the lanes compute per image (the tile grid padded to whole vectors), real or not:
/// `choose::winograd_lanes` takes this path where at least 3/4 of them are real.
pub(in crate::kernels::conv) fn computed_outputs(s: &ConvShape) -> usize {
    let l = Lanes::grid(s);
    (2 * l.th_pad) * (2 * l.tw_pad)
}

/// How the output tiles are cut into lane vectors and blocks. A block is some tile rows of one
/// image, or whole images; its columns (the GEMMs' N) are numbered vector by vector, lane by
/// lane. The input planes are padded with zeros to cover every lane's patch.
pub(super) struct Lanes {
    /// tiles per vector row (16, 8 or 4), tile rows per vector, vectors per tile row group
    pub lanes: usize,
    pub rpv: usize,
    segs: usize,
    /// the tile grid padded to whole vectors
    pub th_pad: usize,
    pub tw_pad: usize,
    /// padded input planes (the image at (PH, PW)), the output map
    pub hp: usize,
    pub wp: usize,
    pub plane: usize,
    pub oh: usize,
    pub ow: usize,
    /// tile rows per block (all of th_pad when a block holds several images), images per block
    pub rows: usize,
    pub images: usize,
}

/// Where a lane vector's data lies: `inp`, the padded-input offsets of its four runs of 4 tiles
/// (top-left corner of each run's first patch); `out`, the output offsets of each run's first
/// output row; `mask[run][row]`, which of the run's 8 output columns exist in output row 0 / 1.
#[derive(Clone, Copy)]
pub(super) struct Vector {
    pub inp: [usize; 4],
    pub out: [usize; 4],
    pub mask: [[u16; 2]; 4],
    /// the first tile (row, column, image) of each run
    pub tiles: [(usize, usize, usize); 4],
}

impl Lanes {
    fn grid(s: &ConvShape) -> Lanes {
        let (th, tw) = (s.oh.div_ceil(2), s.ow.div_ceil(2));
        let (lanes, rpv) = match tw {
            0..=4 => (4, 4),
            5..=8 => (8, 2),
            _ => (16, 1),
        };
        let (th_pad, tw_pad) = (th.next_multiple_of(rpv), tw.next_multiple_of(lanes));
        let (hp, wp) = (2 * th_pad + 2, 2 * tw_pad + 2);
        Lanes { lanes, rpv, segs: tw_pad / lanes, th_pad, tw_pad, hp, wp, plane: hp * wp, oh: s.oh, ow: s.ow,
                rows: th_pad, images: 1 }
    }

    pub fn new(s: &ConvShape) -> Lanes {
        let mut l = Self::grid(s);
        // The most tile rows (whole vectors, dividing the padded grid) or whole images that keep
        // a block in budget.
        let per_row = 16 * (s.c + s.o) * l.tw_pad;
        l.rows = l.rpv;
        for r in (l.rpv..=l.th_pad).step_by(l.rpv) {
            if l.th_pad.is_multiple_of(r) && r * per_row <= BLOCK_FLOATS {
                l.rows = r;
            }
        }
        let per_thread = s.n.div_ceil(num_threads());
        l.images = if l.rows < l.th_pad { 1 } else { (BLOCK_FLOATS / (l.th_pad * per_row)).clamp(1, per_thread) };
        l
    }

    /// GEMM columns (lane slots) of a block of `images` images.
    pub fn tiles(&self, images: usize) -> usize { images * self.rows * self.tw_pad }

    /// Padded input floats of `images` images of c channels.
    pub fn padded_len(&self, images: usize, c: usize) -> usize { images * c * self.plane }

    /// Lane vector v of the block starting at tile row ty0 (`c` input, `o` output channels).
    pub fn vector(&self, ty0: usize, v: usize, c: usize, o: usize) -> Vector {
        let per_image = (self.rows / self.rpv) * self.segs;
        let (img, r) = (v / per_image, v % per_image);
        let (ty1, tx1) = (ty0 + (r / self.segs) * self.rpv, (r % self.segs) * self.lanes);
        let mut vec = Vector { inp: [0; 4], out: [0; 4], mask: [[0; 2]; 4], tiles: [(0, 0, 0); 4] };
        for run in 0..4 {
            let (ty, tx) = (ty1 + 4 * run / self.lanes, tx1 + 4 * run % self.lanes);
            vec.tiles[run] = (ty, tx, img);
            vec.inp[run] = img * c * self.plane + 2 * ty * self.wp + 2 * tx;
            vec.out[run] = img * o * self.oh * self.ow + 2 * ty * self.ow + 2 * tx;
            for (i, m) in vec.mask[run].iter_mut().enumerate() {
                let cols = self.ow.saturating_sub(2 * tx).min(8);
                *m = if 2 * ty + i < self.oh { (1u16 << cols) - 1 } else { 0 };
            }
        }
        vec
    }
}

/// y = epi(conv(x, w) + bias), as `conv2d_forward_epi` (lengths already checked there).
pub fn forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], epi: Option<&Epilogue>) {
    assert!(winograd_lanes(s), "conv winograd lanes: unsupported shape ({})", s.describe());
    let (c, o, ohw) = (s.c, s.o, s.ohw());
    let lanes = Lanes::new(s);
    let most = lanes.tiles(lanes.images);
    let (sv, sm) = (plane_stride(packed_b_len(most, c)), plane_stride(o * most));
    let pal = packed_a_len(o, c);
    let quarter = lanes.lanes == 4;
    with_weights(w, o, c, |pu, su| {
        let yp = SharedMut::new(y);
        let yp = &yp;
        run_shares(s.n, |_, imgs| TILES.with(|ts| {
            let [xt, _, pv, _, m, _] = &mut *ts.borrow_mut();
            let (xt, pv, m) = (xt.get(lanes.padded_len(lanes.images, c)), pv.get(16 * sv), m.get(16 * sm));
            for b0 in imgs.clone().step_by(lanes.images) {
                let bi = lanes.images.min(imgs.end - b0);
                let nt = lanes.tiles(bi);
                pad_images_to(s, x, b0, bi, 0, [lanes.hp, lanes.wp], xt);
                // Safety: images b0..b0+bi belong to this share alone.
                let yb = unsafe { yp.slice(b0 * o * ohw, bi * o * ohw) };
                for ty0 in (0..lanes.th_pad).step_by(lanes.rows) {
                    let vecs: Vec<_> = (0..nt / 16).map(|v| lanes.vector(ty0, v, c, o)).collect();
                    for ci in 0..c {
                        // Safety: every lane's patch lies inside the padded planes (`Lanes::grid`);
                        // stores stay inside pv's 16 planes of nt * c.
                        unsafe { avx512::input(&xt[ci * lanes.plane..], lanes.wp, quarter, &vecs, [ci, c, nt, sv, 32], pv) };
                    }
                    for xi in 0..16 {
                        sgemm_packed(o, nt, c, 1.0, &pu[xi * su..][..pal], &pv[xi * sv..][..packed_b_len(nt, c)], 0.0,
                                     &mut m[xi * sm..][..o * nt], nt);
                    }
                    for oi in 0..o {
                        let add = bias.map_or(0.0, |bv| bv[oi]);
                        // Safety: only the outputs of `mask` are stored, all inside the block's planes.
                        unsafe { avx512::output(m, [sm, oi * nt], &vecs, lanes.ow, quarter, add, &mut yb[oi * ohw..]) };
                    }
                }
                if let Some(e) = epi {
                    e.apply(s, yb, b0, bi);
                }
            }
        }));
    });
}

#[cfg(target_arch = "x86_64")]
pub(super) mod avx512 {
    use super::Vector;
    use std::arch::x86_64::*;

    const EVEN: [i32; 16] = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];
    const ODD: [i32; 16] = [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31];
    const LOW: [i32; 16] = [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23];
    const HIGH: [i32; 16] = [8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31];

    #[inline(always)]
    unsafe fn idx(v: &[i32; 16]) -> __m512i { _mm512_loadu_si512(v.as_ptr() as *const _) }

    /// 16 floats from two 8-float runs (lo, hi halves).
    #[inline(always)]
    unsafe fn join(a: *const f32, b: *const f32) -> __m512 {
        let lo = _mm512_castps_pd(_mm512_castps256_ps512(_mm256_loadu_ps(a)));
        _mm512_castpd_ps(_mm512_insertf64x4::<1>(lo, _mm256_castps_pd(_mm256_loadu_ps(b))))
    }

    /// The 32 floats of a lane vector's row: runs r[0..4] of 8 (`quarter`), else two of 16 at r[0], r[2].
    #[inline(always)]
    unsafe fn row(p: *const f32, r: &[usize; 4], shift: usize, quarter: bool) -> (__m512, __m512) {
        if quarter {
            (join(p.add(r[0] + shift), p.add(r[1] + shift)), join(p.add(r[2] + shift), p.add(r[3] + shift)))
        } else {
            (_mm512_loadu_ps(p.add(r[0] + shift)), _mm512_loadu_ps(p.add(r[2] + shift)))
        }
    }

    /// B^T d B of channel ci for every lane vector of the block (from `Lanes::vector`),
    /// in strips of `sw` tiles (the last one narrower): transform point xi, tile t of the strip
    /// starting at j at pv[xi * sv + j * c + ci * width + t - j]. sw = 32: packed-B strips (the
    /// last one 16 wide when nt is an odd multiple of 16); sw = nt: plain rows, C x tiles.
    /// dims = [ci, C, tiles, sv, sw]. `p`: the channel's padded plane in the first image, rows of `wp`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn input(p: &[f32], wp: usize, quarter: bool, vecs: &[Vector], dims: [usize; 5],
                        pv: &mut [f32]) {
        let [ci, c, nt, sv, sw] = dims;
        debug_assert!(nt % 16 == 0 && pv.len() >= 15 * sv + nt * c);
        let (even, odd) = (idx(&EVEN), idx(&ODD));
        let (pp, out) = (p.as_ptr(), pv.as_mut_ptr());
        for (v, Vector { inp: r, .. }) in vecs.iter().enumerate() {
            debug_assert!(r.iter().step_by(2 - quarter as usize).all(|&q| q + 3 * wp + 18 - 8 * quarter as usize <= p.len()));
            // d[k][l] = patch row k, column l of the 16 tiles.
            let mut d = [[_mm512_setzero_ps(); 4]; 4];
            for (k, dk) in d.iter_mut().enumerate() {
                let (lo, hi) = row(pp.add(k * wp), r, 0, quarter);
                let (lo2, hi2) = row(pp.add(k * wp), r, 2, quarter);
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
            let (tile, strip) = (16 * v, 16 * v - (16 * v) % sw);
            let dst = out.add(strip * c + ci * (nt - strip).min(sw) + tile - strip);
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

    /// Stores the 32 floats lo ++ hi of output row `i` of a lane vector: each run's 8 floats at
    /// its offset, only the columns its mask keeps.
    #[inline(always)]
    unsafe fn store_row(y: *mut f32, v: &Vector, i: usize, lo: __m512, hi: __m512, quarter: bool) {
        let m = |run: usize| v.mask[run][i];
        if quarter {
            // A run in lanes 8..15 is stored from 8 floats before its offset (those lanes masked off).
            _mm512_mask_storeu_ps(y.wrapping_add(v.out[0]), m(0), lo);
            _mm512_mask_storeu_ps(y.wrapping_add(v.out[1]).wrapping_sub(8), m(1) << 8, lo);
            _mm512_mask_storeu_ps(y.wrapping_add(v.out[2]), m(2), hi);
            _mm512_mask_storeu_ps(y.wrapping_add(v.out[3]).wrapping_sub(8), m(3) << 8, hi);
        } else {
            // Runs 0, 1 (and 2, 3) are adjacent in one output row.
            _mm512_mask_storeu_ps(y.wrapping_add(v.out[0]), m(0) | m(1) << 8, lo);
            _mm512_mask_storeu_ps(y.wrapping_add(v.out[2]), m(2) | m(3) << 8, hi);
        }
    }

    /// A^T m A + bias of output channel `oi` (row oi * tiles of each GEMM result, at m[xi * sm..])
    /// for every lane vector of the block, into the output planes `y` (channel oi of the block's
    /// first image; rows of `ow`); dims = [sm, oi * tiles].
    #[target_feature(enable = "avx512f")]
    pub unsafe fn output(m: &[f32], dims: [usize; 2], vecs: &[Vector], ow: usize, quarter: bool, bias: f32, y: &mut [f32]) {
        let [sm, row] = dims;
        let (low, high, bias) = (idx(&LOW), idx(&HIGH), _mm512_set1_ps(bias));
        let yp = y.as_mut_ptr();
        for (v, vec) in vecs.iter().enumerate() {
            debug_assert!((0..4).all(|r| (0..2).all(|i| {
                let m = vec.mask[r][i];
                m == 0 || vec.out[r] + i * ow + 16 - m.leading_zeros() as usize <= y.len()
            })) && 15 * sm + row + 16 * v + 16 <= m.len());
            let mm: [__m512; 16] = std::array::from_fn(|xi| _mm512_loadu_ps(m.as_ptr().add(xi * sm + row + 16 * v)));
            let add3 = |x, y, z| _mm512_add_ps(_mm512_add_ps(x, y), z);
            let sub3 = |x, y, z| _mm512_sub_ps(_mm512_sub_ps(x, y), z);
            // rows of A^T m (per column j): m0+m1+m2, m1-m2-m3
            let r0: [__m512; 4] = std::array::from_fn(|j| add3(mm[j], mm[4 + j], mm[8 + j]));
            let r1: [__m512; 4] = std::array::from_fn(|j| sub3(mm[4 + j], mm[8 + j], mm[12 + j]));
            // the same on columns, plus the bias; then even and odd columns interleaved
            for (i, t) in [r0, r1].iter().enumerate() {
                let left = _mm512_add_ps(add3(t[0], t[1], t[2]), bias);
                let right = _mm512_add_ps(sub3(t[1], t[2], t[3]), bias);
                let (lo, hi) = (_mm512_permutex2var_ps(left, low, right), _mm512_permutex2var_ps(left, high, right));
                store_row(yp.wrapping_add(i * ow), vec, i, lo, hi, quarter);
            }
        }
    }
}
