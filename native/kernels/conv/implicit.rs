//! Implicit GEMM for stride-1 convolutions on larger feature maps (AVX-512 only): no column
//! matrix. An image is copied once into a zero-padded buffer P (cg x Hp x Wp, as `pad_images`
//! makes it); the outputs are computed on the padded-width grid q = oh * Wp + ow (ow < Wp, the
//! columns ow >= OW are junk and dropped), where column-matrix row r = (c, kh, kw) is simply
//! P[off[r] + q] with off[r] = c * Hp * Wp + kh * dh * Wp + kw * dw. The micro-kernel therefore
//! loads its B vectors straight from P (one offset per k step) against the packed weights.
//! Waste: Wp / OW extra columns (6% at 32x32, 12.5% at 16x16), hence the size threshold.

use super::choose::implicit;
use super::im2col::ConvShape;
use crate::kernels::gemm::sgemm::isa;

/// K slice per C-tile pass: 512 (a 12 x 512 A strip is 24 KB of L1) halves the C read-modify-writes of 256.
const KC: usize = 512;

/// Columns of the padded-width output grid of one image.
pub fn grid_cols(s: &ConvShape) -> usize {
    s.oh * (s.w + 2 * s.pw)
}

/// Images per backward-weight chunk: up to ~96 K floats of gy rows, and a chunk per thread.
pub fn weight_chunk_images(s: &ConvShape) -> usize {
    let per_thread = s.n.div_ceil(crate::threads::num_threads()).max(1);
    ((96 << 10) / (s.og() * grid_cols(s)).max(1)).clamp(1, per_thread)
}

/// Floats the padded buffer needs past its cg planes (the kernel reads whole vectors).
pub const SLACK: usize = 96;

/// Row offsets into P of every column-matrix row, for one group's cg channels.
pub fn row_offsets(s: &ConvShape) -> Vec<usize> {
    let (hp, wp) = (s.h + 2 * s.ph, s.w + 2 * s.pw);
    let mut v = Vec::with_capacity(s.ckk());
    for c in 0..s.cg() {
        for kh in 0..s.kh {
            for kw in 0..s.kw {
                v.push(c * hp * wp + kh * s.dh * wp + kw * s.dw);
            }
        }
    }
    v
}

/// C (og x grid_cols, leading dim ldc) = packed weights (og x ckk, strips as `pack_a_full`)
/// times the implicit column matrix of padded image `p` (cg planes + SLACK floats).
pub fn gemm(s: &ConvShape, pa: &[f32], p: &[f32], offs: &[usize], c: &mut [f32], ldc: usize) {
    let (m, n, k) = (s.og(), grid_cols(s), s.ckk());
    let plane = (s.h + 2 * s.ph) * (s.w + 2 * s.pw);
    assert!(implicit(s) && offs.len() == k && p.len() >= s.cg() * plane + SLACK, "conv implicit gemm: bad buffers");
    assert!(pa.len() >= crate::kernels::gemm::prepacked::packed_a_len(m, k) && n <= ldc && c.len() >= (m - 1) * ldc + n,
            "conv implicit gemm: bad output");
    #[cfg(target_arch = "x86_64")]
    // Safety: every B read is below offs.max() + n + 32 <= cg*plane + SLACK (the last grid column
    // reads at most (KW-1)*dw past the planes); A and C were checked above.
    unsafe {
        let ia = isa();
        let mut pc = 0;
        while pc < k {
            let kc = (k - pc).min(KC);
            let mut i = 0;
            while i < m {
                let h = ia.strip_h(m - i);
                let a = pa.as_ptr().add(i * k + pc * h);
                let mut j = 0;
                while j < n {
                    let n_eff = (n - j).min(32);
                    let cp = c.as_mut_ptr().add(i * ldc + j);
                    let bp = p.as_ptr().add(j);
                    let (me, acc) = ((m - i).min(h), pc > 0);
                    let o = offs.as_ptr().add(pc);
                    match h {
                        12 => avx512::kern::<12>(kc, a, bp, o, cp, ldc, me, n_eff, acc),
                        8 => avx512::kern::<8>(kc, a, bp, o, cp, ldc, me, n_eff, acc),
                        _ => avx512::kern::<4>(kc, a, bp, o, cp, ldc, me, n_eff, acc),
                    }
                    j += 32;
                }
                i += h;
            }
            pc += kc;
        }
    }
}

/// Copies the valid columns of the grid result (og x grid) into the image's output rows, adding
/// the bias.
pub fn compact(s: &ConvShape, c: &[f32], ldc: usize, bias: Option<&[f32]>, y: &mut [f32]) {
    let (wp, ohw) = (s.w + 2 * s.pw, s.ohw());
    for o in 0..s.og() {
        let add = bias.map_or(0.0, |b| b[o]);
        let dst = &mut y[o * ohw..][..ohw];
        for oh in 0..s.oh {
            let src = &c[o * ldc + oh * wp..][..s.ow];
            for (d, v) in dst[oh * s.ow..][..s.ow].iter_mut().zip(src) {
                *d = v + add;
            }
        }
    }
}

