//! 2-D max and average pooling over NCHW planes (PyTorch semantics: output-size rule with
//! ceil_mode, -inf padding for max, count_include_pad for avg), and global average pooling.
//! Planes are independent, so work is split over planes and results never depend on threads.

use crate::kernels::elementwise::PAR_MIN;
use crate::kernels::simd::sum_f64;
use crate::threads::{parallel_ranges, SharedMut};

/// Validated pooling geometry (from the 14-int PoolParams array) with the output size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolGeom {
    pub n: usize, pub c: usize, pub h: usize, pub w: usize,
    pub kh: usize, pub kw: usize, pub sh: usize, pub sw: usize,
    pub ph: usize, pub pw: usize, pub dh: usize, pub dw: usize,
    pub ceil: bool, pub count_include_pad: bool,
    pub oh: usize, pub ow: usize,
}

/// PyTorch's pooling_output_shape for one dimension (may be <= 0 for invalid input).
fn out_size(input: i64, k: i64, pad: i64, stride: i64, dil: i64, ceil: bool) -> i64 {
    let num = input + 2 * pad - dil * (k - 1) - 1 + if ceil { stride - 1 } else { 0 };
    let mut out = num.div_euclid(stride) + 1;
    if ceil && (out - 1) * stride >= input + pad {
        out -= 1;
    }
    out
}

impl PoolGeom {
    /// Parses [N, C, H, W, KH, KW, strideH, strideW, padH, padW, dilH, dilW, ceilMode, countIncludePad]
    /// with PyTorch's checks. `allow_dilation` is false for average pooling (which has none).
    pub fn parse(op: &str, p: &[i32], allow_dilation: bool) -> Result<PoolGeom, String> {
        if p.len() != 14 {
            return Err(format!("{op}: pool params has {} elements, expected 14 \
                                [N,C,H,W,KH,KW,strideH,strideW,padH,padW,dilH,dilW,ceilMode,countIncludePad]", p.len()));
        }
        let v: Vec<i64> = p.iter().map(|&x| x as i64).collect();
        let (n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw) =
            (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11]);
        let shape = format!("input {n}x{c}x{h}x{w}, kernel {kh}x{kw}, stride {sh}x{sw}, padding {ph}x{pw}, dilation {dh}x{dw}");
        if n < 0 || c < 0 || h < 1 || w < 1 {
            return Err(format!("{op}: invalid input shape ({shape}): N and C must be >= 0, H and W >= 1"));
        }
        if kh <= 0 || kw <= 0 {
            return Err(format!("{op}: kernel size must be > 0 ({shape})"));
        }
        if sh <= 0 || sw <= 0 {
            return Err(format!("{op}: stride must be > 0 ({shape})"));
        }
        if dh <= 0 || dw <= 0 {
            return Err(format!("{op}: dilation must be > 0 ({shape})"));
        }
        if !allow_dilation && (dh != 1 || dw != 1) {
            return Err(format!("{op}: average pooling has no dilation; dilH and dilW must be 1 ({shape})"));
        }
        if ph < 0 || pw < 0 || ph > kh / 2 || pw > kw / 2 {
            return Err(format!("{op}: padding must be >= 0 and at most half the kernel size ({shape})"));
        }
        if !(0..=1).contains(&v[12]) || !(0..=1).contains(&v[13]) {
            return Err(format!("{op}: ceilMode and countIncludePad must be 0 or 1, got {} and {}", v[12], v[13]));
        }
        let ceil = v[12] == 1;
        let oh = out_size(h, kh, ph, sh, dh, ceil);
        let ow = out_size(w, kw, pw, sw, dw, ceil);
        if oh < 1 || ow < 1 {
            return Err(format!("{op}: output size {oh}x{ow} is too small ({shape})"));
        }
        let u = |x: i64| x as usize;
        Ok(PoolGeom {
            n: u(n), c: u(c), h: u(h), w: u(w), kh: u(kh), kw: u(kw), sh: u(sh), sw: u(sw),
            ph: u(ph), pw: u(pw), dh: u(dh), dw: u(dw), ceil, count_include_pad: v[13] == 1, oh: u(oh), ow: u(ow),
        })
    }

    pub fn planes(&self) -> usize { self.n * self.c }
    pub fn in_len(&self) -> usize { self.planes() * self.h * self.w }
    pub fn out_len(&self) -> usize { self.planes() * self.oh * self.ow }
}

/// Runs `f(plane)` over all planes, in parallel when the input is large.
fn per_plane(g: &PoolGeom, f: impl Fn(usize) + Sync) {
    let per = (g.h * g.w).max(g.oh * g.ow).max(1);
    parallel_ranges(g.planes(), (PAR_MIN / per).max(1), |r| r.for_each(&f));
}

