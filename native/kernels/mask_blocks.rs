//! SeaM's masks over contiguous blocks of a row-major weight: one mask element covers `block`
//! consecutive weights (1: SeaM's per-weight masks; KH*KW: one per convolution kernel; C/g*KH*KW:
//! one per output channel). block = 1 with bound 1 runs the per-weight kernels of elementwise.rs,
//! so SeaM's weight granularity is bit for bit what it was.
//!
//! Block sums accumulate the exact float32 products in float64, in index order, then round once:
//! the result does not depend on the thread count, and the CUDA twin (kernels/mask.cu) gets the
//! same bits.

use super::elementwise::{mask_grad, masked_weight, par_out, PAR_MIN};
use crate::threads::{parallel_ranges, SharedMut};

/// out[i] = w[i] * (m[i / block] > 0). Lengths: w = out = m * block (checked by the binding).
pub fn masked_weight_blocks(w: &[f32], m: &[f32], block: usize, out: &mut [f32]) {
    if block == 1 {
        return masked_weight(w, m, out);
    }
    par_out(out, |r, o| {
        let mut i = r.start;
        while i < r.end {
            let e = i / block;
            let stop = ((e + 1) * block).min(r.end);
            // w * bin(m) exactly as the per-weight kernel multiplies (negative w gives -0).
            let keep = if m[e] > 0.0 { 1.0 } else { 0.0 };
            for (o, &w) in o[i - r.start..stop - r.start].iter_mut().zip(&w[i..stop]) {
                *o = w * keep;
            }
            i = stop;
        }
    });
}

/// gm[e] = clamp(sum of g[i] * w[i] over block e, -bound, bound): the straight-through gradient of
/// a shared mask element (bound 1, SeaM's hardtanh) or the raw block sums (bound infinity, when a
/// gate op clamps the total). NaN propagates.
pub fn mask_grad_blocks(g: &[f32], w: &[f32], block: usize, bound: f32, gm: &mut [f32]) {
    if block == 1 && bound == 1.0 {
        return mask_grad(g, w, gm);
    }
    let n = gm.len();
    let out = SharedMut::new(gm);
    parallel_ranges(n, (PAR_MIN / block).max(1), |r| {
        // Ranges are disjoint, so each thread owns its part of gm.
        let o = unsafe { out.slice(r.start, r.len()) };
        for (k, o) in o.iter_mut().enumerate() {
            let base = (r.start + k) * block;
            let mut s = 0.0f64;
            for (&g, &w) in g[base..base + block].iter().zip(&w[base..base + block]) {
                s += g as f64 * w as f64;
            }
            *o = (s as f32).clamp(-bound, bound);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn blocks_match_loops() {
        for &(nm, block) in &[(7usize, 1usize), (5, 9), (64, 144), (3000, 40), (40, 3000)] {
            let (w, g, m) = (data(nm * block, 1), data(nm * block, 2), data(nm, 3));
            let mut out = vec![f32::NAN; nm * block];
            masked_weight_blocks(&w, &m, block, &mut out);
            for i in 0..w.len() {
                let want = w[i] * if m[i / block] > 0.0 { 1.0 } else { 0.0 };
                assert_eq!(out[i].to_bits(), want.to_bits(), "forward {nm}x{block} at {i}");
            }
            for &bound in &[1.0f32, 0.01, f32::INFINITY] {
                let mut gm = vec![f32::NAN; nm];
                mask_grad_blocks(&g, &w, block, bound, &mut gm);
                for e in 0..nm {
                    let s: f64 = (e * block..(e + 1) * block).map(|i| g[i] as f64 * w[i] as f64).sum();
                    let want = (s as f32).clamp(-bound, bound);
                    assert_eq!(gm[e].to_bits(), want.to_bits(), "gradient {nm}x{block} bound {bound} at {e}");
                }
            }
        }
    }

    #[test]
    fn block_one_is_the_per_weight_kernel() {
        let (w, g, m) = (data(100_000, 4), data(100_000, 5), data(100_000, 6));
        let (mut a, mut b) = (vec![0.0; w.len()], vec![0.0; w.len()]);
        masked_weight_blocks(&w, &m, 1, &mut a);
        masked_weight(&w, &m, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        mask_grad_blocks(&g, &w, 1, 1.0, &mut a);
        mask_grad(&g, &w, &mut b);
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        // the float64 path with an infinite bound gives the same products as the per-weight kernel
        // before its clamp
        mask_grad_blocks(&g, &w, 1, f32::INFINITY, &mut a);
        assert!(a.iter().zip(&g).zip(&w).all(|((x, g), w)| x.to_bits() == (g * w).to_bits()));
    }

    #[test]
    fn nan_propagates() {
        let (g, w) = ([f32::NAN, 1.0, 1.0, 1.0], [1.0f32; 4]);
        let mut gm = [0.0f32; 2];
        mask_grad_blocks(&g, &w, 2, 1.0, &mut gm);
        assert!(gm[0].is_nan());
        assert_eq!(gm[1], 1.0);
    }
}
