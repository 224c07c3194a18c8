//! Bindings of the block mask kernels (src/native.ts "masks over blocks"): one mask element covers
//! `block` consecutive weights. Every length is checked before a kernel runs.

use super::check::{expect_shape, same_len};
use crate::export_fns;
use crate::kernels::mask_blocks as mb;
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

/// block >= 1 and w = m * block elements.
fn check_blocks(op: &str, w: usize, m: usize, block: usize) -> Result<(), String> {
    if block == 0 {
        return Err(format!("{op}: block must be >= 1, got 0"));
    }
    expect_shape(op, "w", w, "m*block", &[m, block])
}

/// maskedWeightBlocks(w, m, block, out)
fn masked_weight_blocks(a: &mut Args) -> OpResult {
    let (w, m, block, out) = (a.f32_in(0)?, a.f32_in(1)?, a.usize(2)?, a.f32_out(3)?);
    check_blocks(a.op, w.len(), m.len(), block)?;
    same_len(a.op, &[("w", w.len()), ("out", out.len())])?;
    mb::masked_weight_blocks(w, m, block, out);
    Ok(Ret::Undefined)
}

/// maskGradBlocks(gWeff, w, block, bound, gm)
fn mask_grad_blocks(a: &mut Args) -> OpResult {
    let (g, w, block, bound, gm) = (a.f32_in(0)?, a.f32_in(1)?, a.usize(2)?, a.f64(3)?, a.f32_out(4)?);
    same_len(a.op, &[("gWeff", g.len()), ("w", w.len())])?;
    check_blocks(a.op, w.len(), gm.len(), block)?;
    if bound.is_nan() || bound <= 0.0 {
        return Err(format!("{}: bound must be > 0 (Infinity for no clamp), got {bound}", a.op));
    }
    mb::mask_grad_blocks(g, w, block, bound as f32, gm);
    Ok(Ret::Undefined)
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "maskedWeightBlocks" => masked_weight_blocks,
        "maskGradBlocks" => mask_grad_blocks,
    });
}
