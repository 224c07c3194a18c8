//! Single-precision GEMM, row-major.
//!
//! Map:
//! - `sgemm.rs`: `sgemm` / `sgemm_serial`, C = alpha op(A) op(B) + beta C by the Goto/BLIS scheme
//!   (operands packed per KC x NC block), split over the threads by columns or rows. The
//!   micro-kernel (`Isa`) is picked once per process in `detect()`: AVX-512F, else AVX2+FMA, else
//!   portable (`SEAM_GEMM_ISA=avx2|portable` forces a lower one). Serves the JS `gemm` (matmul,
//!   linear).
//! - `prepacked.rs`: GEMMs on operands packed once for the whole K (`sgemm_packed`), or with one
//!   side raw (`sgemm_packed_a`, `sgemm_packed_b`): the convolutions, which reuse the packed
//!   weights across a batch or write im2col straight into packed strips.
//! - `nt.rs`: C += A B^T by dot products with no packing, for the conv weight gradient's
//!   gy x im2col^T (AVX-512; falls back to the packed GEMM without it).
//! - `pack.rs`: the strip layouts the micro-kernels read.
//! - `avx512.rs`, `avx2.rs`, `portable.rs`: the micro-kernels, one `Isa` each.

pub mod sgemm;
pub mod prepacked;
pub mod nt;
mod pack;
mod portable;
#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx512;
#[cfg(test)]
mod tests;
