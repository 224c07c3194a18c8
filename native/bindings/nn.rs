//! Bindings of the elementwise, mask and reduction kernels (src/native.ts "nn: elementwise and
//! masks"). Every length is checked before a kernel runs.

use super::check::{expect_shape, same_len};
use crate::export_fns;
use crate::kernels::{elementwise as ew, reduce};
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

/// (a, b, out) with equal lengths.
fn binary(a: &mut Args, f: fn(&[f32], &[f32], &mut [f32]), names: [&str; 3]) -> OpResult {
    let (x, y, out) = (a.f32_in(0)?, a.f32_in(1)?, a.f32_out(2)?);
    same_len(a.op, &[(names[0], x.len()), (names[1], y.len()), (names[2], out.len())])?;
    f(x, y, out);
    Ok(Ret::Undefined)
}

fn masked_weight(a: &mut Args) -> OpResult { binary(a, ew::masked_weight, ["w", "m", "out"]) }
fn mask_grad(a: &mut Args) -> OpResult { binary(a, ew::mask_grad, ["gWeff", "w", "gm"]) }
fn relu_backward(a: &mut Args) -> OpResult { binary(a, ew::relu_backward, ["y", "gy", "gx"]) }
fn add(a: &mut Args) -> OpResult { binary(a, ew::add, ["a", "b", "out"]) }
fn mul(a: &mut Args) -> OpResult { binary(a, ew::mul, ["a", "b", "out"]) }

fn count_positive(a: &mut Args) -> OpResult {
    let x = a.f32_in(0)?;
    Ok(Ret::Number(reduce::count_positive(x) as f64))
}

fn relu(a: &mut Args) -> OpResult {
    let (x, y) = (a.f32_in(0)?, a.f32_out(1)?);
    same_len(a.op, &[("x", x.len()), ("y", y.len())])?;
    ew::relu(x, y);
    Ok(Ret::Undefined)
}

/// scale(a, s, out)
fn scale(a: &mut Args) -> OpResult {
    let (x, s, out) = (a.f32_in(0)?, a.f32(1)?, a.f32_out(2)?);
    same_len(a.op, &[("a", x.len()), ("out", out.len())])?;
    ew::scale(x, s, out);
    Ok(Ret::Undefined)
}

/// axpy(alpha, x, y): y += alpha * x
fn axpy(a: &mut Args) -> OpResult {
    let (alpha, x, y) = (a.f32(0)?, a.f32_in(1)?, a.f32_out(2)?);
    same_len(a.op, &[("x", x.len()), ("y", y.len())])?;
    ew::axpy(alpha, x, y);
    Ok(Ret::Undefined)
}

/// addScalar(x, s): x += s
fn add_scalar(a: &mut Args) -> OpResult {
    let (x, s) = (a.f32_out(0)?, a.f32(1)?);
    ew::add_scalar(x, s);
    Ok(Ret::Undefined)
}

/// addRowBias(y, b, rows, cols)
fn add_row_bias(a: &mut Args) -> OpResult {
    let (y, b, rows, cols) = (a.f32_out(0)?, a.f32_in(1)?, a.usize(2)?, a.usize(3)?);
    expect_shape(a.op, "y", y.len(), "rows*cols", &[rows, cols])?;
    expect_shape(a.op, "b", b.len(), "cols", &[cols])?;
    ew::add_row_bias(y, b, rows, cols);
    Ok(Ret::Undefined)
}

/// sumRows(g, out, rows, cols)
fn sum_rows(a: &mut Args) -> OpResult {
    let (g, out, rows, cols) = (a.f32_in(0)?, a.f32_out(1)?, a.usize(2)?, a.usize(3)?);
    expect_shape(a.op, "g", g.len(), "rows*cols", &[rows, cols])?;
    expect_shape(a.op, "out", out.len(), "cols", &[cols])?;
    reduce::sum_rows(g, out, rows, cols);
    Ok(Ret::Undefined)
}

fn sum(a: &mut Args) -> OpResult {
    let x = a.f32_in(0)?;
    Ok(Ret::Number(reduce::sum(x)))
}

/// argmax(x, out, rows, cols)
fn argmax(a: &mut Args) -> OpResult {
    let (x, out, rows, cols) = (a.f32_in(0)?, a.i32_out(1)?, a.usize(2)?, a.usize(3)?);
    expect_shape(a.op, "x", x.len(), "rows*cols", &[rows, cols])?;
    expect_shape(a.op, "out", out.len(), "rows", &[rows])?;
    if rows > 0 && cols == 0 {
        return Err(format!("{}: cols must be >= 1 when rows > 0 (rows = {rows})", a.op));
    }
    if cols > i32::MAX as usize {
        return Err(format!("{}: cols = {cols} does not fit an Int32Array index", a.op));
    }
    reduce::argmax(x, out, rows, cols);
    Ok(Ret::Undefined)
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "maskedWeight" => masked_weight,
        "maskGrad" => mask_grad,
        "countPositive" => count_positive,
        "relu" => relu,
        "reluBackward" => relu_backward,
        "add" => add,
        "mul" => mul,
        "scale" => scale,
        "axpy" => axpy,
        "addScalar" => add_scalar,
        "addRowBias" => add_row_bias,
        "sumRows" => sum_rows,
        "sum" => sum,
        "argmax" => argmax,
    });
}
