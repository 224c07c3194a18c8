//! Conv kernels against direct loops over random shapes with every option (stride, padding,
//! dilation, groups incl. depthwise, 1x1, batched small maps), bitwise determinism, and the
//! PyTorch golden cases in ../shared/golden/ops.safetensors when that file is present.

use super::choose::{self, DataGrad, Forward, WeightGrad};
use super::conv2d::{conv2d_backward_data, conv2d_backward_weight, conv2d_forward};
use super::im2col::ConvShape;
use crate::kernels::test_util::{assert_close, Rng};

/// Visits every (n, o, oh, ow, c-in-group, kh, kw) with a valid input position: calls
/// f(x index, w index, y index).
fn each_tap(s: &ConvShape, mut f: impl FnMut(usize, usize, usize)) {
    let (cg, og) = (s.cg(), s.og());
    for n in 0..s.n {
        for o in 0..s.o {
            let grp = o / og;
            for oh in 0..s.oh {
                for ow in 0..s.ow {
                    for c in 0..cg {
                        for kh in 0..s.kh {
                            for kw in 0..s.kw {
                                let ih = (oh * s.sh + kh * s.dh) as isize - s.ph as isize;
                                let iw = (ow * s.sw + kw * s.dw) as isize - s.pw as isize;
                                if ih < 0 || iw < 0 || ih >= s.h as isize || iw >= s.w as isize {
                                    continue;
                                }
                                let xi = ((n * s.c + grp * cg + c) * s.h + ih as usize) * s.w + iw as usize;
                                let wi = ((o * cg + c) * s.kh + kh) * s.kw + kw;
                                let yi = ((n * s.o + o) * s.oh + oh) * s.ow + ow;
                                f(xi, wi, yi);
                            }
                        }
                    }
                }
            }
        }
    }
}

fn reference(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32], gy: &[f32]) -> [Vec<f32>; 4] {
    let mut y: Vec<f64> = (0..s.y_len()).map(|i| b[(i / s.ohw()) % s.o] as f64).collect();
    let mut gx = vec![0.0f64; s.x_len()];
    let mut gw = vec![0.0f64; s.w_len()];
    each_tap(s, |xi, wi, yi| {
        y[yi] += x[xi] as f64 * w[wi] as f64;
        gx[xi] += gy[yi] as f64 * w[wi] as f64;
        gw[wi] += gy[yi] as f64 * x[xi] as f64;
    });
    let mut gb = vec![0.0f64; s.o];
    for (i, v) in gy.iter().enumerate() {
        gb[(i / s.ohw()) % s.o] += *v as f64;
    }
    let f = |v: Vec<f64>| v.into_iter().map(|z| z as f32).collect::<Vec<f32>>();
    [f(y), f(gx), f(gw), f(gb)]
}

fn run(s: &ConvShape, x: &[f32], w: &[f32], b: Option<&[f32]>, gy: &[f32]) -> [Vec<f32>; 4] {
    let mut y = vec![f32::NAN; s.y_len()];
    conv2d_forward(s, x, w, b, &mut y);
    let mut gx = vec![f32::NAN; s.x_len()];
    conv2d_backward_data(s, gy, w, &mut gx);
    let mut gw = vec![f32::NAN; s.w_len()];
    let mut gb = vec![f32::NAN; s.o];
    conv2d_backward_weight(s, x, gy, &mut gw, Some(&mut gb));
    [y, gx, gw, gb]
}

fn check(p: [i32; 14], rng: &mut Rng) {
    let s = ConvShape::from_params("test", &p).unwrap();
    let (x, w, b, gy) = (rng.vec(s.x_len()), rng.vec(s.w_len()), rng.vec(s.o), rng.vec(s.y_len()));
    let want = reference(&s, &x, &w, &b, &gy);
    let got = run(&s, &x, &w, Some(&b), &gy);
    let tol = 2e-5 * ((s.ckk().max(s.og() * s.kh * s.kw).max(s.n * s.ohw())) as f32).sqrt();
    for (i, name) in ["y", "gx", "gw", "gb"].iter().enumerate() {
        assert_close(&format!("{name} {}", s.describe()), &got[i], &want[i], tol);
    }
    let again = run(&s, &x, &w, Some(&b), &gy);
    for i in 0..4 {
        assert!(got[i].iter().zip(&again[i]).all(|(p, q)| p.to_bits() == q.to_bits()), "not deterministic: {}", s.describe());
    }
    // Without bias the forward is the same minus b.
    let mut y0 = vec![0.0; s.y_len()];
    conv2d_forward(&s, &x, &w, None, &mut y0);
    let yb: Vec<f32> = want[0].iter().enumerate().map(|(i, v)| v - b[(i / s.ohw()) % s.o]).collect();
    assert_close(&format!("y (no bias) {}", s.describe()), &y0, &yb, tol);
}

