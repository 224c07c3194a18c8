//! C += A * B^T where A (m x k) and B (n x k) are both row-major along k: the shape of the conv
//! weight gradient (gy rows times column-matrix rows, summed over pixels). Instead of packing
//! (which would transpose the large column matrix) this kernel takes dot products directly:
//! a 4 x 6 tile keeps 24 vector accumulators running along k, then reduces each horizontally.
//! Single-threaded; falls back to the packed GEMM without AVX-512.

/// C[i, j] += sum_p A[i*lda + p] * B[j*ldb + p] for i < m, j < n.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_nt_acc(m: usize, n: usize, k: usize, a: &[f32], lda: usize, b: &[f32], ldb: usize,
                    c: &mut [f32], ldc: usize) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    assert!(k <= lda && k <= ldb && n <= ldc, "sgemm_nt_acc: leading dimensions too small");
    assert!(a.len() >= (m - 1) * lda + k && b.len() >= (n - 1) * ldb + k && c.len() >= (m - 1) * ldc + n,
            "sgemm_nt_acc: buffers too small");
    #[cfg(target_arch = "x86_64")]
    {
        if super::sgemm::gemm_isa_name() == "avx512" {
            // Safety: bounds checked above; the CPU has AVX-512F.
            unsafe { nt_avx512(m, n, k, a.as_ptr(), lda, b.as_ptr(), ldb, c.as_mut_ptr(), ldc) };
            return;
        }
    }
    super::sgemm::sgemm_serial(false, true, m, n, k, 1.0, a, lda, b, ldb, 1.0, c, ldc);
}

#[cfg(target_arch = "x86_64")]
const TM: usize = 4;
#[cfg(target_arch = "x86_64")]
const TN: usize = 6;
/// k is processed in blocks so that the TN rows of B stay in L1 while all A rows go by.
#[cfg(target_arch = "x86_64")]
const KB: usize = 1024;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn nt_avx512(m: usize, n: usize, k: usize, a: *const f32, lda: usize, b: *const f32, ldb: usize,
                    c: *mut f32, ldc: usize) {
    let mut p0 = 0;
    while p0 < k {
        let kb = (k - p0).min(KB);
        let mut j = 0;
        while j < n {
            let mut i = 0;
            while i < m {
                tile(m, n, i, j, p0, kb, a, lda, b, ldb, c, ldc);
                i += TM;
            }
            j += TN;
        }
        p0 += kb;
    }
}

/// One TM x TN tile at (i, j) over k range p0..p0+kb. Rows/columns past the edge re-read the
/// last valid row (always in bounds) and are simply not stored.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile(m: usize, n: usize, i: usize, j: usize, p0: usize, kb: usize, a: *const f32, lda: usize,
               b: *const f32, ldb: usize, c: *mut f32, ldc: usize) {
    use std::arch::x86_64::*;
    let ar: [*const f32; TM] = std::array::from_fn(|r| a.add((i + r).min(m - 1) * lda + p0));
    let br: [*const f32; TN] = std::array::from_fn(|s| b.add((j + s).min(n - 1) * ldb + p0));
    let mut acc = [[_mm512_setzero_ps(); TN]; TM];
    let mut p = 0;
    while p < kb {
        let mask = crate::kernels::simd::lanes16(kb - p);
        let av: [__m512; TM] = std::array::from_fn(|r| _mm512_maskz_loadu_ps(mask, ar[r].add(p)));
        for s in 0..TN {
            let bv = _mm512_maskz_loadu_ps(mask, br[s].add(p));
            for r in 0..TM {
                acc[r][s] = _mm512_fmadd_ps(av[r], bv, acc[r][s]);
            }
        }
        p += 16;
    }
    for r in 0..TM.min(m - i) {
        for s in 0..TN.min(n - j) {
            *c.add((i + r) * ldc + j + s) += _mm512_reduce_add_ps(acc[r][s]);
        }
    }
}
