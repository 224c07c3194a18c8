//! 2-D convolution (NCHW, f32): the forward, backward-data and backward-weight entry points.
//! Each asks `choose.rs` for its algorithm and either hands the call to that algorithm's file or,
//! for the im2col and implicit GEMM paths, runs it here. Work is cut into chunks of `bc` whole images (small feature maps are batched so each GEMM
//! has enough columns); chunks are split statically over the pool and each thread uses its own
//! scratch, so every output element is computed by one thread in a fixed order. The weight
//! gradient is summed per thread and the partial sums are added in thread order.

use super::choose::{self, DataGrad, Forward, WeightGrad};
use super::epilogue::Epilogue;
use super::im2col::{col2im_add, group_image, im2col, im2col_packed, ConvShape};
use super::im2col_s1::{self, im2col_packed_s1, im2col_s1, pad_images, padded_len};
use super::implicit as implicit;
use super::outer_wgrad as wgrad;
use super::winograd;
use crate::kernels::gemm::nt::sgemm_nt_acc;
use crate::kernels::gemm::prepacked::{pack_a_full_par, packed_a_len, packed_b_len, sgemm_packed, sgemm_packed_a, sgemm_packed_b};
use crate::kernels::gemm::sgemm::Scratch;
use crate::kernels::sparse::train::{self as sparse_train, Pass};
use crate::threads::{num_threads, parallel_for, run_shares, SharedMut};
use std::cell::RefCell;

/// Aim for GEMMs at least this many columns wide (output pixels of the chunk's images).
const TARGET_COLS: usize = 512;

thread_local! {
    /// Packed weights (and flipped weights) of the calling thread: reused, never zero-filled.
    static WPACK: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
    static WFLIP: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
    static SCRATCH: RefCell<[Scratch; 4]> = const { RefCell::new([Scratch::new(), Scratch::new(), Scratch::new(), Scratch::new()]) };
}

/// Images per chunk: enough for TARGET_COLS columns, but leave every thread a chunk.
fn chunk_images(s: &ConvShape) -> usize {
    let per_thread = s.n.div_ceil(num_threads()).max(1);
    TARGET_COLS.div_ceil(s.ohw().max(1)).clamp(1, per_thread)
}

/// Copies rows grp*og.. of images b0..b0+bc of an N x O x OHW tensor into an og x (bc*OHW) matrix.
fn gather_rows(s: &ConvShape, t: &[f32], b0: usize, bc: usize, grp: usize, out: &mut [f32]) {
    let (og, ohw) = (s.og(), s.ohw());
    for b in 0..bc {
        for o in 0..og {
            let src = &t[((b0 + b) * s.o + grp * og + o) * ohw..][..ohw];
            out[o * bc * ohw + b * ohw..][..ohw].copy_from_slice(src);
        }
    }
}

/// Column matrix of a chunk in packed-B form; stride 1 goes through a padded copy.
pub(crate) fn lower_packed(s: &ConvShape, x: &[f32], b0: usize, bc: usize, grp: usize, col: &mut [f32], s_pad: &mut Scratch) {
    if im2col_s1::supported(s) {
        let pad = s_pad.get(padded_len(s, bc));
        pad_images(s, x, b0, bc, grp, pad);
        im2col_packed_s1(s, pad, bc, col);
    } else {
        im2col_packed(s, x, b0, bc, grp, col);
    }
}

/// The data gradient of `s` as the forward convolution `t` (`DataGrad::AsForward`): gy through
/// the weights flipped and with in/out channels swapped.
fn backward_data_as_forward(s: &ConvShape, t: &ConvShape, gy: &[f32], w: &[f32], gx: &mut [f32]) {
    let (og, cg, kk) = (s.og(), s.cg(), s.kh * s.kw);
    WFLIP.with(|wp| {
        let mut wt = wp.borrow_mut();
        let wt = wt.get(w.len());
        for grp in 0..s.g {
            for o in 0..og {
                for c in 0..cg {
                    let src = &w[((grp * og + o) * cg + c) * kk..][..kk];
                    let dst = &mut wt[((grp * cg + c) * og + o) * kk..][..kk];
                    for (d, v) in dst.iter_mut().zip(src.iter().rev()) {
                        *d = *v;
                    }
                }
            }
        }
        forward_pass(t, gy, wt, None, gx, None, Pass::DataGrad);
    });
}

