//! AVX-512 16 x 16 f32 transposes in registers: four butterfly stages of two-source permutes,
//! each swapping one bit of the row index with the same bit of the column index.
#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

/// permutex2var indices of the stages (bits 8, 4, 2, 1): row i (bit clear) takes the columns
/// with the bit clear from rows i and i|bit (`[0]`), row i|bit the others (`[1]`).
const PERM: [[[i32; 16]; 2]; 4] = {
    let mut p = [[[0; 16]; 2]; 4];
    let mut s = 0;
    while s < 4 {
        let bit = 8 >> s;
        let mut c = 0;
        while c < 16 {
            let (lo, hi) = if c & bit == 0 { (c, c | bit) } else { (16 + (c & !bit), 16 + c) };
            p[s][0][c] = lo as i32;
            p[s][1][c] = hi as i32;
            c += 1;
        }
        s += 1;
    }
    p
};

/// r[j] lane i = (old r[i]) lane j.
#[inline]
#[target_feature(enable = "avx512f")]
pub unsafe fn transpose_regs(r: &mut [__m512; 16]) {
    for (s, bit) in [8usize, 4, 2, 1].into_iter().enumerate() {
        let (lo, hi) = (_mm512_loadu_si512(PERM[s][0].as_ptr().cast()), _mm512_loadu_si512(PERM[s][1].as_ptr().cast()));
        for i in (0..16).filter(|i| i & bit == 0) {
            let (a, b) = (r[i], r[i | bit]);
            r[i] = _mm512_permutex2var_ps(a, lo, b);
            r[i | bit] = _mm512_permutex2var_ps(a, hi, b);
        }
    }
}

/// dst[j * ldd + i] = src[i * lds + j] for i, j < 16.
///
/// # Safety
/// 16 rows of 16 floats at `src` (stride lds) readable, at `dst` (stride ldd) writable.
#[inline]
#[target_feature(enable = "avx512f")]
pub unsafe fn transpose16(src: *const f32, lds: usize, dst: *mut f32, ldd: usize) {
    let mut r: [__m512; 16] = std::array::from_fn(|i| _mm512_loadu_ps(src.add(i * lds)));
    transpose_regs(&mut r);
    for (j, v) in r.iter().enumerate() {
        _mm512_storeu_ps(dst.add(j * ldd), *v);
    }
}

/// dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols, with one of rows / cols being 16:
/// 16 x 16 blocks in registers, the remaining columns (or rows) one element at a time.
///
/// # Safety
/// `rows` rows of `cols` floats at `src` (stride lds) readable, `cols` rows of `rows` floats at
/// `dst` (stride ldd) writable; the CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
pub unsafe fn transpose_band(src: *const f32, lds: usize, dst: *mut f32, ldd: usize, rows: usize, cols: usize) {
    debug_assert!(rows == 16 || cols == 16);
    // Walk the long side in 16-blocks; (i, j) steps are along rows when cols == 16.
    let (long, along_rows) = if rows == 16 { (cols, false) } else { (rows, true) };
    let full = long / 16 * 16;
    for b in (0..full).step_by(16) {
        let (i0, j0) = if along_rows { (b, 0) } else { (0, b) };
        transpose16(src.add(i0 * lds + j0), lds, dst.add(j0 * ldd + i0), ldd);
    }
    for t in full..long {
        for l in 0..16 {
            let (i, j) = if along_rows { (t, l) } else { (l, t) };
            *dst.add(j * ldd + i) = *src.add(i * lds + j);
        }
    }
}
