//! Sparse conv forward (NCHW f32, groups 1) over the CSR of `csr.rs`, with a fused epilogue
//! y = relu?(conv + bias + residual). Direct lowering with a batch that splits over the threads:
//! one pass, each thread building and consuming its own images' source (`direct_by_image`).
//! Otherwise two passes over the pool: build the source (padded images / phase planes or im2col
//! panels, see `csr.rs`), then compute. Work units are (tile of output positions,
//! block of output channels), split statically over the threads; each output element is written
//! by exactly one unit in a fixed order, so results are reproducible for a given thread count.

use super::csr::{validate, Lowering, SparseGeom, MAX_TILE};
use super::lanes::lanes_forward;
use super::tile::{rows_chunked, ACC};
use crate::kernels::conv::im2col::{fill_segment, ConvShape};
use crate::kernels::conv::im2col_s1::pad_images;
use crate::kernels::simd::multiversion;
use crate::threads::{num_threads, parallel_ranges, run_on_all, run_shares, share, SharedMut};
use std::sync::Mutex;

/// What is applied to each output value after the convolution sum.
#[derive(Clone, Copy, Default)]
pub struct Epilogue<'a> {
    pub bias: Option<&'a [f32]>,
    /// Same shape as y (N x O x OH x OW), added before the ReLU (a residual connection).
    pub residual: Option<&'a [f32]>,
    pub relu: bool,
}

impl Epilogue<'_> {
    pub fn check(&self, op: &str, s: &ConvShape) -> Result<(), String> {
        if let Some(b) = self.bias {
            if b.len() != s.o {
                return Err(format!("{op}: bias has {} elements, expected O = {}", b.len(), s.o));
            }
        }
        if let Some(r) = self.residual {
            if r.len() != s.y_len() {
                return Err(format!("{op}: residual has {} elements, expected N*O*OH*OW = {}", r.len(), s.y_len()));
            }
        }
        Ok(())
    }

    /// In place: d[i] = relu?(d[i] + bias[o] + residual[y0 + i]).
    #[inline]
    pub fn apply(&self, o: usize, y0: usize, d: &mut [f32]) {
        let b = self.bias.map_or(0.0, |b| b[o]);
        let r = self.residual.map(|r| &r[y0..y0 + d.len()]);
        for (i, v) in d.iter_mut().enumerate() {
            let x = *v + b + r.map_or(0.0, |r| r[i]);
            *v = if self.relu { x.max(0.0) } else { x };
        }
    }

    /// relu?(a + bias[o] + residual[yi]): one value of output element yi (channel o).
    #[inline]
    pub fn value(&self, o: usize, yi: usize, a: f32) -> f32 {
        let v = a + self.bias.map_or(0.0, |b| b[o]) + self.residual.map_or(0.0, |r| r[yi]);
        if self.relu { v.max(0.0) } else { v }
    }

    /// dst[i] = relu?(acc[i] + bias[o] + residual[y0 + i]).
    #[inline]
    pub fn emit(&self, o: usize, y0: usize, acc: &[f32], dst: &mut [f32]) {
        let b = self.bias.map_or(0.0, |b| b[o]);
        match self.residual {
            Some(r) => {
                let r = &r[y0..y0 + dst.len()];
                for ((d, a), rv) in dst.iter_mut().zip(acc).zip(r) {
                    let v = *a + b + *rv;
                    *d = if self.relu { v.max(0.0) } else { v };
                }
            }
            None => {
                for (d, a) in dst.iter_mut().zip(acc) {
                    let v = *a + b;
                    *d = if self.relu { v.max(0.0) } else { v };
                }
            }
        }
    }
}

/// The source buffer, kept between calls (no page faults from fresh allocations per layer).
pub(super) static SOURCE: Mutex<Vec<f32>> = Mutex::new(Vec::new());

multiversion! {
    /// The runs of one tile (from `for_runs`: output offset of channel 0, length, offset in the
    /// tile) of output channels o0, o0+1, ... (acc: dims[0] floats per channel, in order) through
    /// the epilogue into y (dims[1] floats per channel plane); compiled for the widest SIMD.
    fn emit_tile(ep: &Epilogue, runs: &[(usize, usize, usize)], acc: &[f32], o0: usize, dims: [usize; 2],
                 yp: &SharedMut<f32>) {
        let [t, ohw] = dims;
        for (i, row) in acc.chunks_exact(t).enumerate() {
            let o = o0 + i;
            for &(p, len, e) in runs {
                let y0 = p + o * ohw;
                // Safety: the caller alone writes these outputs (its (tile, channels) unit or images).
                let dst = unsafe { yp.slice(y0, len) };
                ep.emit(o, y0, &row[e..][..len], dst);
            }
        }
    }
}

