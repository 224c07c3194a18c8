//! BatchNorm2d over NCHW (PyTorch semantics). Statistics are per channel, accumulated in f64
//! plane by plane in a fixed order, so results do not depend on the thread count. Work is split
//! over channels when the tensor is large.

use crate::kernels::elementwise::PAR_MIN;
use crate::kernels::simd::{multiversion, sum_and_dot_dev_f64, sum_f64, sum_sq_dev_f64};
use crate::threads::{parallel_for, SharedMut};

/// Shape of an NCHW tensor with H*W flattened.
#[derive(Clone, Copy, Debug)]
pub struct BnShape {
    pub n: usize,
    pub c: usize,
    pub hw: usize,
}

/// Runs `f(channel)` for every channel, over the pool when the tensor is large.
fn per_channel(s: BnShape, f: impl Fn(usize) + Sync) {
    if s.n * s.c * s.hw < 2 * PAR_MIN || s.c < 2 {
        (0..s.c).for_each(f);
    } else {
        parallel_for(s.c, f);
    }
}

multiversion! {
    fn affine_chunk(x: &[f32], a: f32, b: f32, y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = x * a + b;
        }
    }
}

multiversion! {
    /// gx = (gy - mean_gy - (x - mean) * k) * s
    fn bn_train_grad_chunk(x: &[f32], gy: &[f32], mean: f32, mean_gy: f32, k: f32, s: f32, gx: &mut [f32]) {
        for ((o, &x), &g) in gx.iter_mut().zip(x).zip(gy) {
            *o = (g - mean_gy - (x - mean) * k) * s;
        }
    }
}

multiversion! {
    fn scale_chunk(gy: &[f32], s: f32, gx: &mut [f32]) {
        for (o, &g) in gx.iter_mut().zip(gy) {
            *o = g * s;
        }
    }
}

/// Hyper-parameters and mode of the forward pass.
#[derive(Clone, Copy, Debug)]
pub struct BnConfig {
    pub training: bool,
    pub momentum: f64,
    pub eps: f64,
}

/// Forward. Training: batch mean and biased variance normalise, running stats are updated with
/// the unbiased variance; eval: running stats normalise. save_mean / save_invstd receive the
/// statistics used. All lengths are checked by the caller (n*c*hw for x and y, c for the rest);
/// training needs n*hw >= 2.
#[allow(clippy::too_many_arguments)]
pub fn forward(x: &[f32], gamma: &[f32], beta: &[f32], running_mean: &mut [f32], running_var: &mut [f32],
               y: &mut [f32], save_mean: &mut [f32], save_invstd: &mut [f32], s: BnShape, cfg: BnConfig) {
    let (rm, rv, yp) = (SharedMut::new(running_mean), SharedMut::new(running_var), SharedMut::new(y));
    let (sm, si) = (SharedMut::new(save_mean), SharedMut::new(save_invstd));
    let plane = |ni: usize, ci: usize| (ni * s.c + ci) * s.hw;
    per_channel(s, |ci| unsafe {
        // Each channel touches only its own statistics and its own planes.
        let (rm, rv) = (&mut rm.slice(ci, 1)[0], &mut rv.slice(ci, 1)[0]);
        let (mean, invstd) = if cfg.training {
            let count = (s.n * s.hw) as f64;
            let mut total = 0.0;
            for ni in 0..s.n {
                total += sum_f64(&x[plane(ni, ci)..plane(ni, ci) + s.hw]);
            }
            let mean = total / count;
            let mut sq = 0.0;
            for ni in 0..s.n {
                sq += sum_sq_dev_f64(&x[plane(ni, ci)..plane(ni, ci) + s.hw], mean);
            }
            let var = sq / count;
            let unbiased = sq / (count - 1.0);
            *rm = (cfg.momentum * mean + (1.0 - cfg.momentum) * *rm as f64) as f32;
            *rv = (cfg.momentum * unbiased + (1.0 - cfg.momentum) * *rv as f64) as f32;
            (mean, 1.0 / (var + cfg.eps).sqrt())
        } else {
            (*rm as f64, 1.0 / (*rv as f64 + cfg.eps).sqrt())
        };
        sm.slice(ci, 1)[0] = mean as f32;
        si.slice(ci, 1)[0] = invstd as f32;
        let a = invstd * gamma[ci] as f64;
        let b = beta[ci] as f64 - mean * a;
        for ni in 0..s.n {
            let o = plane(ni, ci);
            affine_chunk(&x[o..o + s.hw], a as f32, b as f32, yp.slice(o, s.hw));
        }
    });
}

