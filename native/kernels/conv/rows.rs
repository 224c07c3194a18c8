//! Forward conv for small feature maps with many output channels (the deep VGG layers at small
//! batch): the batch gives each thread only a narrow GEMM (e.g. 8 images x 2x2 pixels = 32
//! columns) against the full weight matrix. Here every thread lowers the whole batch instead
//! and computes its own share of the output channels (whole MR-row strips of the weights, packed
//! on the fly by `sgemm_packed_b`): twice the columns per thread and half the weight traffic.

use super::im2col::ConvShape;
use crate::kernels::gemm::prepacked::{packed_b_len, sgemm_packed_b};
use crate::kernels::gemm::sgemm::{isa, Scratch};
use crate::threads::{num_threads, run_on_all, share, SharedMut};
use std::cell::RefCell;

thread_local! {
    static SCRATCH: RefCell<[Scratch; 4]> = const { RefCell::new([Scratch::new(), Scratch::new(), Scratch::new(), Scratch::new()]) };
}

/// y = conv(x, w) + bias (one group).
pub fn forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32],
               epi: Option<&super::epilogue::Epilogue>) {
    let (og, k, ohw, n) = (s.og(), s.ckk(), s.ohw(), s.n * s.ohw());
    let mr = isa().mr;
    let blocks = og / mr;
    let parts = num_threads().min(blocks).max(1);
    let yp = SharedMut::new(y);
    let yp = &yp;
    run_on_all(&|t| {
        if t >= parts {
            return;
        }
        // Whole strips per part; the last part also takes the tail rows.
        let r = share(blocks, parts, t);
        let (i0, i1) = (r.start * mr, if t + 1 == parts { og } else { r.end * mr });
        SCRATCH.with(|sc| {
            let [s_col, s_out, s_pad, s_pack] = &mut *sc.borrow_mut();
            let col = s_col.get(packed_b_len(n, k));
            super::conv2d::lower_packed(s, x, 0, s.n, 0, col, s_pad);
            let c = s_out.get((i1 - i0) * n);
            sgemm_packed_b(i1 - i0, n, k, 1.0, &w[i0 * k..i1 * k], k, col, 0.0, c, n, s_pack);
            for b in 0..s.n {
                for o in i0..i1 {
                    let add = bias.map_or(0.0, |bv| bv[o]);
                    // Safety: output channels i0..i1 of every image belong to this part only.
                    let dst = unsafe { yp.slice((b * s.o + o) * ohw, ohw) };
                    for (d, v) in dst.iter_mut().zip(&c[(o - i0) * n + b * ohw..][..ohw]) {
                        *d = v + add;
                    }
                }
                if let Some(e) = epi {
                    // Safety: as above, this part's channels of image b only.
                    let rows = unsafe { yp.slice((b * s.o + i0) * ohw, (i1 - i0) * ohw) };
                    e.apply_channels(s, rows, b, i0, i1);
                }
            }
        });
    });
}
