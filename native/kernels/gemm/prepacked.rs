//! GEMM on operands packed once for the whole K range, for callers that reuse an operand many
//! times (conv weights across a batch) or that build an operand directly in packed form
//! (im2col writing the B strips). Layout (same as `pack.rs`, with kc = K): A in strips of
//! `Isa::strip_h` rows, each K x h; B in strips of `Isa::strip_w` columns, each K x w.

use super::pack::{pack_a, pack_b};
use super::sgemm::{isa, macro_kernel, Isa, Scratch, Strips};

/// K slice per C-tile pass: 512 (a 12 x 512 A strip is 24 KB of L1) halves the C read-modify-writes of 256.
const KC: usize = 512;
const NC: usize = 512;

/// Floats needed for a packed A of m rows (or a packed B of m columns) over depth k.
pub fn packed_a_len(m: usize, k: usize) -> usize { m.div_ceil(isa().mr) * isa().mr * k }
pub fn packed_b_len(n: usize, k: usize) -> usize { n.div_ceil(isa().nr) * isa().nr * k }

/// Strips of a packed operand with `n` rows (A) or columns (B): (first, size incl. zero padding),
/// sizes from `size(isa, remaining)`.
fn strips(n: usize, size: fn(&Isa, usize) -> usize) -> impl Iterator<Item = (usize, usize)> {
    let ia: &'static Isa = isa();
    let mut j = 0;
    std::iter::from_fn(move || {
        if j >= n {
            return None;
        }
        let r = (j, size(ia, n - j));
        j += r.1;
        Some(r)
    })
}

/// The B strips of an n-column operand: (first column, width incl. zero padding).
pub fn b_strips(n: usize) -> impl Iterator<Item = (usize, usize)> { strips(n, Isa::strip_w) }

/// The A strips of an m-row operand: (first row, height incl. zero padding). Strip i0 holds
/// element (row r, depth p) at i0 * k + p * height + (r - i0).
pub fn a_strips(m: usize) -> impl Iterator<Item = (usize, usize)> { strips(m, Isa::strip_h) }

/// Packs op(A) (m x k; `ta`: stored k x m with leading dim lda) into `dst`.
pub fn pack_a_full(ta: bool, m: usize, k: usize, a: &[f32], lda: usize, dst: &mut [f32]) {
    assert!(dst.len() >= packed_a_len(m, k) && a.len() >= need(ta, m, k, lda), "pack_a_full: buffer too small");
    unsafe { pack_a(isa(), ta, a.as_ptr(), lda, 0, m, 0, k, dst.as_mut_ptr()) }
}

/// Packs op(B) (k x n; `tb`: stored n x k with leading dim ldb) into `dst`.
pub fn pack_b_full(tb: bool, k: usize, n: usize, b: &[f32], ldb: usize, dst: &mut [f32]) {
    assert!(dst.len() >= packed_b_len(n, k) && b.len() >= need(!tb, n, k, ldb), "pack_b_full: buffer too small");
    unsafe { pack_b(isa(), tb, b.as_ptr(), ldb, 0, k, 0, n, dst.as_mut_ptr()) }
}

fn need(t: bool, outer: usize, k: usize, ld: usize) -> usize {
    let (r, c) = if t { (k, outer) } else { (outer, k) };
    if r == 0 || c == 0 { 0 } else { (r - 1) * ld + c }
}

