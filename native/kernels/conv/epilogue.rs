//! Eval-mode BatchNorm (+ residual) + ReLU applied to a convolution's output while it is still
//! in cache: y = relu((conv + bias) * a + b [+ res]), rounding exactly as the separate ops do
//! (see `nn::batchnorm::eval_relu_forward`), so the fused forward is bit-identical to conv, then
//! batchNormReluEval.

use super::im2col::ConvShape;
use crate::kernels::simd::multiversion;

pub struct Epilogue<'a> {
    /// Per output channel: (a, b) of the affine map.
    ab: Vec<(f32, f32)>,
    res: Option<&'a [f32]>,
}

impl<'a> Epilogue<'a> {
    /// From BatchNorm's parameters and running statistics; save_mean / save_invstd receive the
    /// statistics (as batchNorm2dForward in eval mode writes them). Lengths checked by the caller.
    #[allow(clippy::too_many_arguments)]
    pub fn bn_eval(gamma: &[f32], beta: &[f32], running_mean: &[f32], running_var: &[f32], eps: f64,
                   res: Option<&'a [f32]>, save_mean: &mut [f32], save_invstd: &mut [f32]) -> Self {
        let ab = (0..gamma.len())
            .map(|ci| {
                let (mean, invstd) = (running_mean[ci] as f64, 1.0 / (running_var[ci] as f64 + eps).sqrt());
                save_mean[ci] = mean as f32;
                save_invstd[ci] = invstd as f32;
                let a = invstd * gamma[ci] as f64;
                (a as f32, (beta[ci] as f64 - mean * a) as f32)
            })
            .collect();
        Epilogue { ab, res }
    }

    /// relu(y + bias[o] [+ res]): a conv with its bias (folded BatchNorm) added here, then the
    /// residual and the ReLU (a = 1, so y * a + b rounds as y + b).
    pub fn bias_relu(o: usize, bias: Option<&[f32]>, res: Option<&'a [f32]>) -> Self {
        Epilogue { ab: (0..o).map(|i| (1.0, bias.map_or(0.0, |b| b[i]))).collect(), res }
    }

    /// (a, b) of output channel o: y = relu(conv * a + b [+ res]).
    pub fn affine(&self, o: usize) -> (f32, f32) {
        self.ab[o]
    }

    /// The residual added before the ReLU, if any.
    pub fn residual(&self) -> Option<&'a [f32]> {
        self.res
    }

    /// Applies the map to every output channel of images b0..b0+bc; `yc` holds those images.
    pub fn apply(&self, s: &ConvShape, yc: &mut [f32], b0: usize, bc: usize) {
        for b in 0..bc {
            self.apply_channels(s, &mut yc[b * s.o * s.ohw()..][..s.o * s.ohw()], b0 + b, 0, s.o);
        }
    }

    /// Applies the map to output channels o0..o1 of image b; `rows` holds exactly those planes.
    pub fn apply_channels(&self, s: &ConvShape, rows: &mut [f32], b: usize, o0: usize, o1: usize) {
        let ohw = s.ohw();
        for o in o0..o1 {
            let row = &mut rows[(o - o0) * ohw..][..ohw];
            let r = self.res.map_or(&[][..], |r| &r[(b * s.o + o) * ohw..][..ohw]);
            let (a, sh) = self.ab[o];
            affine_relu_inplace(row, r, a, sh);
        }
    }
}

multiversion! {
    fn affine_relu_inplace(y: &mut [f32], r: &[f32], a: f32, b: f32) {
        if r.is_empty() {
            for y in y.iter_mut() {
                let v = *y * a + b;
                *y = if v <= 0.0 { 0.0 } else { v };
            }
        } else {
            for (y, &r) in y.iter_mut().zip(r) {
                let v = (*y * a + b) + r;
                *y = if v <= 0.0 { 0.0 } else { v };
            }
        }
    }
}
