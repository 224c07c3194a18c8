//! `cargo test` for the CUDA side. Without a GPU (the usual case here): the driver binding reports
//! "unavailable" with a reason and nothing crashes; the embedded kernels contain every kernel the
//! launchers name; parameter checks reject bad shapes. With a GPU (`cargo test -- --ignored`): a GEMM runs against a
//! CPU loop (the JS parity suite, test/cuda/gpu-parity.test.ts, covers every op).

use super::context::{status_json, with};
use super::{conv, module, nn_ops, ops};

fn gpu_available() -> bool {
    status_json().contains("\"available\":true")
}

#[test]
fn status_is_json_with_a_reason_when_unavailable() {
    let s = status_json();
    assert!(s.starts_with('{') && s.ends_with('}'), "{s}");
    assert!(s.contains(&format!("\"nvccFailed\":{}}}", module::NVCC_FAILED)), "{s}");
    if !gpu_available() {
        assert!(s.contains("\"available\":false"), "{s}");
        let reason = s.split("\"reason\":\"").nth(1).unwrap_or("");
        assert!(!reason.starts_with('"'), "empty reason in {s}");
        // every entry point reports the same reason instead of crashing
        let e = with("cudaAlloc", |cx| cx.alloc("cudaAlloc", 16)).unwrap_err();
        assert!(e.starts_with("cudaAlloc: CUDA is not available: "), "{e}");
        let e = with("cudaGemm", |cx| ops::gemm(cx, false, false, 2, 2, 2, 1.0, 1, 2, 0.0, 3)).unwrap_err();
        assert!(e.contains("not available"), "{e}");
    }
}

#[test]
fn missing_driver_library_is_an_error_not_a_crash() {
    // dlopen of a library that does not exist: what a machine without the NVIDIA driver sees.
    let name = super::driver::library_name();
    if name == "libcuda.so.1" && !gpu_available() {
        let e = super::driver::driver().err().unwrap_or_default();
        assert!(e.is_empty() || e.contains("libcuda.so.1") || e.contains("CUDA"), "{e}");
    }
}

