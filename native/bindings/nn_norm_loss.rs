//! Bindings of BatchNorm2d (forward / backward, train and eval) and cross-entropy.

use super::check::{expect_shape, in_range};
use crate::export_fns;
use crate::kernels::nn::batchnorm::{self, BnConfig, BnShape};
use crate::kernels::nn::loss;
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

/// batchNorm2dForward(x, gamma, beta, runningMean, runningVar, y, saveMean, saveInvstd,
///                    n, c, hw, training, momentum, eps)
fn bn_forward(a: &mut Args) -> OpResult {
    let (x, gamma, beta) = (a.f32_in(0)?, a.f32_in(1)?, a.f32_in(2)?);
    let (rm, rv, y, sm, si) = (a.f32_out(3)?, a.f32_out(4)?, a.f32_out(5)?, a.f32_out(6)?, a.f32_out(7)?);
    let (n, c, hw, training) = (a.usize(8)?, a.usize(9)?, a.usize(10)?, a.bool(11)?);
    let (momentum, eps) = (a.f64(12)?, a.f64(13)?);
    let op = a.op;
    expect_shape(op, "x", x.len(), "n*c*hw", &[n, c, hw])?;
    expect_shape(op, "y", y.len(), "n*c*hw", &[n, c, hw])?;
    for (name, len) in [("gamma", gamma.len()), ("beta", beta.len()), ("runningMean", rm.len()),
                        ("runningVar", rv.len()), ("saveMean", sm.len()), ("saveInvstd", si.len())] {
        expect_shape(op, name, len, "c", &[c])?;
    }
    in_range(op, "momentum", momentum, 0.0, 1.0, false)?;
    in_range(op, "eps", eps, 0.0, f64::MAX, false)?;
    if training && n.saturating_mul(hw) < 2 {
        return Err(format!("{op}: training needs more than 1 value per channel, got n*hw = {n}*{hw} = {}", n * hw));
    }
    let cfg = BnConfig { training, momentum, eps };
    batchnorm::forward(x, gamma, beta, rm, rv, y, sm, si, BnShape { n, c, hw }, cfg);
    Ok(Ret::Undefined)
}

/// batchNorm2dBackward(x, gy, gamma, saveMean, saveInvstd, gx, ggamma|null, gbeta|null,
///                     n, c, hw, training)
fn bn_backward(a: &mut Args) -> OpResult {
    let (x, gy, gamma, sm, si) = (a.f32_in(0)?, a.f32_in(1)?, a.f32_in(2)?, a.f32_in(3)?, a.f32_in(4)?);
    let (gx, gg, gb) = (a.f32_out(5)?, a.f32_out_opt(6)?, a.f32_out_opt(7)?);
    let (n, c, hw, training) = (a.usize(8)?, a.usize(9)?, a.usize(10)?, a.bool(11)?);
    let op = a.op;
    for (name, len) in [("x", x.len()), ("gy", gy.len()), ("gx", gx.len())] {
        expect_shape(op, name, len, "n*c*hw", &[n, c, hw])?;
    }
    for (name, len) in [("gamma", Some(gamma.len())), ("saveMean", Some(sm.len())), ("saveInvstd", Some(si.len())),
                        ("ggamma", gg.as_ref().map(|v| v.len())), ("gbeta", gb.as_ref().map(|v| v.len()))] {
        if let Some(len) = len {
            expect_shape(op, name, len, "c", &[c])?;
        }
    }
    if training && n.saturating_mul(hw) < 2 {
        return Err(format!("{op}: training needs more than 1 value per channel, got n*hw = {n}*{hw} = {}", n * hw));
    }
    batchnorm::backward(x, gy, gamma, sm, si, gx, gg, gb, BnShape { n, c, hw }, training);
    Ok(Ret::Undefined)
}

