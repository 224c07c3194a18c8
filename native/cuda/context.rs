//! The process-wide CUDA state: device, primary context, one stream, the kernel module, the
//! registry of device buffers handed to JS as numeric handles, and scratch workspaces. Created on
//! first use; when creation fails the reason is kept and every CUDA call reports it.

use super::driver::{self, check, CUcontext, CUdeviceptr, CUfunction, CUmodule, CUstream, Driver};
use super::module;
use super::profile::Profile;
use std::collections::HashMap;
use std::ffi::{c_char, CString};
use std::sync::Mutex;

/// The scratch workspaces: launchers use Main for their own temporaries (conv columns, reduction
/// partials); the GEMM's split-K partials live apart, since a conv's GEMM runs while its columns
/// are in use.
#[derive(Clone, Copy)]
pub enum Scratch {
    Main = 0,
    SplitK = 1,
}

/// A device buffer of `len` 4-byte elements (f32 or i32).
#[derive(Clone, Copy)]
pub struct Buf {
    pub ptr: CUdeviceptr,
    pub len: usize,
}

pub struct Cuda {
    pub d: &'static Driver,
    ctx: CUcontext,
    pub stream: CUstream,
    module: CUmodule,
    pub device: String,
    pub cc: (i32, i32),
    pub image: &'static str,
    funcs: HashMap<&'static str, CUfunction>,
    bufs: HashMap<u64, Buf>,
    next_id: u64,
    scratch: [Buf; 2], // len in bytes here; indexed by Scratch
    /// Use the TF32 tensor-core GEMM (opt-in: not bit-comparable with the FP32 CPU path).
    pub tf32: bool,
    /// Per-kernel launch timing while cudaProfile(true) is in effect.
    pub profile: Option<Profile>,
}

// SAFETY: the raw driver handles are only used while STATE's mutex is held.
unsafe impl Send for Cuda {}

static STATE: Mutex<Option<Result<Cuda, String>>> = Mutex::new(None);

fn create() -> Result<Cuda, String> {
    let d = driver::driver()?;
    let op = "cudaInit";
    unsafe {
        check(d, op, "cuInit", (d.cuInit)(0))?;
        let ordinal = std::env::var("SEAM_CUDA_DEVICE").ok().and_then(|s| s.trim().parse::<i32>().ok()).unwrap_or(0);
        let mut dev = 0;
        check(d, op, "cuDeviceGet", (d.cuDeviceGet)(&mut dev, ordinal))?;
        let mut name = [0 as c_char; 256];
        check(d, op, "cuDeviceGetName", (d.cuDeviceGetName)(name.as_mut_ptr(), 255, dev))?;
        let device = std::ffi::CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
        let (mut major, mut minor) = (0, 0);
        check(d, op, "cuDeviceGetAttribute", (d.cuDeviceGetAttribute)(&mut major, driver::ATTR_CC_MAJOR, dev))?;
        check(d, op, "cuDeviceGetAttribute", (d.cuDeviceGetAttribute)(&mut minor, driver::ATTR_CC_MINOR, dev))?;
        let (image, bytes) = module::image_for((major, minor)).map_err(|e| format!("{device}: {e}"))?;
        let mut ctx = std::ptr::null_mut();
        check(d, op, "cuDevicePrimaryCtxRetain", (d.cuDevicePrimaryCtxRetain)(&mut ctx, dev))?;
        check(d, op, "cuCtxSetCurrent", (d.cuCtxSetCurrent)(ctx))?;
        let mut stream = std::ptr::null_mut();
        check(d, op, "cuStreamCreate", (d.cuStreamCreate)(&mut stream, 0))?;
        let mut m = std::ptr::null_mut();
        check(d, op, &format!("cuModuleLoadData ({image})"), (d.cuModuleLoadData)(&mut m, bytes.as_ptr() as *const _))?;
        let tf32 = std::env::var("SEAM_CUDA_TF32").is_ok_and(|v| v == "1") && major >= 8;
        Ok(Cuda {
            d, ctx, stream, module: m, device, cc: (major, minor), image, funcs: HashMap::new(), bufs: HashMap::new(),
            next_id: 1, scratch: [Buf { ptr: 0, len: 0 }; 2], tf32, profile: None,
        })
    }
}

