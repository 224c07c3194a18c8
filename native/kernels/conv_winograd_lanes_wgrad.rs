//! The Winograd F(2x2, 3x3) weight gradient on the tile lanes of `conv_winograd_lanes`: per block
//! of tiles, V = B^T d B comes from the padded image as plain rows (C x tiles, vectorised over 16
//! tiles) and dM = A dy A^T from a channels-last copy of the block's output gradient straight into
//! packed-B strips (tiles x O, vectorised over 16 output channels); then dU^T[xi] (C x O) +=
//! V[xi] dM[xi] is a GEMM with the tiles as its long inner dimension that reads V in place.
//! Threads sum their own dU over whole images, the partial sums are added in thread order
//! (bitwise the same for a given shape and thread count), and dg = G^T dU G.

use super::conv_winograd::{plane_stride, TILES};
use super::conv_winograd_lanes::{avx512::input, Lanes};
use super::conv_winograd_wgrad::{finish, partials};
use super::gemm_prepacked::{packed_b_len, sgemm_packed_b};
use super::im2col::ConvShape;
use super::im2col_s1::{pad_images, padded_len};
use crate::pool::{num_threads, run_shares, SharedMut};

/// Where it beats the other weight gradients (Zen 4, 2 threads, batch 16 and 64): the lane
/// forward's shapes with whole 16-channel vectors of output channels and at most 128 channels
/// (32-128: 1.35-1.5x faster; 256 channels lose 7-13% to the channel-vectorised Winograd).
pub fn wanted(s: &ConvShape) -> bool {
    super::conv_winograd_lanes::wanted(s) && s.o.is_multiple_of(16) && s.c <= 128 && s.o <= 128
}

/// gw = dL/dw for y = conv(x, w) (lengths checked by `conv2d_backward_weight`; gw overwritten).
pub fn backward_weight(s: &ConvShape, x: &[f32], gy: &[f32], gw: &mut [f32]) {
    assert!(wanted(s), "conv winograd lanes weight gradient: unsupported shape ({})", s.describe());
    let (c, o, ohw) = (s.c, s.o, s.ohw());
    let lanes = Lanes::new(s);
    let most = lanes.tiles(lanes.images);
    let (sv, sm, sdu) = (plane_stride(c * most), plane_stride(packed_b_len(o, most)), plane_stride(c * o));
    let parts = num_threads().min(s.n).max(1);
    let mut guard = partials(parts, sdu);
    let dup = SharedMut::new(&mut guard[..parts * 16 * sdu]);
    let dup = &dup;
    let quarter = lanes.tw == 4;
    run_shares(s.n, |t, imgs| TILES.with(|ts| {
        let [xt, v, gyt, _, dm, scratch] = &mut *ts.borrow_mut();
        // Safety: thread t owns its dU exclusively.
        let acc = unsafe { dup.slice(t * 16 * sdu, 16 * sdu) };
        let pix = 2 * lanes.rows * lanes.ow;
        let (xt, v, dm) = (xt.get(padded_len(s, lanes.images)), v.get(16 * sv), dm.get(16 * sm));
        let gyt = gyt.get(lanes.images * pix * o);
        let mut beta = 0.0;
        for b0 in imgs.clone().step_by(lanes.images) {
            let bi = lanes.images.min(imgs.end - b0);
            let nt = lanes.tiles(bi);
            pad_images(s, x, b0, bi, 0, xt);
            for ty0 in (0..s.oh / 2).step_by(lanes.rows) {
                let offs: Vec<_> = (0..nt / 16).map(|vi| lanes.offsets(ty0, vi, c, o)).collect();
                for ci in 0..c {
                    // Safety: as in the lane forward; plain rows of nt tiles fit v's planes.
                    unsafe { input(&xt[ci * lanes.plane..], lanes.wp, quarter, &offs, [ci, c, nt, sv, nt], v) };
                }
                for img in 0..bi {
                    let src = &gy[(b0 + img) * o * ohw + 2 * ty0 * lanes.ow..];
                    // Safety: o is a multiple of 16; the block's rows of every channel are in gy.
                    unsafe { channels_last(src, ohw, o, pix, &mut gyt[img * pix * o..][..pix * o]) };
                }
                let corners: Vec<usize> = (0..nt).map(|ti| {
                    let (img, r) = (ti / (lanes.rows * lanes.tw), ti % (lanes.rows * lanes.tw));
                    img * pix + 2 * (r / lanes.tw) * lanes.ow + 2 * (r % lanes.tw)
                }).collect();
                // Safety: every corner's 2x2 pixels lie in the block's rows; stores stay in dm.
                unsafe { avx512::grad_tiles(gyt, lanes.ow, o, &corners, sm, dm) };
                for xi in 0..16 {
                    sgemm_packed_b(c, o, nt, 1.0, &v[xi * sv..][..c * nt], nt, &dm[xi * sm..][..packed_b_len(o, nt)], beta,
                                   &mut acc[xi * sdu..][..c * o], o, scratch);
                }
                beta = 1.0;
            }
        }
    }));
    // Every thread had images (`wanted`: n >= threads), so every partial was written.
    finish(&mut guard[..parts * 16 * sdu], [sdu, o, c], true, gw);
}

/// dst[p * o + oi] = src[oi * ohw + p] for p < pix: the block's output-gradient rows channels-last.
///
/// # Safety
/// o is a multiple of 16; src holds o planes of ohw with pix valid floats each.
unsafe fn channels_last(src: &[f32], ohw: usize, o: usize, pix: usize, dst: &mut [f32]) {
    debug_assert!(o.is_multiple_of(16) && src.len() >= (o - 1) * ohw + pix && dst.len() >= pix * o);
    for o0 in (0..o).step_by(16) {
        super::transpose::transpose_band(src.as_ptr().add(o0 * ohw), ohw, dst.as_mut_ptr().add(o0), o, 16, pix);
    }
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