/// The direct source planes of one input channel `img` (H x W) into `d` (sh*sw planes).
pub(super) fn fill_channel(s: &ConvShape, img: &[f32], d: &mut [f32]) {
    let (hp, wp) = SparseGeom::padded(s);
    if s.sh == 1 && s.sw == 1 {
        d[..s.ph * wp].fill(0.0);
        for ih in 0..s.h {
            let row = &mut d[(s.ph + ih) * wp..(s.ph + ih + 1) * wp];
            row[..s.pw].fill(0.0);
            row[s.pw..s.pw + s.w].copy_from_slice(&img[ih * s.w..(ih + 1) * s.w]);
            row[s.pw + s.w..].fill(0.0);
        }
        d[(s.ph + s.h) * wp..hp * wp].fill(0.0);
        return;
    }
    let mut i = 0;
    for a in 0..s.sh {
        for b in 0..s.sw {
            // A phase no tap reads (e.g. all but the first of a 1x1 stride-2 conv) is left as is:
            // only positions past the plane's outputs (dropped) can read it.
            if !(0..s.kh).any(|k| k * s.dh % s.sh == a) || !(0..s.kw).any(|k| k * s.dw % s.sw == b) {
                i += hp * wp;
                continue;
            }
            for r in 0..hp {
                let ih = (r * s.sh + a).wrapping_sub(s.ph);
                for q in 0..wp {
                    let iw = (q * s.sw + b).wrapping_sub(s.pw);
                    d[i] = if ih < s.h && iw < s.w { img[ih * s.w + iw] } else { 0.0 };
                    i += 1;
                }
            }
        }
    }
}

/// The direct source of every image: N x C*sh*sw planes (plus slack for the last tile's reads).
fn build_direct(s: &ConvShape, x: &[f32], src: &mut [f32]) {
    let (hp, wp) = SparseGeom::padded(s);
    let (cplane, hw) = (s.sh * s.sw * hp * wp, s.h * s.w);
    let sp = SharedMut::new(src);
    let sp = &sp;
    parallel_ranges(s.n * s.c, 8, |r| {
        // Safety: channel i's planes are written only by the range that holds i.
        let dst = unsafe { sp.slice(r.start * cplane, r.len() * cplane) };
        for (i, nc) in r.enumerate() {
            fill_channel(s, &x[nc * hw..(nc + 1) * hw], &mut dst[i * cplane..(i + 1) * cplane]);
        }
    });
}

/// im2col in panels of `tile` columns (K x tile each); columns past N*OH*OW are zeros.
fn build_panels(s: &ConvShape, tile: usize, x: &[f32], src: &mut [f32]) {
    let (k, ohw, chw) = (s.ckk(), s.ohw(), s.c * s.h * s.w);
    let ncols = s.n * ohw;
    let sp = SharedMut::new(src);
    let sp = &sp;
    parallel_ranges(ncols.div_ceil(tile), 1, |r| {
        let mut segs: Vec<(usize, usize, usize, usize, usize)> = Vec::with_capacity(tile);
        for p in r {
            // Safety: panel p is written only by the range that holds p.
            let panel = unsafe { sp.slice(p * k * tile, k * tile) };
            segs.clear();
            let (q0, q1) = (p * tile, ((p + 1) * tile).min(ncols));
            let mut q = q0;
            while q < q1 {
                let (b, pix) = (q / ohw, q % ohw);
                let (oh, ow) = (pix / s.ow, pix % s.ow);
                let len = (s.ow - ow).min(q1 - q);
                segs.push((b, oh, ow, len, q - q0));
                q += len;
            }
            let used = q1 - q0;
            for c in 0..s.c {
                for kh in 0..s.kh {
                    for kw in 0..s.kw {
                        let row = &mut panel[((c * s.kh + kh) * s.kw + kw) * tile..][..tile];
                        for &(b, oh, ow, len, e) in &segs {
                            fill_segment(s, &x[b * chw..(b + 1) * chw], c, kh, kw, oh, ow, &mut row[e..e + len]);
                        }
                        row[used..].fill(0.0);
                    }
                }
            }
        }
    });
}

