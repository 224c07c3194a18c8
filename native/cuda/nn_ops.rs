//! Launchers over device handles for BatchNorm2d and pooling, mirroring the CPU ops of the same
//! names in src/native.ts (pool params: [N, C, H, W, KH, KW, sH, sW, pH, pW, dH, dW, ceil, countIncludePad]).

use super::context::Cuda;
use super::launch::{int, launch, launch_1d, P, THREADS};
use super::ops::{no_alias, row_sum_raw, H};

/// Pooling geometry checked like PyTorch, with its output size.
pub struct PoolGeom {
    pub n: usize, pub c: usize, pub h: usize, pub w: usize,
    pub kh: usize, pub kw: usize, pub sh: usize, pub sw: usize, pub ph: usize, pub pw: usize, pub dh: usize, pub dw: usize,
    pub ceil: bool, pub count_include_pad: bool, pub oh: usize, pub ow: usize,
}

fn pool_out(op: &str, inp: usize, k: usize, s: usize, p: usize, d: usize, ceil: bool) -> Result<usize, String> {
    if k == 0 || s == 0 || d == 0 {
        return Err(format!("{op}: kernel, stride and dilation must be positive"));
    }
    if 2 * p > k {
        return Err(format!("{op}: padding {p} must be at most half the kernel size {k}"));
    }
    let span = d * (k - 1) + 1;
    if inp + 2 * p < span {
        return Err(format!("{op}: input size {inp} (padded {}) is smaller than the window {span}", inp + 2 * p));
    }
    let num = inp + 2 * p - span + if ceil { s - 1 } else { 0 };
    let mut o = num / s + 1;
    if ceil && (o - 1) * s >= inp + p {
        o -= 1;
    }
    Ok(o)
}

impl PoolGeom {
    pub fn parse(op: &str, p: &[i32]) -> Result<PoolGeom, String> {
        if p.len() != 14 || p.iter().any(|&v| v < 0) {
            return Err(format!("{op}: pool params must be 14 non-negative ints [N,C,H,W,KH,KW,sH,sW,pH,pW,dH,dW,ceil,countIncludePad], got {p:?}"));
        }
        let u = |i: usize| p[i] as usize;
        let oh = pool_out(op, u(2), u(4), u(6), u(8), u(10), p[12] != 0)?;
        let ow = pool_out(op, u(3), u(5), u(7), u(9), u(11), p[12] != 0)?;
        Ok(PoolGeom { n: u(0), c: u(1), h: u(2), w: u(3), kh: u(4), kw: u(5), sh: u(6), sw: u(7), ph: u(8), pw: u(9),
                      dh: u(10), dw: u(11), ceil: p[12] != 0, count_include_pad: p[13] != 0, oh, ow })
    }
    pub fn in_len(&self) -> usize { self.n * self.c * self.h * self.w }
    pub fn out_len(&self) -> usize { self.n * self.c * self.oh * self.ow }
    /// SeamPoolGeom of kernels/pool.cu
    fn kernel_struct(&self, op: &str) -> Result<P, String> {
        let v = [self.n * self.c, self.h, self.w, self.kh, self.kw, self.sh, self.sw, self.ph, self.pw, self.dh, self.dw, self.oh, self.ow];
        let mut out = Vec::with_capacity(13);
        for x in v {
            out.push(int(op, "pool size", x)?);
        }
        int(op, "pool elements", self.in_len().max(self.out_len()))?;
        Ok(P::Ints(out))
    }
}

pub fn max_pool_forward(cx: &mut Cuda, x: H, y: H, argmax: H, p: &[i32]) -> Result<(), String> {
    let op = "cudaMaxPool2dForward";
    let g = PoolGeom::parse(op, p)?;
    no_alias(op, &[("y", y), ("argmax", argmax)], &[("x", x)])?;
    let (px, py, pa) = (cx.buf_len(op, "x", x, g.in_len())?, cx.buf_len(op, "y", y, g.out_len())?, cx.buf_len(op, "argmax", argmax, g.out_len())?);
    let s = g.kernel_struct(op)?;
    launch_1d(cx, op, "max_pool2d_forward_f32", g.out_len(), &[P::Ptr(px), P::Ptr(py), P::Ptr(pa), s])
}

