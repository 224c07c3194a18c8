//! seam's native addon: CPU kernels (SIMD GEMM, convolution, masked weights, ...) and the CUDA
//! backend's host side, behind a small hand-written N-API layer.
//!
//! Map: `kernels/` (CPU kernels over slices, knowing nothing of JS; see its mod.rs),
//! `threads.rs` (the thread pool they split work over), `cuda/` (driver binding, device buffers,
//! kernel launchers), `bindings/` (the JS-facing functions: validate arguments, call a kernel or
//! launcher), `napi.rs` (the N-API declarations and argument helpers). build.rs compiles the CUDA
//! kernels (kernels/*.cu at the repository root) that `cuda/` embeds.

pub mod napi;
pub mod threads;
pub mod kernels;
pub mod cuda;
mod bindings;

/// Entry point Node calls when the `.node` file is loaded.
///
/// # Safety
/// Called by Node only, with a valid `env` and `exports`.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi::napi_env, exports: napi::napi_value) -> napi::napi_value {
    // Panics are caught and turned into JS exceptions; keep stderr quiet unless asked.
    if std::env::var_os("SEAM_DEBUG_PANIC").is_none() {
        std::panic::set_hook(Box::new(|_| {}));
    }
    tune_malloc();
    bindings::register(env, exports);
    exports
}

/// Tensor buffers (JS ArrayBuffers, malloc'd) of a few MB are allocated and freed every step.
/// glibc would hand large ones back to the kernel (mmap threshold / heap trimming) and every
/// reuse would then fault in freshly zeroed pages (~8% of a training step). Keep them in the
/// heap instead: allocations up to 32 MB come from the heap and freed memory is not trimmed.
/// RSS then stays at its peak rather than following each step. `SEAM_MALLOC_TUNE=0` opts out.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if std::env::var("SEAM_MALLOC_TUNE").as_deref() == Ok("0") {
            return;
        }
        extern "C" {
            fn mallopt(param: i32, value: i32) -> i32;
        }
        const M_TRIM_THRESHOLD: i32 = -1;
        const M_MMAP_THRESHOLD: i32 = -3;
        // Safety: mallopt only adjusts allocator parameters.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 32 << 20);
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}
