//! 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016):
//! each 2x2 output tile is A^T [ (G g G^T) .* (B^T d B) ] A over its 4x4 input patch d, so the
//! products become 16 GEMMs (one per point of the 4x4 transform domain) of O x C weights by
//! C x tiles inputs: 16 multiplies per tile and channel pair where the direct form does 36.
//! The transforms only add and halve (entries 0, +-1, +-1/2), so rounding stays close to the
//! direct sum's (the golden tolerances hold); a given shape and thread count gives bitwise the
//! same result (fixed chunking, one thread per chunk). SEAM_WINOGRAD=0 turns it off (`choose.rs`).

use crate::kernels::conv::epilogue::Epilogue;
use crate::kernels::conv::im2col::ConvShape;
use crate::kernels::gemm::prepacked::{a_strips, pack_a_full_par, pack_b_full, packed_a_len, packed_b_len, sgemm_packed};
use crate::kernels::gemm::sgemm::Scratch;
use crate::kernels::simd::multiversion;
use crate::threads::{num_threads, parallel_for, run_shares, SharedMut};
use std::cell::RefCell;

/// Aim for at least this many tiles per chunk (the GEMMs' column count).
const TARGET_TILES: usize = 256;

thread_local! {
    /// The 16 transformed weight matrices in packed-A form (shared read-only by the pool).
    static WEIGHTS: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
    /// Per thread: channels-last padded input, transformed inputs, packed GEMM operands (two),
    /// transform-domain outputs (or output gradients), row scratch.
    pub(super) static TILES: RefCell<[Scratch; 6]> = const { RefCell::new([const { Scratch::new() }; 6]) };
}

/// Distance between consecutive transform-point planes of `len` floats: one cache line more than
/// `len`, so the 16 planes a transform touches together never share L1 sets (`len` is often a
/// power of two, which would put all 16 at the same offset modulo 4 KB).
pub(super) fn plane_stride(len: usize) -> usize { len + 16 }

/// How a batch is cut into 2x2 output tiles and chunks of whole images.
#[derive(Clone, Copy)]
pub(super) struct Tiling {
    /// tiles per image row and column, and per image
    pub th: usize,
    pub tw: usize,
    pub per_image: usize,
    /// the channels-last padded image: every tile's 4x4 patch lies inside
    pub hp: usize,
    pub wp: usize,
    /// images per chunk (about `target` tiles, but every thread gets a chunk) and chunks
    pub bc: usize,
    pub nch: usize,
}

impl Tiling {
    pub(super) fn new(s: &ConvShape, target: usize) -> Tiling {
        let (th, tw) = (s.oh.div_ceil(2), s.ow.div_ceil(2));
        let per_thread = s.n.div_ceil(num_threads()).max(1);
        let bc = target.div_ceil(th * tw).clamp(1, per_thread);
        Tiling { th, tw, per_image: th * tw, hp: 2 * th + 2, wp: 2 * tw + 2, bc, nch: s.n.div_ceil(bc) }
    }

    /// B^T d B of every tile of images `imgs` of x into v[xi * sv + tile * C + ci] (tiles
    /// numbered from the first image); `xt`, `tmp` (16 * C floats): scratch.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn input_chunk(&self, s: &ConvShape, x: &[f32], imgs: std::ops::Range<usize>, xt: &mut Scratch,
                              tmp: &mut [f32], v: &mut [f32], sv: usize) {
        let (c, plane) = (s.c, s.c * s.h * s.w);
        let xt = xt.get(self.hp * self.wp * c);
        for (i, b) in imgs.enumerate() {
            channels_last_padded(&x[b * plane..][..plane], &[c, s.h, s.w, s.ph, s.pw, self.hp, self.wp], xt);
            input_tiles(xt, &[c, self.wp, self.th, self.tw, i * self.per_image, sv], tmp, v);
        }
    }
}

/// y = epi(conv(x, w) + bias), as `conv2d_forward_epi` (lengths already checked there).
pub fn forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], epi: Option<&Epilogue>) {
    let (c, o) = (s.c, s.o);
    let pal = packed_a_len(o, c);
    with_weights(w, o, c, |pu, su| {
        let tiling = Tiling::new(s, TARGET_TILES);
        let Tiling { th, tw, per_image, bc, nch, .. } = tiling;
        let yp = SharedMut::new(y);
        let yp = &yp;
        let chunk = |ch: usize| TILES.with(|ts| {
            let [xt, v, pv, _, m, tmp] = &mut *ts.borrow_mut();
            let (b0, bcn) = (ch * bc, bc.min(s.n - ch * bc));
            let nt = bcn * per_image;
            let (sv, sm) = (plane_stride(nt * c), plane_stride(o * nt));
            let v = v.get(16 * sv);
            let tmp = tmp.get(16 * c.max(tw));
            tiling.input_chunk(s, x, b0..b0 + bcn, xt, tmp, v, sv);
            let pv = pv.get(packed_b_len(nt, c));
            let m = m.get(16 * sm);
            for xi in 0..16 {
                pack_b_full(true, c, nt, &v[xi * sv..][..nt * c], c, pv);
                sgemm_packed(o, nt, c, 1.0, &pu[xi * su..][..pal], pv, 0.0, &mut m[xi * sm..][..o * nt], nt);
            }
            // Safety: chunk ch owns the outputs of images b0..b0+bcn.
            let yc = unsafe { yp.slice(b0 * o * s.ohw(), bcn * o * s.ohw()) };
            for oi in 0..o {
                output_tiles(m, &[sm, oi, s.oh, s.ow, th, tw, bcn, nt], bias.map_or(0.0, |bv| bv[oi]), tmp, yc);
            }
            if let Some(e) = epi {
                e.apply(s, yc, b0, bcn);
            }
        });
        run_shares(nch, |_, chunks| chunks.for_each(chunk));
    });
}

