//! Fast lowering for stride-1 convolutions (any kernel size, padding, dilation): the chunk's
//! images are first copied into a zero-padded buffer, after which every run of a column-matrix
//! row is a plain contiguous copy with no bounds checks (AVX-512 masked moves when available).

use super::im2col::{group_image, ConvShape};

/// Zero-padded copy of images b0..b0+bc, group `grp`: bc x cg x (H+2PH) x (W+2PW).
pub fn pad_images(s: &ConvShape, x: &[f32], b0: usize, bc: usize, grp: usize, dst: &mut [f32]) {
    let (hp, wp) = (s.h + 2 * s.ph, s.w + 2 * s.pw);
    let plane = hp * wp;
    for b in 0..bc {
        let img = group_image(s, x, b0 + b, grp);
        for c in 0..s.cg() {
            let out = &mut dst[(b * s.cg() + c) * plane..][..plane];
            out[..s.ph * wp].fill(0.0);
            out[(s.ph + s.h) * wp..].fill(0.0);
            for ih in 0..s.h {
                let row = &mut out[(s.ph + ih) * wp..][..wp];
                row[..s.pw].fill(0.0);
                row[s.pw..s.pw + s.w].copy_from_slice(&img[(c * s.h + ih) * s.w..][..s.w]);
                row[s.pw + s.w..].fill(0.0);
            }
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
    ((b * s.cg() + c) * hp + oh + kh * s.dh) * wp + ow + kw * s.dw
}

#[inline(always)]
unsafe fn body_packed(s: &ConvShape, p: &[f32], n: usize, dst: &mut [f32], copy: impl Fn(*mut f32, *const f32, usize)) {
    let (ohw, k) = (s.ohw(), s.ckk());
    let mut segs: Vec<(usize, usize, usize, usize, usize)> = Vec::with_capacity(64);
    for (j0, w) in super::gemm_prepacked::b_strips(n) {
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
    assert!(s.sh == 1 && s.sw == 1, "im2col_s1: stride must be 1");
    assert!(p.len() >= padded_len(s, bc) && out >= want, "im2col_s1: buffers too small");
}

/// `im2col_packed` for stride 1, reading the buffer made by `pad_images` for bc images.
pub fn im2col_packed_s1(s: &ConvShape, padded: &[f32], bc: usize, dst: &mut [f32]) {
    let n = bc * s.ohw();
    check(s, padded, bc, dst.len(), super::gemm_prepacked::packed_b_len(n, s.ckk()));
    #[cfg(target_arch = "x86_64")]
    {
        if super::gemm::gemm_isa_name() == "avx512" {
            return unsafe { avx512::packed(s, padded, n, dst) };
        }
    }
    unsafe { body_packed(s, padded, n, dst, |d, p, l| std::ptr::copy_nonoverlapping(p, d, l)) }
}

/// `im2col` (plain ckk x bc*OH*OW) for stride 1, from the `pad_images` buffer.
pub fn im2col_s1(s: &ConvShape, padded: &[f32], bc: usize, col: &mut [f32]) {
    check(s, padded, bc, col.len(), s.ckk() * bc * s.ohw());
    #[cfg(target_arch = "x86_64")]
    {
        if super::gemm::gemm_isa_name() == "avx512" {
            return unsafe { avx512::plain(s, padded, bc, col) };
        }
    }
    unsafe { body_plain(s, padded, bc, col, |d, p, l| std::ptr::copy_nonoverlapping(p, d, l)) }
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
            let m: __mmask16 = ((1u32 << (len - i)) - 1) as u16;
            _mm512_mask_storeu_ps(d.add(i), m, _mm512_maskz_loadu_ps(m, p.add(i)));
        }
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn packed(s: &ConvShape, p: &[f32], n: usize, dst: &mut [f32]) {
        body_packed(s, p, n, dst, |d, q, l| copy_run(d, q, l))
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn plain(s: &ConvShape, p: &[f32], bc: usize, col: &mut [f32]) {
        body_plain(s, p, bc, col, |d, q, l| copy_run(d, q, l))
    }
}