fn all_finite(x: &[f32]) -> bool {
    // An integer OR over the exponent test vectorises (a float reduction would not).
    x.chunks(1 << 14).all(|c| c.iter().fold(0u32, |a, &v| a | ((v.to_bits() & 0x7f80_0000 == 0x7f80_0000) as u32)) == 0)
}

fn check_lens(s: &ConvShape, what: &[(&str, usize, usize)]) {
    for &(name, got, want) in what {
        assert!(got == want, "conv2d: {name} has {got} elements, expected {want} ({})", s.describe());
    }
}

/// y = conv(x, w) + bias.
pub fn conv2d_forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32]) {
    conv2d_forward_epi(s, x, w, bias, y, None)
}

/// y = epi(conv(x, w) + bias): the epilogue (if any) runs on each chunk's outputs in cache.
pub fn conv2d_forward_epi(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32],
                          epi: Option<&Epilogue>) {
    forward_pass(s, x, w, bias, y, epi, Pass::Forward)
}

/// The forward, also run for the data gradient (`pass`): over the kept weights only when
/// `sparse::train` takes it, else by the algorithm `choose::forward` picks.
fn forward_pass(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], epi: Option<&Epilogue>,
                pass: Pass) {
    check_lens(s, &[("x", x.len(), s.x_len()), ("w", w.len(), s.w_len()), ("y", y.len(), s.y_len())]);
    if let Some(b) = bias {
        check_lens(s, &[("bias", b.len(), s.o)]);
    }
    let (og, k, ohw) = (s.og(), s.ckk(), s.ohw());
    if s.n == 0 || sparse_train::try_forward(s, x, w, bias, y, epi, pass) {
        return;
    }
    let algo = choose::forward(s);
    match algo {
        #[cfg(target_arch = "x86_64")]
        Forward::WinogradLanes => return winograd::lanes::forward(s, x, w, bias, y, epi),
        Forward::WinogradChannels => return winograd::channels::forward(s, x, w, bias, y, epi),
        Forward::Rows | Forward::Implicit | Forward::Im2col => {}
    }
    let rows = algo == Forward::Rows;
    let implicit_offs = (algo == Forward::Implicit).then(|| implicit::row_offsets(s));
    let bc = chunk_images(s);
    // Weights that each thread uses for one GEMM only are packed inside it, block by block
    // (`sgemm_packed_b`); otherwise they are packed once for the whole batch and shared read-only.
    let raw = rows || (implicit_offs.is_none() && !s.is_pointwise() && s.n.div_ceil(bc) <= num_threads());
    let pal = packed_a_len(og, k);
    WPACK.with(|wp| {
        let mut pw = wp.borrow_mut();
        let pw = pw.get(if raw { 0 } else { pal * s.g });
        if !raw {
            for grp in 0..s.g {
                pack_a_full_par(false, og, k, &w[grp * og * k..][..og * k], k.max(1), &mut pw[grp * pal..]);
            }
        }
        let pw = &*pw;
        if rows {
            return super::rows::forward(s, x, w, bias, y, epi);
        }
        let yp = SharedMut::new(y);
        let yp = &yp;
        run_shares(s.n.div_ceil(bc), |_, chunks| SCRATCH.with(|sc| {
            let [s_col, s_out, s_pack, s_pad] = &mut *sc.borrow_mut();
            for ch in chunks {
                let (b0, bcn) = (ch * bc, bc.min(s.n - ch * bc));
                let ncols = bcn * ohw;
                // Safety: chunk ch owns the outputs of images b0..b0+bcn.
                let yc = unsafe { yp.slice(b0 * s.o * ohw, bcn * s.o * ohw) };
                if let Some(offs) = &implicit_offs {
                    // No column matrix: each image is padded once and read in place by the GEMM.
                    let grid = implicit::grid_cols(s);
                    for b in 0..bcn {
                        for grp in 0..s.g {
                            let pad = s_pad.get(padded_len(s, 1) + implicit::SLACK);
                            pad_images(s, x, b0 + b, 1, grp, pad);
                            let c = s_out.get(og * grid);
                            implicit::gemm(s, &pw[grp * pal..][..pal], pad, offs, c, grid);
                            let yo = &mut yc[(b * s.o + grp * og) * ohw..][..og * ohw];
                            implicit::compact(s, c, grid, bias.map(|bv| &bv[grp * og..][..og]), yo);
                        }
                    }
                    if let Some(e) = epi {
                        e.apply(s, yc, b0, bcn);
                    }
                    continue;
                }
                for grp in 0..s.g {
                    let pa = if raw { &[][..] } else { &pw[grp * pal..][..pal] };
                    let wg = &w[grp * og * k..][..og * k];
                    let gemm = |col: &[f32], beta: f32, c: &mut [f32], ldc: usize, s_pack: &mut Scratch| if raw {
                        sgemm_packed_b(og, ncols, k, 1.0, wg, k, col, beta, c, ldc, s_pack)
                    } else {
                        sgemm_packed(og, ncols, k, 1.0, pa, col, beta, c, ldc)
                    };
                    if bcn == 1 {
                        // One image: the GEMM writes the output rows in place (bias preloaded, beta 1).
                        let c = &mut yc[grp * og * ohw..][..og * ohw];
                        let beta = match bias {
                            Some(b) => {
                                for o in 0..og {
                                    c[o * ohw..][..ohw].fill(b[grp * og + o]);
                                }
                                1.0
                            }
                            None => 0.0,
                        };
                        if s.is_pointwise() {
                            let img = group_image(s, x, b0, grp);
                            sgemm_packed_a(og, ncols, k, 1.0, pa, false, img, ohw, beta, c, ohw, s_pack);
                        } else {
                            let col = s_col.get(packed_b_len(ncols, k));
                            lower_packed(s, x, b0, 1, grp, col, s_pad);
                            gemm(col, beta, c, ohw, s_pack);
                        }
                        continue;
                    }
                    // Several images: og x (bcn*OHW) result, then scattered to NCHW with the bias.
                    let c = s_out.get(og * ncols);
                    let col = s_col.get(packed_b_len(ncols, k));
                    lower_packed(s, x, b0, bcn, grp, col, s_pad);
                    gemm(col, 0.0, c, ncols, s_pack);
                    for b in 0..bcn {
                        for o in 0..og {
                            let add = bias.map_or(0.0, |bv| bv[grp * og + o]);
                            let dst = &mut yc[(b * s.o + grp * og + o) * ohw..][..ohw];
                            for (d, v) in dst.iter_mut().zip(&c[o * ncols + b * ohw..][..ohw]) {
                                *d = v + add;
                            }
                        }
                    }
                }
                if let Some(e) = epi {
                    e.apply(s, yc, b0, bcn);
                }
            }
        }));
    });
}

