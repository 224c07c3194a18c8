//! The CUDA backend's native side: a driver-API binding loaded with dlopen at run time
//! (driver.rs), the process-wide device state and buffer registry (context.rs), the kernels
//! embedded by build.rs (module.rs), kernel launches (launch.rs), an opt-in profiler (profile.rs) and one launcher per op family
//! (ops.rs, nn_ops.rs, conv.rs), each mirroring the CPU op of the same name in src/native.ts.
//! Nothing here panics on bad input: every handle and length is checked and errors name the op
//! and, for driver failures, the CUDA error name.

pub mod context;
pub mod conv;
pub mod driver;
pub mod launch;
pub mod mask_ops;
pub mod module;
pub mod nn_ops;
pub mod ops;
pub mod profile;

#[cfg(test)]
mod tests;
