//! Convolution launchers: im2col + GEMM per chunk of images (kernels/conv.cu explains the three
//! passes; test/cuda/emu/plans.h plan_conv restates this file for the emulation check).
//! conv params: [N, C, H, W, O, KH, KW, sH, sW, pH, pW, dH, dW, groups] as in src/native.ts.

use super::context::Cuda;
use super::driver::CUdeviceptr;
use super::launch::{at, grid_warp_rows, int, launch, launch_1d, P, THREADS};
use super::ops::{gemm_raw, no_alias, H};

/// Columns + transposed-output workspace per chunk stays under this many floats (256 MiB);
/// SEAM_CUDA_CONV_WORKSPACE (floats) overrides it, which tests use to force several chunks.
fn workspace_floats() -> usize {
    static W: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *W.get_or_init(|| {
        std::env::var("SEAM_CUDA_CONV_WORKSPACE").ok().and_then(|s| s.trim().parse().ok()).filter(|&v: &usize| v > 0).unwrap_or(64 << 20)
    })
}

pub struct ConvGeom {
    pub n: usize, pub c: usize, pub h: usize, pub w: usize, pub o: usize, pub kh: usize, pub kw: usize,
    pub sh: usize, pub sw: usize, pub ph: usize, pub pw: usize, pub dh: usize, pub dw: usize, pub g: usize,
    pub oh: usize, pub ow: usize,
}

fn out_size(op: &str, inp: usize, k: usize, s: usize, p: usize, d: usize) -> Result<usize, String> {
    let span = d * (k - 1) + 1;
    if inp + 2 * p < span {
        return Err(format!("{op}: input size {inp} with padding {p} is smaller than the kernel span {span}"));
    }
    Ok((inp + 2 * p - span) / s + 1)
}