/// Source floats per chunk of input channels and the number of chunks for `rows_chunked`. Direct
/// lowering: the rows a tile reads of a chunk's channels fill about 24 KB (most of L1); on Zen 4
/// that makes VGG16's 32x32 / 16x16 / 8x8 layers at keep 10% 9% / 10% / 7% faster than one pass.
/// Panels: one chunk.
fn channel_chunks(s: &ConvShape, g: &SparseGeom) -> (usize, usize) {
    if g.mode != Lowering::Direct {
        return (usize::MAX, 1);
    }
    let (hp, wp) = SparseGeom::padded(s);
    let cplane = s.sh * s.sw * hp * wp;
    let touched = (g.tile + (s.kh - 1) * s.dh * wp + s.kw * s.dw).min(cplane) * 4;
    let cc = (24 * 1024 / touched).clamp(1, s.c.max(1));
    (cc * cplane, s.c.max(1).div_ceil(cc))
}

/// Calls `f(first, len)` for the runs of valid output positions of tile `ti`: `first` is the
/// index into y's image plane (oh*OW+ow) plus the image, `len` the run length, and the run's
/// offset within the tile. Direct or Panel lowering (Lanes has its own loop).
#[inline]
fn for_runs(s: &ConvShape, g: &SparseGeom, ti: usize, mut f: impl FnMut(usize, usize, usize, usize)) {
    let t = g.tile;
    if g.mode == Lowering::Direct {
        let (_, wp) = SparseGeom::padded(s);
        let len = SparseGeom::direct_len(s);
        let tpi = len.div_ceil(t);
        let (n, q0) = (ti / tpi, (ti % tpi) * t);
        let q1 = (q0 + t).min(len);
        let mut q = q0;
        while q < q1 {
            let (oh, ow) = (q / wp, q % wp);
            if ow < s.ow {
                let run = (s.ow - ow).min(q1 - q);
                f(n, oh * s.ow + ow, run, q - q0);
                q += run;
            } else {
                q += wp - ow;
            }
        }
    } else {
        let ohw = s.ohw();
        let (q0, q1) = (ti * t, ((ti + 1) * t).min(s.n * ohw));
        let mut q = q0;
        while q < q1 {
            let (n, p) = (q / ohw, q % ohw);
            let run = (ohw - p).min(q1 - q);
            f(n, p, run, q - q0);
            q += run;
        }
    }
}

/// y = relu?(sparse_conv(x) + bias + residual). Validates everything it reads through.
#[allow(clippy::too_many_arguments)]
pub fn sparse_conv_forward(op: &str, s: &ConvShape, g: &SparseGeom, x: &[f32], row_ptr: &[i32], offs: &[i32],
                           vals: &[f32], ep: &Epilogue, y: &mut [f32]) -> Result<(), String> {
    if x.len() != s.x_len() || y.len() != s.y_len() {
        return Err(format!("{op}: x has {} and y {} elements, expected {} and {} ({})", x.len(), y.len(), s.x_len(), s.y_len(), s.describe()));
    }
    validate(op, s, g, row_ptr, offs, vals)?;
    ep.check(op, s)?;
    sparse_conv_run(s, g, x, row_ptr, offs, vals, ep, y);
    Ok(())
}

/// `sparse_conv_forward` after its checks: the CSR must come from `csr::pack` (or the same
/// offsets) for this shape and lowering, and every length must match the shape.
#[allow(clippy::too_many_arguments)]
pub fn sparse_conv_run(s: &ConvShape, g: &SparseGeom, x: &[f32], row_ptr: &[i32], offs: &[i32], vals: &[f32],
                       ep: &Epilogue, y: &mut [f32]) {
    if s.n == 0 {
        return;
    }
    if g.mode == Lowering::Lanes {
        lanes_forward(s, g, x, row_ptr, offs, vals, ep, y);
        return;
    }
    let t = g.tile;
    let threads = num_threads();
    if g.mode == Lowering::Direct && threads > 1 && (s.n.is_multiple_of(threads) || s.n >= 4 * threads) {
        direct_by_image(s, g, x, row_ptr, offs, vals, ep, y, threads);
        return;
    }
    let direct = g.mode == Lowering::Direct;
    let (tiles, src_len) = if direct {
        let (hp, wp) = SparseGeom::padded(s);
        (s.n * SparseGeom::direct_len(s).div_ceil(t), s.n * SparseGeom::planes(s) * hp * wp + MAX_TILE)
    } else {
        let p = (s.n * s.ohw()).div_ceil(t);
        (p, p * s.ckk().max(1) * t)
    };
    let mut guard = SOURCE.lock().unwrap_or_else(|e| e.into_inner());
    if guard.len() < src_len {
        *guard = vec![0.0; src_len];
    }
    let src = &mut guard[..src_len];
    if direct {
        build_direct(s, x, src);
        let n = src_len - MAX_TILE;
        src[n..].fill(0.0);
    } else {
        build_panels(s, t, x, src);
    }
    let src: &[f32] = src;
    // Enough units for every thread; consecutive units share a tile (its source stays in cache).
    let ob = (4 * threads).div_ceil(tiles).clamp(1, s.o.max(1));
    let units = tiles * ob;
    let panel = s.ckk().max(1) * t;
    let (ohw, yp) = (s.ohw(), SharedMut::new(y));
    let yp = &yp;
    let (span, chunks) = channel_chunks(s, g);
    let work = |range: std::ops::Range<usize>| {
        let mut runs: Vec<(usize, usize, usize)> = Vec::with_capacity(MAX_TILE);
        ACC.with_borrow_mut(|(acc, cur)| {
            for u in range {
                let (ti, bi) = (u / ob, u % ob);
                let base = if direct {
                    let tpi = SparseGeom::direct_len(s).div_ceil(t);
                    let (hp, wp) = SparseGeom::padded(s);
                    (ti / tpi) * SparseGeom::planes(s) * hp * wp + (ti % tpi) * t
                } else {
                    ti * panel
                };
                let os = share(s.o, ob, bi);
                // Safety: validate() bounded every offset by max_offset, and the source holds
                // max_offset + tile floats past every tile base (padded planes / panel / slack).
                unsafe { rows_chunked(t, src.as_ptr().add(base), os.clone(), row_ptr, offs, vals, span, chunks, acc, cur) };
                // The tile's runs, found once for the unit's channels; (tile, o) pairs are
                // disjoint across units, so are their runs of y.
                runs.clear();
                for_runs(s, g, ti, |n, p, len, e| runs.push((n * s.o * ohw + p, len, e)));
                emit_tile(ep, &runs, &acc[..os.len() * t], os.start, [t, ohw], yp);
            }
        })
    };
    run_shares(units, |_, range| work(range));
}

