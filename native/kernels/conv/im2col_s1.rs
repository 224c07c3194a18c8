//! Fast lowering for stride-1 and stride-2 convolutions (any kernel size, padding, dilation):
//! the chunk's images are first copied into a zero-padded buffer, after which every run of a
//! column-matrix row is a plain contiguous copy (stride 1) or an every-other-element copy
//! (stride 2, AVX-512 permutes) with no bounds checks.

use super::im2col::{group_image, ConvShape};

/// Zero-padded copy of images b0..b0+bc, group `grp`: bc x cg x (H+2PH) x (W+2PW).
pub fn pad_images(s: &ConvShape, x: &[f32], b0: usize, bc: usize, grp: usize, dst: &mut [f32]) {
    pad_images_to(s, x, b0, bc, grp, [s.h + 2 * s.ph, s.w + 2 * s.pw], dst)
}

/// As `pad_images` into planes of [hp, wp] >= (H+2PH, W+2PW): the image at row PH, column PW,
/// zeros everywhere else.
pub fn pad_images_to(s: &ConvShape, x: &[f32], b0: usize, bc: usize, grp: usize, hw: [usize; 2], dst: &mut [f32]) {
    assert!(hw[0] >= s.h + 2 * s.ph && hw[1] >= s.w + 2 * s.pw, "pad_images: planes smaller than the padded image");
    assert!(dst.len() >= bc * s.cg() * hw[0] * hw[1] && x.len() >= (b0 + bc) * s.c * s.h * s.w, "pad_images: buffers too small");
    #[cfg(target_arch = "x86_64")]
    {
        if crate::kernels::simd::has_avx512() {
            // Safety: lengths checked above; the CPU has AVX-512F.
            return unsafe { avx512::pad(s, x, [b0, bc, grp], hw, dst) };
        }
    }
    // Safety: as above.
    unsafe {
        pad_body(s, x, [b0, bc, grp], hw, dst, |d, p, l| std::ptr::copy_nonoverlapping(p, d, l), |d, l| std::ptr::write_bytes(d, 0, l))
    }
}

/// Each padded plane is written front to back: a zero run (top rows and the first left pad), then
/// per input row its values and one zero run (its right pad plus the next left pad, or the
/// bottom rows). Small rows make per-call copies expensive, hence the closures.
#[inline(always)]
unsafe fn pad_body(s: &ConvShape, x: &[f32], imgs: [usize; 3], hw: [usize; 2], dst: &mut [f32],
                   copy: impl Fn(*mut f32, *const f32, usize), zero: impl Fn(*mut f32, usize)) {
    let ([b0, bc, grp], [hp, wp]) = (imgs, hw);
    let mut out = dst.as_mut_ptr();
    for b in 0..bc {
        let img = group_image(s, x, b0 + b, grp).as_ptr();
        for c in 0..s.cg() {
            let plane = img.add(c * s.h * s.w);
            zero(out, s.ph * wp + s.pw);
            for ih in 0..s.h {
                let row = out.add((s.ph + ih) * wp + s.pw);
                copy(row, plane.add(ih * s.w), s.w);
                zero(row.add(s.w), if ih + 1 < s.h { wp - s.w } else { wp - s.pw - s.w + (hp - s.ph - s.h) * wp });
            }
            out = out.add(hp * wp);
        }
    }
}

pub fn padded_len(s: &ConvShape, bc: usize) -> usize {
    bc * s.cg() * (s.h + 2 * s.ph) * (s.w + 2 * s.pw)
}

/// Offset in the padded buffer of column-matrix row r's value for output (b, oh, ow).
#[inline(always)]
fn src_off(s: &ConvShape, r: usize, b: usize, oh: usize, ow: usize) -> usize {
    let (hp, wp) = (s.h + 2 * s.ph, s.w + 2 * s.pw);
    let (c, kh, kw) = (r / (s.kh * s.kw), (r / s.kw) % s.kh, r % s.kw);
    ((b * s.cg() + c) * hp + oh * s.sh + kh * s.dh) * wp + ow * s.sw + kw * s.dw
}

#[inline(always)]
unsafe fn body_packed(s: &ConvShape, p: &[f32], n: usize, dst: &mut [f32], copy: impl Fn(*mut f32, *const f32, usize)) {
    let (ohw, k) = (s.ohw(), s.ckk());
    let mut segs: Vec<(usize, usize, usize, usize, usize)> = Vec::with_capacity(64);
    for (j0, w) in crate::kernels::gemm::prepacked::b_strips(n) {
        segs.clear();
        let mut q = j0;
        while q < (j0 + w).min(n) {
            let (b, pix) = (q / ohw, q % ohw);
            let (oh, ow) = (pix / s.ow, pix % s.ow);
            let len = (s.ow - ow).min(j0 + w - q).min(n - q);
            segs.push((src_off(s, 0, b, oh, ow), len, q - j0, 0, 0));
            q += len;
        }
        let tail = q - j0;
        let strip = &mut dst[j0 * k..(j0 + w) * k];
        for r in 0..k {
            let roff = src_off(s, r, 0, 0, 0);
            let out = strip[r * w..(r + 1) * w].as_mut_ptr();
            for &(base, len, e, _, _) in &segs {
                copy(out.add(e), p.as_ptr().add(base + roff), len);
            }
            for t in tail..w {
                *out.add(t) = 0.0;
            }
        }
    }
}

