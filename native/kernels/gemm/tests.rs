//! GEMM against a naive triple loop: random (odd) shapes, every transpose, alpha/beta, leading
//! dimensions larger than the width, every ISA available here, and bitwise determinism.

use super::sgemm::{sgemm, sgemm_serial};
use crate::kernels::test_util::{assert_close, Rng};

#[allow(clippy::too_many_arguments)]
fn naive(ta: bool, tb: bool, m: usize, n: usize, k: usize, alpha: f32, a: &[f32], lda: usize, b: &[f32],
         ldb: usize, beta: f32, c: &mut [f32], ldc: usize) {
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                let av = if ta { a[p * lda + i] } else { a[i * lda + p] };
                let bv = if tb { b[j * ldb + p] } else { b[p * ldb + j] };
                s += av as f64 * bv as f64;
            }
            let cv = &mut c[i * ldc + j];
            *cv = alpha * s as f32 + if beta == 0.0 { 0.0 } else { beta * *cv };
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn case(rng: &mut Rng, m: usize, n: usize, k: usize, ta: bool, tb: bool, alpha: f32, beta: f32, pad: usize) {
    let lda = (if ta { m } else { k }) + pad;
    let ldb = (if tb { k } else { n }) + pad;
    let ldc = n + pad;
    let a = rng.vec(if ta { k } else { m } * lda);
    let b = rng.vec(if tb { n } else { k } * ldb);
    let mut c0 = rng.vec(m * ldc);
    if beta == 0.0 {
        c0.iter_mut().step_by(7).for_each(|x| *x = f32::NAN); // beta = 0 must not read C
    }
    let mut want = c0.clone();
    naive(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut want, ldc);
    let mut got = c0.clone();
    sgemm(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut got, ldc);
    let what = format!("sgemm m={m} n={n} k={k} ta={ta} tb={tb} alpha={alpha} beta={beta} pad={pad}");
    let tol = 1e-5 * (k as f32).sqrt().max(1.0);
    assert_close(&what, &got, &want, tol);
    let mut got2 = c0.clone();
    sgemm_serial(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut got2, ldc);
    assert_close(&format!("{what} (serial)"), &got2, &want, tol);
    let mut again = c0.clone();
    sgemm(ta, tb, m, n, k, alpha, &a, lda, &b, ldb, beta, &mut again, ldc);
    assert!(got.iter().zip(&again).all(|(x, y)| x.to_bits() == y.to_bits()), "{what}: not deterministic");
}

#[test]
fn gemm_matches_naive_on_random_shapes() {
    let mut rng = Rng::new(1);
    for it in 0..120 {
        let m = 1 + rng.below(70);
        let n = 1 + rng.below(90);
        let k = 1 + rng.below(300);
        let (ta, tb) = (it & 1 == 1, it & 2 == 2);
        let (alpha, beta) = [(1.0, 0.0), (0.5, 1.0), (-1.5, 0.25), (1.0, 1.0)][it % 4];
        case(&mut rng, m, n, k, ta, tb, alpha, beta, it % 3);
    }
}

#[test]
fn gemm_large_and_blocked_shapes() {
    // Cross the KC / NC / MC block boundaries and take the threaded split both ways.
    let mut rng = Rng::new(2);
    for &(m, n, k) in &[(300, 600, 700), (1600, 40, 33), (37, 1100, 260), (64, 1024, 576), (576, 1024, 16)] {
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            case(&mut rng, m, n, k, ta, tb, 1.0, 0.0, 0);
        }
    }
}

#[test]
fn gemm_degenerate_sizes() {
    let mut rng = Rng::new(3);
    case(&mut rng, 0, 5, 3, false, false, 1.0, 0.0, 0);
    case(&mut rng, 5, 0, 3, false, false, 1.0, 0.0, 0);
    // k = 0: C = beta * C.
    let mut c = vec![2.0f32; 6];
    sgemm(false, false, 2, 3, 0, 1.0, &[], 1, &[], 3, 0.5, &mut c, 3);
    assert!(c.iter().all(|&x| x == 1.0));
    sgemm(false, false, 2, 3, 0, 1.0, &[], 1, &[], 3, 0.0, &mut c, 3);
    assert!(c.iter().all(|&x| x == 0.0));
}

#[test]
fn packed_b_gemm_packs_raw_a_per_block() {
    // sgemm_packed_b (A read in place with AVX-512, else packed block by block) against the
    // prepacked-A path: row strips/blocks and K slices with tails, B strip tails, lda > k, betas.
    use super::sgemm::Scratch;
    use super::prepacked::{pack_a_full, pack_b_full, packed_a_len, packed_b_len, sgemm_packed, sgemm_packed_b};
    let mut rng = Rng::new(4);
    for &(m, n, k, beta) in &[(200, 70, 1100, 0.0), (97, 33, 513, 1.0), (13, 5, 7, 1.0), (3, 40, 0, 0.5)] {
        let lda = k + 3;
        let (a, b, c0) = (rng.vec(m * lda), rng.vec(k * n), rng.vec(m * n));
        let mut pb = vec![0.0; packed_b_len(n, k)];
        pack_b_full(false, k, n, &b, n, &mut pb);
        let mut pa = vec![0.0; packed_a_len(m, k)];
        pack_a_full(false, m, k, &a, lda, &mut pa);
        let mut want = c0.clone();
        sgemm_packed(m, n, k, 1.0, &pa, &pb, beta, &mut want, n);
        let mut got = c0.clone();
        sgemm_packed_b(m, n, k, 1.0, &a, lda, &pb, beta, &mut got, n, &mut Scratch::new());
        assert_close(&format!("sgemm_packed_b m={m} n={n} k={k}"), &got, &want, 1e-5 * (k as f32).sqrt().max(1.0));
    }
}
