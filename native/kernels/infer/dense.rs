//! Dense conv for the inference planner: the conv of `conv::conv2d` followed, in the same call, by
//! the fused epilogue: with a ReLU, the conv's own (bias, residual, ReLU per chunk in cache);
//! otherwise a pass adding the residual, in place and parallel over the pool.

use crate::kernels::conv::conv2d::{conv2d_forward, conv2d_forward_epi};
use crate::kernels::conv::epilogue::Epilogue as BiasRelu;
use crate::kernels::conv::im2col::ConvShape;
use crate::kernels::sparse::forward::Epilogue;
use crate::threads::{parallel_ranges, SharedMut};

/// y = relu?(conv(x, w) + bias + residual).
pub fn dense_conv_fused(op: &str, s: &ConvShape, x: &[f32], w: &[f32], ep: &Epilogue, y: &mut [f32]) -> Result<(), String> {
    if x.len() != s.x_len() || w.len() != s.w_len() || y.len() != s.y_len() {
        return Err(format!("{op}: x, w, y have {}, {}, {} elements, expected {}, {}, {} ({})",
                           x.len(), w.len(), y.len(), s.x_len(), s.w_len(), s.y_len(), s.describe()));
    }
    ep.check(op, s)?;
    if ep.relu {
        // The conv's own epilogue: bias, residual and ReLU on each chunk while it is in cache.
        conv2d_forward_epi(s, x, w, None, y, Some(&BiasRelu::bias_relu(s.o, ep.bias, ep.residual)));
        return Ok(());
    }
    conv2d_forward(s, x, w, ep.bias, y);
    if ep.residual.is_none() && !ep.relu {
        return Ok(());
    }
    // The bias is already in y: only the residual and the ReLU remain.
    let rest = Epilogue { bias: None, ..*ep };
    let yp = SharedMut::new(y);
    let yp = &yp;
    parallel_ranges(s.n * s.o, 16, |r| {
        let ohw = s.ohw();
        for row in r {
            // Safety: each (image, channel) row is written by exactly one range.
            let dst = unsafe { yp.slice(row * ohw, ohw) };
            rest.apply(row % s.o, row * ohw, dst);
        }
    });
    Ok(())
}
