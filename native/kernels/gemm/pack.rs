//! Packing of GEMM operands into the layouts the micro-kernels read:
//! A block (mc x kc) -> strips of h rows, each stored k-major (`h` values per k);
//! B block (kc x nc) -> strips of w columns, each stored k-major (`w` values per k).
//! Edge strips are zero-padded up to their height/width, so kernels need no bounds checks.

use super::sgemm::Isa;

/// Packs op(A)[i0..i0+mc, p0..p0+kc]. `ta`: A is stored k x m.
///
/// # Safety
/// `a` must cover the block; `dst` must hold the padded strips (<= ceil(mc/mr)*mr*kc).
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn pack_a(isa: &Isa, ta: bool, a: *const f32, lda: usize, i0: usize, mc: usize,
                            p0: usize, kc: usize, dst: *mut f32) {
    let mut i = 0;
    let mut d = dst;
    while i < mc {
        let h = isa.strip_h(mc - i);
        let rows = (mc - i).min(h);
        if ta {
            // Row p of the stored matrix holds the h values of one k step contiguously.
            for p in 0..kc {
                let src = a.add((p0 + p) * lda + i0 + i);
                let out = d.add(p * h);
                std::ptr::copy_nonoverlapping(src, out, rows);
                for r in rows..h {
                    *out.add(r) = 0.0;
                }
            }
        } else {
            gather_rows(a.add((i0 + i) * lda + p0), lda, rows, h, kc, d);
        }
        i += h;
        d = d.add(h * kc);
    }
}

/// Packs op(B)[p0..p0+kc, j0..j0+nc]. `tb`: B is stored n x k.
///
/// # Safety
/// As for `pack_a`, with columns.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn pack_b(isa: &Isa, tb: bool, b: *const f32, ldb: usize, p0: usize, kc: usize,
                            j0: usize, nc: usize, dst: *mut f32) {
    let mut j = 0;
    let mut d = dst;
    while j < nc {
        let w = isa.strip_w(nc - j);
        let cols = (nc - j).min(w);
        if tb {
            gather_rows(b.add((j0 + j) * ldb + p0), ldb, cols, w, kc, d);
        } else {
            for p in 0..kc {
                let src = b.add((p0 + p) * ldb + j0 + j);
                let out = d.add(p * w);
                std::ptr::copy_nonoverlapping(src, out, cols);
                for c in cols..w {
                    *out.add(c) = 0.0;
                }
            }
        }
        j += w;
        d = d.add(w * kc);
    }
}

/// Transposing copy: `rows` source rows (stride `ld`, `kc` values each) become `kc` groups of
/// `h` values (rows beyond `rows` are zero). With AVX-512, 16-column blocks go through a
/// register transpose; the rest takes the scalar loop.
unsafe fn gather_rows(src: *const f32, ld: usize, rows: usize, h: usize, kc: usize, dst: *mut f32) {
    #[cfg(target_arch = "x86_64")]
    {
        if h <= 16 && crate::kernels::simd::has_avx512() {
            let full = kc / 16 * 16;
            gather_rows_avx512(src, ld, rows, h, full, dst);
            return gather_rows_scalar(src.add(full), ld, rows, h, kc - full, dst.add(full * h));
        }
    }
    gather_rows_scalar(src, ld, rows, h, kc, dst)
}

/// `gather_rows` for kc a multiple of 16 and h <= 16: each 16 x 16 block (rows past `rows` zero)
/// is transposed in registers and its first h lanes stored per k.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn gather_rows_avx512(src: *const f32, ld: usize, rows: usize, h: usize, kc: usize, dst: *mut f32) {
    use std::arch::x86_64::*;
    let m = crate::kernels::simd::lanes16(h);
    for p0 in (0..kc).step_by(16) {
        let mut r = [_mm512_setzero_ps(); 16];
        for (i, v) in r.iter_mut().enumerate().take(rows) {
            *v = _mm512_loadu_ps(src.add(i * ld + p0));
        }
        crate::kernels::transpose::transpose_regs(&mut r);
        for (j, v) in r.iter().enumerate() {
            _mm512_mask_storeu_ps(dst.add((p0 + j) * h), m, *v);
        }
    }
}

/// Works in 8-row x 64-column tiles so that the source lines being read stay in L1 while the
/// transposed writes stream out.
unsafe fn gather_rows_scalar(src: *const f32, ld: usize, rows: usize, h: usize, kc: usize, dst: *mut f32) {
    const PB: usize = 64;
    let mut p0 = 0;
    while p0 < kc {
        let pn = (kc - p0).min(PB);
        let mut r0 = 0;
        while r0 < h {
            let rn = (h - r0).min(8);
            for r in r0..r0 + rn {
                let out = dst.add(p0 * h + r);
                if r < rows {
                    let s = src.add(r * ld + p0);
                    for p in 0..pn {
                        *out.add(p * h) = *s.add(p);
                    }
                } else {
                    for p in 0..pn {
                        *out.add(p * h) = 0.0;
                    }
                }
            }
            r0 += rn;
        }
        p0 += pn;
    }
}
