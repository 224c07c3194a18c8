//! Launchers over device handles for GEMM, elementwise ops, masks, ReLU, reductions, cross-entropy
//! and the optimizers. Each mirrors the CPU op of the same name in src/native.ts: it checks every
//! handle and length, then queues kernels on the stream (ops returning a number synchronise).

use super::context::{Cuda, Scratch};
use super::launch::{grid_1d, grid_warp_rows, int, launch, launch_1d, P, THREADS};
use super::driver::CUdeviceptr;

pub type H = u64;

/// Outputs must not share a buffer with any other argument of the same call.
pub fn no_alias(op: &str, outputs: &[(&str, H)], others: &[(&str, H)]) -> Result<(), String> {
    for (i, (on, o)) in outputs.iter().enumerate() {
        for (n, h) in others.iter().chain(outputs[i + 1..].iter()) {
            if o == h {
                return Err(format!("{op}: {on} and {n} are the same device buffer; outputs must not alias"));
            }
        }
    }
    Ok(())
}

/// The raw strided-batched GEMM (see kernels/gemm.cu); picks the TF32 path when enabled.
#[allow(clippy::too_many_arguments)]
pub fn gemm_raw(cx: &mut Cuda, op: &str, ta: bool, tb: bool, m: usize, n: usize, k: usize, alpha: f32,
                a: CUdeviceptr, lda: usize, sa: usize, a_mod: usize, b: CUdeviceptr, ldb: usize, sb: usize, b_mod: usize,
                beta: f32, c: CUdeviceptr, ldc: usize, sc: usize, batch: usize) -> Result<(), String> {
    if m == 0 || n == 0 || batch == 0 {
        return Ok(());
    }
    let (splits, chunk) = split_k(m, n, k, batch);
    let z = int(op, "gemm batch x K splits", batch * splits)? as u32;
    let grid = (n.div_ceil(64) as u32, int(op, "gemm rows / 64", m.div_ceil(64))? as u32, z);
    let (kernel, block) = if cx.tf32 { ("gemm_tf32_f32", 128) } else { ("gemm_f32", THREADS) };
    let (dims, op_a, op_b) = (
        [P::I32(ta as i32), P::I32(tb as i32), P::I32(int(op, "m", m)?), P::I32(int(op, "n", n)?), P::I32(int(op, "k", k)?)],
        [P::Ptr(a), P::I32(int(op, "lda", lda)?), P::I64(sa as i64), P::I32(int(op, "batch", a_mod.max(1))?)],
        [P::Ptr(b), P::I32(int(op, "ldb", ldb)?), P::I64(sb as i64), P::I32(int(op, "batch", b_mod.max(1))?)],
    );
    let tail = [P::I32(batch as i32), P::I32(int(op, "k chunk", chunk)?)];
    if splits == 1 {
        let out = [P::F32(beta), P::Ptr(c), P::I32(int(op, "ldc", ldc)?), P::I64(sc as i64)];
        let ps: Vec<P> = dims.into_iter().chain([P::F32(alpha)]).chain(op_a).chain(op_b).chain(out).chain(tail).collect();
        return launch(cx, op, kernel, grid, block, &ps);
    }
    // Partials [splits][batch][m][n] in the split-K workspace, then one ordered sum into C.
    let per = batch * m * n;
    let part = cx.scratch_in(op, Scratch::SplitK, splits * per * 4)?;
    let out = [P::F32(0.0), P::Ptr(part), P::I32(int(op, "n", n)?), P::I64((m * n) as i64)];
    let ps: Vec<P> = dims.into_iter().chain([P::F32(1.0)]).chain(op_a).chain(op_b).chain(out).chain(tail).collect();
    launch(cx, op, kernel, grid, block, &ps)?;
    let ps = [P::Ptr(part), P::I32(splits as i32), P::I32(batch as i32), P::I32(m as i32), P::I32(n as i32), P::F32(alpha), P::F32(beta),
              P::Ptr(c), P::I32(int(op, "ldc", ldc)?), P::I64(sc as i64)];
    launch_1d(cx, op, "splitk_reduce_f32", per, &ps)
}