/// First valid tap index and one past the last along one dimension: taps are start + i*d.
#[inline]
fn taps(o: usize, stride: usize, pad: usize, k: usize, d: usize, len: usize) -> (usize, usize) {
    let start = (o * stride) as i64 - pad as i64;
    let (d, len) = (d as i64, len as i64);
    let mut i0 = 0;
    if start < 0 {
        i0 = (-start + d - 1) / d;
    }
    let mut i1 = k as i64;
    if start + (i1 - 1) * d >= len {
        i1 = (len - 1 - start).div_euclid(d) + 1;
    }
    (i0.max(0) as usize, i1.max(i0) as usize)
}

/// Valid taps of every output position along one dimension: (first tap, end tap, window start).
fn dim_taps(n_out: usize, stride: usize, pad: usize, k: usize, d: usize, len: usize) -> Vec<(usize, usize, i64)> {
    (0..n_out)
        .map(|o| {
            let (t0, t1) = taps(o, stride, pad, k, d, len);
            (t0, t1, (o * stride) as i64 - pad as i64)
        })
        .collect()
}

/// Max pooling; argmax receives the flat index h*W+w inside the plane of each maximum
/// (first maximum; NaN propagates), or -1 for a window holding no input element.
pub fn max_forward(x: &[f32], y: &mut [f32], argmax: &mut [i32], g: &PoolGeom) {
    if (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw) == (2, 2, 2, 2, 0, 0, 1, 1) && 2 * g.oh <= g.h && 2 * g.ow <= g.w {
        return max_forward_2x2(x, y, argmax, g);
    }
    let (yp, ap) = (SharedMut::new(y), SharedMut::new(argmax));
    let (ihw, ohw) = (g.h * g.w, g.oh * g.ow);
    let rows = dim_taps(g.oh, g.sh, g.ph, g.kh, g.dh, g.h);
    let cols = dim_taps(g.ow, g.sw, g.pw, g.kw, g.dw, g.w);
    per_plane(g, |pl| {
        let xs = &x[pl * ihw..(pl + 1) * ihw];
        let (ys, am) = unsafe { (yp.slice(pl * ohw, ohw), ap.slice(pl * ohw, ohw)) };
        for (oy, &(a0, a1, y0)) in rows.iter().enumerate() {
            for (ox, &(b0, b1, x0)) in cols.iter().enumerate() {
                let o = oy * g.ow + ox;
                if a0 >= a1 || b0 >= b1 {
                    (ys[o], am[o]) = (f32::NEG_INFINITY, -1);
                    continue;
                }
                // As PyTorch: start at the first valid tap, then take strictly greater values
                // (ties keep the first) or NaN (a later NaN wins). Selects, not branches.
                let first = (y0 + (a0 * g.dh) as i64) as usize * g.w + (x0 + (b0 * g.dw) as i64) as usize;
                let (mut best, mut bi) = (xs[first], first);
                for a in a0..a1 {
                    let row = (y0 + (a * g.dh) as i64) as usize * g.w;
                    for b in b0..b1 {
                        let idx = row + (x0 + (b * g.dw) as i64) as usize;
                        let v = xs[idx];
                        let take = v > best || v.is_nan();
                        best = if take { v } else { best };
                        bi = if take { idx } else { bi };
                    }
                }
                (ys[o], am[o]) = (best, bi as i32);
            }
        }
    });
}

/// 2x2 windows, stride 2, no padding, every window inside the input: the same selection rule
/// as the general loop (first tap, then strictly greater or NaN, in row-major tap order).
fn max_forward_2x2(x: &[f32], y: &mut [f32], argmax: &mut [i32], g: &PoolGeom) {
    let (yp, ap) = (SharedMut::new(y), SharedMut::new(argmax));
    let (ihw, ohw, w) = (g.h * g.w, g.oh * g.ow, g.w);
    per_plane(g, |pl| {
        let xs = &x[pl * ihw..(pl + 1) * ihw];
        // Safety: plane pl is written by exactly one call.
        let (ys, am) = unsafe { (yp.slice(pl * ohw, ohw), ap.slice(pl * ohw, ohw)) };
        if super::pool_2x2::max_plane(xs, w, g.oh, g.ow, ys, Some(&mut *am)) {
            return;
        }
        for oy in 0..g.oh {
            let (r0, r1) = (&xs[2 * oy * w..][..2 * g.ow], &xs[(2 * oy + 1) * w..][..2 * g.ow]);
            let (yr, ar) = (&mut ys[oy * g.ow..][..g.ow], &mut am[oy * g.ow..][..g.ow]);
            for ox in 0..g.ow {
                let i0 = 2 * oy * w + 2 * ox;
                let (mut best, mut bi) = (r0[2 * ox], i0);
                for (v, idx) in [(r0[2 * ox + 1], i0 + 1), (r1[2 * ox], i0 + w), (r1[2 * ox + 1], i0 + w + 1)] {
                    let take = v > best || v.is_nan();
                    best = if take { v } else { best };
                    bi = if take { idx } else { bi };
                }
                (yr[ox], ar[ox]) = (best, bi as i32);
            }
        }
    });
}