pub fn max_pool_backward(cx: &mut Cuda, gy: H, argmax: H, gx: H, p: &[i32]) -> Result<(), String> {
    let op = "cudaMaxPool2dBackward";
    let g = PoolGeom::parse(op, p)?;
    no_alias(op, &[("gx", gx)], &[("gy", gy), ("argmax", argmax)])?;
    let (pg, pa, px) = (cx.buf_len(op, "gy", gy, g.out_len())?, cx.buf_len(op, "argmax", argmax, g.out_len())?, cx.buf_len(op, "gx", gx, g.in_len())?);
    let s = g.kernel_struct(op)?;
    launch_1d(cx, op, "max_pool2d_backward_f32", g.in_len(), &[P::Ptr(pg), P::Ptr(pa), P::Ptr(px), s])
}

pub fn avg_pool(cx: &mut Cuda, backward: bool, a: H, b: H, p: &[i32]) -> Result<(), String> {
    let op = if backward { "cudaAvgPool2dBackward" } else { "cudaAvgPool2dForward" };
    let g = PoolGeom::parse(op, p)?;
    if g.dh != 1 || g.dw != 1 {
        return Err(format!("{op}: average pooling has no dilation (got {}, {})", g.dh, g.dw));
    }
    no_alias(op, &[("output", b)], &[("input", a)])?;
    let (la, lb) = if backward { (g.out_len(), g.in_len()) } else { (g.in_len(), g.out_len()) };
    let (pa, pb) = (cx.buf_len(op, if backward { "gy" } else { "x" }, a, la)?, cx.buf_len(op, if backward { "gx" } else { "y" }, b, lb)?);
    let s = g.kernel_struct(op)?;
    let k = if backward { "avg_pool2d_backward_f32" } else { "avg_pool2d_forward_f32" };
    launch_1d(cx, op, k, lb, &[P::Ptr(pa), P::Ptr(pb), s, P::I32(g.count_include_pad as i32)])
}

pub fn global_avg_pool(cx: &mut Cuda, backward: bool, a: H, b: H, nc: usize, hw: usize) -> Result<(), String> {
    let op = if backward { "cudaGlobalAvgPoolBackward" } else { "cudaGlobalAvgPoolForward" };
    if hw == 0 {
        return Err(format!("{op}: hw must be positive"));
    }
    no_alias(op, &[("output", b)], &[("input", a)])?;
    int(op, "nc * hw", nc * hw)?;
    if backward {
        let (pa, pb) = (cx.buf_len(op, "gy", a, nc)?, cx.buf_len(op, "gx", b, nc * hw)?);
        launch_1d(cx, op, "global_avg_pool_backward_f32", nc * hw, &[P::Ptr(pa), P::Ptr(pb), P::I32(nc as i32), P::I32(hw as i32)])
    } else {
        let (pa, pb) = (cx.buf_len(op, "x", a, nc * hw)?, cx.buf_len(op, "y", b, nc)?);
        row_sum_raw(cx, op, pa, pb, nc, hw, 1.0 / hw as f32, false)
    }
}

/// Handles of batchNorm2dForward, in its argument order.
pub struct BnForward { pub x: H, pub gamma: H, pub beta: H, pub rmean: H, pub rvar: H, pub y: H, pub smean: H, pub sinvstd: H }

