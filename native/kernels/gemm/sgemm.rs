//! Single-precision GEMM, row-major: C[m,n] = alpha * op(A) * op(B) + beta * C.
//! Goto/BLIS scheme: K is cut into KC-deep slices; for each slice op(A) is packed into MR-tall
//! strips (one strip's MR x KC lives in L1 while we sweep B) and op(B) into NR-wide strips
//! (a KC x NC block lives in L2). Transposes are absorbed by the packing routines, so the
//! micro-kernels only ever see one layout. The micro-kernel is chosen once per process:
//! AVX-512F, AVX2+FMA, or portable Rust.
//!
//! `sgemm` splits C statically over the worker pool (columns or rows, whichever has more
//! tiles); each thread runs `sgemm_serial` on its block, so results depend only on the inputs
//! and the thread count.

use super::pack::{pack_a, pack_b};
use crate::threads::{num_threads, run_on_all, share, SharedMut};
use std::cell::RefCell;
use std::sync::OnceLock;

/// K slice depth: MR x KC of A fits L1 beside a few B lines; KC x NC of B fits in Zen4's 1 MB L2.
const KC: usize = 256;
/// Columns of B packed at once (KC * NC * 4 bytes = 512 KB).
const NC: usize = 512;
/// Rows of A packed at once (a multiple of every MR we use).
const MC: usize = 1536;

/// One micro-kernel family: computes an h x w tile (h, w from the strip sizes below) of
/// alpha * Apanel * Bpanel + beta * C, storing only the first m_eff rows and n_eff columns.
pub(crate) type TileFn = unsafe fn(
    h: usize, w: usize, kc: usize, a: *const f32, b: *const f32,
    c: *mut f32, ldc: usize, m_eff: usize, n_eff: usize, alpha: f32, beta: f32,
);

#[derive(Clone, Copy)]
pub(crate) struct Isa {
    pub mr: usize,
    /// Edge strips of A are padded only up to a multiple of this (the kernel has those heights).
    pub mr_step: usize,
    pub nr: usize,
    pub nr_step: usize,
    pub tile: TileFn,
    pub name: &'static str,
}

impl Isa {
    /// Height of the A strip that starts `rem` rows before the end of the block.
    #[inline]
    pub fn strip_h(&self, rem: usize) -> usize {
        // 16 rows as 8 + 8 rather than 12 + 4: the 4-row kernel has too few FMA chains.
        if rem == 16 && self.mr == 12 && self.mr_step == 4 {
            return 8;
        }
        self.mr.min(rem.div_ceil(self.mr_step) * self.mr_step)
    }
    #[inline]
    pub fn strip_w(&self, rem: usize) -> usize {
        self.nr.min(rem.div_ceil(self.nr_step) * self.nr_step)
    }
}

fn detect() -> Isa {
    if std::env::var("SEAM_GEMM_ISA").as_deref() == Ok("portable") {
        return super::portable::ISA;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let want = std::env::var("SEAM_GEMM_ISA").unwrap_or_default();
        if want != "avx2" && is_x86_feature_detected!("avx512f") {
            return super::avx512::ISA;
        }
        if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            return super::avx2::ISA;
        }
    }
    super::portable::ISA
}

pub(crate) fn isa() -> &'static Isa {
    static ISA: OnceLock<Isa> = OnceLock::new();
    ISA.get_or_init(detect)
}

/// Name of the micro-kernel in use ("avx512", "avx2", "portable").
pub fn gemm_isa_name() -> &'static str {
    isa().name
}

/// A 64-byte aligned, growable f32 scratch buffer.
#[derive(Default)]
pub struct Scratch {
    buf: Vec<f32>,
}

impl Scratch {
    pub const fn new() -> Self { Scratch { buf: Vec::new() } }
    /// A zero-initialised-at-allocation (contents otherwise unspecified) aligned slice of `n`.
    pub fn get(&mut self, n: usize) -> &mut [f32] {
        if self.buf.len() < n + 16 {
            self.buf = vec![0.0; n + 16];
        }
        let off = self.buf.as_ptr().align_offset(64).min(15);
        &mut self.buf[off..off + n]
    }
}

thread_local! {
    static PACK: RefCell<(Scratch, Scratch)> = const { RefCell::new((Scratch::new(), Scratch::new())) };
}