#[inline(always)]
unsafe fn body_plain(s: &ConvShape, p: &[f32], bc: usize, col: &mut [f32], copy: impl Fn(*mut f32, *const f32, usize)) {
    let (ohw, ld) = (s.ohw(), bc * s.ohw());
    for r in 0..s.ckk() {
        for b in 0..bc {
            for oh in 0..s.oh {
                copy(col.as_mut_ptr().add(r * ld + b * ohw + oh * s.ow), p.as_ptr().add(src_off(s, r, b, oh, 0)), s.ow);
            }
        }
    }
}

fn check(s: &ConvShape, p: &[f32], bc: usize, out: usize, want: usize) {
    assert!(supported(s), "im2col_s1: stride must be 1 or 2 (both directions equal)");
    assert!(p.len() >= padded_len(s, bc) && out >= want, "im2col_s1: buffers too small");
}

/// Strides this lowering handles.
pub fn supported(s: &ConvShape) -> bool {
    s.sh == s.sw && (s.sh == 1 || s.sh == 2)
}

/// `im2col_packed` for stride 1 or 2, reading the buffer made by `pad_images` for bc images.
pub fn im2col_packed_s1(s: &ConvShape, padded: &[f32], bc: usize, dst: &mut [f32]) {
    let n = bc * s.ohw();
    check(s, padded, bc, dst.len(), crate::kernels::gemm::prepacked::packed_b_len(n, s.ckk()));
    #[cfg(target_arch = "x86_64")]
    {
        if crate::kernels::gemm::sgemm::gemm_isa_name() == "avx512" {
            return unsafe { avx512::packed(s, padded, n, dst) };
        }
    }
    if s.sw == 2 {
        return unsafe { body_packed(s, padded, n, dst, |d, p, l| copy_s2(d, p, l)) };
    }
    unsafe { body_packed(s, padded, n, dst, |d, p, l| std::ptr::copy_nonoverlapping(p, d, l)) }
}

/// `im2col` (plain ckk x bc*OH*OW) for stride 1 or 2, from the `pad_images` buffer.
pub fn im2col_s1(s: &ConvShape, padded: &[f32], bc: usize, col: &mut [f32]) {
    check(s, padded, bc, col.len(), s.ckk() * bc * s.ohw());
    #[cfg(target_arch = "x86_64")]
    {
        if crate::kernels::gemm::sgemm::gemm_isa_name() == "avx512" {
            return unsafe { avx512::plain(s, padded, bc, col) };
        }
    }
    if s.sw == 2 {
        return unsafe { body_plain(s, padded, bc, col, |d, p, l| copy_s2(d, p, l)) };
    }
    unsafe { body_plain(s, padded, bc, col, |d, p, l| std::ptr::copy_nonoverlapping(p, d, l)) }
}

/// d[i] = p[2 i] for i < len.
#[inline(always)]
unsafe fn copy_s2(d: *mut f32, p: *const f32, len: usize) {
    for i in 0..len {
        *d.add(i) = *p.add(2 * i);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;
    use std::arch::x86_64::*;

    /// Copies `len` floats with 16-wide moves, the last one masked (never touches beyond len).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn copy_run(d: *mut f32, p: *const f32, len: usize) {
        let mut i = 0;
        while i + 16 <= len {
            _mm512_storeu_ps(d.add(i), _mm512_loadu_ps(p.add(i)));
            i += 16;
        }
        if i < len {
            let m = crate::kernels::simd::lanes16(len - i);
            _mm512_mask_storeu_ps(d.add(i), m, _mm512_maskz_loadu_ps(m, p.add(i)));
        }
    }

    /// d[i] = p[2 i] for i < len: two loads and an even-element permute per 16 outputs; never
    /// reads past p[2 (len - 1)].
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn copy_run_s2(d: *mut f32, p: *const f32, len: usize) {
        let idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        let mut i = 0;
        while i + 16 <= len {
            let a = _mm512_loadu_ps(p.add(2 * i));
            let b = _mm512_maskz_loadu_ps(0x7fff, p.add(2 * i + 16));
            _mm512_storeu_ps(d.add(i), _mm512_permutex2var_ps(a, idx, b));
            i += 16;
        }
        while i < len {
            *d.add(i) = *p.add(2 * i);
            i += 1;
        }
    }

    /// Zeroes `len` floats with 16-wide stores, the last one masked.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn zero_run(d: *mut f32, len: usize) {
        let mut i = 0;
        while i + 16 <= len {
            _mm512_storeu_ps(d.add(i), _mm512_setzero_ps());
            i += 16;
        }
        if i < len {
            _mm512_mask_storeu_ps(d.add(i), crate::kernels::simd::lanes16(len - i), _mm512_setzero_ps());
        }
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn pad(s: &ConvShape, x: &[f32], imgs: [usize; 3], hw: [usize; 2], dst: &mut [f32]) {
        pad_body(s, x, imgs, hw, dst, |d, q, l| copy_run(d, q, l), |d, l| zero_run(d, l))
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn packed(s: &ConvShape, p: &[f32], n: usize, dst: &mut [f32]) {
        if s.sw == 2 {
            return body_packed(s, p, n, dst, |d, q, l| copy_run_s2(d, q, l));
        }
        body_packed(s, p, n, dst, |d, q, l| copy_run(d, q, l))
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn plain(s: &ConvShape, p: &[f32], bc: usize, col: &mut [f32]) {
        if s.sw == 2 {
            return body_plain(s, p, bc, col, |d, q, l| copy_run_s2(d, q, l));
        }
        body_plain(s, p, bc, col, |d, q, l| copy_run(d, q, l))
    }
}
