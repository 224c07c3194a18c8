//! Optimiser steps with PyTorch's arithmetic (torch.optim.Adam and torch.optim.SGD, single-tensor
//! path): scalars prepared in f64 as Python does, the per-element update in f32. Elementwise, so
//! results never depend on the thread count.

use super::elementwise::PAR_MIN;
use super::simd::multiversion;
use crate::threads::{parallel_ranges, SharedMut};

/// Adam hyper-parameters; `step` is 1-based.
#[derive(Clone, Copy, Debug)]
pub struct Adam {
    pub step: u64,
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

/// SGD hyper-parameters.
#[derive(Clone, Copy, Debug)]
pub struct Sgd {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub first_step: bool,
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn adam_chunk(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], b1: f32, one_b1: f32, b2: f32,
                  one_b2: f32, bc2_sqrt: f32, eps: f32, neg_step: f32, wd: f32) {
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = if wd != 0.0 { g + wd * *p } else { g };
            *m = *m * b1 + one_b1 * g;
            *v = *v * b2 + one_b2 * g * g;
            let denom = v.sqrt() / bc2_sqrt + eps;
            *p += neg_step * (*m / denom);
        }
    }
}

/// One Adam step on p with gradient g and moments m, v (all the same length, checked by the caller).
pub fn adam_step(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], h: Adam) {
    let t = h.step as f64;
    let bc1 = 1.0 - h.beta1.powf(t);
    let bc2 = 1.0 - h.beta2.powf(t);
    let step_size = h.lr / bc1;
    let (b1, one_b1, b2, one_b2) = (h.beta1 as f32, (1.0 - h.beta1) as f32, h.beta2 as f32, (1.0 - h.beta2) as f32);
    let (bc2s, eps, neg, wd) = (bc2.sqrt() as f32, h.eps as f32, (-step_size) as f32, h.weight_decay as f32);
    let (pp, mp, vp) = (SharedMut::new(p), SharedMut::new(m), SharedMut::new(v));
    parallel_ranges(g.len(), PAR_MIN, |r| unsafe {
        let (s, n) = (r.start, r.len());
        adam_chunk(pp.slice(s, n), &g[r], mp.slice(s, n), vp.slice(s, n), b1, one_b1, b2, one_b2, bc2s, eps, neg, wd);
    });
}

multiversion! {
    #[allow(clippy::too_many_arguments)]
    fn sgd_momentum_chunk(p: &mut [f32], g: &[f32], buf: &mut [f32], neg_lr: f32, mom: f32, one_damp: f32,
                          wd: f32, nesterov: bool, first: bool) {
        for ((p, &g), b) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
            let g = if wd != 0.0 { g + wd * *p } else { g };
            *b = if first { g } else { *b * mom + one_damp * g };
            let d = if nesterov { g + mom * *b } else { *b };
            *p += neg_lr * d;
        }
    }
}

multiversion! {
    fn sgd_plain_chunk(p: &mut [f32], g: &[f32], neg_lr: f32, wd: f32) {
        for (p, &g) in p.iter_mut().zip(g) {
            let g = if wd != 0.0 { g + wd * *p } else { g };
            *p += neg_lr * g;
        }
    }
}

/// One SGD step; `buf` is required when momentum != 0 (checked by the caller).
pub fn sgd_step(p: &mut [f32], g: &[f32], buf: Option<&mut [f32]>, h: Sgd) {
    let (neg_lr, wd) = ((-h.lr) as f32, h.weight_decay as f32);
    let pp = SharedMut::new(p);
    match buf {
        Some(buf) if h.momentum != 0.0 => {
            let bp = SharedMut::new(buf);
            let (mom, one_damp) = (h.momentum as f32, (1.0 - h.dampening) as f32);
            parallel_ranges(g.len(), PAR_MIN, |r| unsafe {
                let (s, n) = (r.start, r.len());
                sgd_momentum_chunk(pp.slice(s, n), &g[r], bp.slice(s, n), neg_lr, mom, one_damp, wd, h.nesterov, h.first_step);
            });
        }
        _ => parallel_ranges(g.len(), PAR_MIN, |r| unsafe {
            sgd_plain_chunk(pp.slice(r.start, r.len()), &g[r], neg_lr, wd);
        }),
    }
}
