//! `col2im_add` for the stride-2 3-tap rows of ResNet downsampling convs (stride 2, KW = 3,
//! pad_w = 1, dil_w = 1, W = 2 OW), AVX-512: the three kw rows of one (c, kh, oh) land on one
//! input row interleaved, even columns 2ow from kw = 1 and odd columns 2ow+1 from kw = 2 at ow
//! plus kw = 0 at ow+1, so each input element receives one add instead of three strided ones.

use super::im2col::ConvShape;

/// Whether `add` handles the shape.
pub fn wanted(s: &ConvShape) -> bool {
    s.sw == 2 && s.kw == 3 && s.pw == 1 && s.dw == 1 && s.w == 2 * s.ow && crate::kernels::simd::has_avx512()
}

/// As `col2im_add`: gx (images b0..b0+bc, group grp) += col2im(col), col = ckk x (bc * OH*OW).
pub fn add(s: &ConvShape, col: &[f32], b0: usize, bc: usize, grp: usize, gx: &mut [f32]) {
    let (ohw, ld, hw) = (s.ohw(), bc * s.ohw(), s.h * s.w);
    assert!(wanted(s) && col.len() >= s.ckk() * ld && gx.len() >= (b0 + bc) * s.c * hw, "col2im_s2: bad buffers");
    for b in 0..bc {
        let img = &mut gx[((b0 + b) * s.c + grp * s.cg()) * hw..][..s.cg() * hw];
        for c in 0..s.cg() {
            for kh in 0..s.kh {
                let r = (c * s.kh + kh) * 3;
                for oh in 0..s.oh {
                    let ih = (oh * s.sh + kh * s.dh) as isize - s.ph as isize;
                    if ih < 0 || ih >= s.h as isize {
                        continue;
                    }
                    let g = |t: usize| &col[(r + t) * ld + b * ohw + oh * s.ow..][..s.ow];
                    let row = &mut img[(c * s.h + ih as usize) * s.w..][..s.w];
                    #[cfg(target_arch = "x86_64")]
                    // Safety: three rows of ow values in, one row of 2 ow values out (sliced above).
                    unsafe {
                        avx512::row(g(0).as_ptr(), g(1).as_ptr(), g(2).as_ptr(), s.ow, row.as_mut_ptr())
                    };
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// row[2i] += g1[i], row[2i+1] += g2[i] + g0[i+1] (g0[ow] taken as 0), for i < ow.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn row(g0: *const f32, g1: *const f32, g2: *const f32, ow: usize, row: *mut f32) {
        let lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        let hi = _mm512_add_epi32(lo, _mm512_set1_epi32(8));
        let m = crate::kernels::simd::lanes16;
        for i in (0..ow).step_by(16) {
            let n = (ow - i).min(16);
            let e = _mm512_maskz_loadu_ps(m(n), g1.add(i));
            let o = _mm512_add_ps(_mm512_maskz_loadu_ps(m(n), g2.add(i)), _mm512_maskz_loadu_ps(m((ow - i - 1).min(16)), g0.add(i + 1)));
            let (m0, m1) = (m(2 * n), m((2 * n).saturating_sub(16)));
            let (d0, d1) = (row.add(2 * i), row.add(2 * i + 16));
            _mm512_mask_storeu_ps(d0, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, d0), _mm512_permutex2var_ps(e, lo, o)));
            _mm512_mask_storeu_ps(d1, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, d1), _mm512_permutex2var_ps(e, hi, o)));
        }
    }
}
