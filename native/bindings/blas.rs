//! `gemm`: row-major contiguous C = alpha * op(A) * op(B) + beta * C on the worker pool.

use crate::export_fns;
use crate::kernels::gemm::sgemm::sgemm;
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

/// gemm(transA, transB, m, n, k, alpha, a, b, beta, c)
fn gemm(x: &mut Args) -> OpResult {
    let op = x.op;
    let (ta, tb) = (x.bool(0)?, x.bool(1)?);
    let (m, n, k) = (x.usize(2)?, x.usize(3)?, x.usize(4)?);
    let alpha = x.f32(5)?;
    let a = x.f32_in(6)?;
    let b = x.f32_in(7)?;
    let beta = x.f32(8)?;
    let c = x.f32_out(9)?;
    let dims = format!("(m,n,k = {m},{n},{k}, transA={ta}, transB={tb})");
    let prod = |p: usize, q: usize| p.checked_mul(q).ok_or_else(|| format!("{op}: sizes overflow {dims}"));
    let (am, bm, cm) = (prod(m, k)?, prod(k, n)?, prod(m, n)?);
    if a.len() != am {
        return Err(format!("{op}: a has {} elements, expected m*k={m}*{k}={am} {dims}", a.len()));
    }
    if b.len() != bm {
        return Err(format!("{op}: b has {} elements, expected k*n={k}*{n}={bm} {dims}", b.len()));
    }
    if c.len() != cm {
        return Err(format!("{op}: c has {} elements, expected m*n={m}*{n}={cm} {dims}", c.len()));
    }
    let lda = if ta { m } else { k };
    let ldb = if tb { k } else { n };
    sgemm(ta, tb, m, n, k, alpha, a, lda.max(1), b, ldb.max(1), beta, c, n.max(1));
    Ok(Ret::Undefined)
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, { "gemm" => gemm });
}
