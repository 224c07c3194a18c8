//! The sparse micro-kernel: one output channel's row over `tile` consecutive output positions,
//! acc[t] = sum_j vals[j] * src[offs[j] + t]. Vectorised along the positions: per kept weight a
//! broadcast and tile/16 loads + FMAs into accumulators that stay in registers for the whole
//! row. AVX-512F for tiles of 16..128 (1..8 zmm; narrow tiles interleave two weights into two
//! accumulator sets for more FMA chains), a portable loop otherwise. The sum order is fixed
//! for a given CPU, so results are reproducible.

use super::csr::MAX_TILE;
use std::cell::RefCell;

thread_local! {
    /// Scratch of `rows_chunked` per pool thread: accumulators and each row's next weight.
    pub static ACC: RefCell<(Vec<f32>, Vec<usize>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// # Safety
/// `src.add(offs[j] as usize + t)` must be readable for every j and t < tile; offsets >= 0;
/// `tile` a multiple of 16 in 16..=MAX_TILE; offs and vals the same length.
#[inline]
pub unsafe fn row_tile(tile: usize, src: *const f32, offs: &[i32], vals: &[f32], acc: &mut [f32; MAX_TILE]) {
    row_tile_acc(tile, src, offs, vals, &mut acc[..tile], false)
}

/// As `row_tile` into acc (tile floats), adding to what acc holds when `add` (a sum split over
/// chunks of the input channels continues in the same order).
/// # Safety
/// As `row_tile`; acc.len() == tile.
#[inline]
pub unsafe fn row_tile_acc(tile: usize, src: *const f32, offs: &[i32], vals: &[f32], acc: &mut [f32], add: bool) {
    debug_assert!(offs.len() == vals.len() && tile.is_multiple_of(16) && tile <= MAX_TILE && acc.len() == tile);
    #[cfg(target_arch = "x86_64")]
    {
        if use_avx512() {
            let a = acc.as_mut_ptr();
            match tile / 16 {
                1 => return avx512::row::<1>(src, offs, vals, a, add),
                2 => return avx512::row::<2>(src, offs, vals, a, add),
                3 => return avx512::row::<3>(src, offs, vals, a, add),
                4 => return avx512::row::<4>(src, offs, vals, a, add),
                5 => return avx512::row::<5>(src, offs, vals, a, add),
                6 => return avx512::row::<6>(src, offs, vals, a, add),
                7 => return avx512::row::<7>(src, offs, vals, a, add),
                _ => return avx512::row::<8>(src, offs, vals, a, add),
            }
        }
    }
    row_portable(src, offs, vals, acc, add)
}

/// Sums the rows of output channels `os` over one tile into acc (tile floats per channel, in
/// order), over the input in chunks: chunk k holds the offsets in [k * span, (k + 1) * span)
/// (offsets grow with the input channel, so each row's chunk k follows its chunk k - 1). A
/// chunk's source stays in cache while every channel of `os` goes over it. `cur` is scratch.
/// # Safety
/// As `row_tile` for every row of `os`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn rows_chunked(tile: usize, src: *const f32, os: std::ops::Range<usize>, row_ptr: &[i32], offs: &[i32],
                           vals: &[f32], span: usize, chunks: usize, acc: &mut Vec<f32>, cur: &mut Vec<usize>) {
    if acc.len() < os.len() * tile {
        acc.resize(os.len() * tile, 0.0);
    }
    cur.clear();
    cur.extend(os.clone().map(|o| row_ptr[o] as usize));
    for k in 0..chunks {
        let limit = (k + 1) * span;
        for (i, o) in os.clone().enumerate() {
            let (j, j1) = (cur[i], row_ptr[o + 1] as usize);
            let end = if k + 1 == chunks { j1 } else { offs[j..j1].iter().position(|&v| v as usize >= limit).map_or(j1, |p| j + p) };
            row_tile_acc(tile, src, &offs[j..end], &vals[j..end], &mut acc[i * tile..(i + 1) * tile], k > 0);
            cur[i] = end;
        }
    }
}

/// AVX-512F when the CPU has it, unless SEAM_SPARSE_ISA=portable (read once).
pub fn use_avx512() -> bool {
    static USE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *USE.get_or_init(|| crate::kernels::simd::has_avx512() && std::env::var("SEAM_SPARSE_ISA").as_deref() != Ok("portable"))
}

/// The reference version (any CPU): plain loops the compiler vectorises for the baseline ISA.
/// # Safety
/// As `row_tile_acc` with tile = acc.len().
pub unsafe fn row_portable(src: *const f32, offs: &[i32], vals: &[f32], acc: &mut [f32], add: bool) {
    if !add {
        acc.fill(0.0);
    }
    for (&o, &w) in offs.iter().zip(vals) {
        let s = std::slice::from_raw_parts(src.add(o as usize), acc.len());
        for (a, x) in acc.iter_mut().zip(s) {
            *a += w * *x;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    #[inline]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn row<const V: usize>(src: *const f32, offs: &[i32], vals: &[f32], out: *mut f32, add: bool) {
        let n = offs.len();
        let (po, pv) = (offs.as_ptr(), vals.as_ptr());
        let mut a = [_mm512_setzero_ps(); V];
        if add {
            for (v, a) in a.iter_mut().enumerate() {
                *a = _mm512_loadu_ps(out.add(16 * v));
            }
        }
        let mut j = 0;
        if V <= 3 {
            // Few vectors per weight: a second accumulator set doubles the independent chains.
            let mut b = [_mm512_setzero_ps(); V];
            while j + 2 <= n {
                let (s0, s1) = (src.add(*po.add(j) as usize), src.add(*po.add(j + 1) as usize));
                let (w0, w1) = (_mm512_set1_ps(*pv.add(j)), _mm512_set1_ps(*pv.add(j + 1)));
                for v in 0..V {
                    a[v] = _mm512_fmadd_ps(w0, _mm512_loadu_ps(s0.add(16 * v)), a[v]);
                    b[v] = _mm512_fmadd_ps(w1, _mm512_loadu_ps(s1.add(16 * v)), b[v]);
                }
                j += 2;
            }
            for v in 0..V {
                a[v] = _mm512_add_ps(a[v], b[v]);
            }
        }
        while j < n {
            let s = src.add(*po.add(j) as usize);
            let w = _mm512_set1_ps(*pv.add(j));
            for v in 0..V {
                a[v] = _mm512_fmadd_ps(w, _mm512_loadu_ps(s.add(16 * v)), a[v]);
            }
            j += 1;
        }
        for v in 0..V {
            _mm512_storeu_ps(out.add(16 * v), a[v]);
        }
    }
}