/// Minimum buffer length for a row-major r x c matrix (or its transpose) with leading dim ld.
fn need(rows: usize, cols: usize, ld: usize) -> usize {
    if rows == 0 || cols == 0 { 0 } else { (rows - 1) * ld + cols }
}

#[allow(clippy::too_many_arguments)]
fn check(ta: bool, tb: bool, m: usize, n: usize, k: usize, a: &[f32], lda: usize, b: &[f32], ldb: usize,
         c: &[f32], ldc: usize) {
    let (ar, ac) = if ta { (k, m) } else { (m, k) };
    let (br, bc) = if tb { (n, k) } else { (k, n) };
    assert!(ac <= lda || ar <= 1, "sgemm: lda {lda} < {ac}");
    assert!(bc <= ldb || br <= 1, "sgemm: ldb {ldb} < {bc}");
    assert!(n <= ldc || m <= 1, "sgemm: ldc {ldc} < {n}");
    assert!(a.len() >= need(ar, ac, lda), "sgemm: A has {} elements, needs {}", a.len(), need(ar, ac, lda));
    assert!(b.len() >= need(br, bc, ldb), "sgemm: B has {} elements, needs {}", b.len(), need(br, bc, ldb));
    assert!(c.len() >= need(m, n, ldc), "sgemm: C has {} elements, needs {}", c.len(), need(m, n, ldc));
}

/// C = beta * C on the m x n block (beta == 0 writes zeros, so NaNs in C do not survive).
unsafe fn scale_c(m: usize, n: usize, beta: f32, c: *mut f32, ldc: usize) {
    for i in 0..m {
        let row = std::slice::from_raw_parts_mut(c.add(i * ldc), n);
        if beta == 0.0 { row.fill(0.0) } else if beta != 1.0 { row.iter_mut().for_each(|x| *x *= beta) }
    }
}

/// Single-threaded GEMM (for use inside loops that are already parallel).
/// `trans_a`: A is stored k x m (lda >= m); otherwise m x k (lda >= k). Same for B (n x k / k x n).
#[allow(clippy::too_many_arguments)]
pub fn sgemm_serial(trans_a: bool, trans_b: bool, m: usize, n: usize, k: usize, alpha: f32,
                    a: &[f32], lda: usize, b: &[f32], ldb: usize, beta: f32, c: &mut [f32], ldc: usize) {
    check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    // Safety: `check` proved every access is in bounds.
    unsafe { gemm_raw(trans_a, trans_b, m, n, k, alpha, a.as_ptr(), lda, b.as_ptr(), ldb, beta, c.as_mut_ptr(), ldc) }
}

/// # Safety
/// The operands must be valid for the given sizes and leading dimensions.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_raw(ta: bool, tb: bool, m: usize, n: usize, k: usize, alpha: f32,
                   a: *const f32, lda: usize, b: *const f32, ldb: usize, beta: f32, c: *mut f32, ldc: usize) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 || alpha == 0.0 {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    let isa = isa();
    PACK.with(|p| {
        let mut p = p.borrow_mut();
        let (sa, sb) = &mut *p;
        let kc_max = k.min(KC);
        let mc_max = m.min(MC).div_ceil(isa.mr) * isa.mr;
        let nc_max = n.min(NC).div_ceil(isa.nr) * isa.nr;
        let pa = sa.get(mc_max * kc_max);
        let pb = sb.get(nc_max * kc_max);
        let mut pc = 0;
        while pc < k {
            let kc = (k - pc).min(KC);
            let beta_p = if pc == 0 { beta } else { 1.0 };
            let mut ic = 0;
            while ic < m {
                let mc = (m - ic).min(MC);
                pack_a(isa, ta, a, lda, ic, mc, pc, kc, pa.as_mut_ptr());
                let mut jc = 0;
                while jc < n {
                    let nc = (n - jc).min(NC);
                    pack_b(isa, tb, b, ldb, pc, kc, jc, nc, pb.as_mut_ptr());
                    macro_kernel(isa, mc, nc, kc, Strips::block(pa.as_ptr(), kc), Strips::block(pb.as_ptr(), kc), c.add(ic * ldc + jc),
                                 ldc, alpha, beta_p);
                    jc += nc;
                }
                ic += mc;
            }
            pc += kc;
        }
    })
}

