//! JS-facing CUDA op launchers over device handles, one per CPU op of src/native.ts (same
//! argument order, device handles in place of typed arrays; conv/pool params stay Int32Arrays).

use super::cuda::{handle as h, handle_opt as ho, on};
use crate::cuda::{conv, nn_ops, ops};
use crate::export_fns;
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

fn done(r: Result<(), String>) -> OpResult { r.map(|_| Ret::Undefined) }

fn gemm(a: &mut Args) -> OpResult {
    let (ta, tb, m, n, k, alpha) = (a.bool(0)?, a.bool(1)?, a.usize(2)?, a.usize(3)?, a.usize(4)?, a.f32(5)?);
    let (x, y, beta, c) = (h(a, 6)?, h(a, 7)?, a.f32(8)?, h(a, 9)?);
    done(on(a, |cx| ops::gemm(cx, ta, tb, m, n, k, alpha, x, y, beta, c)))
}

fn conv_forward(a: &mut Args) -> OpResult {
    let (x, w, b, y) = (h(a, 0)?, h(a, 1)?, ho(a, 2)?, h(a, 3)?);
    let p = a.i32_in(4)?.to_vec();
    done(on(a, |cx| conv::forward(cx, x, w, b, y, &p)))
}

fn conv_backward_data(a: &mut Args) -> OpResult {
    let (gy, w, gx) = (h(a, 0)?, h(a, 1)?, h(a, 2)?);
    let p = a.i32_in(3)?.to_vec();
    done(on(a, |cx| conv::backward_data(cx, gy, w, gx, &p)))
}

fn conv_backward_weight(a: &mut Args) -> OpResult {
    let (x, gy, gw, gb) = (h(a, 0)?, h(a, 1)?, h(a, 2)?, ho(a, 3)?);
    let p = a.i32_in(4)?.to_vec();
    done(on(a, |cx| conv::backward_weight(cx, x, gy, gw, gb, &p)))
}

macro_rules! binary {
    ($name:ident, $kernel:literal) => {
        fn $name(a: &mut Args) -> OpResult {
            let (x, y, out) = (h(a, 0)?, h(a, 1)?, h(a, 2)?);
            done(on(a, |cx| ops::binary(cx, a.op, $kernel, x, y, out)))
        }
    };
}
binary!(masked_weight, "masked_weight_f32");
binary!(mask_grad, "mask_grad_f32");
binary!(relu_backward, "relu_backward_f32");
binary!(add, "add_f32");
binary!(mul, "mul_f32");

fn relu(a: &mut Args) -> OpResult {
    let (x, y) = (h(a, 0)?, h(a, 1)?);
    done(on(a, |cx| ops::relu(cx, x, y)))
}
fn count_positive(a: &mut Args) -> OpResult {
    let x = h(a, 0)?;
    on(a, |cx| ops::count_positive(cx, x)).map(Ret::Number)
}
fn scale(a: &mut Args) -> OpResult {
    let (x, s, out) = (h(a, 0)?, a.f32(1)?, h(a, 2)?);
    done(on(a, |cx| ops::scale(cx, x, s, out)))
}
fn axpy(a: &mut Args) -> OpResult {
    let (alpha, x, y) = (a.f32(0)?, h(a, 1)?, h(a, 2)?);
    done(on(a, |cx| ops::axpy(cx, alpha, x, y)))
}
fn add_scalar(a: &mut Args) -> OpResult {
    let (x, s) = (h(a, 0)?, a.f32(1)?);
    done(on(a, |cx| ops::add_scalar(cx, x, s)))
}
fn add_row_bias(a: &mut Args) -> OpResult {
    let (y, b, rows, cols) = (h(a, 0)?, h(a, 1)?, a.usize(2)?, a.usize(3)?);
    done(on(a, |cx| ops::add_row_bias(cx, y, b, rows, cols)))
}
fn sum_rows(a: &mut Args) -> OpResult {
    let (g, out, rows, cols) = (h(a, 0)?, h(a, 1)?, a.usize(2)?, a.usize(3)?);
    done(on(a, |cx| ops::sum_rows(cx, g, out, rows, cols)))
}
fn sum(a: &mut Args) -> OpResult {
    let x = h(a, 0)?;
    on(a, |cx| ops::sum(cx, x)).map(Ret::Number)
}
fn argmax(a: &mut Args) -> OpResult {
    let (x, out, rows, cols) = (h(a, 0)?, h(a, 1)?, a.usize(2)?, a.usize(3)?);
    done(on(a, |cx| ops::argmax(cx, x, out, rows, cols)))
}

fn bn_forward(a: &mut Args) -> OpResult {
    let b = nn_ops::BnForward { x: h(a, 0)?, gamma: h(a, 1)?, beta: h(a, 2)?, rmean: h(a, 3)?, rvar: h(a, 4)?, y: h(a, 5)?,
                                smean: h(a, 6)?, sinvstd: h(a, 7)? };
    let (n, c, hw, training, momentum, eps) = (a.usize(8)?, a.usize(9)?, a.usize(10)?, a.bool(11)?, a.f32(12)?, a.f32(13)?);
    done(on(a, |cx| nn_ops::batch_norm_forward(cx, &b, n, c, hw, training, momentum, eps)))
}
fn bn_backward(a: &mut Args) -> OpResult {
    let b = nn_ops::BnBackward { x: h(a, 0)?, gy: h(a, 1)?, gamma: h(a, 2)?, smean: h(a, 3)?, sinvstd: h(a, 4)?, gx: h(a, 5)?,
                                 ggamma: ho(a, 6)?, gbeta: ho(a, 7)? };
    let (n, c, hw, training) = (a.usize(8)?, a.usize(9)?, a.usize(10)?, a.bool(11)?);
    done(on(a, |cx| nn_ops::batch_norm_backward(cx, &b, n, c, hw, training)))
}

