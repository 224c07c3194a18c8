//! A small hand-written N-API layer: the few `napi_*` functions the addon uses (declared from
//! `js_native_api.h`; resolved from the Node binary at load time), argument readers that check
//! types and lengths, and `export` which wraps a Rust function so that errors and panics become
//! JS exceptions naming the op instead of aborting the process.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub type napi_env = *mut c_void;
pub type napi_value = *mut c_void;
pub type napi_callback_info = *mut c_void;
pub type napi_status = i32;
pub type napi_callback = unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value;

const NAPI_OK: napi_status = 0;
const T_UNDEFINED: i32 = 0;
const T_NULL: i32 = 1;
const T_BOOLEAN: i32 = 2;
const T_NUMBER: i32 = 3;
const TA_UINT8: i32 = 1;
const TA_INT32: i32 = 5;
const TA_FLOAT32: i32 = 7;

extern "C" {
    fn napi_create_function(env: napi_env, name: *const c_char, len: usize, cb: napi_callback,
                            data: *mut c_void, result: *mut napi_value) -> napi_status;
    fn napi_set_named_property(env: napi_env, obj: napi_value, name: *const c_char, value: napi_value) -> napi_status;
    fn napi_get_cb_info(env: napi_env, info: napi_callback_info, argc: *mut usize, argv: *mut napi_value,
                        this: *mut napi_value, data: *mut *mut c_void) -> napi_status;
    fn napi_typeof(env: napi_env, value: napi_value, result: *mut i32) -> napi_status;
    fn napi_is_typedarray(env: napi_env, value: napi_value, result: *mut bool) -> napi_status;
    fn napi_get_typedarray_info(env: napi_env, value: napi_value, ty: *mut i32, length: *mut usize,
                                data: *mut *mut c_void, arraybuffer: *mut napi_value, offset: *mut usize) -> napi_status;
    fn napi_get_value_double(env: napi_env, value: napi_value, result: *mut f64) -> napi_status;
    fn napi_get_value_bool(env: napi_env, value: napi_value, result: *mut bool) -> napi_status;
    fn napi_create_double(env: napi_env, value: f64, result: *mut napi_value) -> napi_status;
    fn napi_create_string_utf8(env: napi_env, s: *const c_char, len: usize, result: *mut napi_value) -> napi_status;
    fn napi_get_undefined(env: napi_env, result: *mut napi_value) -> napi_status;
    fn napi_throw_error(env: napi_env, code: *const c_char, msg: *const c_char) -> napi_status;
    fn napi_is_exception_pending(env: napi_env, result: *mut bool) -> napi_status;
}

/// What an exported function returns to JS.
pub enum Ret {
    Undefined,
    Number(f64),
    Str(String),
}

pub type OpResult = Result<Ret, String>;

const MAX_ARGS: usize = 24;

/// The arguments of one call. Buffers handed out are checked so that no output overlaps any
/// other buffer of the same call (inputs may alias each other; outputs may not alias anything).
pub struct Args {
    env: napi_env,
    argv: [napi_value; MAX_ARGS],
    argc: usize,
    pub op: &'static str,
    ranges: Vec<(usize, usize, bool)>, // (start, end, is_output)
}

fn status(op: &str, what: &str, s: napi_status) -> Result<(), String> {
    if s == NAPI_OK { Ok(()) } else { Err(format!("{op}: N-API call failed while reading {what} (status {s})")) }
}

impl Args {
    #[allow(clippy::len_without_is_empty)] // the argument count; never tested for emptiness
    pub fn len(&self) -> usize { self.argc }

    fn value(&self, i: usize) -> Result<napi_value, String> {
        if i >= self.argc {
            return Err(format!("{}: missing argument {} (got {} arguments)", self.op, i, self.argc));
        }
        Ok(self.argv[i])
    }

    fn type_of(&self, i: usize) -> Result<i32, String> {
        let v = self.value(i)?;
        let mut t = 0;
        status(self.op, "an argument type", unsafe { napi_typeof(self.env, v, &mut t) })?;
        Ok(t)
    }

    pub fn is_nullish(&self, i: usize) -> bool {
        i >= self.argc || matches!(self.type_of(i), Ok(T_UNDEFINED) | Ok(T_NULL))
    }

