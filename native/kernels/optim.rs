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

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i + seed * 17) * 2654435761usize) % 1013) as f32 / 500.0 - 1.0).collect()
    }

    #[test]
    fn adam_matches_naive_f64() {
        let n = 3 * PAR_MIN + 11;
        let p0 = data(n, 1);
        let (mut p, mut m, mut v) = (p0.clone(), vec![0f32; n], vec![0f32; n]);
        let (mut rp, mut rm, mut rv): (Vec<f64>, Vec<f64>, Vec<f64>) =
            (p0.iter().map(|&x| x as f64).collect(), vec![0.0; n], vec![0.0; n]);
        for step in 1..=3u64 {
            let g = data(n, step as usize + 5);
            let h = Adam { step, lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.01 };
            adam_step(&mut p, &g, &mut m, &mut v, h);
            for i in 0..n {
                let gi = g[i] as f64 + 0.01 * rp[i];
                rm[i] = 0.8 * rm[i] + 0.2 * gi;
                rv[i] = 0.99 * rv[i] + 0.01 * gi * gi;
                let mh = rm[i] / (1.0 - 0.8f64.powi(step as i32));
                let vh = rv[i] / (1.0 - 0.99f64.powi(step as i32));
                rp[i] -= 0.01 * mh / (vh.sqrt() + 1e-6);
            }
        }
        assert!(p.iter().zip(&rp).all(|(&a, &b)| (a as f64 - b).abs() < 1e-5));
    }

    #[test]
    fn sgd_matches_naive() {
        for (mom, damp, nesterov) in [(0.0, 0.0, false), (0.9, 0.0, false), (0.9, 0.1, false), (0.5, 0.0, true)] {
            let n = 1000;
            let p0 = data(n, 2);
            let (mut p, mut buf) = (p0.clone(), vec![0f32; n]);
            let (mut rp, mut rb) = (p0.clone(), vec![0f32; n]);
            for step in 0..3 {
                let g = data(n, 9 + step);
                let h = Sgd { lr: 0.1, momentum: mom, dampening: damp, weight_decay: 1e-4, nesterov, first_step: step == 0 };
                sgd_step(&mut p, &g, if mom != 0.0 { Some(&mut buf) } else { None }, h);
                for i in 0..n {
                    let mut d = g[i] + 1e-4f32 * rp[i];
                    if mom != 0.0 {
                        rb[i] = if step == 0 { d } else { rb[i] * mom as f32 + (1.0 - damp as f32) * d };
                        d = if nesterov { d + mom as f32 * rb[i] } else { rb[i] };
                    }
                    rp[i] += -0.1f32 * d;
                }
            }
            assert_eq!(p, rp, "momentum {mom} dampening {damp} nesterov {nesterov}");
        }
    }
}