/// C = alpha * A * B + beta * C with both operands pre-packed (single-threaded).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_packed(m: usize, n: usize, k: usize, alpha: f32, pa: &[f32], pb: &[f32], beta: f32,
                    c: &mut [f32], ldc: usize) {
    assert!(pa.len() >= packed_a_len(m, k) && pb.len() >= packed_b_len(n, k), "sgemm_packed: packed operands too small");
    assert!(m == 0 || n == 0 || (n <= ldc && c.len() >= (m - 1) * ldc + n), "sgemm_packed: C too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for i in 0..m {
            c[i * ldc..i * ldc + n].iter_mut().for_each(|x| *x = if beta == 0.0 { 0.0 } else { *x * beta });
        }
        return;
    }
    let ia = isa();
    let cp = c.as_mut_ptr();
    let mut pc = 0;
    while pc < k {
        let kc = (k - pc).min(KC);
        let beta_p = if pc == 0 { beta } else { 1.0 };
        let mut jc = 0;
        while jc < n {
            let nc = (n - jc).min(NC);
            let a = Strips { ptr: pa.as_ptr(), depth: k, skip: pc };
            let b = Strips { ptr: pb.as_ptr().wrapping_add(jc * k), depth: k, skip: pc };
            // Safety: sizes checked above; both operands are packed over the whole K.
            unsafe { macro_kernel(ia, m, nc, kc, a, b, cp.add(jc), ldc, alpha, beta_p) };
            jc += nc;
        }
        pc += kc;
    }
}

/// Rows of raw A packed at once by `sgemm_packed_b`.
const MC_RAW: usize = 96;

/// C = alpha * A * B + beta * C with B pre-packed and A raw (row-major m x k, leading dim lda,
/// single-threaded), for an A used only once (weights of a one-chunk conv): the AVX-512 kernel
/// reads A in place; other ISAs pack MC_RAW x KC blocks right before use (into `scratch`). Either
/// way A is read once and never written back to memory in packed form.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_packed_b(m: usize, n: usize, k: usize, alpha: f32, a: &[f32], lda: usize, pb: &[f32], beta: f32,
                      c: &mut [f32], ldc: usize, scratch: &mut Scratch) {
    assert!(m == 0 || k == 0 || (k <= lda && a.len() >= (m - 1) * lda + k), "sgemm_packed_b: A too small");
    assert!(pb.len() >= packed_b_len(n, k), "sgemm_packed_b: packed B too small");
    assert!(m == 0 || n == 0 || (n <= ldc && c.len() >= (m - 1) * ldc + n), "sgemm_packed_b: C too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // Nothing to pack (a packed A of depth 0 is empty): C = beta * C as the prepacked path does.
        return sgemm_packed(m, n, k, alpha, &[], pb, beta, c, ldc);
    }
    let ia = isa();
    #[cfg(target_arch = "x86_64")]
    {
        if ia.name == "avx512" {
            // Safety: operand sizes checked above.
            return unsafe { raw_a_avx512(m, n, k, alpha, a.as_ptr(), lda, pb.as_ptr(), beta, c.as_mut_ptr(), ldc) };
        }
    }
    let pa = scratch.get(MC_RAW * KC.min(k));
    let cp = c.as_mut_ptr();
    let mut pc = 0;
    while pc < k {
        let kc = (k - pc).min(KC);
        let beta_p = if pc == 0 { beta } else { 1.0 };
        let mut ic = 0;
        while ic < m {
            let mc = (m - ic).min(MC_RAW);
            // Safety: rows ic..ic+mc, columns pc..pc+kc of A are in bounds (checked above); the
            // block's padded strips fit MC_RAW x kc.
            unsafe { pack_a(ia, false, a.as_ptr(), lda, ic, mc, pc, kc, pa.as_mut_ptr()) };
            let b = Strips { ptr: pb.as_ptr(), depth: k, skip: pc };
            // Safety: the block's packed A against B packed over the whole K.
            unsafe { macro_kernel(ia, mc, n, kc, Strips::block(pa.as_ptr(), kc), b, cp.add(ic * ldc), ldc, alpha, beta_p) };
            ic += mc;
        }
        pc += kc;
    }
}