#[allow(clippy::too_many_arguments)]
pub fn batch_norm_forward(cx: &mut Cuda, b: &BnForward, n: usize, c: usize, hw: usize, training: bool, momentum: f32, eps: f32) -> Result<(), String> {
    let op = "cudaBatchNorm2dForward";
    let total = n * c * hw;
    int(op, "n * c * hw", total)?;
    if training && n * hw < 2 {
        return Err(format!("{op}: expected more than 1 value per channel when training (n * hw = {})", n * hw));
    }
    no_alias(op, &[("y", b.y), ("saveMean", b.smean), ("saveInvstd", b.sinvstd)],
             &[("x", b.x), ("gamma", b.gamma), ("beta", b.beta), ("runningMean", b.rmean), ("runningVar", b.rvar)])?;
    if training {
        no_alias(op, &[("runningMean", b.rmean), ("runningVar", b.rvar)], &[("x", b.x), ("gamma", b.gamma), ("beta", b.beta)])?;
    }
    let ps = [
        P::Ptr(cx.buf_len(op, "x", b.x, total)?), P::Ptr(cx.buf_len(op, "gamma", b.gamma, c)?), P::Ptr(cx.buf_len(op, "beta", b.beta, c)?),
        P::Ptr(cx.buf_len(op, "runningMean", b.rmean, c)?), P::Ptr(cx.buf_len(op, "runningVar", b.rvar, c)?),
        P::Ptr(cx.buf_len(op, "y", b.y, total)?), P::Ptr(cx.buf_len(op, "saveMean", b.smean, c)?),
        P::Ptr(cx.buf_len(op, "saveInvstd", b.sinvstd, c)?), P::I32(n as i32), P::I32(c as i32), P::I32(hw as i32),
    ];
    if c == 0 || total == 0 {
        return Ok(());
    }
    if training {
        let mut ps: Vec<P> = ps.into_iter().collect();
        ps.push(P::F32(momentum));
        ps.push(P::F32(eps));
        launch(cx, op, "batch_norm2d_train_forward_f32", (int(op, "c", c)? as u32, 1, 1), THREADS, &ps)
    } else {
        let mut ps: Vec<P> = ps.into_iter().collect();
        ps.push(P::F32(eps));
        launch_1d(cx, op, "batch_norm2d_eval_forward_f32", total, &ps)
    }
}

/// Handles of batchNorm2dBackward, in its argument order (ggamma / gbeta optional).
pub struct BnBackward { pub x: H, pub gy: H, pub gamma: H, pub smean: H, pub sinvstd: H, pub gx: H, pub ggamma: Option<H>, pub gbeta: Option<H> }

pub fn batch_norm_backward(cx: &mut Cuda, b: &BnBackward, n: usize, c: usize, hw: usize, training: bool) -> Result<(), String> {
    let op = "cudaBatchNorm2dBackward";
    let total = n * c * hw;
    int(op, "n * c * hw", total)?;
    let ins = [("x", b.x), ("gy", b.gy), ("gamma", b.gamma), ("saveMean", b.smean), ("saveInvstd", b.sinvstd)];
    let mut outs = vec![("gx", b.gx)];
    if let Some(h) = b.ggamma { outs.push(("ggamma", h)); }
    if let Some(h) = b.gbeta { outs.push(("gbeta", h)); }
    no_alias(op, &outs, &ins)?;
    let opt = |cx: &Cuda, name: &str, h: Option<H>| -> Result<u64, String> { h.map_or(Ok(0), |h| cx.buf_len(op, name, h, c)) };
    let (px, pgy, pgamma) = (cx.buf_len(op, "x", b.x, total)?, cx.buf_len(op, "gy", b.gy, total)?, cx.buf_len(op, "gamma", b.gamma, c)?);
    let (pmean, pinvstd) = (cx.buf_len(op, "saveMean", b.smean, c)?, cx.buf_len(op, "saveInvstd", b.sinvstd, c)?);
    let pgx = cx.buf_len(op, "gx", b.gx, total)?;
    if c == 0 {
        return Ok(());
    }
    if !training && b.ggamma.is_none() && b.gbeta.is_none() {
        // nothing to reduce: one elementwise pass over every pixel instead of one block per channel
        let ps = [P::Ptr(pgy), P::Ptr(pgamma), P::Ptr(pinvstd), P::Ptr(pgx), P::I32(c as i32), P::I32(hw as i32), P::I64(total as i64)];
        return launch_1d(cx, op, "batch_norm2d_eval_backward_f32", total, &ps);
    }
    let ps = [
        P::Ptr(px), P::Ptr(pgy), P::Ptr(pgamma), P::Ptr(pmean), P::Ptr(pinvstd), P::Ptr(pgx),
        P::Ptr(opt(cx, "ggamma", b.ggamma)?), P::Ptr(opt(cx, "gbeta", b.gbeta)?),
        P::I32(n as i32), P::I32(c as i32), P::I32(hw as i32), P::I32(training as i32),
    ];
    // n * hw == 0 still writes zero ggamma / gbeta (one block per channel, empty loops)
    launch(cx, op, "batch_norm2d_backward_f32", (int(op, "c", c)? as u32, 1, 1), THREADS, &ps)
}