/// Packed strips of an operand, as `macro_kernel` reads them: the strip starting at row (A) or
/// column (B) `first` with size `size` begins at ptr + first * depth + skip * size, where `depth`
/// is the K the operand was packed over and `skip` the K already consumed (0 for a block packed
/// for this K slice alone).
#[derive(Clone, Copy)]
pub(crate) struct Strips {
    pub ptr: *const f32,
    pub depth: usize,
    pub skip: usize,
}

impl Strips {
    /// A block packed for the current K slice only.
    pub(crate) fn block(ptr: *const f32, kc: usize) -> Strips { Strips { ptr, depth: kc, skip: 0 } }
    unsafe fn at(&self, first: usize, size: usize) -> *const f32 { self.ptr.add(first * self.depth + self.skip * size) }
}

/// The C tiles of an mc x nc sweep, one A row strip after another: f([i, h, m_eff], [j, w, n_eff])
/// for each (row strip, column strip) as `Isa::strip_h` / `strip_w` cut them (first row or
/// column, strip size incl. padding, valid rows or columns).
#[inline(always)]
pub(crate) fn for_each_tile(isa: &Isa, mc: usize, nc: usize, mut f: impl FnMut([usize; 3], [usize; 3])) {
    let mut i = 0;
    while i < mc {
        let h = isa.strip_h(mc - i);
        let mut j = 0;
        while j < nc {
            let w = isa.strip_w(nc - j);
            f([i, h, (mc - i).min(h)], [j, w, (nc - j).min(w)]);
            j += w;
        }
        i += h;
    }
}

/// Sweeps mc x nc of C over kc: each A strip stays in L1 while every B strip streams from L2.
/// Strips before the last are full size, so a strip's start follows from its first row/column.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn macro_kernel(isa: &Isa, mc: usize, nc: usize, kc: usize, a: Strips, b: Strips,
                                  c: *mut f32, ldc: usize, alpha: f32, beta: f32) {
    for_each_tile(isa, mc, nc, |[i, h, m_eff], [j, w, n_eff]| {
        (isa.tile)(h, w, kc, a.at(i, h), b.at(j, w), c.add(i * ldc + j), ldc, m_eff, n_eff, alpha, beta)
    });
}

/// Multi-threaded GEMM over the worker pool; same contract as `sgemm_serial`.
#[allow(clippy::too_many_arguments)]
pub fn sgemm(trans_a: bool, trans_b: bool, m: usize, n: usize, k: usize, alpha: f32,
             a: &[f32], lda: usize, b: &[f32], ldb: usize, beta: f32, c: &mut [f32], ldc: usize) {
    check(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    let t = num_threads();
    // Below ~2 MFLOP a thread hand-off costs more than it saves.
    if t == 1 || m == 0 || n == 0 || k == 0 || (m * n * k) < (1 << 20) {
        return sgemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    let ia = isa();
    let (mt, nt) = (m.div_ceil(ia.mr), n.div_ceil(ia.nr));
    let split_n = nt >= t && (nt >= mt || mt < t);
    let tiles = if split_n { nt } else { mt };
    if tiles < 2 {
        return sgemm_serial(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }
    let parts = t.min(tiles);
    let cp = SharedMut::new(c);
    let (ap, bp) = (SharedMut(a.as_ptr() as *mut f32), SharedMut(b.as_ptr() as *mut f32));
    // Capture the wrappers by reference (closures would otherwise capture the raw fields).
    let (cp, ap, bp) = (&cp, &ap, &bp);
    run_on_all(&|th| {
        if th >= parts {
            return;
        }
        let r = share(tiles, parts, th);
        // Each thread owns whole columns or whole rows of C: disjoint writes. Bounds: `check`.
        unsafe {
            if split_n {
                let (j0, j1) = (r.start * ia.nr, (r.end * ia.nr).min(n));
                let boff = if trans_b { j0 * ldb } else { j0 };
                gemm_raw(trans_a, trans_b, m, j1 - j0, k, alpha, ap.0, lda, bp.0.add(boff), ldb, beta,
                         cp.0.add(j0), ldc);
            } else {
                let (i0, i1) = (r.start * ia.mr, (r.end * ia.mr).min(m));
                let aoff = if trans_a { i0 } else { i0 * lda };
                gemm_raw(trans_a, trans_b, i1 - i0, n, k, alpha, ap.0.add(aoff), lda, bp.0, ldb, beta,
                         cp.0.add(i0 * ldc), ldc);
            }
        }
    });
}
