//! The kernels embedded at build time by build.rs: one PTX for compute_80 (JIT-compiled by the
//! driver for any sm_80+ GPU) and one cubin for sm_90. Empty when nvcc was absent or failed;
//! `BUILD_NOTE` then says why and `NVCC_FAILED` which of the two.

pub static PTX: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/seam_kernels.ptx"));
pub static CUBIN_SM90: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/seam_kernels_sm90.cubin"));
pub const BUILD_NOTE: &str = env!("SEAM_CUDA_BUILD_NOTE");
/// Whether nvcc was found but failed to compile the kernels (`BUILD_NOTE` then holds its error),
/// as opposed to kernels left out on purpose or for want of nvcc.
pub const NVCC_FAILED: bool = matches!(env!("SEAM_CUDA_NVCC_FAILED").as_bytes(), b"1");

/// Which image to load for compute capability (major, minor), or Err with the reason none fits.
/// The sm_90 cubin runs on 9.0 devices only; everything else (8.x, 9.x other than 9.0, 10.x, 12.x)
/// gets the PTX, NUL-terminated as cuModuleLoadData requires.
pub fn image_for(cc: (i32, i32)) -> Result<(&'static str, Vec<u8>), String> {
    if PTX.is_empty() {
        let why = if BUILD_NOTE.is_empty() { "the addon was built without CUDA kernels" } else { BUILD_NOTE };
        return Err(why.to_string());
    }
    if cc.0 < 8 {
        return Err(format!("compute capability {}.{} is below 8.0, the oldest these kernels target", cc.0, cc.1));
    }
    if cc == (9, 0) && !CUBIN_SM90.is_empty() {
        return Ok(("cubin sm_90", CUBIN_SM90.to_vec()));
    }
    let mut ptx = PTX.to_vec();
    ptx.push(0);
    Ok(("ptx compute_80", ptx))
}