/// batchNormReluEvalForward(x, res|null, gamma, beta, runningMean, runningVar, y, saveMean, saveInvstd,
///                          n, c, hw, eps): y = relu(bn_eval(x) + res)
fn bn_relu_forward(a: &mut Args) -> OpResult {
    let (x, res, gamma, beta) = (a.f32_in(0)?, a.f32_in_opt(1)?, a.f32_in(2)?, a.f32_in(3)?);
    let (rm, rv, y, sm, si) = (a.f32_in(4)?, a.f32_in(5)?, a.f32_out(6)?, a.f32_out(7)?, a.f32_out(8)?);
    let (n, c, hw, eps) = (a.usize(9)?, a.usize(10)?, a.usize(11)?, a.f64(12)?);
    let op = a.op;
    for (name, len) in [("x", Some(x.len())), ("res", res.map(|r| r.len())), ("y", Some(y.len()))] {
        if let Some(len) = len {
            expect_shape(op, name, len, "n*c*hw", &[n, c, hw])?;
        }
    }
    for (name, len) in [("gamma", gamma.len()), ("beta", beta.len()), ("runningMean", rm.len()),
                        ("runningVar", rv.len()), ("saveMean", sm.len()), ("saveInvstd", si.len())] {
        expect_shape(op, name, len, "c", &[c])?;
    }
    in_range(op, "eps", eps, 0.0, f64::MAX, false)?;
    batchnorm::eval_relu_forward(x, res, gamma, beta, rm, rv, eps, y, sm, si, BnShape { n, c, hw });
    Ok(Ret::Undefined)
}

/// batchNormReluEvalBackward(y, gy, gamma, saveInvstd, gx|null, gres|null, n, c, hw)
fn bn_relu_backward(a: &mut Args) -> OpResult {
    let (y, gy, gamma, si) = (a.f32_in(0)?, a.f32_in(1)?, a.f32_in(2)?, a.f32_in(3)?);
    let (gx, gres) = (a.f32_out_opt(4)?, a.f32_out_opt(5)?);
    let (n, c, hw) = (a.usize(6)?, a.usize(7)?, a.usize(8)?);
    let op = a.op;
    for (name, len) in [("y", Some(y.len())), ("gy", Some(gy.len())), ("gx", gx.as_ref().map(|v| v.len())),
                        ("gres", gres.as_ref().map(|v| v.len()))] {
        if let Some(len) = len {
            expect_shape(op, name, len, "n*c*hw", &[n, c, hw])?;
        }
    }
    expect_shape(op, "gamma", gamma.len(), "c", &[c])?;
    expect_shape(op, "saveInvstd", si.len(), "c", &[c])?;
    batchnorm::eval_relu_backward(y, gy, gamma, si, gx, gres, BnShape { n, c, hw });
    Ok(Ret::Undefined)
}

fn check_rows_classes(op: &str, rows: usize, classes: usize) -> Result<(), String> {
    if rows == 0 || classes == 0 {
        return Err(format!("{op}: rows and classes must be >= 1, got rows = {rows}, classes = {classes}"));
    }
    Ok(())
}

/// crossEntropyForward(logits, labels, probs, rows, classes) -> mean NLL
fn ce_forward(a: &mut Args) -> OpResult {
    let (z, t, p, rows, classes) = (a.f32_in(0)?, a.i32_in(1)?, a.f32_out(2)?, a.usize(3)?, a.usize(4)?);
    let op = a.op;
    check_rows_classes(op, rows, classes)?;
    expect_shape(op, "logits", z.len(), "rows*classes", &[rows, classes])?;
    expect_shape(op, "probs", p.len(), "rows*classes", &[rows, classes])?;
    expect_shape(op, "labels", t.len(), "rows", &[rows])?;
    loss::check_labels(op, t, classes)?;
    Ok(Ret::Number(loss::cross_entropy_forward(z, t, p, rows, classes)))
}

/// crossEntropyBackward(probs, labels, gx, rows, classes, scale)
fn ce_backward(a: &mut Args) -> OpResult {
    let (p, t, gx) = (a.f32_in(0)?, a.i32_in(1)?, a.f32_out(2)?);
    let (rows, classes, scale) = (a.usize(3)?, a.usize(4)?, a.f32(5)?);
    let op = a.op;
    check_rows_classes(op, rows, classes)?;
    expect_shape(op, "probs", p.len(), "rows*classes", &[rows, classes])?;
    expect_shape(op, "gx", gx.len(), "rows*classes", &[rows, classes])?;
    expect_shape(op, "labels", t.len(), "rows", &[rows])?;
    loss::check_labels(op, t, classes)?;
    loss::cross_entropy_backward(p, t, gx, rows, classes, scale);
    Ok(Ret::Undefined)
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "batchNorm2dForward" => bn_forward,
        "batchNorm2dBackward" => bn_backward,
        "batchNormReluEvalForward" => bn_relu_forward,
        "batchNormReluEvalBackward" => bn_relu_backward,
        "crossEntropyForward" => ce_forward,
        "crossEntropyBackward" => ce_backward,
    });
}