    pub fn f64(&self, i: usize) -> Result<f64, String> {
        if self.type_of(i)? != T_NUMBER {
            return Err(format!("{}: argument {} must be a number", self.op, i));
        }
        let mut x = 0.0;
        status(self.op, "a number", unsafe { napi_get_value_double(self.env, self.argv[i], &mut x) })?;
        Ok(x)
    }

    pub fn f32(&self, i: usize) -> Result<f32, String> { Ok(self.f64(i)? as f32) }

    /// A non-negative integer (sizes, counts, indices).
    pub fn usize(&self, i: usize) -> Result<usize, String> {
        let x = self.f64(i)?;
        if x.is_nan() || x < 0.0 || x.fract() != 0.0 || x > 9.0e15 {
            return Err(format!("{}: argument {} must be a non-negative integer, got {}", self.op, i, x));
        }
        Ok(x as usize)
    }

    pub fn i64(&self, i: usize) -> Result<i64, String> {
        let x = self.f64(i)?;
        if x.fract() != 0.0 || x.abs() > 9.0e15 {
            return Err(format!("{}: argument {} must be an integer, got {}", self.op, i, x));
        }
        Ok(x as i64)
    }

    pub fn bool(&self, i: usize) -> Result<bool, String> {
        if self.type_of(i)? != T_BOOLEAN {
            return Err(format!("{}: argument {} must be a boolean", self.op, i));
        }
        let mut b = false;
        status(self.op, "a boolean", unsafe { napi_get_value_bool(self.env, self.argv[i], &mut b) })?;
        Ok(b)
    }

    fn typed(&mut self, i: usize, want: i32, name: &str, output: bool) -> Result<(*mut u8, usize), String> {
        let v = self.value(i)?;
        let mut is = false;
        status(self.op, "a typed array", unsafe { napi_is_typedarray(self.env, v, &mut is) })?;
        if !is {
            return Err(format!("{}: argument {} must be a {}", self.op, i, name));
        }
        let (mut ty, mut len, mut data, mut ab, mut off) = (0, 0usize, std::ptr::null_mut(), std::ptr::null_mut(), 0usize);
        status(self.op, "a typed array", unsafe { napi_get_typedarray_info(self.env, v, &mut ty, &mut len, &mut data, &mut ab, &mut off) })?;
        if ty != want {
            return Err(format!("{}: argument {} must be a {} (got typed array kind {})", self.op, i, name, ty));
        }
        let elem = if want == TA_UINT8 { 1 } else { 4 };
        let start = data as usize;
        let end = start + len * elem;
        if len > 0 {
            for &(s, e, out) in &self.ranges {
                if (output || out) && start < e && s < end {
                    return Err(format!("{}: argument {} overlaps another buffer of the same call; outputs must not alias", self.op, i));
                }
            }
            self.ranges.push((start, end, output));
        }
        let ptr = if len == 0 { std::ptr::NonNull::<f32>::dangling().as_ptr() as *mut u8 } else { data as *mut u8 };
        Ok((ptr, len))
    }

    pub fn f32_in(&mut self, i: usize) -> Result<&'static [f32], String> {
        let (p, n) = self.typed(i, TA_FLOAT32, "Float32Array", false)?;
        Ok(unsafe { std::slice::from_raw_parts(p as *const f32, n) })
    }
    pub fn f32_out(&mut self, i: usize) -> Result<&'static mut [f32], String> {
        let (p, n) = self.typed(i, TA_FLOAT32, "Float32Array", true)?;
        Ok(unsafe { std::slice::from_raw_parts_mut(p as *mut f32, n) })
    }
    pub fn f32_in_opt(&mut self, i: usize) -> Result<Option<&'static [f32]>, String> {
        if self.is_nullish(i) { Ok(None) } else { self.f32_in(i).map(Some) }
    }
    pub fn f32_out_opt(&mut self, i: usize) -> Result<Option<&'static mut [f32]>, String> {
        if self.is_nullish(i) { Ok(None) } else { self.f32_out(i).map(Some) }
    }
    pub fn i32_in(&mut self, i: usize) -> Result<&'static [i32], String> {
        let (p, n) = self.typed(i, TA_INT32, "Int32Array", false)?;
        Ok(unsafe { std::slice::from_raw_parts(p as *const i32, n) })
    }
    pub fn i32_out(&mut self, i: usize) -> Result<&'static mut [i32], String> {
        let (p, n) = self.typed(i, TA_INT32, "Int32Array", true)?;
        Ok(unsafe { std::slice::from_raw_parts_mut(p as *mut i32, n) })
    }
    pub fn u8_in(&mut self, i: usize) -> Result<&'static [u8], String> {
        let (p, n) = self.typed(i, TA_UINT8, "Uint8Array", false)?;
        Ok(unsafe { std::slice::from_raw_parts(p as *const u8, n) })
    }
    pub fn u8_out(&mut self, i: usize) -> Result<&'static mut [u8], String> {
        let (p, n) = self.typed(i, TA_UINT8, "Uint8Array", true)?;
        Ok(unsafe { std::slice::from_raw_parts_mut(p, n) })
    }
}

