//! Bindings of the pooling kernels: max / average pooling with PoolParams
//! [N, C, H, W, KH, KW, strideH, strideW, padH, padW, dilH, dilW, ceilMode, countIncludePad],
//! and global average pooling over (nc, hw) planes.

use super::check::expect_shape;
use crate::export_fns;
use crate::kernels::nn::pooling::{self, PoolGeom};
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

fn in_dims(g: &PoolGeom) -> [usize; 4] { [g.n, g.c, g.h, g.w] }
fn out_dims(g: &PoolGeom) -> [usize; 4] { [g.n, g.c, g.oh, g.ow] }

/// maxPool2dForward(x, y, argmax, p)
fn max_forward(a: &mut Args) -> OpResult {
    let (x, y, am, p) = (a.f32_in(0)?, a.f32_out(1)?, a.i32_out(2)?, a.i32_in(3)?);
    let g = PoolGeom::parse(a.op, p, true)?;
    expect_shape(a.op, "x", x.len(), "N*C*H*W", &in_dims(&g))?;
    expect_shape(a.op, "y", y.len(), "N*C*outH*outW", &out_dims(&g))?;
    expect_shape(a.op, "argmax", am.len(), "N*C*outH*outW", &out_dims(&g))?;
    if g.h * g.w > i32::MAX as usize {
        return Err(format!("{}: a {}x{} plane does not fit Int32Array indices", a.op, g.h, g.w));
    }
    pooling::max_forward(x, y, am, &g);
    Ok(Ret::Undefined)
}

/// maxPool2dBackward(gy, argmax, gx, p)
fn max_backward(a: &mut Args) -> OpResult {
    let (gy, am, gx, p) = (a.f32_in(0)?, a.i32_in(1)?, a.f32_out(2)?, a.i32_in(3)?);
    let g = PoolGeom::parse(a.op, p, true)?;
    expect_shape(a.op, "gy", gy.len(), "N*C*outH*outW", &out_dims(&g))?;
    expect_shape(a.op, "argmax", am.len(), "N*C*outH*outW", &out_dims(&g))?;
    expect_shape(a.op, "gx", gx.len(), "N*C*H*W", &in_dims(&g))?;
    let plane = (g.h * g.w) as i64;
    if let Some((i, &v)) = am.iter().enumerate().find(|(_, &v)| (v as i64) < -1 || v as i64 >= plane) {
        return Err(format!("{}: argmax[{i}] = {v} is outside [-1, H*W = {plane})", a.op));
    }
    pooling::max_backward(gy, am, gx, &g);
    Ok(Ret::Undefined)
}

/// avgPool2dForward(x, y, p)
fn avg_forward(a: &mut Args) -> OpResult {
    let (x, y, p) = (a.f32_in(0)?, a.f32_out(1)?, a.i32_in(2)?);
    let g = PoolGeom::parse(a.op, p, false)?;
    expect_shape(a.op, "x", x.len(), "N*C*H*W", &in_dims(&g))?;
    expect_shape(a.op, "y", y.len(), "N*C*outH*outW", &out_dims(&g))?;
    pooling::avg_forward(x, y, &g);
    Ok(Ret::Undefined)
}

/// avgPool2dBackward(gy, gx, p)
fn avg_backward(a: &mut Args) -> OpResult {
    let (gy, gx, p) = (a.f32_in(0)?, a.f32_out(1)?, a.i32_in(2)?);
    let g = PoolGeom::parse(a.op, p, false)?;
    expect_shape(a.op, "gy", gy.len(), "N*C*outH*outW", &out_dims(&g))?;
    expect_shape(a.op, "gx", gx.len(), "N*C*H*W", &in_dims(&g))?;
    pooling::avg_backward(gy, gx, &g);
    Ok(Ret::Undefined)
}

fn check_hw(a: &Args, hw: usize) -> Result<(), String> {
    if hw == 0 {
        return Err(format!("{}: hw must be >= 1 (mean over an empty plane)", a.op));
    }
    Ok(())
}

/// globalAvgPoolForward(x, y, nc, hw)
fn global_forward(a: &mut Args) -> OpResult {
    let (x, y, nc, hw) = (a.f32_in(0)?, a.f32_out(1)?, a.usize(2)?, a.usize(3)?);
    check_hw(a, hw)?;
    expect_shape(a.op, "x", x.len(), "nc*hw", &[nc, hw])?;
    expect_shape(a.op, "y", y.len(), "nc", &[nc])?;
    pooling::global_avg_forward(x, y, nc, hw);
    Ok(Ret::Undefined)
}

/// globalAvgPoolBackward(gy, gx, nc, hw)
fn global_backward(a: &mut Args) -> OpResult {
    let (gy, gx, nc, hw) = (a.f32_in(0)?, a.f32_out(1)?, a.usize(2)?, a.usize(3)?);
    check_hw(a, hw)?;
    expect_shape(a.op, "gy", gy.len(), "nc", &[nc])?;
    expect_shape(a.op, "gx", gx.len(), "nc*hw", &[nc, hw])?;
    pooling::global_avg_backward(gy, gx, nc, hw);
    Ok(Ret::Undefined)
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "maxPool2dForward" => max_forward,
        "maxPool2dBackward" => max_backward,
        "avgPool2dForward" => avg_forward,
        "avgPool2dBackward" => avg_backward,
        "globalAvgPoolForward" => global_forward,
        "globalAvgPoolBackward" => global_backward,
    });
}
