//! Reductions: count of positives, total sum, column sums of a matrix, row-wise argmax.
//! Sums use fixed blocks (not thread shares) accumulated in f64 and combined in block order, so
//! they are bitwise identical for every thread count, not just for a fixed one.

use super::simd::{multiversion, sum_f64};
use crate::threads::{parallel_for, parallel_ranges, SharedMut};

/// Elements per block of the blocked reductions.
pub const BLOCK: usize = 1 << 14;
/// Blocks per thread below which a reduction stays on the calling thread.
const PAR_MIN_BLOCKS: usize = 4;

/// Computes `f(block)` for every block of `0..n` (size BLOCK, last one shorter) into a vector.
fn blocked<T: Copy + Default + Send>(n: usize, f: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    let nb = n.div_ceil(BLOCK);
    let mut part = vec![T::default(); nb];
    let p = SharedMut::new(&mut part);
    parallel_ranges(nb, PAR_MIN_BLOCKS, |br| {
        for b in br {
            let v = f(b * BLOCK..((b + 1) * BLOCK).min(n));
            unsafe { p.slice(b, 1)[0] = v };
        }
    });
    part
}

multiversion! {
    fn count_positive_chunk(x: &[f32]) -> usize {
        x.iter().filter(|&&v| v > 0.0).count()
    }
}

/// Number of elements > 0 (NaN is not positive).
pub fn count_positive(x: &[f32]) -> usize {
    blocked(x.len(), |r| count_positive_chunk(&x[r])).iter().sum()
}

/// Sum of all elements: f64 lanes within each block, blocks added in order.
pub fn sum(x: &[f32]) -> f64 {
    blocked(x.len(), |r| sum_f64(&x[r])).iter().fold(0.0, |a, &b| a + b)
}

multiversion! {
    fn accumulate_row(acc: &mut [f64], row: &[f32]) {
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += v as f64;
        }
    }
}

/// Rows per block of `sum_rows`; columns per block.
const ROW_BLOCK: usize = 256;
const COL_BLOCK: usize = 2048;

/// out[c] = sum_r g[r, c]: each (row block, column block) tile sums its rows in order in f64,
/// then the row blocks' partials are added in order. Independent of the thread count.
pub fn sum_rows(g: &[f32], out: &mut [f32], rows: usize, cols: usize) {
    if cols == 0 {
        return;
    }
    let rb = rows.div_ceil(ROW_BLOCK);
    let cb = cols.div_ceil(COL_BLOCK);
    if rb <= 1 {
        // One row block: a single pass per column block, in parallel over column blocks when large.
        let p = SharedMut::new(out);
        let min = (PAR_MIN_BLOCKS * BLOCK / (rows.max(1) * COL_BLOCK)).max(1);
        parallel_ranges(cb, min, |cr| {
            for c in cr {
                let c0 = c * COL_BLOCK;
                let w = COL_BLOCK.min(cols - c0);
                let mut acc = vec![0f64; w];
                for r in 0..rows {
                    accumulate_row(&mut acc, &g[r * cols + c0..r * cols + c0 + w]);
                }
                let o = unsafe { p.slice(c0, w) };
                for (o, a) in o.iter_mut().zip(&acc) {
                    *o = *a as f32;
                }
            }
        });
        return;
    }
    let mut partial = vec![0f64; rb * cols];
    let pp = SharedMut::new(&mut partial);
    let tiles = rb * cb;
    let min = (PAR_MIN_BLOCKS * BLOCK / (ROW_BLOCK * COL_BLOCK.min(cols))).max(1);
    parallel_ranges(tiles, min, |tr| {
        for t in tr {
            let (b, c) = (t / cb, t % cb);
            let c0 = c * COL_BLOCK;
            let w = COL_BLOCK.min(cols - c0);
            let acc = unsafe { pp.slice(b * cols + c0, w) };
            for r in b * ROW_BLOCK..((b + 1) * ROW_BLOCK).min(rows) {
                accumulate_row(acc, &g[r * cols + c0..r * cols + c0 + w]);
            }
        }
    });
    for (c, o) in out.iter_mut().enumerate().take(cols) {
        let mut s = 0f64;
        for b in 0..rb {
            s += partial[b * cols + c];
        }
        *o = s as f32;
    }
}

/// Index of the first maximum of a row; NaN counts as the maximum (first NaN wins), like torch.
#[inline]
fn argmax_row(row: &[f32]) -> usize {
    let mut best = 0;
    let mut bv = row[0];
    if bv.is_nan() {
        return 0;
    }
    for (j, &v) in row.iter().enumerate().skip(1) {
        if v.is_nan() {
            return j;
        }
        if v > bv {
            bv = v;
            best = j;
        }
    }
    best
}

/// out[i] = argmax_c x[i, c]; cols must be >= 1 when rows > 0.
pub fn argmax(x: &[f32], out: &mut [i32], rows: usize, cols: usize) {
    if rows == 0 {
        return;
    }
    if rows * cols < PAR_MIN_BLOCKS * BLOCK {
        for (i, o) in out.iter_mut().enumerate().take(rows) {
            *o = argmax_row(&x[i * cols..(i + 1) * cols]) as i32;
        }
        return;
    }
    let p = SharedMut::new(out);
    parallel_for(rows, |i| unsafe { p.slice(i, 1)[0] = argmax_row(&x[i * cols..(i + 1) * cols]) as i32 });
}