/// K splits and chunk length for a GEMM (test/cuda/emu/plans.h split_k restates it). One 64x64
/// output tile per block: when the tiles alone give fewer than 256 blocks and K is long, split K
/// into chunks (multiples of the 16-deep k-tile, at least 512 long) until about 512 blocks run.
/// Depends on the shape only, so a given GEMM always sums in the same order.
pub fn split_k(m: usize, n: usize, k: usize, batch: usize) -> (usize, usize) {
    let tiles = m.div_ceil(64) * n.div_ceil(64) * batch;
    if tiles >= 256 || k < 1024 {
        return (1, k.max(1));
    }
    let want = 512usize.div_ceil(tiles).min(k / 512).max(1);
    let chunk = k.div_ceil(want).div_ceil(16) * 16;
    (k.div_ceil(chunk), chunk)
}

/// C[m,n] = alpha * op(A) * op(B) + beta * C (NativeBinding.gemm).
#[allow(clippy::too_many_arguments)]
pub fn gemm(cx: &mut Cuda, ta: bool, tb: bool, m: usize, n: usize, k: usize, alpha: f32, a: H, b: H, beta: f32, c: H) -> Result<(), String> {
    let op = "cudaGemm";
    no_alias(op, &[("c", c)], &[("a", a), ("b", b)])?;
    let pa = cx.buf_len(op, "a", a, m * k)?;
    let pb = cx.buf_len(op, "b", b, k * n)?;
    let pc = cx.buf_len(op, "c", c, m * n)?;
    let (lda, ldb) = (if ta { m } else { k }, if tb { k } else { n });
    if k == 0 {
        // op(A) op(B) is all zeros: C = beta * C
        return scale_raw(cx, op, pc, beta, pc, m * n);
    }
    gemm_raw(cx, op, ta, tb, m, n, k, alpha, pa, lda.max(1), 0, 1, pb, ldb.max(1), 0, 1, beta, pc, n, 0, 1)
}

fn scale_raw(cx: &mut Cuda, op: &str, a: CUdeviceptr, s: f32, out: CUdeviceptr, n: usize) -> Result<(), String> {
    if s == 0.0 {
        return launch_1d(cx, op, "fill_f32", n, &[P::Ptr(out), P::I32(int(op, "n", n)?), P::F32(0.0)]);
    }
    launch_1d(cx, op, "scale_f32", n, &[P::Ptr(a), P::F32(s), P::Ptr(out), P::I32(int(op, "n", n)?)])
}

/// Length of buffer `id` (all elementwise ops size themselves by their first argument).
fn len(cx: &Cuda, op: &str, name: &str, id: H) -> Result<usize, String> { Ok(cx.buf(op, name, id)?.len) }

/// out = f(a, b) for add_f32 / mul_f32 / masked_weight_f32 / mask_grad_f32 / relu_backward_f32.
pub fn binary(cx: &mut Cuda, op: &str, kernel: &'static str, a: H, b: H, out: H) -> Result<(), String> {
    no_alias(op, &[("out", out)], &[("a", a), ("b", b)])?;
    let n = len(cx, op, "a", a)?;
    let (pa, pb, po) = (cx.buf_len(op, "a", a, n)?, cx.buf_len(op, "b", b, n)?, cx.buf_len(op, "out", out, n)?);
    launch_1d(cx, op, kernel, n, &[P::Ptr(pa), P::Ptr(pb), P::Ptr(po), P::I32(int(op, "n", n)?)])
}

pub fn relu(cx: &mut Cuda, x: H, y: H) -> Result<(), String> {
    let op = "cudaRelu";
    let n = len(cx, op, "x", x)?;
    let (px, py) = (cx.buf_len(op, "x", x, n)?, cx.buf_len(op, "y", y, n)?); // in place is fine
    launch_1d(cx, op, "relu_f32", n, &[P::Ptr(px), P::Ptr(py), P::I32(int(op, "n", n)?)])
}

