//! JS-facing CUDA functions: availability, device buffers (numeric handles with explicit free),
//! host <-> device copies, and (in cuda_ops.rs) one launcher per op family. Every call checks its
//! handles and lengths; when CUDA is unavailable each throws "<op>: CUDA is not available: <why>".
//! Types: src/backend/cuda-native.ts.

use crate::cuda::context::{self, Cuda};
use crate::cuda::ops;
use crate::export_fns;
use crate::napi::{napi_env, napi_value, Args, OpResult, Ret};

/// A device buffer handle argument.
pub fn handle(a: &Args, i: usize) -> Result<u64, String> {
    let h = a.usize(i)?;
    if h == 0 {
        return Err(format!("{}: argument {i} is not a device buffer handle", a.op));
    }
    Ok(h as u64)
}

pub fn handle_opt(a: &Args, i: usize) -> Result<Option<u64>, String> {
    if a.is_nullish(i) { Ok(None) } else { handle(a, i).map(Some) }
}

/// Runs `f` with the CUDA state of this process.
pub fn on<R>(a: &Args, f: impl FnOnce(&mut Cuda) -> Result<R, String>) -> Result<R, String> {
    context::with(a.op, f)
}

fn available(_a: &mut Args) -> OpResult { Ok(Ret::Str(context::status_json())) }

fn set_tf32(a: &mut Args) -> OpResult {
    let on_ = a.bool(0)?;
    on(a, |cx| {
        if on_ && cx.cc.0 < 8 {
            return Err("cudaSetTf32: TF32 needs compute capability 8.0 or newer".into());
        }
        cx.tf32 = on_;
        Ok(Ret::Undefined)
    })
}

/// cudaProfile(on): returns the kernel table gathered since the last call (JSON), then turns the
/// profiler on or off (native/cuda/profile.rs).
fn profile(a: &mut Args) -> OpResult {
    let on_ = a.bool(0)?;
    on(a, |cx| {
        cx.sync(a.op)?;
        let table = cx.profile.take().map(|p| p.to_json()).unwrap_or_else(|| "{}".into());
        cx.profile = on_.then(Default::default);
        Ok(Ret::Str(table))
    })
}

fn alloc(a: &mut Args) -> OpResult {
    let len = a.usize(0)?;
    on(a, |cx| cx.alloc(a.op, len).map(|h| Ret::Number(h as f64)))
}

fn free(a: &mut Args) -> OpResult {
    let h = handle(a, 0)?;
    on(a, |cx| cx.free(a.op, h).map(|_| Ret::Undefined))
}

fn length(a: &mut Args) -> OpResult {
    let h = handle(a, 0)?;
    on(a, |cx| cx.buf(a.op, "buffer", h).map(|b| Ret::Number(b.len as f64)))
}

fn live_buffers(a: &mut Args) -> OpResult { on(a, |cx| Ok(Ret::Number(cx.live_buffers() as f64))) }

fn synchronize(a: &mut Args) -> OpResult { on(a, |cx| cx.sync(a.op).map(|_| Ret::Undefined)) }

/// upload(handle, typed array): the array's length must equal the buffer's.
fn upload_bytes(a: &Args, h: u64, src: *const u8, len: usize) -> OpResult {
    on(a, |cx| {
        let p = cx.buf_len(a.op, "destination buffer", h, len)?;
        cx.upload(a.op, p, src, len * 4).map(|_| Ret::Undefined)
    })
}

fn upload(a: &mut Args) -> OpResult {
    let h = handle(a, 0)?;
    let s = a.f32_in(1)?;
    upload_bytes(a, h, s.as_ptr() as *const u8, s.len())
}

fn upload_i32(a: &mut Args) -> OpResult {
    let h = handle(a, 0)?;
    let s = a.i32_in(1)?;
    upload_bytes(a, h, s.as_ptr() as *const u8, s.len())
}

fn download_bytes(a: &Args, h: u64, dst: *mut u8, len: usize) -> OpResult {
    on(a, |cx| {
        let p = cx.buf_len(a.op, "source buffer", h, len)?;
        cx.download(a.op, dst, p, len * 4).map(|_| Ret::Undefined)
    })
}

fn download(a: &mut Args) -> OpResult {
    let h = handle(a, 0)?;
    let d = a.f32_out(1)?;
    download_bytes(a, h, d.as_mut_ptr() as *mut u8, d.len())
}

fn download_i32(a: &mut Args) -> OpResult {
    let h = handle(a, 0)?;
    let d = a.i32_out(1)?;
    download_bytes(a, h, d.as_mut_ptr() as *mut u8, d.len())
}

fn fill(a: &mut Args) -> OpResult {
    let (h, v) = (handle(a, 0)?, a.f32(1)?);
    on(a, |cx| ops::fill(cx, h, v).map(|_| Ret::Undefined))
}

pub unsafe fn register(env: napi_env, exports: napi_value) {
    export_fns!(env, exports, {
        "cudaAvailable" => available,
        "cudaSetTf32" => set_tf32,
        "cudaProfile" => profile,
        "cudaAlloc" => alloc,
        "cudaFree" => free,
        "cudaLength" => length,
        "cudaLiveBuffers" => live_buffers,
        "cudaSynchronize" => synchronize,
        "cudaUpload" => upload,
        "cudaUploadI32" => upload_i32,
        "cudaDownload" => download,
        "cudaDownloadI32" => download_i32,
        "cudaFill" => fill,
    });
    super::cuda_ops::register(env, exports);
}