/// Checks that a buffer holds exactly `want` elements; the message names the op and the buffer.
pub fn expect_len(op: &str, name: &str, got: usize, want: usize) -> Result<(), String> {
    if got != want {
        return Err(format!("{op}: {name} has {got} elements, expected {want}"));
    }
    Ok(())
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() { s.to_string() }
    else if let Some(s) = p.downcast_ref::<String>() { s.clone() }
    else { "unknown panic".to_string() }
}

unsafe fn throw(env: napi_env, msg: &str) {
    let mut pending = false;
    napi_is_exception_pending(env, &mut pending);
    if pending { return; }
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    napi_throw_error(env, std::ptr::null(), c.as_ptr());
}

/// Runs an exported function: reads the arguments, calls `f`, converts the result; any error or
/// panic becomes a JS exception whose message starts with the op name.
///
/// # Safety
/// `env` and `info` are the ones Node passed to the callback being run.
pub unsafe fn call(env: napi_env, info: napi_callback_info, op: &'static str, f: fn(&mut Args) -> OpResult) -> napi_value {
    let mut undefined = std::ptr::null_mut();
    napi_get_undefined(env, &mut undefined);
    let mut args = Args { env, argv: [std::ptr::null_mut(); MAX_ARGS], argc: MAX_ARGS, op, ranges: Vec::new() };
    let s = napi_get_cb_info(env, info, &mut args.argc, args.argv.as_mut_ptr(), std::ptr::null_mut(), std::ptr::null_mut());
    if s != NAPI_OK {
        throw(env, &format!("{op}: could not read the arguments"));
        return undefined;
    }
    args.argc = args.argc.min(MAX_ARGS);
    let result = catch_unwind(AssertUnwindSafe(|| f(&mut args)));
    match result {
        Ok(Ok(Ret::Undefined)) => undefined,
        Ok(Ok(Ret::Number(x))) => {
            let mut v = undefined;
            napi_create_double(env, x, &mut v);
            v
        }
        Ok(Ok(Ret::Str(s))) => {
            let mut v = undefined;
            napi_create_string_utf8(env, s.as_ptr() as *const c_char, s.len(), &mut v);
            v
        }
        Ok(Err(msg)) => {
            let msg = if msg.starts_with(op) { msg } else { format!("{op}: {msg}") };
            throw(env, &msg);
            undefined
        }
        Err(p) => {
            throw(env, &format!("{op}: internal error (caught panic: {})", panic_message(p)));
            undefined
        }
    }
}

/// Defines `exports[name] = cb`.
///
/// # Safety
/// `env` and `exports` are the ones Node passed to the module's registration.
pub unsafe fn define(env: napi_env, exports: napi_value, name: &str, cb: napi_callback) {
    let c = CString::new(name).expect("export name");
    let mut f = std::ptr::null_mut();
    if napi_create_function(env, c.as_ptr(), name.len(), cb, std::ptr::null_mut(), &mut f) == NAPI_OK {
        napi_set_named_property(env, exports, c.as_ptr(), f);
    }
}

/// Exports Rust functions `fn(&mut Args) -> OpResult` under JS names:
/// `export_fns!(env, exports, { "gemm" => gemm_binding, ... });`
#[macro_export]
macro_rules! export_fns {
    ($env:expr, $exports:expr, { $($name:literal => $f:path),* $(,)? }) => {{
        $(
            {
                unsafe extern "C" fn cb(env: $crate::napi::napi_env, info: $crate::napi::napi_callback_info) -> $crate::napi::napi_value {
                    $crate::napi::call(env, info, $name, $f)
                }
                $crate::napi::define($env, $exports, $name, cb);
            }
        )*
    }};
}
