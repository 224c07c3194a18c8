//! JS-facing launchers of the block mask kernels over device handles (same arguments as the CPU
//! maskedWeightBlocks / maskGradBlocks of src/native.ts, handles in place of typed arrays).

use super::cuda::{handle as h, on};
use crate::cuda::mask_ops;
use crate::export_fns;
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

fn masked_weight_blocks(a: &mut Args) -> OpResult {
    let (w, m, block, out) = (h(a, 0)?, h(a, 1)?, a.usize(2)?, h(a, 3)?);
    on(a, |cx| mask_ops::masked_weight_blocks(cx, w, m, block, out)).map(|_| Ret::Undefined)
}

fn mask_grad_blocks(a: &mut Args) -> OpResult {
    let (g, w, block, bound, gm) = (h(a, 0)?, h(a, 1)?, a.usize(2)?, a.f64(3)?, h(a, 4)?);
    on(a, |cx| mask_ops::mask_grad_blocks(cx, g, w, block, bound, gm)).map(|_| Ret::Undefined)
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "cudaMaskedWeightBlocks" => masked_weight_blocks,
        "cudaMaskGradBlocks" => mask_grad_blocks,
    });
}
