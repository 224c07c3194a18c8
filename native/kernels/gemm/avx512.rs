//! AVX-512F micro-kernel: a 12 x 32 tile of C in 24 zmm accumulators. Per k step it loads two
//! vectors of the packed B strip and broadcasts 12 values of the packed A strip (folded into the
//! FMA as embedded broadcasts), i.e. 24 independent FMA chains: enough to hide Zen4's 4-cycle
//! FMA latency. Edge tiles use 4/8-row and 16-column instantiations and masked loads/stores.
#![cfg(target_arch = "x86_64")]

use super::sgemm::Isa;
use std::arch::x86_64::*;

pub(crate) const ISA: Isa = Isa { mr: 12, mr_step: 4, nr: 32, nr_step: 16, tile, name: "avx512" };

#[allow(clippy::too_many_arguments)]
unsafe fn tile(h: usize, w: usize, kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize,
               m_eff: usize, n_eff: usize, alpha: f32, beta: f32) {
    match (h, w) {
        (12, 32) => kern::<12, 2>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (8, 32) => kern::<8, 2>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (4, 32) => kern::<4, 2>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (12, 16) => kern::<12, 1>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (8, 16) => kern::<8, 1>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        (4, 16) => kern::<4, 1>(kc, a, b, c, ldc, m_eff, n_eff, alpha, beta),
        _ => unreachable!("avx512 gemm: no {h}x{w} kernel"),
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn kern<const MR: usize, const NV: usize>(kc: usize, a: *const f32, b: *const f32, c: *mut f32,
                                                 ldc: usize, m_eff: usize, n_eff: usize, alpha: f32, beta: f32) {
    let mut acc = [[_mm512_setzero_ps(); NV]; MR];
    let mut pa = a;
    let mut pb = b;
    for _ in 0..kc {
        let mut bv = [_mm512_setzero_ps(); NV];
        for v in 0..NV {
            bv[v] = _mm512_loadu_ps(pb.add(16 * v));
        }
        for r in 0..MR {
            let av = _mm512_set1_ps(*pa.add(r));
            for v in 0..NV {
                acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
            }
        }
        pa = pa.add(MR);
        pb = pb.add(16 * NV);
    }
    store::<MR, NV>(&acc, c, ldc, m_eff, n_eff, alpha, beta);
}

/// The MR-row kernel with A read in place (row r at a + r * lda; rows >= m_eff re-read the last
/// valid one): for an operand used once, this skips packing it. `NV` vectors of packed B.
///
/// # Safety
/// As `kern`, with m_eff rows of kc values at a (stride lda).
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn kern_raw_a<const MR: usize, const NV: usize>(kc: usize, a: *const f32, lda: usize, b: *const f32,
                                                                  c: *mut f32, ldc: usize, m_eff: usize, n_eff: usize,
                                                                  alpha: f32, beta: f32) {
    let rows: [*const f32; MR] = std::array::from_fn(|r| a.add(r.min(m_eff - 1) * lda));
    let mut acc = [[_mm512_setzero_ps(); NV]; MR];
    let mut pb = b;
    for p in 0..kc {
        let bv: [__m512; NV] = std::array::from_fn(|v| _mm512_loadu_ps(pb.add(16 * v)));
        for (accr, row) in acc.iter_mut().zip(&rows) {
            let av = _mm512_set1_ps(*row.add(p));
            for (a, &b) in accr.iter_mut().zip(&bv) {
                *a = _mm512_fmadd_ps(av, b, *a);
            }
        }
        pb = pb.add(16 * NV);
    }
    store::<MR, NV>(&acc, c, ldc, m_eff, n_eff, alpha, beta);
}

/// C tile = alpha * acc + beta * C on the first m_eff rows and n_eff columns.
#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn store<const MR: usize, const NV: usize>(acc: &[[__m512; NV]; MR], c: *mut f32, ldc: usize, m_eff: usize,
                                                  n_eff: usize, alpha: f32, beta: f32) {
    let al = _mm512_set1_ps(alpha);
    let be = _mm512_set1_ps(beta);
    for r in 0..MR.min(m_eff) {
        let row = c.add(r * ldc);
        for v in 0..NV {
            let col = 16 * v;
            if col >= n_eff {
                break;
            }
            let rem = n_eff - col;
            let mask = crate::kernels::simd::lanes16(rem);
            let mut x = _mm512_mul_ps(acc[r][v], al);
            if beta != 0.0 {
                x = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, row.add(col)), be, x);
            }
            _mm512_mask_storeu_ps(row.add(col), mask, x);
        }
    }
}
