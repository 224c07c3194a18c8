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