#[test]
fn conv_fixed_cases() {
    let mut rng = Rng::new(10);
    for p in [
        [2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1],     // 3x3 same
        [3, 4, 10, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1],   // strided
        [2, 8, 7, 7, 16, 1, 1, 2, 2, 0, 0, 1, 1, 1],    // 1x1 stride 2
        [3, 8, 7, 5, 12, 1, 1, 1, 1, 0, 0, 1, 1, 1],    // pointwise fast path
        [1, 3, 23, 23, 8, 7, 7, 2, 2, 3, 3, 1, 1, 1],   // 7x7 stem
        [2, 4, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4],     // depthwise
        [2, 6, 8, 8, 4, 3, 3, 1, 1, 2, 2, 2, 2, 2],     // groups + dilation
        [5, 16, 4, 4, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1],   // small maps: several images per chunk
        [9, 4, 2, 2, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1],     // 2x2 maps
        [0, 3, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1],     // empty batch
        [2, 16, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1], // ResNet20 stage 1
        [2, 3, 5, 6, 4, 2, 3, 3, 2, 0, 4, 1, 1, 1],     // padding wider than the kernel
    ] {
        check(p, &mut rng);
    }
}

/// Shapes the channel-vectorised Winograd F(2x2, 3x3) takes (maps too small or odd for the lane
/// path): odd and even sizes, padding 0 / 1 / 2, 2x2 maps, one large image; the last two take
/// its weight gradient too (the last one that alone: too few tiles for the forward).
#[test]
fn conv_winograd_cases() {
    let mut rng = Rng::new(12);
    for (p, fwd, wgrad) in [
        ([64, 64, 6, 6, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1], true, false),
        ([72, 65, 6, 6, 64, 3, 3, 1, 1, 0, 0, 1, 1, 1], true, false),
        ([16, 64, 5, 7, 77, 3, 3, 1, 1, 2, 2, 1, 1, 1], true, false),
        ([256, 96, 2, 2, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1], true, false),
        ([1, 64, 34, 34, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1], true, false),
        ([24, 128, 5, 7, 130, 3, 3, 1, 1, 1, 1, 1, 1, 1], true, true),
        ([4, 128, 5, 7, 130, 3, 3, 1, 1, 1, 1, 1, 1, 1], false, true),
    ] {
        check_path(p, "channel-vectorised Winograd", winograd_off(), |s| {
            (choose::forward(s) == Forward::WinogradChannels) == fwd && !lanes_forward(s)
                && (choose::weight_grad(s, || true) == WeightGrad::WinogradChannels) == wgrad
        }, &mut rng);
    }
}

#[cfg(target_arch = "x86_64")]
fn lanes_forward(s: &ConvShape) -> bool { choose::forward(s) == Forward::WinogradLanes }
#[cfg(not(target_arch = "x86_64"))]
fn lanes_forward(_: &ConvShape) -> bool { false }

