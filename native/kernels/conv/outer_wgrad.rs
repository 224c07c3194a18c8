//! Conv weight gradient as register-blocked outer products (AVX-512, KW = 3, dil_w = 1):
//! gw[o, r] = sum over pixels q of gy[o, q] * P[off(r) + pix(q)], with P the zero-padded images
//! (`pad_images`), off(r) the offset of row r = (c, kh, kw) and pix(q) that of output pixel q.
//! gy is transposed once per chunk into o-blocks of 16 * NV channels ([block][q][16 * NV]), so
//! each pixel step loads NV vectors of gy and broadcasts 3 * G scalars of P (G (c, kh) groups,
//! their 3 kw taps adjacent in memory): 24 FMA chains that stay in registers for the whole chunk,
//! with no horizontal reductions and no padded-grid junk columns (so no finiteness requirement).

use super::choose::outer_wgrad;
use super::im2col::ConvShape;

/// FMA chains per tile: 3 taps x G groups x NV vectors.
const CHAINS: usize = 24;

/// Vectors of output channels per tile (2 when the channels allow: fewer broadcasts per FMA).
fn nv(s: &ConvShape) -> usize {
    if s.og().is_multiple_of(32) { 2 } else { 1 }
}

/// Images per chunk: the transposed gy of a chunk stays L2-sized (~64 K floats); a chunk per thread.
pub fn chunk_images(s: &ConvShape) -> usize {
    let per_thread = s.n.div_ceil(crate::threads::num_threads()).max(1);
    ((64 << 10) / (s.og() * s.ohw()).max(1)).clamp(1, per_thread)
}

/// Offset in the padded chunk of each output pixel q = (b, oh, ow) of `bc` images.
pub fn pixel_offsets(s: &ConvShape, bc: usize) -> Vec<usize> {
    let (hp, wp) = (s.h + 2 * s.ph, s.w + 2 * s.pw);
    let img = s.cg() * hp * wp;
    let mut v = Vec::with_capacity(bc * s.ohw());
    for b in 0..bc {
        for oh in 0..s.oh {
            for ow in 0..s.ow {
                v.push(b * img + oh * s.sh * wp + ow * s.sw);
            }
        }
    }
    v
}

/// Floats of the transposed gy of `bc` images.
pub fn gy_len(s: &ConvShape, bc: usize) -> usize {
    bc * s.ohw() * s.og()
}

/// Transposes gy of images b0..b0+bc, group `grp`, into o-blocks: out[blk][q][16 * NV].
pub fn pack_gy(s: &ConvShape, gy: &[f32], b0: usize, bc: usize, grp: usize, out: &mut [f32]) {
    let (og, ohw, wv) = (s.og(), s.ohw(), 16 * nv(s));
    let npix = bc * ohw;
    assert!(outer_wgrad(s) && gy.len() >= (b0 + bc) * s.o * ohw && out.len() >= gy_len(s, bc), "conv wgrad: bad gy");
    for b in 0..bc {
        for o16 in (0..og).step_by(16) {
            let src = &gy[((b0 + b) * s.o + grp * og + o16) * ohw..][..16 * ohw];
            let (blk, lane0) = (o16 / wv, o16 % wv);
            let dst = &mut out[(blk * npix + b * ohw) * wv + lane0..][..(ohw - 1) * wv + 16];
            #[cfg(target_arch = "x86_64")]
            // Safety: rows 0..16 of `src` hold ohw values each; ohw pixels x wv strides fit in
            // `dst`; `choose::outer_wgrad` checked AVX-512.
            unsafe { crate::kernels::transpose::transpose_band(src.as_ptr(), ohw, dst.as_mut_ptr(), wv, 16, ohw) };
        }
    }
}

