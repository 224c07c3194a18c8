//! AVX-512 max pooling over 2x2 windows with stride 2 (floor mode, no padding), 16 outputs per
//! step: the two input rows are split into even and odd columns with permutes, then the four taps
//! are compared in row-major order with PyTorch's rule (keep the first maximum; a NaN wins), the
//! same rule as the scalar loops in `pooling` and `infer::max_pool`, which remain the fallback.

/// y (oh x ow) = 2x2 max of one plane `xs` (rows of width w); `arg` (when given) receives the
/// flat index h*w+w of each maximum. Returns false (and writes nothing) without AVX-512.
pub fn max_plane(xs: &[f32], w: usize, oh: usize, ow: usize, ys: &mut [f32], arg: Option<&mut [i32]>) -> bool {
    assert!(2 * ow <= w && xs.len() >= 2 * oh * w && ys.len() >= oh * ow, "max_pool 2x2: bad plane");
    assert!(arg.as_ref().is_none_or(|a| a.len() >= oh * ow), "max_pool 2x2: bad argmax");
    #[cfg(target_arch = "x86_64")]
    {
        if crate::kernels::simd::has_avx512() {
            let ap = arg.map_or(std::ptr::null_mut(), |a| a.as_mut_ptr());
            // Safety: rows 2oy, 2oy+1 < 2oh hold w >= 2ow values; outputs < oh*ow (checked above).
            unsafe { avx512::plane(xs.as_ptr(), w, oh, ow, ys.as_mut_ptr(), ap) };
            return true;
        }
    }
    false
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use crate::kernels::simd::lanes16 as mask;

    /// (even, odd) columns of the 2n floats at p (n <= 16), read with masks.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn split(p: *const f32, n: usize) -> (__m512, __m512) {
        let a = _mm512_maskz_loadu_ps(mask(2 * n), p);
        let b = _mm512_maskz_loadu_ps(mask((2 * n).saturating_sub(16)), p.add(16));
        let even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
        (_mm512_permutex2var_ps(a, even, b), _mm512_permutex2var_ps(a, odd, b))
    }

    /// `arg` null: values only.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn plane(x: *const f32, w: usize, oh: usize, ow: usize, y: *mut f32, arg: *mut i32) {
        let iota2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for oy in 0..oh {
            let (r0, r1) = (x.add(2 * oy * w), x.add((2 * oy + 1) * w));
            for ox in (0..ow).step_by(16) {
                let n = (ow - ox).min(16);
                let (v00, v01) = split(r0.add(2 * ox), n);
                let (v10, v11) = split(r1.add(2 * ox), n);
                let (mut best, mut off) = (v00, _mm512_setzero_si512());
                for (v, o) in [(v01, 1), (v10, w as i32), (v11, w as i32 + 1)] {
                    let take = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, best) | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v);
                    best = _mm512_mask_mov_ps(best, take, v);
                    off = _mm512_mask_mov_epi32(off, take, _mm512_set1_epi32(o));
                }
                let m = mask(n);
                _mm512_mask_storeu_ps(y.add(oy * ow + ox), m, best);
                if !arg.is_null() {
                    let base = _mm512_add_epi32(_mm512_set1_epi32((2 * oy * w + 2 * ox) as i32), iota2);
                    _mm512_mask_storeu_epi32(arg.add(oy * ow + ox).cast(), m, _mm512_add_epi32(base, off));
                }
            }
        }
    }
}