pub fn scale(cx: &mut Cuda, a: H, s: f32, out: H) -> Result<(), String> {
    let op = "cudaScale";
    let n = len(cx, op, "a", a)?;
    let (pa, po) = (cx.buf_len(op, "a", a, n)?, cx.buf_len(op, "out", out, n)?);
    launch_1d(cx, op, "scale_f32", n, &[P::Ptr(pa), P::F32(s), P::Ptr(po), P::I32(int(op, "n", n)?)])
}

/// y += alpha * x
pub fn axpy(cx: &mut Cuda, alpha: f32, x: H, y: H) -> Result<(), String> {
    let op = "cudaAxpy";
    let n = len(cx, op, "y", y)?;
    let (px, py) = (cx.buf_len(op, "x", x, n)?, cx.buf_len(op, "y", y, n)?);
    launch_1d(cx, op, "axpy_f32", n, &[P::F32(alpha), P::Ptr(px), P::Ptr(py), P::I32(int(op, "n", n)?)])
}

pub fn add_scalar(cx: &mut Cuda, x: H, s: f32) -> Result<(), String> {
    let op = "cudaAddScalar";
    let b = cx.buf(op, "x", x)?;
    launch_1d(cx, op, "add_scalar_f32", b.len, &[P::Ptr(b.ptr), P::F32(s), P::I32(int(op, "n", b.len)?)])
}

pub fn fill(cx: &mut Cuda, x: H, v: f32) -> Result<(), String> {
    let op = "cudaFill";
    let b = cx.buf(op, "x", x)?;
    launch_1d(cx, op, "fill_f32", b.len, &[P::Ptr(b.ptr), P::I32(int(op, "n", b.len)?), P::F32(v)])
}

pub fn add_row_bias(cx: &mut Cuda, y: H, b: H, rows: usize, cols: usize) -> Result<(), String> {
    let op = "cudaAddRowBias";
    no_alias(op, &[("y", y)], &[("b", b)])?;
    let (py, pb) = (cx.buf_len(op, "y", y, rows * cols)?, cx.buf_len(op, "b", b, cols)?);
    launch_1d(cx, op, "add_row_bias_f32", rows * cols, &[P::Ptr(py), P::Ptr(pb), P::I32(int(op, "rows", rows)?), P::I32(int(op, "cols", cols)?)])
}

/// out[c] = sum_r g[r, c]
pub fn sum_rows(cx: &mut Cuda, g: H, out: H, rows: usize, cols: usize) -> Result<(), String> {
    let op = "cudaSumRows";
    no_alias(op, &[("out", out)], &[("g", g)])?;
    let (pg, po) = (cx.buf_len(op, "g", g, rows * cols)?, cx.buf_len(op, "out", out, cols)?);
    if rows == 0 {
        return launch_1d(cx, op, "fill_f32", cols, &[P::Ptr(po), P::I32(int(op, "cols", cols)?), P::F32(0.0)]);
    }
    launch_1d(cx, op, "sum_rows_f32", cols, &[P::Ptr(pg), P::Ptr(po), P::I32(int(op, "rows", rows)?), P::I32(int(op, "cols", cols)?)])
}

/// out[r] = (accumulate ? out[r] : 0) + scale * sum_c x[r, c] on raw pointers.
#[allow(clippy::too_many_arguments)]
pub fn row_sum_raw(cx: &mut Cuda, op: &str, x: CUdeviceptr, out: CUdeviceptr, rows: usize, cols: usize, scale: f32, accumulate: bool) -> Result<(), String> {
    if rows == 0 {
        return Ok(());
    }
    let ps = [P::Ptr(x), P::Ptr(out), P::I32(int(op, "rows", rows)?), P::I32(int(op, "cols", cols)?), P::F32(scale), P::I32(accumulate as i32)];
    launch(cx, op, "row_sum_f32", (grid_warp_rows(rows), 1, 1), THREADS, &ps)
}

/// Scratch bytes `reduce_in` needs for n elements.
pub fn reduce_bytes(n: usize) -> usize { (grid_1d(n) as usize + 1) * 8 }