/// Shapes the tile-lane Winograd forward (and so the data gradient) takes: 8-wide maps (lanes of
/// four tile rows, several images per block), 16-wide maps (two tile rows), 32- and 64-wide maps
/// (one tile row, one or two lane vectors), maps that fill no vector (7, 14, 28: spare lanes, odd
/// sizes: half tiles), non-square maps, channel counts that fill no GEMM strip evenly, padding 0,
/// several blocks per image. Those with whole 16-channel vectors of outputs take the lane weight
/// gradient too. The path needs an image per thread (`choose::winograd_lanes`), so with more
/// threads than a listed batch the batch grows to the thread count: every thread count runs it.
#[test]
#[cfg(target_arch = "x86_64")]
fn conv_winograd_lanes_cases() {
    let mut rng = Rng::new(14);
    let off = winograd_off().or_else(|| {
        let isa = crate::kernels::gemm::sgemm::isa().name;
        (isa != "avx512").then(|| format!("the GEMM micro-kernel is {isa} (SEAM_GEMM_ISA or the CPU), the lanes need avx512"))
    });
    for mut p in [
        [2, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [3, 24, 16, 16, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [2, 20, 18, 34, 17, 3, 3, 1, 1, 0, 0, 1, 1, 1],
        [2, 16, 32, 64, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [2, 128, 8, 32, 128, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [5, 64, 8, 8, 36, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [3, 16, 10, 10, 16, 3, 3, 1, 1, 0, 0, 1, 1, 1],
        [4, 20, 16, 16, 48, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [3, 16, 7, 7, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [2, 32, 14, 14, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [2, 16, 28, 28, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [2, 17, 13, 27, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [2, 16, 30, 9, 16, 3, 3, 1, 1, 0, 0, 1, 1, 1],
    ] {
        p[0] = p[0].max(crate::threads::num_threads() as i32);
        check_path(p, "tile-lane Winograd", off.clone(), |s| {
            let wgrad = s.o % 16 == 0 && s.c <= 128;
            lanes_forward(s) && (choose::weight_grad(s, || true) == WeightGrad::WinogradLanes) == wgrad
        }, &mut rng);
    }
}

/// Why the Winograd paths cannot run in this process, if they cannot.
fn winograd_off() -> Option<String> {
    (std::env::var("SEAM_WINOGRAD").as_deref() == Ok("0")).then(|| "SEAM_WINOGRAD=0".to_string())
}

/// Why the AVX-512 kernels cannot run on this CPU, if they cannot.
fn no_avx512() -> Option<String> {
    (!crate::kernels::simd::has_avx512()).then(|| "this CPU has no AVX-512".to_string())
}

/// `check`, after asserting that the shape takes the path under test. When that path cannot run
/// here (`unavailable` says why), the numbers are still checked on the path the shape does take,
/// and a NOT EXERCISED line on stderr names the path (`cargo test -- --show-output` prints it).
fn check_path(p: [i32; 14], path: &str, unavailable: Option<String>, takes_path: impl Fn(&ConvShape) -> bool,
              rng: &mut Rng) {
    let s = ConvShape::from_params("test", &p).unwrap();
    match unavailable {
        None => assert!(takes_path(&s), "not on the {path} path: {}", s.describe()),
        Some(why) => eprintln!("NOT EXERCISED: the {path} path ({why}); {} checked on its own path", s.describe()),
    }
    check(p, rng);
}

#[test]
fn conv_outer_product_weight_grad_cases() {
    // Shapes for outer_wgrad: 1 and 2 vectors of channels, group tiles with tails, strides,
    // dilation, groups, KH != 3, pixel counts that are not multiples of 16, several chunks.
    let mut rng = Rng::new(12);
    for p in [
        [3, 5, 7, 9, 48, 3, 3, 2, 2, 1, 1, 2, 1, 1],
        [4, 6, 6, 6, 64, 3, 3, 1, 1, 1, 1, 1, 1, 2],
        [2, 3, 19, 19, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1],
        [6, 32, 2, 2, 32, 5, 3, 1, 1, 2, 1, 1, 1, 1],
        [40, 8, 4, 4, 96, 3, 3, 1, 1, 1, 1, 1, 1, 1],
    ] {
        check_path(p, "outer-product weight gradient", no_avx512(),
                   |s| choose::weight_grad(s, || true) == WeightGrad::OuterProduct, &mut rng);
    }
}

#[test]
fn conv_stride2_three_tap_cases() {
    // col2im_s2: even widths (one and several 16-column blocks, a tail), dilated rows, groups.
    let mut rng = Rng::new(13);
    for p in [
        [2, 8, 32, 32, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1],
        [3, 4, 10, 70, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1],
        [2, 6, 9, 4, 4, 5, 3, 2, 2, 2, 1, 2, 1, 2],
    ] {
        check_path(p, "stride-2 three-tap col2im", no_avx512(),
                   |s| matches!(choose::data_grad(s), DataGrad::Col2im) && super::col2im_s2::wanted(s), &mut rng);
    }
}

#[test]
fn conv_random_cases() {
    let mut rng = Rng::new(11);
    for _ in 0..60 {
        let g = 1 + rng.below(3);
        let c = g * (1 + rng.below(5));
        let o = g * (1 + rng.below(6));
        let (kh, kw) = (1 + rng.below(4), 1 + rng.below(4));
        let (dh, dw) = (1 + rng.below(2), 1 + rng.below(2));
        let (ph, pw) = (rng.below(3), rng.below(3));
        let h = (dh * (kh - 1) + 1).saturating_sub(2 * ph).max(1) + rng.below(9);
        let w = (dw * (kw - 1) + 1).saturating_sub(2 * pw).max(1) + rng.below(9);
        let p = [1 + rng.below(6), c, h, w, o, kh, kw, 1 + rng.below(3), 1 + rng.below(3), ph, pw, dh, dw, g];
        check(p.map(|v| v as i32), &mut rng);
    }
}

#[test]
fn conv_rejects_bad_params() {
    let ok = [2, 3, 9, 9, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1];
    assert!(ConvShape::from_params("c", &ok).is_ok());
    for (i, v) in [(7, -1), (7, 0), (13, 2), (13, 0), (1, 0), (9, -1), (11, 0), (5, 0)] {
        let mut p = ok;
        p[i] = v;
        let e = ConvShape::from_params("conv2dForward", &p).unwrap_err();
        assert!(e.starts_with("conv2dForward:"), "{e}");
    }
    let e = ConvShape::from_params("c", &[1, 3, 2, 2, 4, 5, 5, 1, 1, 0, 0, 1, 1, 1]).unwrap_err();
    assert!(e.contains("output size"), "{e}");
    assert!(ConvShape::from_params("c", &[1, 3]).is_err());
}
