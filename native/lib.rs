//! seam's native addon: CPU kernels (SIMD GEMM, convolution, masked weights, ...) behind a small
//! hand-written N-API layer. Kernels live in `kernels/` and know nothing of JS; `bindings/`
//! validates JS arguments and calls them.

pub mod napi;
pub mod pool;
pub mod kernels;
pub mod cuda;
mod bindings;

/// Entry point Node calls when the `.node` file is loaded.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi::napi_env, exports: napi::napi_value) -> napi::napi_value {
    // Panics are caught and turned into JS exceptions; keep stderr quiet unless asked.
    if std::env::var_os("SEAM_DEBUG_PANIC").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    bindings::register(env, exports);
    exports
}
