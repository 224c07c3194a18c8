//! Inference max pooling for the common 2x2 window with stride 2 and no padding (VGG): no argmax
//! output (nothing flows backward), one pass over the input, parallel over planes. NaN propagates
//! as in PyTorch (`nn::pool_2x2` is the AVX-512 version).

use crate::threads::{parallel_ranges, SharedMut};

#[inline]
fn max_nan(a: f32, b: f32) -> f32 {
    if a > b || a.is_nan() { a } else { b }
}

/// y (planes x H/2 x W/2) = 2x2 max of x (planes x H x W), floor mode.
pub fn max_pool_2x2(x: &[f32], y: &mut [f32], planes: usize, h: usize, w: usize) {
    let (oh, ow) = (h / 2, w / 2);
    assert!(x.len() == planes * h * w && y.len() == planes * oh * ow, "max_pool_2x2: lengths");
    let yp = SharedMut::new(y);
    let yp = &yp;
    parallel_ranges(planes, 16, |r| {
        // Safety: each plane's output is written by the one range that holds it.
        let out = unsafe { yp.slice(r.start * oh * ow, r.len() * oh * ow) };
        for (i, p) in r.enumerate() {
            let img = &x[p * h * w..(p + 1) * h * w];
            if crate::kernels::nn::pool_2x2::max_plane(img, w, oh, ow, &mut out[i * oh * ow..][..oh * ow], None) {
                continue;
            }
            for a in 0..oh {
                let (r0, r1) = (&img[2 * a * w..][..2 * ow], &img[(2 * a + 1) * w..][..2 * ow]);
                let dst = &mut out[(i * oh + a) * ow..][..ow];
                for (b, d) in dst.iter_mut().enumerate() {
                    *d = max_nan(max_nan(r0[2 * b], r0[2 * b + 1]), max_nan(r1[2 * b], r1[2 * b + 1]));
                }
            }
        }
    });
}
