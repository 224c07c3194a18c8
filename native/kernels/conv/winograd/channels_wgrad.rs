//! The weight gradient of a 3x3 stride-1 convolution by Winograd F(2x2, 3x3), the forward's
//! algebra run backwards: y = A^T [U .* V] A with U = G g G^T and V = B^T d B per tile, so
//! dU = sum over tiles of (A dy A^T) .* V, and dg = G^T dU G. The sum over tiles is 16 GEMMs of
//! O x C with the tiles as the long inner dimension, 2.25x fewer multiplies than the direct form.
//! Chunks of images split statically over the threads, each thread summing into its own dU, the
//! partial sums added in thread order: bitwise the same for a given shape and thread count.

use super::channels::{comb, plane_stride, Tiling, TILES};
use crate::kernels::conv::im2col::ConvShape;
use crate::kernels::gemm::prepacked::{pack_a_full, packed_a_len, sgemm_packed_a};
use crate::kernels::simd::multiversion;
use crate::threads::{num_threads, parallel_for, run_shares, SharedMut};
use std::sync::Mutex;

/// Tiles per chunk: the GEMMs' inner dimension (long enough to amortise each pass over dU).
const TARGET_TILES: usize = 1024;

/// Every thread's dU ([16][O][C] planes), kept between calls (no page faults per layer).
static DU: Mutex<Vec<f32>> = Mutex::new(Vec::new());

/// gw = dL/dw for y = conv(x, w) (lengths checked by `conv2d_backward_weight`; gw overwritten).
pub fn backward_weight(s: &ConvShape, x: &[f32], gy: &[f32], gw: &mut [f32]) {
    let (c, o, ohw) = (s.c, s.o, s.ohw());
    let tiling = Tiling::new(s, TARGET_TILES);
    let Tiling { th, tw, per_image, bc, nch, .. } = tiling;
    let parts = num_threads().min(nch).max(1);
    let sdu = plane_stride(o * c);
    let mut guard = partials(parts, sdu);
    let du = &mut guard[..parts * 16 * sdu];
    let dup = SharedMut::new(du);
    let dup = &dup;
    run_shares(nch, |t, chunks| TILES.with(|ts| {
        let [xt, v, pa, pb, mg, tmp] = &mut *ts.borrow_mut();
        // Safety: thread t owns its dU exclusively.
        let acc = unsafe { dup.slice(t * 16 * sdu, 16 * sdu) };
        for (i, ch) in chunks.enumerate() {
            let (b0, bcn) = (ch * bc, bc.min(s.n - ch * bc));
            let nt = bcn * per_image;
            let (sv, sm) = (plane_stride(nt * c), plane_stride(o * nt));
            let v = v.get(16 * sv);
            let tmp = tmp.get(16 * c.max(tw));
            let mg = mg.get(16 * sm);
            tiling.input_chunk(s, x, b0..b0 + bcn, xt, tmp, v, sv);
            for b in 0..bcn {
                for oi in 0..o {
                    let plane = &gy[((b0 + b) * o + oi) * ohw..][..ohw];
                    gy_tiles(plane, &[s.oh, s.ow, th, tw, oi * nt + b * per_image, sm], tmp, mg);
                }
            }
            let pa = pa.get(packed_a_len(o, nt));
            let beta = if i == 0 { 0.0 } else { 1.0 };
            for xi in 0..16 {
                pack_a_full(false, o, nt, &mg[xi * sm..][..o * nt], nt, pa);
                sgemm_packed_a(o, c, nt, 1.0, pa, false, &v[xi * sv..][..nt * c], c, beta, &mut acc[xi * sdu..][..o * c], c, pb);
            }
        }
    }));
    finish(&mut guard[..parts * 16 * sdu], [sdu, o, c], None, gw);
}

/// The threads' partial dU (16 planes each, plane stride sdu) summed in thread order, then
/// gw = G^T dU G per output channel; dims = [sdu, O, C]. With `flip` (16 more planes) the
/// partials are C x O and the sum is transposed into `flip` first.
pub(super) fn finish(du: &mut [f32], dims: [usize; 3], mut flip: Option<&mut [f32]>, gw: &mut [f32]) {
    let [sdu, o, c] = dims;
    let transposed = flip.is_some();
    let (first, rest) = du.split_at_mut(16 * sdu);
    let (fp, tp) = (SharedMut::new(first), SharedMut::new(flip.as_deref_mut().unwrap_or_default()));
    let (fp, tp) = (&fp, &tp);
    parallel_for(16, |xi| {
        // Safety: point xi's planes are written by this iteration alone.
        let dst = unsafe { fp.slice(xi * sdu, o * c) };
        for part in rest.chunks_exact(16 * sdu) {
            for (d, &p) in dst.iter_mut().zip(&part[xi * sdu..][..o * c]) {
                *d += p;
            }
        }
        if transposed {
            // Safety: as above.
            let out = unsafe { tp.slice(xi * sdu, o * c) };
            for (ci, row) in dst.chunks_exact(o).enumerate() {
                for (oi, &v) in row.iter().enumerate() {
                    out[oi * c + ci] = v;
                }
            }
        }
    });
    let du: &[f32] = flip.as_deref().unwrap_or(first);
    let gp = SharedMut::new(gw);
    let gp = &gp;
    parallel_for(o, |oi| TILES.with(|ts| {
        let mut ts = ts.borrow_mut();
        let scratch = ts[5].get(12 * c);
        // Safety: output channel oi's filters are written by this iteration alone.
        let dst = unsafe { gp.slice(oi * c * 9, c * 9) };
        filter_gradients(du, &[sdu, oi * c, c], scratch, dst);
    }));
}

