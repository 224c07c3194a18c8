//! The CUDA driver API, loaded at run time with dlopen("libcuda.so.1") (or $SEAM_LIBCUDA), so
//! the addon builds and loads on machines without CUDA. Only the entry points seam uses are
//! resolved; their C signatures are those of cuda.h. No CUDA runtime library is involved.
#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::sync::OnceLock;

pub type CUresult = c_int;
pub type CUdevice = c_int;
pub type CUdeviceptr = u64;
pub type CUcontext = *mut c_void;
pub type CUstream = *mut c_void;
pub type CUmodule = *mut c_void;
pub type CUfunction = *mut c_void;

pub const CUDA_SUCCESS: CUresult = 0;
pub const ATTR_CC_MAJOR: c_int = 75;
pub const ATTR_CC_MINOR: c_int = 76;
pub const ATTR_MULTIPROCESSOR_COUNT: c_int = 16;

const RTLD_NOW: c_int = 2;
const RTLD_LOCAL: c_int = 0;

extern "C" {
    fn dlopen(filename: *const c_char, flag: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

/// Resolved driver entry points.
pub struct Driver {
    pub cuInit: unsafe extern "C" fn(c_uint) -> CUresult,
    pub cuDeviceGet: unsafe extern "C" fn(*mut CUdevice, c_int) -> CUresult,
    pub cuDeviceGetName: unsafe extern "C" fn(*mut c_char, c_int, CUdevice) -> CUresult,
    pub cuDeviceGetAttribute: unsafe extern "C" fn(*mut c_int, c_int, CUdevice) -> CUresult,
    pub cuDevicePrimaryCtxRetain: unsafe extern "C" fn(*mut CUcontext, CUdevice) -> CUresult,
    pub cuCtxSetCurrent: unsafe extern "C" fn(CUcontext) -> CUresult,
    pub cuStreamCreate: unsafe extern "C" fn(*mut CUstream, c_uint) -> CUresult,
    pub cuStreamSynchronize: unsafe extern "C" fn(CUstream) -> CUresult,
    pub cuModuleLoadData: unsafe extern "C" fn(*mut CUmodule, *const c_void) -> CUresult,
    pub cuModuleGetFunction: unsafe extern "C" fn(*mut CUfunction, CUmodule, *const c_char) -> CUresult,
    pub cuLaunchKernel: unsafe extern "C" fn(CUfunction, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint, c_uint,
                                             CUstream, *mut *mut c_void, *mut *mut c_void) -> CUresult,
    pub cuMemAlloc_v2: unsafe extern "C" fn(*mut CUdeviceptr, usize) -> CUresult,
    pub cuMemFree_v2: unsafe extern "C" fn(CUdeviceptr) -> CUresult,
    pub cuMemcpyHtoDAsync_v2: unsafe extern "C" fn(CUdeviceptr, *const c_void, usize, CUstream) -> CUresult,
    pub cuMemcpyDtoHAsync_v2: unsafe extern "C" fn(*mut c_void, CUdeviceptr, usize, CUstream) -> CUresult,
    pub cuGetErrorName: unsafe extern "C" fn(CUresult, *mut *const c_char) -> CUresult,
}

// SAFETY: the table holds plain function pointers into libcuda, valid for the process lifetime.
unsafe impl Send for Driver {}
unsafe impl Sync for Driver {}

static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();

/// The library dlopen tries: $SEAM_LIBCUDA when set (tests point it at a stand-in), else libcuda.so.1.
pub fn library_name() -> String {
    std::env::var("SEAM_LIBCUDA").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "libcuda.so.1".to_string())
}

unsafe fn last_dl_error() -> String {
    let e = dlerror();
    if e.is_null() { "unknown dlopen error".to_string() } else { CStr::from_ptr(e).to_string_lossy().into_owned() }
}

// Each symbol is transmuted to the fn-pointer type of the Driver field it initialises.
#[allow(clippy::missing_transmute_annotations)]
unsafe fn load() -> Result<Driver, String> {
    let name = library_name();
    let cname = CString::new(name.clone()).map_err(|_| "bad library name".to_string())?;
    let lib = dlopen(cname.as_ptr(), RTLD_NOW | RTLD_LOCAL);
    if lib.is_null() {
        return Err(format!("the CUDA driver library {name} could not be loaded ({}); no NVIDIA driver on this machine?", last_dl_error()));
    }
    macro_rules! sym {
        ($n:literal) => {{
            let p = dlsym(lib, concat!($n, "\0").as_ptr() as *const c_char);
            if p.is_null() {
                return Err(format!("{name} has no symbol {} (driver too old?)", $n));
            }
            std::mem::transmute::<*mut c_void, _>(p)
        }};
    }
    Ok(Driver {
        cuInit: sym!("cuInit"),
        cuDeviceGet: sym!("cuDeviceGet"),
        cuDeviceGetName: sym!("cuDeviceGetName"),
        cuDeviceGetAttribute: sym!("cuDeviceGetAttribute"),
        cuDevicePrimaryCtxRetain: sym!("cuDevicePrimaryCtxRetain"),
        cuCtxSetCurrent: sym!("cuCtxSetCurrent"),
        cuStreamCreate: sym!("cuStreamCreate"),
        cuStreamSynchronize: sym!("cuStreamSynchronize"),
        cuModuleLoadData: sym!("cuModuleLoadData"),
        cuModuleGetFunction: sym!("cuModuleGetFunction"),
        cuLaunchKernel: sym!("cuLaunchKernel"),
        cuMemAlloc_v2: sym!("cuMemAlloc_v2"),
        cuMemFree_v2: sym!("cuMemFree_v2"),
        cuMemcpyHtoDAsync_v2: sym!("cuMemcpyHtoDAsync_v2"),
        cuMemcpyDtoHAsync_v2: sym!("cuMemcpyDtoHAsync_v2"),
        cuGetErrorName: sym!("cuGetErrorName"),
    })
}

/// The driver, loaded once; Err says why it is not usable.
pub fn driver() -> Result<&'static Driver, String> {
    DRIVER.get_or_init(|| unsafe { load() }).as_ref().map_err(|e| e.clone())
}

/// The CUDA name of an error code ("CUDA_ERROR_OUT_OF_MEMORY"), or its number when unknown.
pub fn error_name(d: &Driver, r: CUresult) -> String {
    let mut p: *const c_char = std::ptr::null();
    let ok = unsafe { (d.cuGetErrorName)(r, &mut p) } == CUDA_SUCCESS && !p.is_null();
    if ok { unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned() } else { format!("CUDA error {r}") }
}

/// Turns a driver result into Err("<op>: <CUDA_ERROR_NAME> (<code>) in <call>").
pub fn check(d: &Driver, op: &str, call: &str, r: CUresult) -> Result<(), String> {
    if r == CUDA_SUCCESS { Ok(()) } else { Err(format!("{op}: {} ({r}) in {call}", error_name(d, r))) }
}
