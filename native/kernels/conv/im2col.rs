//! Convolution shape checking and the lowering between images and column matrices.
//! A "chunk" is `bc` consecutive images of one group: its column matrix has rows
//! r = (c * KH + kh) * KW + kw (c within the group) and columns q = b * OH*OW + oh * OW + ow.
//! Copies run over output-row segments, so stride-1 rows are straight (vectorisable) copies.

/// Validated conv geometry (NCHW, weights O x C/G x KH x KW).
#[derive(Clone, Copy, Debug)]
pub struct ConvShape {
    pub n: usize, pub c: usize, pub h: usize, pub w: usize, pub o: usize,
    pub kh: usize, pub kw: usize, pub sh: usize, pub sw: usize,
    pub ph: usize, pub pw: usize, pub dh: usize, pub dw: usize, pub g: usize,
    pub oh: usize, pub ow: usize,
}

impl ConvShape {
    /// From [N,C,H,W,O,KH,KW,SH,SW,PH,PW,DH,DW,G]; the error names `op` and the params.
    pub fn from_params(op: &str, p: &[i32]) -> Result<Self, String> {
        if p.len() != 14 {
            return Err(format!("{op}: params has {} elements, expected 14 [N,C,H,W,O,KH,KW,SH,SW,PH,PW,DH,DW,G]", p.len()));
        }
        let names = ["N", "C", "H", "W", "O", "KH", "KW", "strideH", "strideW", "padH", "padW", "dilH", "dilW", "groups"];
        let desc = || names.iter().zip(p).map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        for (i, &v) in p.iter().enumerate() {
            let min = if i == 9 || i == 10 || i == 0 { 0 } else { 1 };
            if v < min {
                return Err(format!("{op}: {} must be >= {min}, got {v} ({})", names[i], desc()));
            }
        }
        let u: Vec<usize> = p.iter().map(|&v| v as usize).collect();
        let (c, o, g) = (u[1], u[4], u[13]);
        if c % g != 0 || o % g != 0 {
            return Err(format!("{op}: groups={g} must divide C={c} and O={o} ({})", desc()));
        }
        let span_h = u[11] * (u[5] - 1) + 1;
        let span_w = u[12] * (u[6] - 1) + 1;
        let (eh, ew) = (u[2] + 2 * u[9], u[3] + 2 * u[10]);
        if eh < span_h || ew < span_w {
            return Err(format!("{op}: output size would be <= 0: padded input {eh}x{ew} is smaller than the dilated kernel {span_h}x{span_w} ({})", desc()));
        }
        let s = ConvShape {
            n: u[0], c, h: u[2], w: u[3], o, kh: u[5], kw: u[6], sh: u[7], sw: u[8], ph: u[9], pw: u[10],
            dh: u[11], dw: u[12], g, oh: (eh - span_h) / u[7] + 1, ow: (ew - span_w) / u[8] + 1,
        };
        // Every buffer size must fit comfortably in memory arithmetic.
        let big = [s.n as u128 * s.c as u128 * s.h as u128 * s.w as u128,
                   s.n as u128 * s.o as u128 * s.oh as u128 * s.ow as u128,
                   s.o as u128 * s.ckk() as u128, s.ckk() as u128 * s.ohw() as u128 * 64];
        if big.iter().any(|&x| x > (1u128 << 40)) {
            return Err(format!("{op}: sizes too large ({})", desc()));
        }
        Ok(s)
    }
    pub fn cg(&self) -> usize { self.c / self.g }
    pub fn og(&self) -> usize { self.o / self.g }
    pub fn ckk(&self) -> usize { self.cg() * self.kh * self.kw }
    pub fn ohw(&self) -> usize { self.oh * self.ow }
    pub fn x_len(&self) -> usize { self.n * self.c * self.h * self.w }
    pub fn y_len(&self) -> usize { self.n * self.o * self.ohw() }
    pub fn w_len(&self) -> usize { self.o * self.ckk() }
    /// 1x1, stride 1, no padding: the column matrix of one image is the image itself.
    pub fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.sh == 1 && self.sw == 1 && self.ph == 0 && self.pw == 0
    }
    pub fn describe(&self) -> String {
        format!("N,C,H,W={},{},{},{} O={} K={}x{} stride={},{} pad={},{} dil={},{} groups={} -> OH,OW={},{}",
                self.n, self.c, self.h, self.w, self.o, self.kh, self.kw, self.sh, self.sw, self.ph, self.pw,
                self.dh, self.dw, self.g, self.oh, self.ow)
    }
}

/// The valid output-column range [lo, hi) within `0..len` of a segment whose first output
/// column maps to input column `start` (may be negative) with step `s`, for an input width `w`.
#[inline]
fn valid_range(start: isize, s: usize, len: usize, w: usize) -> (usize, usize) {
    let s = s as isize;
    let lo = if start >= 0 { 0 } else { ((-start + s - 1) / s) as usize };
    let hi = if start >= w as isize { 0 } else { ((w as isize - start + s - 1) / s) as usize };
    (lo.min(len), hi.min(len).max(lo.min(len)))
}