/// Runs `f` on the CUDA state (created on first use) with its context current on this thread.
pub fn with<R>(op: &str, f: impl FnOnce(&mut Cuda) -> Result<R, String>) -> Result<R, String> {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let state = guard.get_or_insert_with(create);
    match state {
        Err(reason) => Err(format!("{op}: CUDA is not available: {reason}")),
        Ok(cx) => {
            check(cx.d, op, "cuCtxSetCurrent", unsafe { (cx.d.cuCtxSetCurrent)(cx.ctx) })?;
            f(cx)
        }
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// JSON {available, reason, device, cc, image, tf32, build, nvccFailed}: whether CUDA works here,
/// and why not (`build`: build.rs's note; `nvccFailed`: nvcc was found but failed on the kernels).
pub fn status_json() -> String {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let state = guard.get_or_insert_with(create);
    // The fields every answer ends with: build.rs's note, and whether nvcc failed.
    let build = format!("\"build\":{},\"nvccFailed\":{}", json_str(module::BUILD_NOTE), module::NVCC_FAILED);
    match state {
        Ok(cx) => format!(
            "{{\"available\":true,\"reason\":\"\",\"device\":{},\"cc\":\"{}.{}\",\"image\":{},\"tf32\":{},{build}}}",
            json_str(&cx.device), cx.cc.0, cx.cc.1, json_str(cx.image), cx.tf32
        ),
        Err(r) => format!("{{\"available\":false,\"reason\":{},\"device\":null,\"cc\":null,\"image\":null,\"tf32\":false,{build}}}", json_str(r)),
    }
}

impl Cuda {
    pub fn function(&mut self, op: &str, name: &'static str) -> Result<CUfunction, String> {
        if let Some(&f) = self.funcs.get(name) {
            return Ok(f);
        }
        let c = CString::new(name).map_err(|_| format!("{op}: bad kernel name"))?;
        let mut f = std::ptr::null_mut();
        check(self.d, op, &format!("cuModuleGetFunction({name})"), unsafe { (self.d.cuModuleGetFunction)(&mut f, self.module, c.as_ptr()) })?;
        self.funcs.insert(name, f);
        Ok(f)
    }

    pub fn sync(&self, op: &str) -> Result<(), String> {
        check(self.d, op, "cuStreamSynchronize", unsafe { (self.d.cuStreamSynchronize)(self.stream) })
    }

    fn raw_alloc(&self, op: &str, bytes: usize) -> Result<CUdeviceptr, String> {
        if bytes == 0 {
            return Ok(0);
        }
        let mut p = 0;
        check(self.d, op, &format!("cuMemAlloc({bytes} bytes)"), unsafe { (self.d.cuMemAlloc_v2)(&mut p, bytes) })?;
        Ok(p)
    }

    /// A new buffer of `len` 4-byte elements; returns its handle.
    pub fn alloc(&mut self, op: &str, len: usize) -> Result<u64, String> {
        let bytes = len.checked_mul(4).ok_or_else(|| format!("{op}: {len} elements is too large"))?;
        let ptr = self.raw_alloc(op, bytes)?;
        let id = self.next_id;
        self.next_id += 1;
        self.bufs.insert(id, Buf { ptr, len });
        Ok(id)
    }

    pub fn free(&mut self, op: &str, id: u64) -> Result<(), String> {
        let b = self.bufs.remove(&id).ok_or_else(|| format!("{op}: device buffer handle {id} is unknown or already freed"))?;
        if b.ptr != 0 {
            self.sync(op)?; // kernels still queued may use it
            check(self.d, op, "cuMemFree", unsafe { (self.d.cuMemFree_v2)(b.ptr) })?;
        }
        Ok(())
    }

    pub fn buf(&self, op: &str, name: &str, id: u64) -> Result<Buf, String> {
        self.bufs.get(&id).copied().ok_or_else(|| format!("{op}: {name} (handle {id}) is not a live device buffer"))
    }

    /// The buffer behind `id`, which must hold exactly `want` elements.
    pub fn buf_len(&self, op: &str, name: &str, id: u64, want: usize) -> Result<CUdeviceptr, String> {
        let b = self.buf(op, name, id)?;
        if b.len != want {
            return Err(format!("{op}: {name} has {} elements, expected {want}", b.len));
        }
        Ok(b.ptr)
    }

    pub fn live_buffers(&self) -> usize { self.bufs.len() }

    /// A device workspace of at least `bytes` (grown on demand, kept across calls, never shared
    /// between two live uses: callers take it once per op).
    pub fn scratch(&mut self, op: &str, bytes: usize) -> Result<CUdeviceptr, String> {
        self.scratch_in(op, Scratch::Main, bytes)
    }

    /// At least `bytes` of workspace `which`, grown (never shrunk) on demand.
    pub fn scratch_in(&mut self, op: &str, which: Scratch, bytes: usize) -> Result<CUdeviceptr, String> {
        let slot = which as usize;
        if self.scratch[slot].len < bytes {
            if self.scratch[slot].ptr != 0 {
                self.sync(op)?;
                check(self.d, op, "cuMemFree", unsafe { (self.d.cuMemFree_v2)(self.scratch[slot].ptr) })?;
                self.scratch[slot] = Buf { ptr: 0, len: 0 };
            }
            let grown = bytes.max(1 << 20).next_power_of_two();
            self.scratch[slot] = Buf { ptr: self.raw_alloc(op, grown)?, len: grown };
        }
        Ok(self.scratch[slot].ptr)
    }

    pub fn upload(&self, op: &str, dst: CUdeviceptr, src: *const u8, bytes: usize) -> Result<(), String> {
        if bytes == 0 { return Ok(()); }
        // From pageable memory the driver has copied `src` to staging memory before returning.
        check(self.d, op, "cuMemcpyHtoDAsync", unsafe { (self.d.cuMemcpyHtoDAsync_v2)(dst, src as *const _, bytes, self.stream) })
    }

    pub fn download(&self, op: &str, dst: *mut u8, src: CUdeviceptr, bytes: usize) -> Result<(), String> {
        if bytes > 0 {
            check(self.d, op, "cuMemcpyDtoHAsync", unsafe { (self.d.cuMemcpyDtoHAsync_v2)(dst as *mut _, src, bytes, self.stream) })?;
        }
        self.sync(op)
    }
}