/// Deterministic sum (or count of elements > 0) of n floats at x, as f64, using `ws`
/// (reduce_bytes(n) bytes of device scratch); synchronises.
pub fn reduce_in(cx: &mut Cuda, op: &str, count: bool, x: CUdeviceptr, n: usize, ws: CUdeviceptr) -> Result<f64, String> {
    if n == 0 {
        return Ok(0.0);
    }
    let grid = grid_1d(n);
    let (part, out) = (ws, ws + grid as u64 * 8);
    let kernel = if count { "count_positive_partial_f32" } else { "sum_partial_f32" };
    launch(cx, op, kernel, (grid, 1, 1), THREADS, &[P::Ptr(x), P::I32(int(op, "n", n)?), P::Ptr(part)])?;
    launch(cx, op, "reduce_final_f64", (1, 1, 1), THREADS, &[P::Ptr(part), P::I32(grid as i32), P::Ptr(out)])?;
    let mut v = 0f64;
    cx.download(op, &mut v as *mut f64 as *mut u8, out, 8)?;
    Ok(v)
}

pub fn reduce_raw(cx: &mut Cuda, op: &str, count: bool, x: CUdeviceptr, n: usize) -> Result<f64, String> {
    let ws = cx.scratch(op, reduce_bytes(n))?;
    reduce_in(cx, op, count, x, n, ws)
}

pub fn sum(cx: &mut Cuda, x: H) -> Result<f64, String> {
    let b = cx.buf("cudaSum", "x", x)?;
    reduce_raw(cx, "cudaSum", false, b.ptr, b.len)
}

pub fn count_positive(cx: &mut Cuda, x: H) -> Result<f64, String> {
    let b = cx.buf("cudaCountPositive", "x", x)?;
    reduce_raw(cx, "cudaCountPositive", true, b.ptr, b.len)
}

/// out[i] = argmax_c x[i, c] into an int32 device buffer.
pub fn argmax(cx: &mut Cuda, x: H, out: H, rows: usize, cols: usize) -> Result<(), String> {
    let op = "cudaArgmax";
    no_alias(op, &[("out", out)], &[("x", x)])?;
    if cols == 0 && rows > 0 {
        return Err(format!("{op}: cols must be positive"));
    }
    let (px, po) = (cx.buf_len(op, "x", x, rows * cols)?, cx.buf_len(op, "out", out, rows)?);
    launch_1d(cx, op, "argmax_rows_f32", rows, &[P::Ptr(px), P::Ptr(po), P::I32(int(op, "rows", rows)?), P::I32(int(op, "cols", cols)?)])
}

/// Softmax into probs; returns the mean NLL. Throws when a label is outside [0, classes).
pub fn cross_entropy_forward(cx: &mut Cuda, logits: H, labels: H, probs: H, rows: usize, classes: usize) -> Result<f64, String> {
    let op = "cudaCrossEntropyForward";
    no_alias(op, &[("probs", probs)], &[("logits", logits), ("labels", labels)])?;
    if rows == 0 || classes == 0 {
        return Err(format!("{op}: rows ({rows}) and classes ({classes}) must be positive"));
    }
    let px = cx.buf_len(op, "logits", logits, rows * classes)?;
    let pl = cx.buf_len(op, "labels", labels, rows)?;
    let pp = cx.buf_len(op, "probs", probs, rows * classes)?;
    // scratch: [bad flag, padded to 256 bytes] [row losses, padded] [reduction partials]
    let rl_bytes = (rows * 4).div_ceil(256) * 256;
    let ws = cx.scratch(op, 256 + rl_bytes + reduce_bytes(rows))?;
    let (bad, rl, part) = (ws, ws + 256, ws + 256 + rl_bytes as u64);
    launch_1d(cx, op, "fill_f32", 1, &[P::Ptr(bad), P::I32(1), P::F32(0.0)])?;
    let ps = [P::Ptr(px), P::Ptr(pl), P::Ptr(pp), P::Ptr(rl), P::Ptr(bad), P::I32(int(op, "rows", rows)?), P::I32(int(op, "classes", classes)?)];
    launch(cx, op, "cross_entropy_forward_f32", (grid_warp_rows(rows), 1, 1), THREADS, &ps)?;
    let mut flag = 0i32;
    cx.download(op, &mut flag as *mut i32 as *mut u8, bad, 4)?;
    if flag != 0 {
        return Err(format!("{op}: a label is outside [0, {classes})"));
    }
    Ok(reduce_in(cx, op, false, rl, rows, part)? / rows as f64)
}

