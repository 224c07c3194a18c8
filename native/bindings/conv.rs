//! Conv2d (NCHW f32) bindings. params: Int32Array [N,C,H,W,O,KH,KW,SH,SW,PH,PW,DH,DW,G].
//! Every buffer length is checked against the params before a kernel runs.

use crate::export_fns;
use crate::kernels::conv::conv2d::{conv2d_backward_data, conv2d_backward_weight, conv2d_forward, conv2d_forward_epi};
use crate::kernels::conv::epilogue::Epilogue;
use crate::kernels::conv::im2col::ConvShape;
use crate::kernels::sparse::train::{self as sparse_train, Pass};
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

fn shape(a: &mut Args, i: usize) -> Result<ConvShape, String> {
    let p = a.i32_in(i)?;
    ConvShape::from_params(a.op, p)
}

/// Names the buffer, its expected size as a product and the conv geometry.
fn expect(op: &str, s: &ConvShape, name: &str, got: usize, dims: &str, vals: &[usize]) -> Result<(), String> {
    let want: usize = vals.iter().product();
    if got != want {
        let prod = vals.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("*");
        return Err(format!("{op}: {name} has {got} elements, expected {dims} = {prod}={want} ({})", s.describe()));
    }
    Ok(())
}

fn expect_x(op: &str, s: &ConvShape, name: &str, got: usize) -> Result<(), String> {
    expect(op, s, name, got, "N*C*H*W", &[s.n, s.c, s.h, s.w])
}
fn expect_y(op: &str, s: &ConvShape, name: &str, got: usize) -> Result<(), String> {
    expect(op, s, name, got, "N*O*OH*OW", &[s.n, s.o, s.oh, s.ow])
}
fn expect_w(op: &str, s: &ConvShape, name: &str, got: usize) -> Result<(), String> {
    expect(op, s, name, got, "O*(C/G)*KH*KW", &[s.o, s.cg(), s.kh, s.kw])
}

/// conv2dForward(x, w, bias | null, y, params)
fn forward(a: &mut Args) -> OpResult {
    let op = a.op;
    let s = shape(a, 4)?;
    let x = a.f32_in(0)?;
    let w = a.f32_in(1)?;
    let bias = a.f32_in_opt(2)?;
    let y = a.f32_out(3)?;
    expect_x(op, &s, "x", x.len())?;
    expect_w(op, &s, "w", w.len())?;
    expect_y(op, &s, "y", y.len())?;
    if let Some(b) = bias {
        expect(op, &s, "bias", b.len(), "O", &[s.o])?;
    }
    conv2d_forward(&s, x, w, bias, y);
    Ok(Ret::Undefined)
}

/// conv2dBackwardData(gy, w, gx, params)
fn backward_data(a: &mut Args) -> OpResult {
    let op = a.op;
    let s = shape(a, 3)?;
    let gy = a.f32_in(0)?;
    let w = a.f32_in(1)?;
    let gx = a.f32_out(2)?;
    expect_y(op, &s, "gy", gy.len())?;
    expect_w(op, &s, "w", w.len())?;
    expect_x(op, &s, "gx", gx.len())?;
    conv2d_backward_data(&s, gy, w, gx);
    Ok(Ret::Undefined)
}

/// conv2dBackwardWeight(x, gy, gw, gb | null, params)
fn backward_weight(a: &mut Args) -> OpResult {
    let op = a.op;
    let s = shape(a, 4)?;
    let x = a.f32_in(0)?;
    let gy = a.f32_in(1)?;
    let gw = a.f32_out(2)?;
    let gb = a.f32_out_opt(3)?;
    expect_x(op, &s, "x", x.len())?;
    expect_y(op, &s, "gy", gy.len())?;
    expect_w(op, &s, "gw", gw.len())?;
    if let Some(b) = gb.as_deref() {
        expect(op, &s, "gb", b.len(), "O", &[s.o])?;
    }
    conv2d_backward_weight(&s, x, gy, gw, gb);
    Ok(Ret::Undefined)
}