/// gx = scatter-add of gy at argmax (gx overwritten). Indices must be in [-1, H*W) (checked by
/// the binding); -1 contributes nothing.
pub fn max_backward(gy: &[f32], argmax: &[i32], gx: &mut [f32], g: &PoolGeom) {
    let gp = SharedMut::new(gx);
    let (ihw, ohw) = (g.h * g.w, g.oh * g.ow);
    per_plane(g, |pl| {
        let gs = unsafe { gp.slice(pl * ihw, ihw) };
        gs.fill(0.0);
        for (&gv, &i) in gy[pl * ohw..(pl + 1) * ohw].iter().zip(&argmax[pl * ohw..(pl + 1) * ohw]) {
            if i >= 0 {
                gs[i as usize] += gv;
            }
        }
    });
}

/// Average-pool windows along one dimension (PyTorch's rule): clipped [start, end) inside the
/// input, and the extent clipped only to the padded input (for count_include_pad).
fn avg_dim(n_out: usize, stride: usize, pad: usize, k: usize, len: usize) -> Vec<(usize, usize, i64)> {
    let (len, pad) = (len as i64, pad as i64);
    (0..n_out)
        .map(|o| {
            let s = (o * stride) as i64 - pad;
            let e = (s + k as i64).min(len + pad);
            let (cs, ce) = (s.max(0), e.min(len));
            (cs as usize, ce.max(cs) as usize, e - s)
        })
        .collect()
}

/// Per-output windows: (row range, col range, divisor).
struct AvgWindows {
    rows: Vec<(usize, usize, i64)>,
    cols: Vec<(usize, usize, i64)>,
}

impl AvgWindows {
    fn new(g: &PoolGeom) -> Self {
        AvgWindows { rows: avg_dim(g.oh, g.sh, g.ph, g.kh, g.h), cols: avg_dim(g.ow, g.sw, g.pw, g.kw, g.w) }
    }
    #[inline]
    fn divisor(&self, g: &PoolGeom, oy: usize, ox: usize) -> f32 {
        let (r, c) = (self.rows[oy], self.cols[ox]);
        let d = if g.count_include_pad { r.2 * c.2 } else { ((r.1 - r.0) * (c.1 - c.0)) as i64 };
        d.max(1) as f32
    }
}

/// Average pooling (empty windows give 0).
pub fn avg_forward(x: &[f32], y: &mut [f32], g: &PoolGeom) {
    let yp = SharedMut::new(y);
    let (ihw, ohw) = (g.h * g.w, g.oh * g.ow);
    let win = AvgWindows::new(g);
    per_plane(g, |pl| {
        let xs = &x[pl * ihw..(pl + 1) * ihw];
        let ys = unsafe { yp.slice(pl * ohw, ohw) };
        for (oy, &(y0, y1, _)) in win.rows.iter().enumerate() {
            for (ox, &(x0, x1, _)) in win.cols.iter().enumerate() {
                let mut s = 0f32;
                for iy in y0..y1 {
                    for v in &xs[iy * g.w + x0..iy * g.w + x1] {
                        s += v;
                    }
                }
                ys[oy * g.ow + ox] = s / win.divisor(g, oy, ox);
            }
        }
    });
}

/// Gradient of average pooling (gx overwritten).
pub fn avg_backward(gy: &[f32], gx: &mut [f32], g: &PoolGeom) {
    let gp = SharedMut::new(gx);
    let (ihw, ohw) = (g.h * g.w, g.oh * g.ow);
    let win = AvgWindows::new(g);
    per_plane(g, |pl| {
        let gs = unsafe { gp.slice(pl * ihw, ihw) };
        gs.fill(0.0);
        let gys = &gy[pl * ohw..(pl + 1) * ohw];
        for (oy, &(y0, y1, _)) in win.rows.iter().enumerate() {
            for (ox, &(x0, x1, _)) in win.cols.iter().enumerate() {
                let v = gys[oy * g.ow + ox] / win.divisor(g, oy, ox);
                for iy in y0..y1 {
                    for o in &mut gs[iy * g.w + x0..iy * g.w + x1] {
                        *o += v;
                    }
                }
            }
        }
    });
}

/// y[i] = mean of x[i*hw .. (i+1)*hw] (f64 lanes per plane).
pub fn global_avg_forward(x: &[f32], y: &mut [f32], nc: usize, hw: usize) {
    let yp = SharedMut::new(y);
    parallel_ranges(nc, (PAR_MIN / hw.max(1)).max(1), |r| {
        for i in r {
            let v = if hw == 0 { f32::NAN } else { (sum_f64(&x[i * hw..(i + 1) * hw]) / hw as f64) as f32 };
            unsafe { yp.slice(i, 1)[0] = v };
        }
    });
}

/// gx[i, j] = gy[i] / hw.
pub fn global_avg_backward(gy: &[f32], gx: &mut [f32], nc: usize, hw: usize) {
    let gp = SharedMut::new(gx);
    parallel_ranges(nc, (PAR_MIN / hw.max(1)).max(1), |r| {
        for i in r {
            let v = gy[i] / hw as f32;
            unsafe { gp.slice(i * hw, hw) }.fill(v);
        }
    });
}