/// gx = (probs - onehot(labels)) * scale
pub fn cross_entropy_backward(cx: &mut Cuda, probs: H, labels: H, gx: H, rows: usize, classes: usize, scale: f32) -> Result<(), String> {
    let op = "cudaCrossEntropyBackward";
    no_alias(op, &[("gx", gx)], &[("probs", probs), ("labels", labels)])?;
    let pp = cx.buf_len(op, "probs", probs, rows * classes)?;
    let pl = cx.buf_len(op, "labels", labels, rows)?;
    let pg = cx.buf_len(op, "gx", gx, rows * classes)?;
    let ps = [P::Ptr(pp), P::Ptr(pl), P::Ptr(pg), P::I32(int(op, "rows", rows)?), P::I32(int(op, "classes", classes)?), P::F32(scale)];
    launch_1d(cx, op, "cross_entropy_backward_f32", rows * classes, &ps)
}

/// torch.optim.Adam step (step is 1-based), in place on p, m, v.
#[allow(clippy::too_many_arguments)]
pub fn adam_step(cx: &mut Cuda, p: H, g: H, m: H, v: H, step: f64, lr: f64, beta1: f64, beta2: f64, eps: f64, wd: f64) -> Result<(), String> {
    let op = "cudaAdamStep";
    if step.is_nan() || step < 1.0 {
        return Err(format!("{op}: step must be >= 1 (1-based), got {step}"));
    }
    no_alias(op, &[("p", p), ("m", m), ("v", v)], &[("g", g)])?;
    let n = len(cx, op, "p", p)?;
    let (pp, pg, pm, pv) = (cx.buf_len(op, "p", p, n)?, cx.buf_len(op, "g", g, n)?, cx.buf_len(op, "m", m, n)?, cx.buf_len(op, "v", v, n)?);
    let step_size = lr / (1.0 - beta1.powf(step));
    let bc2_sqrt = (1.0 - beta2.powf(step)).sqrt();
    let ps = [P::Ptr(pp), P::Ptr(pg), P::Ptr(pm), P::Ptr(pv), P::I32(int(op, "n", n)?), P::F32(beta1 as f32), P::F32(beta2 as f32),
              P::F32(eps as f32), P::F32(wd as f32), P::F32(step_size as f32), P::F32(bc2_sqrt as f32)];
    launch_1d(cx, op, "adam_step_f32", n, &ps)
}

/// torch.optim.SGD step, in place on p (and buf when momentum != 0).
#[allow(clippy::too_many_arguments)]
pub fn sgd_step(cx: &mut Cuda, p: H, g: H, buf: Option<H>, lr: f32, momentum: f32, dampening: f32, wd: f32, nesterov: bool, first: bool) -> Result<(), String> {
    let op = "cudaSgdStep";
    let n = len(cx, op, "p", p)?;
    let (pp, pg) = (cx.buf_len(op, "p", p, n)?, cx.buf_len(op, "g", g, n)?);
    no_alias(op, &[("p", p)], &[("g", g)])?;
    let pb = match (buf, momentum != 0.0) {
        (Some(b), true) => {
            no_alias(op, &[("buf", b)], &[("p", p), ("g", g)])?;
            cx.buf_len(op, "buf", b, n)?
        }
        (None, true) => return Err(format!("{op}: momentum {momentum} needs a momentum buffer")),
        (_, false) => 0,
    };
    if nesterov && (momentum <= 0.0 || dampening != 0.0) {
        return Err(format!("{op}: Nesterov momentum requires a momentum and zero dampening"));
    }
    let ps = [P::Ptr(pp), P::Ptr(pg), P::Ptr(pb), P::I32(int(op, "n", n)?), P::F32(lr), P::F32(momentum), P::F32(dampening),
              P::F32(wd), P::I32(nesterov as i32), P::I32(first as i32)];
    launch_1d(cx, op, "sgd_step_f32", n, &ps)
}

