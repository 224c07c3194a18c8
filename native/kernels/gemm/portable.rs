//! Portable micro-kernel (any CPU): a 4 x 16 tile with plain arrays that LLVM vectorises for the
//! baseline target. Used when neither AVX-512F nor AVX2+FMA is available.

use super::sgemm::Isa;

pub(crate) const ISA: Isa = Isa { mr: 4, mr_step: 1, nr: 16, nr_step: 16, tile, name: "portable" };

#[allow(clippy::too_many_arguments)]
unsafe fn tile(h: usize, w: usize, kc: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize,
               m_eff: usize, n_eff: usize, alpha: f32, beta: f32) {
    debug_assert!(h <= 4 && w == 16);
    let mut acc = [[0.0f32; 16]; 4];
    for p in 0..kc {
        let bp = std::slice::from_raw_parts(b.add(p * 16), 16);
        for (r, row) in acc.iter_mut().enumerate().take(h) {
            let av = *a.add(p * h + r);
            for (x, &bv) in row.iter_mut().zip(bp) {
                *x += av * bv;
            }
        }
    }
    for (r, row) in acc.iter().enumerate().take(m_eff) {
        let cr = std::slice::from_raw_parts_mut(c.add(r * ldc), n_eff);
        for (x, &v) in cr.iter_mut().zip(row) {
            *x = if beta != 0.0 { alpha * v + beta * *x } else { alpha * v };
        }
    }
}