/// gx = conv_transpose(gy, w): the gradient of the forward with respect to x (overwritten).
pub fn conv2d_backward_data(s: &ConvShape, gy: &[f32], w: &[f32], gx: &mut [f32]) {
    check_lens(s, &[("gy", gy.len(), s.y_len()), ("w", w.len(), s.w_len()), ("gx", gx.len(), s.x_len())]);
    let (og, k, ohw, hw) = (s.og(), s.ckk(), s.ohw(), s.h * s.w);
    if s.n == 0 {
        return;
    }
    if let DataGrad::AsForward(t) = choose::data_grad(s) {
        return backward_data_as_forward(s, &t, gy, w, gx);
    }
    sparse_train::record(s, Pass::DataGrad, 1.0, false);
    // W_g^T (ckk x og), packed once: gcol = W_g^T * gy_g.
    let pal = packed_a_len(k, og);
    WPACK.with(|wp| {
        let mut pwt = wp.borrow_mut();
        let pwt = pwt.get(pal * s.g);
        for grp in 0..s.g {
            pack_a_full_par(true, k, og, &w[grp * og * k..][..og * k], k.max(1), &mut pwt[grp * pal..]);
        }
        let pwt = &*pwt;
        let bc = chunk_images(s);
        let gxp = SharedMut::new(gx);
        let gxp = &gxp;
        run_shares(s.n.div_ceil(bc), |_, chunks| SCRATCH.with(|sc| {
            let [s_col, s_gy, s_pack, _] = &mut *sc.borrow_mut();
            for ch in chunks {
                let (b0, bcn) = (ch * bc, bc.min(s.n - ch * bc));
                let ncols = bcn * ohw;
                // Safety: chunk ch owns the input gradients of images b0..b0+bcn.
                let gxc = unsafe { gxp.slice(b0 * s.c * hw, bcn * s.c * hw) };
                if !(s.is_pointwise() && bcn == 1) {
                    gxc.fill(0.0);
                }
                for grp in 0..s.g {
                    let pa = &pwt[grp * pal..][..pal];
                    let (bsrc, ldb): (&[f32], usize) = if bcn == 1 {
                        (&gy[(b0 * s.o + grp * og) * ohw..][..og * ohw], ohw)
                    } else {
                        let t = s_gy.get(og * ncols);
                        gather_rows(s, gy, b0, bcn, grp, t);
                        (t, ncols)
                    };
                    if s.is_pointwise() && bcn == 1 {
                        let dst = &mut gxc[grp * s.cg() * hw..][..s.cg() * hw];
                        sgemm_packed_a(k, ncols, og, 1.0, pa, false, bsrc, ldb, 0.0, dst, hw, s_pack);
                    } else {
                        let gcol = s_col.get(k * ncols);
                        sgemm_packed_a(k, ncols, og, 1.0, pa, false, bsrc, ldb, 0.0, gcol, ncols, s_pack);
                        col2im_add(s, gcol, 0, bcn, grp, gxc);
                    }
                }
            }
        }));
    });
}