fn max_pool_forward(a: &mut Args) -> OpResult {
    let (x, y, am) = (h(a, 0)?, h(a, 1)?, h(a, 2)?);
    let p = a.i32_in(3)?.to_vec();
    done(on(a, |cx| nn_ops::max_pool_forward(cx, x, y, am, &p)))
}
fn max_pool_backward(a: &mut Args) -> OpResult {
    let (gy, am, gx) = (h(a, 0)?, h(a, 1)?, h(a, 2)?);
    let p = a.i32_in(3)?.to_vec();
    done(on(a, |cx| nn_ops::max_pool_backward(cx, gy, am, gx, &p)))
}
fn avg_pool_forward(a: &mut Args) -> OpResult {
    let (x, y) = (h(a, 0)?, h(a, 1)?);
    let p = a.i32_in(2)?.to_vec();
    done(on(a, |cx| nn_ops::avg_pool(cx, false, x, y, &p)))
}
fn avg_pool_backward(a: &mut Args) -> OpResult {
    let (gy, gx) = (h(a, 0)?, h(a, 1)?);
    let p = a.i32_in(2)?.to_vec();
    done(on(a, |cx| nn_ops::avg_pool(cx, true, gy, gx, &p)))
}
fn gap_forward(a: &mut Args) -> OpResult {
    let (x, y, nc, hw) = (h(a, 0)?, h(a, 1)?, a.usize(2)?, a.usize(3)?);
    done(on(a, |cx| nn_ops::global_avg_pool(cx, false, x, y, nc, hw)))
}
fn gap_backward(a: &mut Args) -> OpResult {
    let (gy, gx, nc, hw) = (h(a, 0)?, h(a, 1)?, a.usize(2)?, a.usize(3)?);
    done(on(a, |cx| nn_ops::global_avg_pool(cx, true, gy, gx, nc, hw)))
}

fn ce_forward(a: &mut Args) -> OpResult {
    let (x, l, p, rows, classes) = (h(a, 0)?, h(a, 1)?, h(a, 2)?, a.usize(3)?, a.usize(4)?);
    on(a, |cx| ops::cross_entropy_forward(cx, x, l, p, rows, classes)).map(Ret::Number)
}
fn ce_backward(a: &mut Args) -> OpResult {
    let (p, l, gx, rows, classes, s) = (h(a, 0)?, h(a, 1)?, h(a, 2)?, a.usize(3)?, a.usize(4)?, a.f32(5)?);
    done(on(a, |cx| ops::cross_entropy_backward(cx, p, l, gx, rows, classes, s)))
}

fn adam(a: &mut Args) -> OpResult {
    let (p, g, m, v) = (h(a, 0)?, h(a, 1)?, h(a, 2)?, h(a, 3)?);
    let (step, lr, b1, b2, eps, wd) = (a.f64(4)?, a.f64(5)?, a.f64(6)?, a.f64(7)?, a.f64(8)?, a.f64(9)?);
    done(on(a, |cx| ops::adam_step(cx, p, g, m, v, step, lr, b1, b2, eps, wd)))
}
fn sgd(a: &mut Args) -> OpResult {
    let (p, g, buf) = (h(a, 0)?, h(a, 1)?, ho(a, 2)?);
    let (lr, mom, damp, wd, nest, first) = (a.f32(3)?, a.f32(4)?, a.f32(5)?, a.f32(6)?, a.bool(7)?, a.bool(8)?);
    done(on(a, |cx| ops::sgd_step(cx, p, g, buf, lr, mom, damp, wd, nest, first)))
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "cudaGemm" => gemm,
        "cudaConv2dForward" => conv_forward,
        "cudaConv2dBackwardData" => conv_backward_data,
        "cudaConv2dBackwardWeight" => conv_backward_weight,
        "cudaMaskedWeight" => masked_weight,
        "cudaMaskGrad" => mask_grad,
        "cudaCountPositive" => count_positive,
        "cudaRelu" => relu,
        "cudaReluBackward" => relu_backward,
        "cudaAdd" => add,
        "cudaMul" => mul,
        "cudaScale" => scale,
        "cudaAxpy" => axpy,
        "cudaAddScalar" => add_scalar,
        "cudaAddRowBias" => add_row_bias,
        "cudaSumRows" => sum_rows,
        "cudaSum" => sum,
        "cudaArgmax" => argmax,
        "cudaBatchNorm2dForward" => bn_forward,
        "cudaBatchNorm2dBackward" => bn_backward,
        "cudaMaxPool2dForward" => max_pool_forward,
        "cudaMaxPool2dBackward" => max_pool_backward,
        "cudaAvgPool2dForward" => avg_pool_forward,
        "cudaAvgPool2dBackward" => avg_pool_backward,
        "cudaGlobalAvgPoolForward" => gap_forward,
        "cudaGlobalAvgPoolBackward" => gap_backward,
        "cudaCrossEntropyForward" => ce_forward,
        "cudaCrossEntropyBackward" => ce_backward,
        "cudaAdamStep" => adam,
        "cudaSgdStep" => sgd,
    });
}