impl ConvGeom {
    pub fn parse(op: &str, p: &[i32]) -> Result<ConvGeom, String> {
        if p.len() != 14 || p.iter().any(|&v| v < 0) {
            return Err(format!("{op}: conv params must be 14 non-negative ints [N,C,H,W,O,KH,KW,sH,sW,pH,pW,dH,dW,groups], got {p:?}"));
        }
        let u = |i: usize| p[i] as usize;
        let (c, o, g) = (u(1), u(4), u(13));
        if u(5) == 0 || u(6) == 0 || u(7) == 0 || u(8) == 0 || u(11) == 0 || u(12) == 0 || g == 0 {
            return Err(format!("{op}: kernel size, stride, dilation and groups must be positive, got {p:?}"));
        }
        if c % g != 0 || o % g != 0 || c == 0 || o == 0 {
            return Err(format!("{op}: channels in ({c}) and out ({o}) must be positive multiples of groups ({g})"));
        }
        let oh = out_size(op, u(2), u(5), u(7), u(9), u(11))?;
        let ow = out_size(op, u(3), u(6), u(8), u(10), u(12))?;
        let geom = ConvGeom { n: u(0), c, h: u(2), w: u(3), o, kh: u(5), kw: u(6), sh: u(7), sw: u(8), ph: u(9), pw: u(10),
                              dh: u(11), dw: u(12), g, oh, ow };
        for (what, v) in [("x", geom.x_len()), ("y", geom.y_len()), ("w", geom.w_len()), ("columns", geom.ckk() * geom.ohw())] {
            int(op, what, v)?;
        }
        Ok(geom)
    }
    pub fn ohw(&self) -> usize { self.oh * self.ow }
    pub fn ckk(&self) -> usize { self.c * self.kh * self.kw }
    pub fn cgkk(&self) -> usize { self.ckk() / self.g }
    pub fn og(&self) -> usize { self.o / self.g }
    pub fn x_len(&self) -> usize { self.n * self.c * self.h * self.w }
    pub fn y_len(&self) -> usize { self.n * self.o * self.ohw() }
    pub fn w_len(&self) -> usize { self.o * self.cgkk() }
    /// Images per chunk (plans.h conv_chunk).
    fn chunk(&self) -> usize {
        let per = self.ckk() * self.ohw() + self.o * self.ohw();
        (workspace_floats() / per.max(1)).clamp(1, self.n.max(1))
    }
    /// SeamConvGeom of kernels/conv.cu
    fn kernel_struct(&self) -> P {
        let v = [self.c, self.h, self.w, self.kh, self.kw, self.sh, self.sw, self.ph, self.pw, self.dh, self.dw, self.oh, self.ow];
        P::Ints(v.iter().map(|&x| x as i32).collect())
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Pass { Forward, BackwardData, BackwardWeight }

/// One pass over all chunks. Forward: a=x, b=w, bias in, out=y. BackwardData: a=gy, b=w, out=gx.
/// BackwardWeight: a=x, b=gy, out=gw, bias=gb out.
#[allow(clippy::too_many_arguments)]
fn run(cx: &mut Cuda, op: &str, pass: Pass, g: &ConvGeom, a: CUdeviceptr, b: CUdeviceptr, bias: CUdeviceptr, out: CUdeviceptr) -> Result<(), String> {
    let (ohw, ckk, cgkk, og) = (g.ohw(), g.ckk(), g.cgkk(), g.og());
    let nb = g.chunk();
    let col_floats = ckk * nb * ohw;
    let ws = cx.scratch(op, (col_floats + g.o * nb * ohw) * 4)?;
    let (col, tmp) = (ws, at(ws, col_floats));
    let grp = g.g;
    if g.n == 0 && pass == Pass::BackwardWeight {
        launch_1d(cx, op, "fill_f32", g.w_len(), &[P::Ptr(out), P::I32(g.w_len() as i32), P::F32(0.0)])?;
        if bias != 0 {
            launch_1d(cx, op, "fill_f32", g.o, &[P::Ptr(bias), P::I32(g.o as i32), P::F32(0.0)])?;
        }
    }
    let mut n0 = 0;
    while n0 < g.n {
        let cnt = nb.min(g.n - n0);
        let cols = cnt * ohw;
        let (xoff, yoff) = (n0 * g.c * g.h * g.w, n0 * g.o * ohw);
        let im2col = |cx: &mut Cuda| -> Result<(), String> {
            let ps = [P::Ptr(at(a, xoff)), P::Ptr(col), P::I32(cnt as i32), g.kernel_struct(), P::I64(cols as i64), P::I64(ohw as i64)];
            launch_1d(cx, op, "im2col_f32", ckk * cols, &ps)
        };
        let to_cnhw = |cx: &mut Cuda, src: CUdeviceptr| -> Result<(), String> {
            let ps = [P::Ptr(at(src, yoff)), P::Ptr(tmp), P::I32(cnt as i32), P::I32(g.o as i32), P::I32(ohw as i32)];
            launch_1d(cx, op, "nchw_to_cnhw_f32", g.o * cols, &ps)
        };
        match pass {
            Pass::Forward => {
                im2col(cx)?;
                gemm_raw(cx, op, false, false, og, cols, cgkk, 1.0, b, cgkk, og * cgkk, grp, col, cols, cgkk * cols, grp,
                         0.0, tmp, cols, og * cols, grp)?;
                let ps = [P::Ptr(tmp), P::Ptr(bias), P::Ptr(at(out, yoff)), P::I32(cnt as i32), P::I32(g.o as i32), P::I32(ohw as i32)];
                launch_1d(cx, op, "cnhw_to_nchw_f32", g.o * cols, &ps)?;
            }
            Pass::BackwardData => {
                to_cnhw(cx, a)?;
                gemm_raw(cx, op, true, false, cgkk, cols, og, 1.0, b, cgkk, og * cgkk, grp, tmp, cols, og * cols, grp,
                         0.0, col, cols, cgkk * cols, grp)?;
                let ps = [P::Ptr(col), P::Ptr(at(out, xoff)), P::I32(cnt as i32), g.kernel_struct(), P::I64(cols as i64), P::I64(ohw as i64)];
                launch_1d(cx, op, "col2im_f32", cnt * g.c * g.h * g.w, &ps)?;
            }
            Pass::BackwardWeight => {
                im2col(cx)?;
                to_cnhw(cx, b)?;
                let beta = if n0 == 0 { 0.0 } else { 1.0 };
                gemm_raw(cx, op, false, true, og, cgkk, cols, 1.0, tmp, cols, og * cols, grp, col, cols, cgkk * cols, grp,
                         beta, out, cgkk, og * cgkk, grp)?;
                if bias != 0 {
                    let ps = [P::Ptr(tmp), P::Ptr(bias), P::I32(g.o as i32), P::I32(cols as i32), P::F32(1.0), P::I32((n0 > 0) as i32)];
                    launch(cx, op, "row_sum_f32", (grid_warp_rows(g.o), 1, 1), THREADS, &ps)?;
                }
            }
        }
        n0 += cnt;
    }
    Ok(())
}

pub fn forward(cx: &mut Cuda, x: H, w: H, bias: Option<H>, y: H, p: &[i32]) -> Result<(), String> {
    let op = "cudaConv2dForward";
    let g = ConvGeom::parse(op, p)?;
    let mut ins = vec![("x", x), ("w", w)];
    if let Some(b) = bias { ins.push(("bias", b)); }
    no_alias(op, &[("y", y)], &ins)?;
    let (px, pw, py) = (cx.buf_len(op, "x", x, g.x_len())?, cx.buf_len(op, "w", w, g.w_len())?, cx.buf_len(op, "y", y, g.y_len())?);
    let pb = match bias { Some(b) => cx.buf_len(op, "bias", b, g.o)?, None => 0 };
    run(cx, op, Pass::Forward, &g, px, pw, pb, py)
}

pub fn backward_data(cx: &mut Cuda, gy: H, w: H, gx: H, p: &[i32]) -> Result<(), String> {
    let op = "cudaConv2dBackwardData";
    let g = ConvGeom::parse(op, p)?;
    no_alias(op, &[("gx", gx)], &[("gy", gy), ("w", w)])?;
    let (pgy, pw, pgx) = (cx.buf_len(op, "gy", gy, g.y_len())?, cx.buf_len(op, "w", w, g.w_len())?, cx.buf_len(op, "gx", gx, g.x_len())?);
    run(cx, op, Pass::BackwardData, &g, pgy, pw, 0, pgx)
}

pub fn backward_weight(cx: &mut Cuda, x: H, gy: H, gw: H, gb: Option<H>, p: &[i32]) -> Result<(), String> {
    let op = "cudaConv2dBackwardWeight";
    let g = ConvGeom::parse(op, p)?;
    let mut outs = vec![("gw", gw)];
    if let Some(b) = gb { outs.push(("gb", b)); }
    no_alias(op, &outs, &[("x", x), ("gy", gy)])?;
    let (px, pgy, pgw) = (cx.buf_len(op, "x", x, g.x_len())?, cx.buf_len(op, "gy", gy, g.y_len())?, cx.buf_len(op, "gw", gw, g.w_len())?);
    let pgb = match gb { Some(b) => cx.buf_len(op, "gb", b, g.o)?, None => 0 };
    run(cx, op, Pass::BackwardWeight, &g, px, pgy, pgb, pgw)
}