/// Writes `len` values of column-matrix row (c, kh, kw) for output row `oh`, output columns
/// ow0.. into `dst`; `img` is the group's channels of one image.
#[inline]
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_segment(s: &ConvShape, img: &[f32], c: usize, kh: usize, kw: usize, oh: usize, ow0: usize, dst: &mut [f32]) {
    let ih = (oh * s.sh + kh * s.dh) as isize - s.ph as isize;
    if ih < 0 || ih >= s.h as isize {
        dst.fill(0.0);
        return;
    }
    let row = &img[(c * s.h + ih as usize) * s.w..][..s.w];
    let start = (ow0 * s.sw + kw * s.dw) as isize - s.pw as isize;
    let (lo, hi) = valid_range(start, s.sw, dst.len(), s.w);
    dst[..lo].fill(0.0);
    if hi > lo {
        let first = (start + (lo * s.sw) as isize) as usize;
        if s.sw == 1 {
            dst[lo..hi].copy_from_slice(&row[first..first + hi - lo]);
        } else {
            for (d, x) in dst[lo..hi].iter_mut().zip(row[first..].iter().step_by(s.sw)) {
                *d = *x;
            }
        }
    }
    dst[hi..].fill(0.0);
}

/// The input of image `b` restricted to group `grp` (cg x H x W).
pub fn group_image<'a>(s: &ConvShape, x: &'a [f32], b: usize, grp: usize) -> &'a [f32] {
    let hw = s.h * s.w;
    &x[(b * s.c + grp * s.cg()) * hw..][..s.cg() * hw]
}

/// Plain column matrix of images b0..b0+bc, group `grp`: row-major ckk x (bc*OH*OW).
pub fn im2col(s: &ConvShape, x: &[f32], b0: usize, bc: usize, grp: usize, col: &mut [f32]) {
    let (ohw, ld) = (s.ohw(), bc * s.ohw());
    for b in 0..bc {
        let img = group_image(s, x, b0 + b, grp);
        for c in 0..s.cg() {
            for kh in 0..s.kh {
                for kw in 0..s.kw {
                    let r = (c * s.kh + kh) * s.kw + kw;
                    let base = r * ld + b * ohw;
                    for oh in 0..s.oh {
                        fill_segment(s, img, c, kh, kw, oh, 0, &mut col[base + oh * s.ow..][..s.ow]);
                    }
                }
            }
        }
    }
}

/// The same column matrix written straight into packed-B strips (see `gemm::prepacked`).
pub fn im2col_packed(s: &ConvShape, x: &[f32], b0: usize, bc: usize, grp: usize, dst: &mut [f32]) {
    let (ohw, k) = (s.ohw(), s.ckk());
    let n = bc * ohw;
    let mut segs: Vec<(usize, usize, usize, usize, usize)> = Vec::with_capacity(64);
    for (j0, w) in crate::kernels::gemm::prepacked::b_strips(n) {
        // Split the strip's columns into runs that share one (image, output row).
        segs.clear();
        let mut q = j0;
        while q < (j0 + w).min(n) {
            let (b, p) = (q / ohw, q % ohw);
            let (oh, ow) = (p / s.ow, p % s.ow);
            let len = (s.ow - ow).min(j0 + w - q).min(n - q);
            segs.push((b, oh, ow, len, q - j0));
            q += len;
        }
        let strip = &mut dst[j0 * k..(j0 + w) * k];
        let tail = q - j0; // columns past n are zero padding
        for c in 0..s.cg() {
            for kh in 0..s.kh {
                for kw in 0..s.kw {
                    let r = (c * s.kh + kh) * s.kw + kw;
                    let out = &mut strip[r * w..(r + 1) * w];
                    for &(b, oh, ow, len, e) in &segs {
                        let img = group_image(s, x, b0 + b, grp);
                        fill_segment(s, img, c, kh, kw, oh, ow, &mut out[e..e + len]);
                    }
                    out[tail..].fill(0.0);
                }
            }
        }
    }
}

/// Adds a plain column matrix (ckk x bc*OH*OW) back into the images' group channels.
pub fn col2im_add(s: &ConvShape, col: &[f32], b0: usize, bc: usize, grp: usize, gx: &mut [f32]) {
    if super::col2im_s2::wanted(s) {
        return super::col2im_s2::add(s, col, b0, bc, grp, gx);
    }
    let (ohw, ld, hw) = (s.ohw(), bc * s.ohw(), s.h * s.w);
    for b in 0..bc {
        let img = &mut gx[((b0 + b) * s.c + grp * s.cg()) * hw..][..s.cg() * hw];
        for c in 0..s.cg() {
            for kh in 0..s.kh {
                for kw in 0..s.kw {
                    let r = (c * s.kh + kh) * s.kw + kw;
                    let start = (kw * s.dw) as isize - s.pw as isize;
                    let (lo, hi) = valid_range(start, s.sw, s.ow, s.w);
                    for oh in 0..s.oh {
                        let ih = (oh * s.sh + kh * s.dh) as isize - s.ph as isize;
                        if ih < 0 || ih >= s.h as isize || hi <= lo {
                            continue;
                        }
                        let src = &col[r * ld + b * ohw + oh * s.ow..][lo..hi];
                        let row = &mut img[(c * s.h + ih as usize) * s.w..][..s.w];
                        let first = (start + (lo * s.sw) as isize) as usize;
                        if s.sw == 1 {
                            for (d, v) in row[first..first + (hi - lo)].iter_mut().zip(src) {
                                *d += *v;
                            }
                        } else {
                            for (d, v) in row[first..].iter_mut().step_by(s.sw).zip(src) {
                                *d += *v;
                            }
                        }
                    }
                }
            }
        }
    }
}