/// `sgemm_packed_b` on AVX-512: strips of A (12, 8 or 4 rows) read in place against each B strip.
///
/// # Safety
/// Operands valid for the sizes (as checked by `sgemm_packed_b`); the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
unsafe fn raw_a_avx512(m: usize, n: usize, k: usize, alpha: f32, a: *const f32, lda: usize, pb: *const f32,
                       beta: f32, c: *mut f32, ldc: usize) {
    use super::sgemm::for_each_tile;
    use super::avx512::kern_raw_a;
    let ia = isa();
    let mut pc = 0;
    while pc < k {
        let kc = (k - pc).min(KC);
        let beta_p = if pc == 0 { beta } else { 1.0 };
        // The tiles the packed path's sweep makes (16 rows as 8 + 8, tails of 4 or 8), A read in place.
        for_each_tile(ia, m, n, |[i, h, m_eff], [j, w, n_eff]| {
            let (ap, bp, cp) = (a.add(i * lda + pc), pb.add(j * k + pc * w), c.add(i * ldc + j));
            match (h, w) {
                (12, 32) => kern_raw_a::<12, 2>(kc, ap, lda, bp, cp, ldc, m_eff, n_eff, alpha, beta_p),
                (12, _) => kern_raw_a::<12, 1>(kc, ap, lda, bp, cp, ldc, m_eff, n_eff, alpha, beta_p),
                (8, 32) => kern_raw_a::<8, 2>(kc, ap, lda, bp, cp, ldc, m_eff, n_eff, alpha, beta_p),
                (8, _) => kern_raw_a::<8, 1>(kc, ap, lda, bp, cp, ldc, m_eff, n_eff, alpha, beta_p),
                (_, 32) => kern_raw_a::<4, 2>(kc, ap, lda, bp, cp, ldc, m_eff, n_eff, alpha, beta_p),
                _ => kern_raw_a::<4, 1>(kc, ap, lda, bp, cp, ldc, m_eff, n_eff, alpha, beta_p),
            }
        });
        pc += kc;
    }
}

/// Scratch-friendly helper: packs B into `scratch` and multiplies with a pre-packed A.
#[allow(clippy::too_many_arguments)]
pub fn sgemm_packed_a(m: usize, n: usize, k: usize, alpha: f32, pa: &[f32], tb: bool, b: &[f32], ldb: usize,
                      beta: f32, c: &mut [f32], ldc: usize, scratch: &mut Scratch) {
    let pb = scratch.get(packed_b_len(n, k));
    pack_b_full(tb, k, n, b, ldb, pb);
    sgemm_packed(m, n, k, alpha, pa, pb, beta, c, ldc);
}

/// `pack_a_full` over the worker pool: blocks of whole MR-row strips, so the layout is exactly
/// the serial one (the last block keeps the serial tail split). Small operands stay serial.
pub fn pack_a_full_par(ta: bool, m: usize, k: usize, a: &[f32], lda: usize, dst: &mut [f32]) {
    let mr = isa().mr;
    let block = 8 * mr;
    if m * k < (1 << 16) || m < 3 * block {
        return pack_a_full(ta, m, k, a, lda, dst);
    }
    assert!(dst.len() >= packed_a_len(m, k) && a.len() >= need(ta, m, k, lda), "pack_a_full_par: buffer too small");
    // Blocks start at multiples of `block`; the last one holds >= 2 blocks' worth of rows so
    // every strip before it is full height, as in the serial packing.
    let nb = (m / block).saturating_sub(1).max(1);
    let dp = crate::threads::SharedMut::new(dst);
    let (ap, dp) = (crate::threads::SharedMut(a.as_ptr() as *mut f32), &dp);
    let ap = &ap;
    crate::threads::parallel_for(nb, |b| {
        let i0 = b * block;
        let i1 = if b + 1 == nb { m } else { i0 + block };
        // Safety: block b writes only its own strips (rows i0..i1 start at i0 * k in the layout).
        unsafe { pack_a(isa(), ta, ap.0 as *const f32, lda, i0, i1 - i0, 0, k, dp.0.add(i0 * k)) }
    });
}
