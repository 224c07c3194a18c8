//! The Winograd F(2x2, 3x3) weight gradient on the tile lanes of `lanes.rs`: per block
//! of tiles, V = B^T d B comes from the padded image as plain rows (C x tiles, vectorised over 16
//! tiles) and dM = A dy A^T from a channels-last copy of the block's output gradient straight into
//! packed-B strips (tiles x O, vectorised over 16 output channels); then dU^T[xi] (C x O) +=
//! V[xi] dM[xi] is a GEMM with the tiles as its long inner dimension that reads V in place.
//! Threads sum their own dU over whole images, the partial sums are added in thread order
//! (bitwise the same for a given shape and thread count), and dg = G^T dU G.

use super::channels::{plane_stride, TILES};
use super::channels_wgrad::{finish, partials};
use super::lanes::{avx512::input, Lanes};
use crate::kernels::conv::choose::winograd_lanes_wgrad;
use crate::kernels::conv::im2col::ConvShape;
use crate::kernels::conv::im2col_s1::pad_images_to;
use crate::kernels::gemm::prepacked::{packed_b_len, sgemm_packed_b};
use crate::kernels::transpose::transpose_band;
use crate::threads::{num_threads, run_shares, SharedMut};

/// gw = dL/dw for y = conv(x, w) (lengths checked by `conv2d_backward_weight`; gw overwritten).
pub fn backward_weight(s: &ConvShape, x: &[f32], gy: &[f32], gw: &mut [f32]) {
    assert!(winograd_lanes_wgrad(s), "conv winograd lanes weight gradient: unsupported shape ({})", s.describe());
    let (c, o) = (s.c, s.o);
    let lanes = Lanes::new(s);
    let most = lanes.tiles(lanes.images);
    let (sv, sm, sdu) = (plane_stride(c * most), plane_stride(packed_b_len(o, most)), plane_stride(c * o));
    let parts = num_threads().min(s.n).max(1);
    // The threads' partials, then 16 planes for the transposed sum.
    let mut guard = partials(parts + 1, sdu);
    let (du, flip) = guard[..(parts + 1) * 16 * sdu].split_at_mut(parts * 16 * sdu);
    let dup = SharedMut::new(du);
    let dup = &dup;
    let quarter = lanes.lanes == 4;
    // The block's output gradient, channels-last on the padded tile grid: rows of `grid_w` pixels.
    let grid_w = 2 * lanes.tw_pad;
    let pix = 2 * lanes.rows * grid_w;
    run_shares(s.n, |t, imgs| TILES.with(|ts| {
        let [xt, v, gyt, _, dm, scratch] = &mut *ts.borrow_mut();
        // Safety: thread t owns its dU exclusively.
        let acc = unsafe { dup.slice(t * 16 * sdu, 16 * sdu) };
        let (xt, v, dm) = (xt.get(lanes.padded_len(lanes.images, c)), v.get(16 * sv), dm.get(16 * sm));
        let gyt = gyt.get(lanes.images * pix * o);
        let mut beta = 0.0;
        for b0 in imgs.clone().step_by(lanes.images) {
            let bi = lanes.images.min(imgs.end - b0);
            let nt = lanes.tiles(bi);
            pad_images_to(s, x, b0, bi, 0, [lanes.hp, lanes.wp], xt);
            for ty0 in (0..lanes.th_pad).step_by(lanes.rows) {
                let vecs: Vec<_> = (0..nt / 16).map(|vi| lanes.vector(ty0, vi, c, o)).collect();
                for ci in 0..c {
                    // Safety: as in the lane forward; plain rows of nt tiles fit v's planes.
                    unsafe { input(&xt[ci * lanes.plane..], lanes.wp, quarter, &vecs, [ci, c, nt, sv, nt], v) };
                }
                for img in 0..bi {
                    grid_rows(s, &gy[(b0 + img) * o * s.ohw()..][..o * s.ohw()], 2 * ty0, 2 * lanes.rows, grid_w,
                              &mut gyt[img * pix * o..][..pix * o]);
                }
                let corners: Vec<usize> = vecs.iter().flat_map(|vec| vec.tiles).flat_map(|(ty, tx, img)| {
                    (0..4).map(move |j| img * pix + 2 * (ty - ty0) * grid_w + 2 * (tx + j))
                }).collect();
                // Safety: every corner's 2x2 pixels lie in the block's grid; stores stay in dm.
                unsafe { avx512::grad_tiles(gyt, grid_w, o, &corners, sm, dm) };
                for xi in 0..16 {
                    sgemm_packed_b(c, o, nt, 1.0, &v[xi * sv..][..c * nt], nt, &dm[xi * sm..][..packed_b_len(o, nt)], beta,
                                   &mut acc[xi * sdu..][..c * o], o, scratch);
                }
                beta = 1.0;
            }
        }
    }));
    // Every thread had images (`choose::winograd_lanes`: n >= threads), so every partial was written.
    finish(du, [sdu, o, c], Some(flip), gw);
}