/// Runs `f(pu, su)` with the 16 transformed weight matrices U[xi] (O x C, packed-A form) at
/// pu[xi * su..], shared read-only by the pool.
pub(super) fn with_weights<R>(w: &[f32], o: usize, c: usize, f: impl FnOnce(&[f32], usize) -> R) -> R {
    WEIGHTS.with(|ws| {
        let mut pu = ws.borrow_mut();
        let su = plane_stride(packed_a_len(o, c));
        let pu = pu.get(16 * su);
        TILES.with(|ts| transform_weights_packed(w, o, c, su, pu, &mut ts.borrow_mut()[5]));
        f(pu, su)
    })
}

/// The 16 matrices U[xi] (O x C) of G g G^T over the 3x3 filters g = w[o][c], written straight
/// into packed-A form at pu[xi * su..]. The weights as an O x 9C matrix are packed first (strips
/// of h rows, k-major), so each (strip, c) reads its 9 taps as 9 runs of h floats and writes its
/// transform points as runs of h floats: every access is contiguous. The four rows of G g G^T
/// (transform points 4i..4i+3, a contiguous quarter of pu) run in parallel.
fn transform_weights_packed(w: &[f32], o: usize, c: usize, su: usize, pu: &mut [f32], scratch: &mut Scratch) {
    let packed = scratch.get(packed_a_len(o, 9 * c));
    pack_a_full_par(false, o, 9 * c, w, 9 * c, packed);
    let packed = &*packed;
    let pp = SharedMut::new(pu);
    let pp = &pp;
    parallel_for(4, |i| {
        // Safety: row i writes only transform points 4i..4i+3, pu[4i * su .. (4i + 4) * su].
        let quarter = unsafe { pp.slice(4 * i * su, 4 * su) };
        for (i0, h) in a_strips(o) {
            transform_strip(&packed[i0 * 9 * c..][..9 * c * h], [h, c, su, i], &mut quarter[i0 * c..]);
        }
    });
}

multiversion! {
    /// Row i of G g G^T for one strip of h (<= 16, padded) output channels; dims = [h, C, su, i]:
    /// taps[(ci * 9 + k) * h + r] -> u[j * su + ci * h + r] for transform point 4i + j.
    fn transform_strip(taps: &[f32], dims: [usize; 4], u: &mut [f32]) {
        let [h, c, su, i] = dims;
        let half_sum = |a: f32, b: f32, d: f32| 0.5 * (a + b + d);
        let half_alt = |a: f32, b: f32, d: f32| 0.5 * (a - b + d);
        for ci in 0..c {
            let g = |k: usize| &taps[(ci * 9 + k) * h..][..h];
            // row i of G g (per column j): g_j, (g_j + g_3+j + g_6+j)/2, (g_j - g_3+j + g_6+j)/2, g_6+j
            let mut r = [[0f32; 16]; 3];
            for (j, rj) in r.iter_mut().enumerate() {
                let (a, b, d) = (g(j), g(3 + j), g(6 + j));
                for l in 0..h {
                    rj[l] = match i {
                        0 => a[l],
                        1 => half_sum(a[l], b[l], d[l]),
                        2 => half_alt(a[l], b[l], d[l]),
                        _ => d[l],
                    };
                }
            }
            // the same on columns
            let (a, b, d) = (&r[0], &r[1], &r[2]);
            let out = |j: usize| j * su + ci * h;
            u[out(0)..][..h].copy_from_slice(&a[..h]);
            for (l, v) in u[out(1)..][..h].iter_mut().enumerate() {
                *v = half_sum(a[l], b[l], d[l]);
            }
            for (l, v) in u[out(2)..][..h].iter_mut().enumerate() {
                *v = half_alt(a[l], b[l], d[l]);
            }
            u[out(3)..][..h].copy_from_slice(&d[..h]);
        }
    }
}

/// out = f(a, b, d) elementwise (the transforms' combinations, vectorised by the compiler).
#[inline(always)]
pub(super) fn comb(out: &mut [f32], a: &[f32], b: &[f32], d: &[f32], f: impl Fn(f32, f32, f32) -> f32) {
    for (((o, &x), &y), &z) in out.iter_mut().zip(a).zip(b).zip(d) {
        *o = f(x, y, z);
    }
}