/// Scatters gy of images b0..b0+bc, group `grp`, onto the padded-width grid: bc x og x grid,
/// junk columns zero (so they add nothing in `backward_weight`).
pub fn gather_gy_grid(s: &ConvShape, gy: &[f32], b0: usize, bc: usize, grp: usize, out: &mut [f32]) {
    let (og, ohw, wp, grid) = (s.og(), s.ohw(), s.w + 2 * s.pw, grid_cols(s));
    for b in 0..bc {
        for o in 0..og {
            let src = &gy[((b0 + b) * s.o + grp * og + o) * ohw..][..ohw];
            let dst = &mut out[(b * og + o) * grid..][..grid];
            for oh in 0..s.oh {
                dst[oh * wp..][..s.ow].copy_from_slice(&src[oh * s.ow..][..s.ow]);
                dst[oh * wp + s.ow..(oh + 1) * wp].fill(0.0);
            }
        }
    }
}

/// gw (og x ckk) += sum over the bc images and grid columns of gyg[b, o, q] * P_b[off[r] + q]:
/// the weight gradient straight from the padded images (`pad_images` of bc images + SLACK).
/// Dot products run along q in 8 x 3 register tiles, reduced once per call.
pub fn backward_weight(s: &ConvShape, bc: usize, gyg: &[f32], p: &[f32], offs: &[usize], gw: &mut [f32]) {
    let (m, n, grid) = (s.og(), s.ckk(), grid_cols(s));
    let img = s.cg() * (s.h + 2 * s.ph) * (s.w + 2 * s.pw);
    assert!(implicit(s) && offs.len() == n && p.len() >= bc * img + SLACK && gyg.len() >= bc * m * grid
            && gw.len() >= m * n, "conv implicit backward_weight: bad buffers");
    #[cfg(target_arch = "x86_64")]
    // Safety: B reads stay below (bc-1)*img + max(off) + grid + 16 <= bc*img + SLACK; A reads
    // within gyg rows (masked tail); stores within gw (checked above).
    unsafe {
        let mut j = 0;
        while j < n {
            let mut i = 0;
            while i < m {
                avx512::nt_tile(m, n, i, j, bc, grid, img, gyg.as_ptr(), p.as_ptr(), offs.as_ptr(), gw.as_mut_ptr());
                i += avx512::TM;
            }
            j += avx512::TN;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    /// An MR x 32 tile over kc steps; B vector pair v at step t is loaded from b + offs[t].
    /// `acc`: add into C (later K slices) instead of overwriting it.
    #[inline]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn kern<const MR: usize>(kc: usize, a: *const f32, b: *const f32, offs: *const usize, c: *mut f32,
                                        ldc: usize, m_eff: usize, n_eff: usize, acc_c: bool) {
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        let mut pa = a;
        for t in 0..kc {
            let pb = b.add(*offs.add(t));
            let b0 = _mm512_loadu_ps(pb);
            let b1 = _mm512_loadu_ps(pb.add(16));
            for r in 0..MR {
                let av = _mm512_set1_ps(*pa.add(r));
                acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
            }
            pa = pa.add(MR);
        }
        for (r, row_acc) in acc.iter().enumerate().take(MR.min(m_eff)) {
            let row = c.add(r * ldc);
            for (v, &x) in row_acc.iter().enumerate() {
                let col = 16 * v;
                if col >= n_eff {
                    break;
                }
                let rem = n_eff - col;
                let mask = crate::kernels::simd::lanes16(rem);
                let x = if acc_c { _mm512_add_ps(_mm512_maskz_loadu_ps(mask, row.add(col)), x) } else { x };
                _mm512_mask_storeu_ps(row.add(col), mask, x);
            }
        }
    }

    /// gw[(i+r) * n + j+t] += sum_b sum_q A_b[i+r][q] * B_b[j+t][q] for a TM x TN tile; rows and
    /// columns past the edge re-read the last valid one and are not stored.
    pub const TM: usize = 8;
    pub const TN: usize = 3;

    #[inline]
    #[target_feature(enable = "avx512f")]
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn nt_tile(m: usize, n: usize, i: usize, j: usize, bc: usize, grid: usize, img: usize,
                          a: *const f32, b: *const f32, offs: *const usize, c: *mut f32) {
        // 8 A rows (aligned grid rows) x 3 B rows (unaligned, line-splitting loads): 24 FMAs per
        // 11 vector loads.
        let mut acc = [[_mm512_setzero_ps(); TN]; TM];
        for bi in 0..bc {
            let ar: [*const f32; TM] = std::array::from_fn(|r| a.add((bi * m + (i + r).min(m - 1)) * grid));
            let br: [*const f32; TN] = std::array::from_fn(|t| b.add(bi * img + *offs.add((j + t).min(n - 1))));
            let mut q = 0;
            while q < grid {
                let mask = crate::kernels::simd::lanes16(grid - q);
                let bv: [__m512; TN] = std::array::from_fn(|t| _mm512_loadu_ps(br[t].add(q)));
                for r in 0..TM {
                    let av = _mm512_maskz_loadu_ps(mask, ar[r].add(q));
                    for t in 0..TN {
                        acc[r][t] = _mm512_fmadd_ps(av, bv[t], acc[r][t]);
                    }
                }
                q += 16;
            }
        }
        for r in 0..TM.min(m - i) {
            for t in 0..TN.min(n - j) {
                *c.add((i + r) * n + j + t) += _mm512_reduce_add_ps(acc[r][t]);
            }
        }
    }
}