/// gwt (ckk x og: one group's gradient, transposed) += the weight gradient of a chunk of `bc`
/// images: `p` their padded copy (`pad_images`), `gyt` their gy from `pack_gy`, `pix` from
/// `pixel_offsets`. Transposed, each tile adds whole vectors (a few cache lines) per chunk.
pub fn accumulate(s: &ConvShape, bc: usize, gyt: &[f32], p: &[f32], pix: &[usize], gwt: &mut [f32]) {
    let (hp, wp) = (s.h + 2 * s.ph, s.w + 2 * s.pw);
    let (og, ckk, npix, groups) = (s.og(), s.ckk(), bc * s.ohw(), s.cg() * s.kh);
    assert!(outer_wgrad(s) && pix.len() == npix && gyt.len() >= gy_len(s, bc) && gwt.len() >= og * ckk
            && p.len() >= bc * s.cg() * hp * wp, "conv wgrad: bad buffers");
    // Offset of group g = (c, kh): its taps kw = 0..3 follow at +1, +2.
    let goff = |g: usize| (g / s.kh) * hp * wp + (g % s.kh) * s.dh * wp;
    #[cfg(target_arch = "x86_64")]
    // Safety: the largest read is pix[npix-1] + goff(groups-1) + 2 < bc * cg * hp * wp (the last
    // tap of the last pixel lies inside the last padded plane); gy reads stay in gy_len; stores
    // are rows < ckk and columns < og of gwt (all checked above).
    unsafe {
        let wv = 16 * nv(s);
        let g_full = CHAINS / 3 / nv(s);
        for g0 in (0..groups).step_by(g_full) {
            let gn = (groups - g0).min(g_full);
            let gp: [*const f32; 8] = std::array::from_fn(|i| p.as_ptr().add(goff(g0 + i.min(gn - 1))));
            for blk in 0..og / wv {
                let a = gyt.as_ptr().add(blk * npix * wv);
                let c = gwt.as_mut_ptr().add(g0 * 3 * og + blk * wv);
                macro_rules! go {
                    ($nv:literal, $($g:literal)*) => {
                        match gn { $($g => avx512::tile::<$nv, $g>(npix, a, pix.as_ptr(), &gp, c, og),)* _ => unreachable!() }
                    };
                }
                if wv == 32 { go!(2, 1 2 3 4) } else { go!(1, 1 2 3 4 5 6 7 8) }
            }
        }
    }
}

/// gw (og x ckk) = gwt (ckk x og) transposed, for every group.
pub fn store_transposed(s: &ConvShape, gwt: &[f32], gw: &mut [f32]) {
    let (og, ckk) = (s.og(), s.ckk());
    assert!(outer_wgrad(s) && gwt.len() >= s.w_len() && gw.len() >= s.w_len(), "conv wgrad: bad gradient buffers");
    for grp in 0..s.g {
        let (src, dst) = (&gwt[grp * og * ckk..][..og * ckk], &mut gw[grp * og * ckk..][..og * ckk]);
        for o in (0..og).step_by(16) {
            #[cfg(target_arch = "x86_64")]
            // Safety: ckk rows of columns o..o+16 <= og in, rows o..o+16 of ckk out, in bounds;
            // `choose::outer_wgrad` checked AVX-512.
            unsafe { crate::kernels::transpose::transpose_band(src.as_ptr().add(o), og, dst.as_mut_ptr().add(o * ckk), ckk, ckk, 16) };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// c[(3g + t) * ldc + 16v + l] += sum over q < npix of a[q][16v + l] * gp[g][pix[q] + t].
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn tile<const NV: usize, const G: usize>(npix: usize, a: *const f32, pix: *const usize,
                                                        gp: &[*const f32; 8], c: *mut f32, ldc: usize) {
        let mut acc = [[[_mm512_setzero_ps(); NV]; 3]; G];
        let gp: [*const f32; G] = std::array::from_fn(|g| gp[g]);
        for q in 0..npix {
            let off = *pix.add(q);
            let av: [__m512; NV] = std::array::from_fn(|v| _mm512_loadu_ps(a.add((q * NV + v) * 16)));
            for (accg, &p) in acc.iter_mut().zip(&gp) {
                let x = p.add(off);
                for (t, acct) in accg.iter_mut().enumerate() {
                    let xv = _mm512_set1_ps(*x.add(t));
                    for (a, &b) in acct.iter_mut().zip(&av) {
                        *a = _mm512_fmadd_ps(xv, b, *a);
                    }
                }
            }
        }
        for (g, accg) in acc.iter().enumerate() {
            for (t, acct) in accg.iter().enumerate() {
                for (v, &x) in acct.iter().enumerate() {
                    let dst = c.add((3 * g + t) * ldc + 16 * v);
                    _mm512_storeu_ps(dst, _mm512_add_ps(_mm512_loadu_ps(dst), x));
                }
            }
        }
    }
}
