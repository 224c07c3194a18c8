//! Bindings of the optimiser steps (torch.optim.Adam / SGD semantics), with PyTorch's checks of
//! the hyper-parameters.

use super::check::{in_range, same_len};
use crate::export_fns;
use crate::kernels::optim::{self, Adam, Sgd};
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

/// adamStep(p, g, m, v, step, lr, beta1, beta2, eps, weightDecay)
fn adam_step(a: &mut Args) -> OpResult {
    let (p, g, m, v) = (a.f32_out(0)?, a.f32_in(1)?, a.f32_out(2)?, a.f32_out(3)?);
    let step = a.usize(4)?;
    let (lr, beta1, beta2, eps, wd) = (a.f64(5)?, a.f64(6)?, a.f64(7)?, a.f64(8)?, a.f64(9)?);
    let op = a.op;
    same_len(op, &[("p", p.len()), ("g", g.len()), ("m", m.len()), ("v", v.len())])?;
    if step < 1 {
        return Err(format!("{op}: step is 1-based and must be >= 1, got {step}"));
    }
    in_range(op, "lr", lr, 0.0, f64::MAX, false)?;
    in_range(op, "beta1", beta1, 0.0, 1.0, true)?;
    in_range(op, "beta2", beta2, 0.0, 1.0, true)?;
    in_range(op, "eps", eps, 0.0, f64::MAX, false)?;
    in_range(op, "weightDecay", wd, 0.0, f64::MAX, false)?;
    optim::adam_step(p, g, m, v, Adam { step: step as u64, lr, beta1, beta2, eps, weight_decay: wd });
    Ok(Ret::Undefined)
}

/// sgdStep(p, g, buf|null, lr, momentum, dampening, weightDecay, nesterov, firstStep)
fn sgd_step(a: &mut Args) -> OpResult {
    let (p, g, buf) = (a.f32_out(0)?, a.f32_in(1)?, a.f32_out_opt(2)?);
    let (lr, momentum, dampening, wd) = (a.f64(3)?, a.f64(4)?, a.f64(5)?, a.f64(6)?);
    let (nesterov, first_step) = (a.bool(7)?, a.bool(8)?);
    let op = a.op;
    same_len(op, &[("p", p.len()), ("g", g.len())])?;
    in_range(op, "lr", lr, 0.0, f64::MAX, false)?;
    in_range(op, "momentum", momentum, 0.0, f64::MAX, false)?;
    in_range(op, "dampening", dampening, f64::MIN, f64::MAX, false)?;
    in_range(op, "weightDecay", wd, 0.0, f64::MAX, false)?;
    if nesterov && (momentum <= 0.0 || dampening != 0.0) {
        return Err(format!("{op}: Nesterov momentum requires a momentum > 0 and zero dampening \
                            (got momentum {momentum}, dampening {dampening})"));
    }
    if momentum != 0.0 {
        match &buf {
            None => return Err(format!("{op}: buf is required when momentum != 0 (momentum = {momentum})")),
            Some(b) => same_len(op, &[("p", p.len()), ("buf", b.len())])?,
        }
    }
    optim::sgd_step(p, g, buf, Sgd { lr, momentum, dampening, weight_decay: wd, nesterov, first_step });
    Ok(Ret::Undefined)
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, { "adamStep" => adam_step, "sgdStep" => sgd_step });
}
