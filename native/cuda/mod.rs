//! The CUDA backend's native side. No CUDA toolkit is needed at run time: the driver API is loaded
//! with dlopen, and the kernels (kernels/*.cu at the repository root) are compiled by build.rs
//! into a PTX and an sm_90 cubin embedded in the addon. Nothing here panics on bad input: every
//! handle and length is checked and errors name the op and, for driver failures, the CUDA error
//! name.
//!
//! Map:
//! - `driver.rs`: the driver-API binding (dlopen of libcuda, `SEAM_LIBCUDA` overrides the path).
//! - `context.rs`: the process-wide device state (`with`), the buffer registry, `status_json`.
//! - `module.rs`: the embedded PTX / cubin, which image a device loads, and build.rs's note.
//! - `launch.rs`: kernel launches and grid shapes (mirroring kernels/common.cuh).
//! - `ops.rs` (GEMM, elementwise, reductions, loss, optimizers), `nn_ops.rs` (BatchNorm,
//!   pooling), `conv.rs` (im2col + GEMM per chunk of images): one launcher per op, each mirroring
//!   the CPU op of the same name in src/native.ts.
//! - `profile.rs`: the opt-in, sync-timed per-kernel profiler.
//! - `tests.rs`: `cargo test` without a GPU (status, errors, every launcher's kernel embedded,
//!   each .cu compiling alone); `cargo test -- --ignored` on a GPU.

pub mod context;
pub mod conv;
pub mod driver;
pub mod launch;
pub mod module;
pub mod nn_ops;
pub mod ops;
pub mod profile;

#[cfg(test)]
mod tests;