/// `parts` sets of 16 dU planes of stride sdu (every thread's partials, and `finish`'s transpose
/// space where it needs one), kept between calls (no page faults per layer).
pub(super) fn partials(parts: usize, sdu: usize) -> std::sync::MutexGuard<'static, Vec<f32>> {
    let mut guard = DU.lock().unwrap_or_else(|e| e.into_inner());
    if guard.len() < parts * 16 * sdu {
        *guard = vec![0.0; parts * 16 * sdu];
    }
    guard
}

multiversion! {
    /// A dy A^T of every 2x2 tile of one output-gradient plane (zero past its edge), vectorised
    /// over a row of tiles; dims = [OH, OW, tilesH, tilesW, first column, plane stride]:
    /// mg[xi * stride + column + ty * tilesW + tx]. `t`: 6 * tilesW floats of scratch.
    fn gy_tiles(plane: &[f32], dims: &[usize; 6], t: &mut [f32], mg: &mut [f32]) {
        let [oh, ow, th, tw, col0, sm] = *dims;
        let (blocks, pq) = t.split_at_mut(4 * tw);
        let (p, q) = pq.split_at_mut(tw);
        let q = &mut q[..tw];
        for ty in 0..th {
            // the tile row's 2x2 blocks [[a, b], [c, d]], as four rows of tw
            blocks.fill(0.0);
            for k in 0..2 {
                let rowi = 2 * ty + k;
                if rowi >= oh {
                    continue;
                }
                let (left, right) = blocks[2 * k * tw..][..2 * tw].split_at_mut(tw);
                for (tx, pair) in plane[rowi * ow..][..ow].chunks(2).enumerate() {
                    left[tx] = pair[0];
                    right[tx] = pair.get(1).copied().unwrap_or(0.0);
                }
            }
            let (a, b, c, d) = (&blocks[..tw], &blocks[tw..2 * tw], &blocks[2 * tw..3 * tw], &blocks[3 * tw..]);
            let base = col0 + ty * tw;
            // rows of A dy: (a, b), (a+c, b+d), (a-c, b-d), (-c, -d); each row (p, q) -> p, p+q, p-q, -q
            for i in 0..4 {
                for x in 0..tw {
                    (p[x], q[x]) = match i {
                        0 => (a[x], b[x]),
                        1 => (a[x] + c[x], b[x] + d[x]),
                        2 => (a[x] - c[x], b[x] - d[x]),
                        _ => (-c[x], -d[x]),
                    };
                }
                let (p, q) = (&*p, &*q);
                let out = |j: usize| (4 * i + j) * sm + base;
                mg[out(0)..][..tw].copy_from_slice(p);
                comb(&mut mg[out(1)..][..tw], p, q, q, |x, y, _| x + y);
                comb(&mut mg[out(2)..][..tw], p, q, q, |x, y, _| x - y);
                for (m, &y) in mg[out(3)..][..tw].iter_mut().zip(q) {
                    *m = -y;
                }
            }
        }
    }
}

multiversion! {
    /// G^T dU G for output channel oi's C filters, vectorised over the channels; dims = [plane
    /// stride, first column (oi * C), C]: du[xi * stride + column + ci]. `z`: 12 * C floats.
    fn filter_gradients(du: &[f32], dims: &[usize; 3], z: &mut [f32], gw: &mut [f32]) {
        let [sdu, col0, c] = *dims;
        let u = |xi: usize| &du[xi * sdu + col0..][..c];
        // rows of G^T dU (per column j): u0 + (u1+u2)/2, (u1-u2)/2, (u1+u2)/2 + u3
        for j in 0..4 {
            comb(&mut z[j * c..][..c], u(j), u(4 + j), u(8 + j), |p, q, r| p + 0.5 * (q + r));
            comb(&mut z[(4 + j) * c..][..c], u(4 + j), u(8 + j), u(8 + j), |q, r, _| 0.5 * (q - r));
            comb(&mut z[(8 + j) * c..][..c], u(4 + j), u(8 + j), u(12 + j), |q, r, s| 0.5 * (q + r) + s);
        }
        // the same on columns, into gw[ci * 9 + kh * 3 + kw]
        for kh in 0..3 {
            let r = |j: usize| &z[(4 * kh + j) * c..][..c];
            let (r0, r1, r2, r3) = (r(0), r(1), r(2), r(3));
            for (ci, g) in gw.chunks_exact_mut(9).enumerate() {
                g[kh * 3] = r0[ci] + 0.5 * (r1[ci] + r2[ci]);
                g[kh * 3 + 1] = 0.5 * (r1[ci] - r2[ci]);
                g[kh * 3 + 2] = 0.5 * (r1[ci] + r2[ci]) + r3[ci];
            }
        }
    }
}