/// gw = sum over the batch of gy * col^T (overwritten); gb = sum of gy per channel when given.
pub fn conv2d_backward_weight(s: &ConvShape, x: &[f32], gy: &[f32], gw: &mut [f32], gb: Option<&mut [f32]>) {
    check_lens(s, &[("x", x.len(), s.x_len()), ("gy", gy.len(), s.y_len()), ("gw", gw.len(), s.w_len())]);
    let (og, k, ohw) = (s.og(), s.ckk(), s.ohw());
    if let Some(gb) = gb {
        check_lens(s, &[("gb", gb.len(), s.o)]);
        let gbp = SharedMut::new(gb);
        let gbp = &gbp;
        parallel_for(s.o, |o| {
            let mut acc = 0.0f64;
            for b in 0..s.n {
                acc += crate::kernels::simd::sum_f64(&gy[(b * s.o + o) * ohw..][..ohw]);
            }
            // Safety: each o is written by exactly one iteration.
            unsafe { gbp.slice(o, 1)[0] = acc as f32 };
        });
    }
    gw.fill(0.0);
    if s.n == 0 {
        return;
    }
    let algo = choose::weight_grad(s, || all_finite(x));
    match algo {
        #[cfg(target_arch = "x86_64")]
        WeightGrad::WinogradLanes => return winograd::lanes_wgrad::backward_weight(s, x, gy, gw),
        WeightGrad::WinogradChannels => return winograd::channels_wgrad::backward_weight(s, x, gy, gw),
        WeightGrad::OuterProduct | WeightGrad::Implicit | WeightGrad::Im2col => {}
    }
    let outer = algo == WeightGrad::OuterProduct;
    let implicit_offs = (algo == WeightGrad::Implicit).then(|| implicit::row_offsets(s));
    // Implicit chunks: as many images as keep the gy rows L2-sized (fewer tile reductions).
    let bc = if outer {
        wgrad::chunk_images(s)
    } else if implicit_offs.is_some() {
        implicit::weight_chunk_images(s)
    } else {
        chunk_images(s)
    };
    let pix = if outer { wgrad::pixel_offsets(s, bc) } else { Vec::new() };
    let nch = s.n.div_ceil(bc);
    let parts = num_threads().min(nch).max(1);
    // Thread 0 sums into gw itself, thread t > 0 into partial t-1; added in thread order below.
    let mut partials = vec![0.0f32; (parts - 1) * gw.len()];
    let (gwp, pp) = (SharedMut::new(gw), SharedMut::new(&mut partials));
    let (gwp, pp, wl) = (&gwp, &pp, s.w_len());
    run_shares(nch, |t, chunks| SCRATCH.with(|sc| {
        let [s_col, s_gy, s_gwt, s_pad] = &mut *sc.borrow_mut();
        // Safety: thread t owns its accumulator exclusively.
        let acc = unsafe { if t == 0 { gwp.slice(0, wl) } else { pp.slice((t - 1) * wl, wl) } };
        // The outer-product path sums into a transposed accumulator, stored into acc at the end.
        let gwt = s_gwt.get(if outer { wl } else { 0 });
        gwt.fill(0.0);
        for ch in chunks {
            let (b0, bcn) = (ch * bc, bc.min(s.n - ch * bc));
            let ncols = bcn * ohw;
            for grp in 0..s.g {
                if outer {
                    let pad = s_pad.get(padded_len(s, bcn));
                    pad_images(s, x, b0, bcn, grp, pad);
                    let gyt = s_gy.get(wgrad::gy_len(s, bcn));
                    wgrad::pack_gy(s, gy, b0, bcn, grp, gyt);
                    wgrad::accumulate(s, bcn, gyt, pad, &pix[..ncols], &mut gwt[grp * og * k..][..og * k]);
                    continue;
                }
                if let Some(offs) = &implicit_offs {
                    // Straight from the padded images: no column matrix.
                    let pad = s_pad.get(padded_len(s, bcn) + implicit::SLACK);
                    pad_images(s, x, b0, bcn, grp, pad);
                    let gyg = s_gy.get(bcn * og * implicit::grid_cols(s));
                    implicit::gather_gy_grid(s, gy, b0, bcn, grp, gyg);
                    implicit::backward_weight(s, bcn, gyg, pad, offs, &mut acc[grp * og * k..][..og * k]);
                    continue;
                }
                let (a, lda): (&[f32], usize) = if bcn == 1 {
                    (&gy[(b0 * s.o + grp * og) * ohw..][..og * ohw], ohw)
                } else {
                    let t = s_gy.get(og * ncols);
                    gather_rows(s, gy, b0, bcn, grp, t);
                    (t, ncols)
                };
                let (b, ldb): (&[f32], usize) = if s.is_pointwise() && bcn == 1 {
                    (group_image(s, x, b0, grp), ohw)
                } else {
                    let col = s_col.get(k * ncols);
                    if im2col_s1::supported(s) {
                        let pad = s_pad.get(padded_len(s, bcn));
                        pad_images(s, x, b0, bcn, grp, pad);
                        im2col_s1(s, pad, bcn, col);
                    } else {
                        im2col(s, x, b0, bcn, grp, col);
                    }
                    (col, ncols)
                };
                sgemm_nt_acc(og, k, ncols, a, lda, b, ldb, &mut acc[grp * og * k..][..og * k], k);
            }
        }
        if outer {
            wgrad::store_transposed(s, gwt, acc);
        }
    }));
    if parts > 1 {
        let gwp = SharedMut::new(gw);
        let gwp = &gwp;
        crate::threads::parallel_ranges(wl, 4096, |r| {
            // Safety: disjoint ranges of gw.
            let dst = unsafe { gwp.slice(r.start, r.len()) };
            for t in 1..parts {
                for (d, v) in dst.iter_mut().zip(&partials[(t - 1) * wl + r.start..][..r.len()]) {
                    *d += *v;
                }
            }
        });
    }
}