/// Direct lowering in one pass over the pool (batches of at least one image per thread): each
/// thread pads its own images into its own region of the source (planes plus MAX_TILE zeros of
/// slack, so no read crosses into another thread's image) and computes every output channel of
/// them while they are in cache. Same micro-kernel calls and tiles as the two-pass path, so the
/// results are identical.
#[allow(clippy::too_many_arguments)]
fn direct_by_image(s: &ConvShape, g: &SparseGeom, x: &[f32], row_ptr: &[i32], offs: &[i32], vals: &[f32],
                   ep: &Epilogue, y: &mut [f32], threads: usize) {
    let (hp, wp) = SparseGeom::padded(s);
    let (plane, hw, t) = (hp * wp, s.h * s.w, g.tile);
    let (planes, cplane) = (SparseGeom::planes(s), s.sh * s.sw * plane);
    let ist = planes * plane + MAX_TILE;
    let mut guard = SOURCE.lock().unwrap_or_else(|e| e.into_inner());
    if guard.len() < s.n * ist {
        *guard = vec![0.0; s.n * ist];
    }
    let (sp, yp) = (SharedMut::new(&mut guard[..s.n * ist]), SharedMut::new(y));
    let (sp, yp) = (&sp, &yp);
    let (ohw, tpi) = (s.ohw(), SparseGeom::direct_len(s).div_ceil(t));
    let parts = threads.min(s.n);
    run_on_all(&|th| {
        if th >= parts {
            return;
        }
        let mut runs: Vec<(usize, usize, usize)> = Vec::with_capacity(MAX_TILE);
        let (span, chunks) = channel_chunks(s, g);
        ACC.with_borrow_mut(|(acc, cur)| {
            for n in share(s.n, parts, th) {
                // Safety: image n's region of the source is written and read only by this thread.
                let d = unsafe { sp.slice(n * ist, ist) };
                if s.sh == 1 && s.sw == 1 {
                    // The same planes as fill_channel's, by the vectorised padding copy.
                    pad_images(s, x, n, 1, 0, &mut d[..planes * plane]);
                } else {
                    for c in 0..s.c {
                        fill_channel(s, &x[(n * s.c + c) * hw..][..hw], &mut d[c * cplane..(c + 1) * cplane]);
                    }
                }
                d[planes * plane..].fill(0.0);
                for tl in 0..tpi {
                    // Safety: validate() bounded every offset by max_offset; the region holds
                    // max_offset + tile floats past every tile base (padded planes + slack).
                    unsafe { rows_chunked(t, d.as_ptr().add(tl * t), 0..s.o, row_ptr, offs, vals, span, chunks, acc, cur) };
                    // The tile's runs of valid positions, found once for all output channels.
                    runs.clear();
                    for_runs(s, g, n * tpi + tl, |_, p, len, e| runs.push((n * s.o * ohw + p, len, e)));
                    emit_tile(ep, &runs, &acc[..s.o * t], 0, [t, ohw], yp);
                }
            }
        });
    });
}