/// Kernel names the launchers pass to cuModuleGetFunction, read from their sources.
fn launched_kernels() -> Vec<String> {
    let srcs = [include_str!("ops.rs"), include_str!("nn_ops.rs"), include_str!("conv.rs")];
    let mut names = Vec::new();
    for s in srcs {
        for part in s.split('"').skip(1).step_by(2) {
            if (part.ends_with("_f32") || part.ends_with("_f64")) && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                names.push(part.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn embedded_kernels_cover_every_launcher() {
    // nvcc present but failing is a defect: fail here; without nvcc there is nothing to check.
    if module::NVCC_FAILED {
        panic!("nvcc failed to compile kernels/*.cu: {}", module::BUILD_NOTE);
    }
    if module::PTX.is_empty() {
        eprintln!("SKIPPED embedded_kernels_cover_every_launcher: no kernels embedded ({})", module::BUILD_NOTE);
        return;
    }
    assert!(module::BUILD_NOTE.is_empty(), "{}", module::BUILD_NOTE);
    let ptx = String::from_utf8_lossy(module::PTX);
    assert!(ptx.contains(".target sm_80"), "PTX is for compute_80");
    assert!(ptx.contains("mma.sync.aligned.m16n8k8"), "the TF32 tensor-core path is compiled in");
    let names = launched_kernels();
    assert!(names.len() > 25, "{names:?}");
    for k in names.iter().chain(["gemm_f32".to_string(), "gemm_tf32_f32".to_string()].iter()) {
        assert!(ptx.contains(&format!(".entry {k}(")), "kernel {k} is launched but not in the PTX");
    }
    assert_eq!(&module::CUBIN_SM90[..4], b"\x7fELF", "sm_90 cubin is an ELF image");
}

#[test]
fn image_choice_by_compute_capability() {
    if module::PTX.is_empty() {
        assert!(module::image_for((9, 0)).is_err());
        return;
    }
    assert_eq!(module::image_for((9, 0)).unwrap().0, "cubin sm_90");
    let (kind, bytes) = module::image_for((8, 6)).unwrap();
    assert_eq!(kind, "ptx compute_80");
    assert_eq!(bytes.last(), Some(&0u8), "PTX handed to cuModuleLoadData is NUL-terminated");
    assert_eq!(module::image_for((12, 0)).unwrap().0, "ptx compute_80");
    assert!(module::image_for((7, 5)).unwrap_err().contains("below 8.0"));
}

#[test]
fn bad_shapes_are_errors() {
    let e = conv::ConvGeom::parse("op", &[1, 3, 4, 4, 5, 3, 3, 1, 1, 0, 0, 1, 1, 2]).err().unwrap();
    assert!(e.contains("multiples of groups"), "{e}");
    assert!(conv::ConvGeom::parse("op", &[1, 3, 2, 2, 4, 5, 5, 1, 1, 0, 0, 1, 1, 1]).is_err(), "kernel larger than input");
    assert!(conv::ConvGeom::parse("op", &[1, 3, 4, 4]).is_err());
    assert!(conv::ConvGeom::parse("op", &[1, 3, 4, 4, 4, 3, 3, 0, 1, 0, 0, 1, 1, 1]).is_err(), "zero stride");
    assert!(conv::ConvGeom::parse("op", &[-1, 3, 4, 4, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1]).is_err());
    assert!(conv::ConvGeom::parse("op", &[1, 65536, 65536, 65536, 4, 3, 3, 1, 1, 0, 0, 1, 1, 1]).is_err(), "too large");
    let g = conv::ConvGeom::parse("op", &[2, 4, 7, 7, 6, 3, 2, 2, 1, 1, 0, 1, 2, 2]).unwrap();
    assert_eq!((g.oh, g.ow), (4, 5));
    let p = nn_ops::PoolGeom::parse("op", &[1, 1, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0]).unwrap();
    assert_eq!((p.oh, p.ow), (4, 5), "ceil mode drops the window that starts in the padding");
    assert!(nn_ops::PoolGeom::parse("op", &[1, 1, 4, 4, 2, 2, 2, 2, 2, 0, 1, 1, 0, 0]).is_err(), "pad > k/2");
    assert!(ops::no_alias("op", &[("out", 3)], &[("a", 1), ("b", 3)]).is_err());
    assert!(ops::no_alias("op", &[("out", 3)], &[("a", 1), ("b", 1)]).is_ok());
}

/// Needs a GPU: `cargo test -- --ignored` on a CUDA machine (reported as ignored elsewhere).
#[test]
#[ignore = "needs a CUDA GPU: run `cargo test -- --ignored` on a GPU machine"]
fn gpu_gemm_matches_cpu_loop() {
    assert!(gpu_available(), "no usable CUDA device: {}", status_json());
    let (m, n, k) = (37usize, 45usize, 29usize);
    let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
    let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.0).collect();
    let mut want = vec![0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            want[i * n + j] = (0..k).map(|t| a[i * k + t] as f64 * b[t * n + j] as f64).sum::<f64>() as f32;
        }
    }
    let got = with("test", |cx| {
        let (ha, hb, hc) = (cx.alloc("t", m * k)?, cx.alloc("t", k * n)?, cx.alloc("t", m * n)?);
        cx.upload("t", cx.buf("t", "a", ha)?.ptr, a.as_ptr() as *const u8, a.len() * 4)?;
        cx.upload("t", cx.buf("t", "b", hb)?.ptr, b.as_ptr() as *const u8, b.len() * 4)?;
        ops::gemm(cx, false, false, m, n, k, 1.0, ha, hb, 0.0, hc)?;
        let mut out = vec![0f32; m * n];
        cx.download("t", out.as_mut_ptr() as *mut u8, cx.buf("t", "c", hc)?.ptr, out.len() * 4)?;
        for hnd in [ha, hb, hc] {
            cx.free("t", hnd)?;
        }
        Ok(out)
    })
    .unwrap();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() <= 1e-5 + 1e-5 * w.abs(), "gemm[{i}]: gpu {g} cpu {w}");
    }
}

/// build.rs compiles all kernel files as one unit; this checks each also compiles alone (it
/// includes what it uses). Needs nvcc; reported and skipped without it.
#[test]
fn each_kernel_file_compiles_alone_with_nvcc() {
    let nvcc = ["nvcc", "/usr/local/cuda/bin/nvcc"].into_iter().find(|n| {
        std::process::Command::new(n).arg("--version").output().is_ok_and(|o| o.status.success())
    });
    let Some(nvcc) = nvcc else {
        eprintln!("SKIPPED each_kernel_file_compiles_alone_with_nvcc: nvcc not found");
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
    let out = std::env::temp_dir().join(format!("seam-ptx-check-{}", std::process::id()));
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "cu") {
            let r = std::process::Command::new(nvcc)
                .args(["-ptx", "-arch=compute_80", "-std=c++17", "-DSEAM_CUDA_MMA=1", "-o"])
                .arg(&out).arg(&p).output().unwrap();
            assert!(r.status.success(), "nvcc -ptx {}: {}", p.display(), String::from_utf8_lossy(&r.stderr));
            n += 1;
        }
    }
    let _ = std::fs::remove_file(&out);
    assert!(n >= 10, "found {n} kernel files");
}
