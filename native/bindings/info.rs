//! Build and machine facts: thread count and the SIMD level picked at run time.

use crate::export_fns;
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

fn info(_a: &mut Args) -> OpResult {
    Ok(Ret::Str(format!(
        "{{\"threads\":{},\"simd\":\"{}\",\"version\":\"{}\"}}",
        crate::threads::num_threads(),
        crate::kernels::simd_level(),
        env!("CARGO_PKG_VERSION")
    )))
}

/// Deliberately panics: lets tests prove a Rust panic becomes a JS exception.
fn panic_for_test(_a: &mut Args) -> OpResult {
    panic!("deliberate panic for the test suite")
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, { "info" => info, "panicForTest" => panic_for_test });
}