/// conv2dForwardBnRelu(x, w, bias | null, y, params, gamma, beta, runningMean, runningVar, eps,
///                     res | null, saveMean, saveInvstd): y = relu(bn_eval(conv(x, w) + bias) + res)
fn forward_bn_relu(a: &mut Args) -> OpResult {
    let op = a.op;
    let s = shape(a, 4)?;
    let (x, w, bias, y) = (a.f32_in(0)?, a.f32_in(1)?, a.f32_in_opt(2)?, a.f32_out(3)?);
    let (gamma, beta, rm, rv, eps) = (a.f32_in(5)?, a.f32_in(6)?, a.f32_in(7)?, a.f32_in(8)?, a.f64(9)?);
    let (res, sm, si) = (a.f32_in_opt(10)?, a.f32_out(11)?, a.f32_out(12)?);
    expect_x(op, &s, "x", x.len())?;
    expect_w(op, &s, "w", w.len())?;
    expect_y(op, &s, "y", y.len())?;
    if let Some(r) = res {
        expect_y(op, &s, "res", r.len())?;
    }
    for (name, len) in [("bias", bias.map(|b| b.len())), ("gamma", Some(gamma.len())), ("beta", Some(beta.len())),
                        ("runningMean", Some(rm.len())), ("runningVar", Some(rv.len())),
                        ("saveMean", Some(sm.len())), ("saveInvstd", Some(si.len()))] {
        if let Some(len) = len {
            expect(op, &s, name, len, "O", &[s.o])?;
        }
    }
    if !(eps.is_finite() && eps >= 0.0) {
        return Err(format!("{op}: eps must be a finite number >= 0, got {eps}"));
    }
    let epi = Epilogue::bn_eval(gamma, beta, rm, rv, eps, res, sm, si);
    conv2d_forward_epi(&s, x, w, bias, y, Some(&epi));
    Ok(Ret::Undefined)
}

/// convSparseMode(mode: 0 auto | 1 off | 2 on) -> the previous mode: whether training
/// convolutions may run over the kept weights only (sparse/train.rs).
fn sparse_mode(a: &mut Args) -> OpResult {
    let m = a.usize(0)?;
    if m > 2 {
        return Err(format!("{}: mode must be 0 (auto), 1 (off) or 2 (on), got {m}", a.op));
    }
    let prev = sparse_train::mode();
    sparse_train::set_mode(m as u8);
    Ok(Ret::Number(prev as f64))
}

/// convSparseStats(reset) -> JSON {"forward":[denseFlops, sparseFlops], "dataGrad":[...]} since
/// the last reset (dense-equivalent FLOPs of the convolutions that ran each way).
fn sparse_stats(a: &mut Args) -> OpResult {
    let [f, d] = sparse_train::stats(a.bool(0)?);
    Ok(Ret::Str(format!("{{\"forward\":[{},{}],\"dataGrad\":[{},{}]}}", f[0], f[1], d[0], d[1])))
}

/// convTrace(enable) -> JSON rows [pass, params[14], density, sparse] recorded since the last
/// call (empty when tracing was off); tracing is on afterwards iff `enable`.
fn trace(a: &mut Args) -> OpResult {
    let on = a.bool(0)?;
    let mut t = sparse_train::TRACE.lock().unwrap_or_else(|e| e.into_inner());
    let rows = std::mem::replace(&mut *t, on.then(Vec::new)).unwrap_or_default();
    let body: Vec<String> = rows.iter().map(|r| {
        let p: Vec<String> = r.params.iter().map(|v| v.to_string()).collect();
        let pass = if r.pass == Pass::Forward { "forward" } else { "dataGrad" };
        format!("[\"{pass}\",[{}],{},{}]", p.join(","), r.density, r.sparse)
    }).collect();
    Ok(Ret::Str(format!("[{}]", body.join(","))))
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "conv2dForward" => forward,
        "conv2dForwardBnRelu" => forward_bn_relu,
        "conv2dBackwardData" => backward_data,
        "conv2dBackwardWeight" => backward_weight,
        "convSparseMode" => sparse_mode,
        "convSparseStats" => sparse_stats,
        "convTrace" => trace,
    });
}
