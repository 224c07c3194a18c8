//! Launchers of the block mask kernels (kernels/mask.cu), mirroring maskedWeightBlocks and
//! maskGradBlocks of src/native.ts: handles and lengths checked, then one kernel queued. Block 1
//! (with bound 1 for the gradient) runs the per-weight kernels, SeaM's weight granularity as before.

use super::context::Cuda;
use super::launch::{int, launch_1d, P};
use super::ops::{binary, no_alias, H};

/// The element count of w for m's elements times block, overflow and block 0 rejected.
fn covered(cx: &Cuda, op: &str, m: H, block: usize) -> Result<(usize, usize), String> {
    if block == 0 {
        return Err(format!("{op}: block must be >= 1, got 0"));
    }
    let nm = cx.buf(op, "m", m)?.len;
    let n = nm.checked_mul(block).ok_or_else(|| format!("{op}: {nm} mask elements x block {block} overflow"))?;
    Ok((nm, n))
}

/// out = w * (m > 0) with each element of m covering `block` consecutive elements of w.
pub fn masked_weight_blocks(cx: &mut Cuda, w: H, m: H, block: usize, out: H) -> Result<(), String> {
    let op = "cudaMaskedWeightBlocks";
    if block == 1 {
        return binary(cx, op, "masked_weight_f32", w, m, out);
    }
    no_alias(op, &[("out", out)], &[("w", w), ("m", m)])?;
    let (_, n) = covered(cx, op, m, block)?;
    let (pw, pm, po) = (cx.buf_len(op, "w", w, n)?, cx.buf(op, "m", m)?.ptr, cx.buf_len(op, "out", out, n)?);
    launch_1d(cx, op, "masked_weight_blocks_f32", n, &[P::Ptr(pw), P::Ptr(pm), P::Ptr(po), P::I32(int(op, "n", n)?), P::I32(int(op, "block", block)?)])
}

/// gm = clamp(block sums of g * w, -bound, bound).
pub fn mask_grad_blocks(cx: &mut Cuda, g: H, w: H, block: usize, bound: f64, gm: H) -> Result<(), String> {
    let op = "cudaMaskGradBlocks";
    if bound.is_nan() || bound <= 0.0 {
        return Err(format!("{op}: bound must be > 0 (Infinity for no clamp), got {bound}"));
    }
    if block == 1 && bound == 1.0 {
        return binary(cx, op, "mask_grad_f32", g, w, gm);
    }
    no_alias(op, &[("gm", gm)], &[("gWeff", g), ("w", w)])?;
    let (nm, n) = covered(cx, op, gm, block)?;
    let (pg, pw, po) = (cx.buf_len(op, "gWeff", g, n)?, cx.buf_len(op, "w", w, n)?, cx.buf(op, "gm", gm)?.ptr);
    launch_1d(cx, op, "mask_grad_blocks_f32", nm, &[P::Ptr(pg), P::Ptr(pw), P::Ptr(po), P::I32(int(op, "mask elements", nm)?),
        P::I32(int(op, "block", block)?), P::F32(bound as f32)])
}
