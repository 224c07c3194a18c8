//! Kernel launches: typed parameters packed the way cuLaunchKernel reads them (one pointer per
//! parameter, pointing at a value laid out as the kernel's C parameter), and the grid shapes
//! every launcher uses. The numbers mirror kernels/common.cuh (SEAM_THREADS, SEAM_MAX_BLOCKS) and
//! the emulation's test/cuda/emu/plans.h.

use super::context::Cuda;
use super::driver::{check, CUdeviceptr};
use std::ffi::c_void;
use std::time::Instant;

pub const THREADS: u32 = 256;
pub const MAX_BLOCKS: u64 = 4096;

/// One kernel parameter.
pub enum P {
    Ptr(CUdeviceptr),
    I32(i32),
    I64(i64),
    F32(f32),
    /// A struct of ints passed by value (SeamConvGeom, SeamPoolGeom: 13 ints each).
    Ints(Vec<i32>),
}

/// Grid for the 1-D grid-stride kernels over n elements.
pub fn grid_1d(n: usize) -> u32 {
    (n.div_ceil(THREADS as usize) as u64).clamp(1, MAX_BLOCKS) as u32
}

/// Grid for the one-warp-per-row kernels (row_sum_f32, cross_entropy_forward_f32).
pub fn grid_warp_rows(rows: usize) -> u32 {
    let per = (THREADS / 32) as usize;
    (rows.div_ceil(per) as u64).clamp(1, MAX_BLOCKS) as u32
}

/// Converts a size to the kernels' int, refusing what does not fit.
pub fn int(op: &str, what: &str, v: usize) -> Result<i32, String> {
    i32::try_from(v).map_err(|_| format!("{op}: {what} = {v} exceeds the CUDA kernels' 2^31-1 limit"))
}

pub fn launch(cx: &mut Cuda, op: &str, kernel: &'static str, grid: (u32, u32, u32), block: u32, params: &[P]) -> Result<(), String> {
    if grid.0 == 0 || grid.1 == 0 || grid.2 == 0 {
        return Ok(());
    }
    if grid.1 > 65535 || grid.2 > 65535 {
        return Err(format!("{op}: launch grid {grid:?} of {kernel} exceeds CUDA's limits"));
    }
    let f = cx.function(op, kernel)?;
    // Each value lives in its own 64-byte slot; the slots stay put while cuLaunchKernel reads them.
    let mut slots: Vec<[u64; 8]> = vec![[0u64; 8]; params.len()];
    for (slot, p) in slots.iter_mut().zip(params) {
        let bytes = slot.as_mut_ptr() as *mut u8;
        unsafe {
            match p {
                P::Ptr(v) => std::ptr::write_unaligned(bytes as *mut u64, *v),
                P::I64(v) => std::ptr::write_unaligned(bytes as *mut i64, *v),
                P::I32(v) => std::ptr::write_unaligned(bytes as *mut i32, *v),
                P::F32(v) => std::ptr::write_unaligned(bytes as *mut f32, *v),
                P::Ints(v) => {
                    if v.len() > 16 {
                        return Err(format!("{op}: internal error: struct parameter too large"));
                    }
                    std::ptr::copy_nonoverlapping(v.as_ptr(), bytes as *mut i32, v.len());
                }
            }
        }
    }
    let mut ptrs: Vec<*mut c_void> = slots.iter_mut().map(|s| s.as_mut_ptr() as *mut c_void).collect();
    let since = if cx.profile.is_some() { cx.sync(op)?; Some(Instant::now()) } else { None };
    let r = unsafe {
        (cx.d.cuLaunchKernel)(f, grid.0, grid.1, grid.2, block, 1, 1, 0, cx.stream, ptrs.as_mut_ptr(), std::ptr::null_mut())
    };
    check(cx.d, op, &format!("cuLaunchKernel({kernel})"), r)?;
    if let Some(t0) = since {
        cx.sync(op)?;
        if let Some(p) = cx.profile.as_mut() { p.add(kernel, t0); }
    }
    Ok(())
}

/// A 1-D grid-stride launch over n elements (nothing to do when n == 0).
pub fn launch_1d(cx: &mut Cuda, op: &str, kernel: &'static str, n: usize, params: &[P]) -> Result<(), String> {
    if n == 0 {
        return Ok(());
    }
    launch(cx, op, kernel, (grid_1d(n), 1, 1), THREADS, params)
}

/// Device address `off` 4-byte elements past `p`.
pub fn at(p: CUdeviceptr, off: usize) -> CUdeviceptr {
    p + (off as u64) * 4
}