/// Output rows row0..row0+rows of one image's gradient `g` (O planes), channels-last on a grid of
/// `grid_w` pixels per row: dst[(r * grid_w + col) * O + oi]; zeros past the map's edges.
fn grid_rows(s: &ConvShape, g: &[f32], row0: usize, rows: usize, grid_w: usize, dst: &mut [f32]) {
    let (o, ow, ohw) = (s.o, s.ow, s.ohw());
    let real = s.oh.saturating_sub(row0).min(rows);
    let mut put = |src: &[f32], px: usize, at: usize| {
        for o0 in (0..o).step_by(16) {
            // Safety: o is a multiple of 16 (`choose::winograd_lanes_wgrad`); px pixels of 16 channels are in src (one
            // plane per channel) and fit dst from `at`.
            unsafe { transpose_band(src.as_ptr().add(o0 * ohw), ohw, dst.as_mut_ptr().add(at + o0), o, 16, px) };
        }
    };
    if ow == grid_w {
        put(&g[row0 * ow..], real * ow, 0);
    } else {
        for r in 0..real {
            put(&g[(row0 + r) * ow..], ow, r * grid_w * o);
        }
        for r in 0..real {
            dst[(r * grid_w + ow) * o..(r + 1) * grid_w * o].fill(0.0);
        }
    }
    dst[real * grid_w * o..rows * grid_w * o].fill(0.0);
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// A dy A^T of every tile (top-left pixel `corners[t]` of the channels-last gradient `g`,
    /// rows of `ow` pixels, `o` channels each), vectorised over 16 channels, into packed-B strips
    /// of tiles x O: point xi, tile t, channel oi of the strip starting at j (width w) at
    /// dm[xi * sm + j * tiles + t * w + oi - j].
    #[target_feature(enable = "avx512f")]
    pub unsafe fn grad_tiles(g: &[f32], ow: usize, o: usize, corners: &[usize], sm: usize, dm: &mut [f32]) {
        let nt = corners.len();
        let (gp, out) = (g.as_ptr(), dm.as_mut_ptr());
        let zero = _mm512_setzero_ps();
        for (t, &p) in corners.iter().enumerate() {
            debug_assert!((p + ow + 1) * o <= g.len());
            for o0 in (0..o).step_by(16) {
                let at = |q: usize| _mm512_loadu_ps(gp.add(q * o + o0));
                let (a, b, c, d) = (at(p), at(p + 1), at(p + ow), at(p + ow + 1));
                // rows of A dy: (a, b), (a+c, b+d), (a-c, b-d), (-c, -d); each (p, q) -> p, p+q, p-q, -q
                let rows = [(a, b), (_mm512_add_ps(a, c), _mm512_add_ps(b, d)), (_mm512_sub_ps(a, c), _mm512_sub_ps(b, d)),
                            (_mm512_sub_ps(zero, c), _mm512_sub_ps(zero, d))];
                let j = o0 - o0 % 32;
                let dst = out.add(j * nt + t * (o - j).min(32) + o0 - j);
                for (i, (pv, qv)) in rows.into_iter().enumerate() {
                    let row = dst.add(4 * i * sm);
                    _mm512_storeu_ps(row, pv);
                    _mm512_storeu_ps(row.add(sm), _mm512_add_ps(pv, qv));
                    _mm512_storeu_ps(row.add(2 * sm), _mm512_sub_ps(pv, qv));
                    _mm512_storeu_ps(row.add(3 * sm), _mm512_sub_ps(zero, qv));
                }
            }
        }
    }
}
