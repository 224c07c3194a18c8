//! AVX2+FMA micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators (the classic Haswell shape:
//! 12 FMA chains, 2 B loads and 6 broadcasts per k step). Edge tiles use 2/4-row and 8-column
//! instantiations; a partial last vector of a row is finished through a small stack buffer.
#![cfg(target_arch = "x86_64")]

use super::sgemm::Isa;
use std::arch::x86_64::*;

pub(crate) const ISA: Isa = Isa { mr: 6, mr_step: 2, nr: 16, nr_step: 8, tile, name: "avx2" };

#[allow(clippy::too_many_arguments)]
unsafe fn tile(h: usize, w: usize, kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize,
               m_eff: usize, n_eff: usize, alpha: f32, beta: f32) {
    match (h, w) {
        (6, 16) => kern::<6, 2>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (4, 16) => kern::<4, 2>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (2, 16) => kern::<2, 2>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (6, 8) => kern::<6, 1>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (4, 8) => kern::<4, 1>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (2, 8) => kern::<2, 1>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        _ => unreachable!("avx2 gemm: no {h}x{w} kernel"),
    }
}

#[inline]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::too_many_arguments)]
unsafe fn kern<const MR: usize, const NV: usize>(kc: usize, a: *const f32, b: *const f32, c: *mut f32,
                                                 ldc: usize, m_eff: usize, n_eff: usize, alpha: f32, beta: f32) {
    let mut acc = [[_mm256_setzero_ps(); NV]; MR];
    let mut pa = a;
    let mut pb = b;
    for _ in 0..kc {
        let mut bv = [_mm256_setzero_ps(); NV];
        for v in 0..NV {
            bv[v] = _mm256_loadu_ps(pb.add(8 * v));
        }
        for r in 0..MR {
            let av = _mm256_broadcast_ss(&*pa.add(r));
            for v in 0..NV {
                acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
        pa = pa.add(MR);
        pb = pb.add(8 * NV);
    }
    let al = _mm256_set1_ps(alpha);
    let be = _mm256_set1_ps(beta);
    for r in 0..MR.min(m_eff) {
        let row = c.add(r * ldc);
        for v in 0..NV {
            let col = 8 * v;
            if col >= n_eff {
                break;
            }
            let x = _mm256_mul_ps(acc[r][v], al);
            if n_eff - col >= 8 {
                let y = if beta != 0.0 { _mm256_fmadd_ps(_mm256_loadu_ps(row.add(col)), be, x) } else { x };
                _mm256_storeu_ps(row.add(col), y);
            } else {
                let mut tmp = [0.0f32; 8];
                _mm256_storeu_ps(tmp.as_mut_ptr(), x);
                for (e, t) in tmp.iter().enumerate().take(n_eff - col) {
                    let p = row.add(col + e);
                    *p = if beta != 0.0 { t + beta * *p } else { *t };
                }
            }
        }
    }
}