multiversion! {
    /// One image [C][H][W] -> xt[hp][wp][C] with the image at row padH, column padW and zeros
    /// around it; dims = [C, H, W, padH, padW, hp, wp].
    fn channels_last_padded(img: &[f32], dims: &[usize; 7], xt: &mut [f32]) {
        let [c, h, w, ph, pw, hp, wp] = *dims;
        xt.fill(0.0);
        for ci in 0..c {
            let plane = &img[ci * h * w..][..h * w];
            for r in 0..h.min(hp.saturating_sub(ph)) {
                for col in 0..w.min(wp.saturating_sub(pw)) {
                    xt[((ph + r) * wp + pw + col) * c + ci] = plane[r * w + col];
                }
            }
        }
    }
}

multiversion! {
    /// B^T d B of every tile of one channels-last padded image, vectorised over the channels;
    /// dims = [C, wp, tilesH, tilesW, first tile, plane stride]. v[xi * stride + tile * C + ci];
    /// `t`: 16 * C floats.
    fn input_tiles(xt: &[f32], dims: &[usize; 6], t: &mut [f32], v: &mut [f32]) {
        let [c, wp, th, tw, t0, sv] = *dims;
        let sub = |x: f32, y: f32, _: f32| x - y;
        let add = |x: f32, y: f32, _: f32| x + y;
        for ty in 0..th {
            for tx in 0..tw {
                let tile = t0 + ty * tw + tx;
                let d = |k: usize, l: usize| &xt[((2 * ty + k) * wp + 2 * tx + l) * c..][..c];
                // rows of B^T d (per column l): d0-d2, d1+d2, d2-d1, d1-d3
                for l in 0..4 {
                    comb(&mut t[l * c..][..c], d(0, l), d(2, l), d(2, l), sub);
                    comb(&mut t[(4 + l) * c..][..c], d(1, l), d(2, l), d(2, l), add);
                    comb(&mut t[(8 + l) * c..][..c], d(2, l), d(1, l), d(1, l), sub);
                    comb(&mut t[(12 + l) * c..][..c], d(1, l), d(3, l), d(3, l), sub);
                }
                // the same on columns
                for i in 0..4 {
                    let r = |l: usize| &t[(4 * i + l) * c..][..c];
                    let out = |j: usize| (4 * i + j) * sv + tile * c;
                    comb(&mut v[out(0)..][..c], r(0), r(2), r(2), sub);
                    comb(&mut v[out(1)..][..c], r(1), r(2), r(2), add);
                    comb(&mut v[out(2)..][..c], r(2), r(1), r(1), sub);
                    comb(&mut v[out(3)..][..c], r(1), r(3), r(3), sub);
                }
            }
        }
    }
}

multiversion! {
    /// A^T m A + bias into output channel `oi` of every image of the chunk, vectorised over a
    /// row of tiles; dims = [plane stride, oi, OH, OW, tilesH, tilesW, images, tiles].
    /// m[xi * stride + oi * tiles + tile]; `t`: 12 * tilesW floats of scratch.
    fn output_tiles(m: &[f32], dims: &[usize; 8], bias: f32, t: &mut [f32], yc: &mut [f32]) {
        let [sm, oi, oh, ow, th, tw, nb, nt] = *dims;
        let o = yc.len() / (nb * oh * ow);
        let (a, y) = t.split_at_mut(8 * tw);
        let sum3 = |x: f32, y: f32, z: f32| x + y + z;
        let dif3 = |x: f32, y: f32, z: f32| x - y - z;
        for b in 0..nb {
            let plane = &mut yc[(b * o + oi) * oh * ow..][..oh * ow];
            for ty in 0..th {
                let t0 = (b * th + ty) * tw;
                let mm = |xi: usize| &m[xi * sm + oi * nt + t0..][..tw];
                // rows of A^T m (per column j): m0+m1+m2, m1-m2-m3
                for j in 0..4 {
                    comb(&mut a[j * tw..][..tw], mm(j), mm(4 + j), mm(8 + j), sum3);
                    comb(&mut a[(4 + j) * tw..][..tw], mm(4 + j), mm(8 + j), mm(12 + j), dif3);
                }
                // the same on columns, plus the bias
                for i in 0..2 {
                    let r = |j: usize| &a[(4 * i + j) * tw..][..tw];
                    comb(&mut y[2 * i * tw..][..tw], r(0), r(1), r(2), |x, y, z| x + y + z + bias);
                    comb(&mut y[(2 * i + 1) * tw..][..tw], r(1), r(2), r(3), |x, y, z| x - y - z + bias);
                }
                for i in 0..2 {
                    let row = 2 * ty + i;
                    if row >= oh {
                        continue;
                    }
                    let (left, right) = (&y[2 * i * tw..][..tw], &y[(2 * i + 1) * tw..][..tw]);
                    for (tx, pair) in plane[row * ow..][..ow].chunks_mut(2).enumerate() {
                        pair[0] = left[tx];
                        if let Some(second) = pair.get_mut(1) {
                            *second = right[tx];
                        }
                    }
                }
            }
        }
    }
}
