//! Elementwise kernels: SeaM's masked weight and straight-through mask gradient, ReLU, and the
//! small arithmetic ops. Each op is a multiversioned chunk loop run inline for small tensors and
//! over the pool (fixed contiguous shares) for large ones. Every output element depends only on the
//! inputs at the same index, so results do not depend on the thread count at all.

use super::simd::multiversion;
use crate::threads::{parallel_ranges, SharedMut};
use std::ops::Range;

/// Elements per thread below which an elementwise op stays on the calling thread
/// (a pool dispatch costs ~10-20 us; 32 K floats stream in about that long).
pub const PAR_MIN: usize = 1 << 15;

/// Calls `f(range, out[range])` over contiguous shares of `out`, in parallel when large.
pub fn par_out(out: &mut [f32], f: impl Fn(Range<usize>, &mut [f32]) + Sync) {
    let n = out.len();
    let p = SharedMut::new(out);
    parallel_ranges(n, PAR_MIN, |r| {
        // Shares are disjoint, so each thread owns its slice of `out`.
        let o = unsafe { p.slice(r.start, r.len()) };
        f(r, o)
    });
}

multiversion! {
    fn masked_weight_chunk(w: &[f32], m: &[f32], out: &mut [f32]) {
        for ((o, &w), &m) in out.iter_mut().zip(w).zip(m) {
            // w * bin(m), exactly as PyTorch multiplies (negative w gives -0, inf * 0 gives NaN).
            *o = w * if m > 0.0 { 1.0 } else { 0.0 };
        }
    }
}

multiversion! {
    fn mask_grad_chunk(g: &[f32], w: &[f32], out: &mut [f32]) {
        for ((o, &g), &w) in out.iter_mut().zip(g).zip(w) {
            // hardtanh; NaN stays NaN as in torch.clamp.
            *o = (g * w).clamp(-1.0, 1.0);
        }
    }
}

multiversion! {
    fn relu_chunk(x: &[f32], y: &mut [f32]) {
        for (o, &x) in y.iter_mut().zip(x) {
            // NaN is kept (comparison is false), as torch.relu keeps it.
            *o = if x <= 0.0 { 0.0 } else { x };
        }
    }
}

multiversion! {
    fn relu_backward_chunk(y: &[f32], gy: &[f32], gx: &mut [f32]) {
        for ((o, &y), &g) in gx.iter_mut().zip(y).zip(gy) {
            *o = if y > 0.0 { g } else { 0.0 };
        }
    }
}

multiversion! {
    fn add_chunk(a: &[f32], b: &[f32], out: &mut [f32]) {
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *o = a + b;
        }
    }
}

multiversion! {
    fn mul_chunk(a: &[f32], b: &[f32], out: &mut [f32]) {
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *o = a * b;
        }
    }
}

multiversion! {
    fn scale_chunk(a: &[f32], s: f32, out: &mut [f32]) {
        for (o, &a) in out.iter_mut().zip(a) {
            *o = a * s;
        }
    }
}

multiversion! {
    fn axpy_chunk(alpha: f32, x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y += alpha * x;
        }
    }
}

multiversion! {
    fn add_scalar_chunk(x: &mut [f32], s: f32) {
        for v in x.iter_mut() {
            *v += s;
        }
    }
}

/// out = w * (m > 0). Lengths must match (checked by the binding).
pub fn masked_weight(w: &[f32], m: &[f32], out: &mut [f32]) {
    par_out(out, |r, o| masked_weight_chunk(&w[r.clone()], &m[r], o));
}

/// gm = clamp(gw_eff * w, -1, 1).
pub fn mask_grad(g: &[f32], w: &[f32], gm: &mut [f32]) {
    par_out(gm, |r, o| mask_grad_chunk(&g[r.clone()], &w[r], o));
}

pub fn relu(x: &[f32], y: &mut [f32]) {
    par_out(y, |r, o| relu_chunk(&x[r], o));
}

/// gx = y > 0 ? gy : 0.
pub fn relu_backward(y: &[f32], gy: &[f32], gx: &mut [f32]) {
    par_out(gx, |r, o| relu_backward_chunk(&y[r.clone()], &gy[r], o));
}

pub fn add(a: &[f32], b: &[f32], out: &mut [f32]) {
    par_out(out, |r, o| add_chunk(&a[r.clone()], &b[r], o));
}

pub fn mul(a: &[f32], b: &[f32], out: &mut [f32]) {
    par_out(out, |r, o| mul_chunk(&a[r.clone()], &b[r], o));
}

/// out = a * s.
pub fn scale(a: &[f32], s: f32, out: &mut [f32]) {
    par_out(out, |r, o| scale_chunk(&a[r], s, o));
}

/// y += alpha * x.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    par_out(y, |r, o| axpy_chunk(alpha, &x[r], o));
}

/// x += s.
pub fn add_scalar(x: &mut [f32], s: f32) {
    par_out(x, |_, o| add_scalar_chunk(o, s));
}

/// y[r, c] += b[c] for a row-major rows x cols matrix.
pub fn add_row_bias(y: &mut [f32], b: &[f32], rows: usize, cols: usize) {
    if cols == 0 || rows == 0 {
        return;
    }
    let p = SharedMut::new(y);
    parallel_ranges(rows, (PAR_MIN / cols).max(1), |rr| {
        let part = unsafe { p.slice(rr.start * cols, rr.len() * cols) };
        for row in part.chunks_exact_mut(cols) {
            add_chunk_inplace(row, b);
        }
    });
}

multiversion! {
    fn add_chunk_inplace(y: &mut [f32], b: &[f32]) {
        for (y, &b) in y.iter_mut().zip(b) {
            *y += b;
        }
    }
}
