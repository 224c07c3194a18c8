//! Inference bindings: sparse conv (CSR pack + forward with fused bias/residual/ReLU) and the
//! dense conv with the same fused epilogue. params as for conv2dForward (Int32Array of 14);
//! a Linear layer is the 1x1 conv [N, in, 1, 1, out, 1, 1, 1, 1, 0, 0, 1, 1, 1].

use crate::export_fns;
use crate::kernels::conv::im2col::ConvShape;
use crate::kernels::infer::dense::dense_conv_fused;
use crate::kernels::infer::max_pool::max_pool_2x2;
use crate::kernels::nn::pooling::PoolGeom;
use crate::kernels::sparse::csr::{choose_geom, count_nonzero, pack, SparseGeom};
use crate::kernels::sparse::forward::{sparse_conv_forward, Epilogue};
use crate::napi::{expect_len, napi_env, napi_value, Args, OpResult, Ret};

fn shape(a: &mut Args, i: usize) -> Result<ConvShape, String> {
    let p = a.i32_in(i)?;
    ConvShape::from_params(a.op, p)
}

/// sparseConvChoose(params) -> mode * 256 + tile (mode 0 direct, 1 panel, 2 lanes).
fn choose(a: &mut Args) -> OpResult {
    let s = shape(a, 0)?;
    let g = choose_geom(&s);
    Ok(Ret::Number((g.mode.code() * 256 + g.tile) as f64))
}

/// sparseCountNonzero(w) -> number of nonzero elements.
fn count(a: &mut Args) -> OpResult {
    let w = a.f32_in(0)?;
    Ok(Ret::Number(count_nonzero(w) as f64))
}

/// sparseConvPack(w, params, mode, tile, rowPtr: Int32Array(O+1), offs: Int32Array(nnz), vals: Float32Array(nnz))
fn pack_binding(a: &mut Args) -> OpResult {
    let op = a.op;
    let s = shape(a, 1)?;
    let g = SparseGeom::new(op, &s, a.usize(2)?, a.usize(3)?)?;
    let w = a.f32_in(0)?;
    let row_ptr = a.i32_out(4)?;
    let offs = a.i32_out(5)?;
    let vals = a.f32_out(6)?;
    expect_len(op, "w", w.len(), s.w_len())?;
    expect_len(op, "rowPtr", row_ptr.len(), s.o + 1)?;
    let nnz = count_nonzero(w);
    expect_len(op, "offs", offs.len(), nnz)?;
    expect_len(op, "vals", vals.len(), nnz)?;
    if g.max_offset(&s) > i32::MAX as usize || nnz > i32::MAX as usize {
        return Err(format!("{op}: the layer is too large for 32-bit offsets ({})", s.describe()));
    }
    pack(&s, &g, w, row_ptr, offs, vals);
    Ok(Ret::Undefined)
}

/// sparseConvForward(x, rowPtr, offs, vals, bias | null, residual | null, y, params, mode, tile, relu)
fn forward(a: &mut Args) -> OpResult {
    let op = a.op;
    let s = shape(a, 7)?;
    let g = SparseGeom::new(op, &s, a.usize(8)?, a.usize(9)?)?;
    let relu = a.bool(10)?;
    let x = a.f32_in(0)?;
    let row_ptr = a.i32_in(1)?;
    let offs = a.i32_in(2)?;
    let vals = a.f32_in(3)?;
    let bias = a.f32_in_opt(4)?;
    let residual = a.f32_in_opt(5)?;
    let y = a.f32_out(6)?;
    let ep = Epilogue { bias, residual, relu };
    sparse_conv_forward(op, &s, &g, x, row_ptr, offs, vals, &ep, y)?;
    Ok(Ret::Undefined)
}

/// denseConvFused(x, w, bias | null, residual | null, y, params, relu)
fn dense(a: &mut Args) -> OpResult {
    let op = a.op;
    let s = shape(a, 5)?;
    let relu = a.bool(6)?;
    let x = a.f32_in(0)?;
    let w = a.f32_in(1)?;
    let bias = a.f32_in_opt(2)?;
    let residual = a.f32_in_opt(3)?;
    let y = a.f32_out(4)?;
    dense_conv_fused(op, &s, x, w, &Epilogue { bias, residual, relu }, y)?;
    Ok(Ret::Undefined)
}

/// maxPool2x2Infer(x, y, poolParams): 2x2 window, stride 2, no padding, dilation 1, floor mode.
fn max_pool(a: &mut Args) -> OpResult {
    let op = a.op;
    let g = PoolGeom::parse(op, a.i32_in(2)?, true)?;
    if (g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.ceil) != (2, 2, 2, 2, 0, 0, 1, 1, false) {
        return Err(format!("{op}: only the 2x2 window with stride 2, no padding, dilation 1, floor mode is supported"));
    }
    let x = a.f32_in(0)?;
    let y = a.f32_out(1)?;
    expect_len(op, "x", x.len(), g.in_len())?;
    expect_len(op, "y", y.len(), g.out_len())?;
    max_pool_2x2(x, y, g.planes(), g.h, g.w);
    Ok(Ret::Undefined)
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "sparseConvChoose" => choose,
        "sparseCountNonzero" => count,
        "sparseConvPack" => pack_binding,
        "sparseConvForward" => forward,
        "denseConvFused" => dense,
        "maxPool2x2Infer" => max_pool,
    });
}