/// Backward. gx always; ggamma = sum(gy * xhat) and gbeta = sum(gy) when given. Training uses
/// the full batch-statistics gradient, eval treats mean and invstd as constants.
#[allow(clippy::too_many_arguments)]
pub fn backward(x: &[f32], gy: &[f32], gamma: &[f32], save_mean: &[f32], save_invstd: &[f32], gx: &mut [f32],
                ggamma: Option<&mut [f32]>, gbeta: Option<&mut [f32]>, s: BnShape, training: bool) {
    let gxp = SharedMut::new(gx);
    let gg = ggamma.map(SharedMut::new);
    let gb = gbeta.map(SharedMut::new);
    let plane = |ni: usize, ci: usize| (ni * s.c + ci) * s.hw;
    per_channel(s, |ci| unsafe {
        let mean = save_mean[ci] as f64;
        let invstd = save_invstd[ci] as f64;
        let count = (s.n * s.hw) as f64;
        let need_sums = training || gg.is_some() || gb.is_some();
        let (mut sum_gy, mut dot) = (0.0, 0.0);
        if need_sums {
            for ni in 0..s.n {
                let o = plane(ni, ci);
                let (a, b) = sum_and_dot_dev_f64(&gy[o..o + s.hw], &x[o..o + s.hw], mean);
                sum_gy += a;
                dot += b;
            }
        }
        if let Some(g) = gg {
            g.slice(ci, 1)[0] = (dot * invstd) as f32;
        }
        if let Some(g) = gb {
            g.slice(ci, 1)[0] = sum_gy as f32;
        }
        let w = gamma[ci] as f64;
        if training {
            let k = dot * invstd * invstd / count;
            let mean_gy = sum_gy / count;
            for ni in 0..s.n {
                let o = plane(ni, ci);
                bn_train_grad_chunk(&x[o..o + s.hw], &gy[o..o + s.hw], mean as f32, mean_gy as f32, k as f32,
                                    (invstd * w) as f32, gxp.slice(o, s.hw));
            }
        } else {
            for ni in 0..s.n {
                let o = plane(ni, ci);
                scale_chunk(&gy[o..o + s.hw], (invstd * w) as f32, gxp.slice(o, s.hw));
            }
        }
    });
}

multiversion! {
    /// y = relu(x * a + b [+ r]): the eval-mode BatchNorm, residual add and ReLU in one pass,
    /// rounding exactly as the three separate ops do.
    fn affine_relu_chunk(x: &[f32], r: &[f32], a: f32, b: f32, y: &mut [f32]) {
        if r.is_empty() {
            for (y, &x) in y.iter_mut().zip(x) {
                let v = x * a + b;
                *y = if v <= 0.0 { 0.0 } else { v };
            }
        } else {
            for ((y, &x), &r) in y.iter_mut().zip(x).zip(r) {
                let v = (x * a + b) + r;
                *y = if v <= 0.0 { 0.0 } else { v };
            }
        }
    }
}

multiversion! {
    /// gpre = y > 0 ? gy : 0 (into `gr` when non-empty); gx = gpre * s (when non-empty).
    fn relu_scale_grad_chunk(y: &[f32], gy: &[f32], s: f32, gx: &mut [f32], gr: &mut [f32]) {
        if !gr.is_empty() {
            for ((o, &y), &g) in gr.iter_mut().zip(y).zip(gy) {
                *o = if y > 0.0 { g } else { 0.0 };
            }
        }
        if !gx.is_empty() {
            for ((o, &y), &g) in gx.iter_mut().zip(y).zip(gy) {
                *o = (if y > 0.0 { g } else { 0.0 }) * s;
            }
        }
    }
}

/// Runs `f(plane)` over contiguous shares of the n*c planes (in parallel when large).
fn per_plane(s: BnShape, f: impl Fn(usize) + Sync) {
    let planes = s.n * s.c;
    let min = (PAR_MIN / s.hw.max(1)).max(1);
    crate::threads::parallel_ranges(planes, min, |r| r.for_each(&f));
}

/// Eval-mode BatchNorm (running statistics), optional residual `res` added, then ReLU:
/// y = relu(bn(x) + res). save_mean / save_invstd receive the statistics as `forward` does.
#[allow(clippy::too_many_arguments)]
pub fn eval_relu_forward(x: &[f32], res: Option<&[f32]>, gamma: &[f32], beta: &[f32], running_mean: &[f32],
                         running_var: &[f32], eps: f64, y: &mut [f32], save_mean: &mut [f32],
                         save_invstd: &mut [f32], s: BnShape) {
    let mut ab = vec![(0.0f32, 0.0f32); s.c];
    for ci in 0..s.c {
        let (mean, invstd) = (running_mean[ci] as f64, 1.0 / (running_var[ci] as f64 + eps).sqrt());
        save_mean[ci] = mean as f32;
        save_invstd[ci] = invstd as f32;
        let a = invstd * gamma[ci] as f64;
        ab[ci] = (a as f32, (beta[ci] as f64 - mean * a) as f32);
    }
    let yp = SharedMut::new(y);
    per_plane(s, |p| {
        let (o, (a, b)) = (p * s.hw, ab[p % s.c]);
        let r = res.map_or(&[][..], |r| &r[o..o + s.hw]);
        // Safety: plane p is written by exactly one call.
        affine_relu_chunk(&x[o..o + s.hw], r, a, b, unsafe { yp.slice(o, s.hw) });
    });
}

/// Backward of `eval_relu_forward` for x (gx, optional) and the residual (gres = relu-masked gy,
/// optional), from the forward output y. Matches reluBackward followed by the eval BatchNorm
/// backward bit for bit.
#[allow(clippy::too_many_arguments)]
pub fn eval_relu_backward(y: &[f32], gy: &[f32], gamma: &[f32], save_invstd: &[f32], gx: Option<&mut [f32]>,
                          gres: Option<&mut [f32]>, s: BnShape) {
    let scale: Vec<f32> = (0..s.c).map(|ci| (save_invstd[ci] as f64 * gamma[ci] as f64) as f32).collect();
    let gxp = gx.map(SharedMut::new);
    let grp = gres.map(SharedMut::new);
    per_plane(s, |p| {
        let o = p * s.hw;
        // Safety: plane p is written by exactly one call.
        let gx = match &gxp { Some(g) => unsafe { g.slice(o, s.hw) }, None => &mut [][..] };
        let gr = match &grp { Some(g) => unsafe { g.slice(o, s.hw) }, None => &mut [][..] };
        relu_scale_grad_chunk(&y[o..o + s.hw], &gy[o..o + s.hw], scale[p % s.c], gx, gr);
    });
}
