//! Compiles kernels/*.cu with nvcc into one PTX (compute_80, JIT-compiled by the driver on any
//! sm_80+ GPU) and one sm_90 cubin (H100/H200 load it directly), written to OUT_DIR and embedded by
//! native/cuda/module.rs. Without nvcc, or when nvcc fails, or with SEAM_NO_CUDA=1, the build still
//! succeeds: empty blobs are embedded and SEAM_CUDA_BUILD_NOTE says why, so the addon reports CUDA
//! as unavailable with that reason. SEAM_CUDA_NVCC_FAILED=1 tells the one case that is a defect
//! (nvcc was found but failed on kernels/*.cu) from the expected ones, so that tests fail on it
//! instead of skipping. nvcc is looked up as $SEAM_NVCC, on PATH, then in
//! /usr/local/cuda/bin. The PTX and cubin compile in parallel (about 2 s together).
//! SEAM_NVCC_FLAGS adds nvcc flags (e.g. -lineinfo).
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn find_nvcc() -> Option<PathBuf> {
    if let Some(p) = env::var_os("SEAM_NVCC") {
        return Some(PathBuf::from(p));
    }
    if let Some(paths) = env::var_os("PATH") {
        for dir in env::split_paths(&paths) {
            let c = dir.join("nvcc");
            if c.is_file() {
                return Some(c);
            }
        }
    }
    let c = PathBuf::from("/usr/local/cuda/bin/nvcc");
    if c.is_file() { Some(c) } else { None }
}

fn kernel_sources(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "cu")).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// SEAM_NVCC_FLAGS: extra nvcc flags, e.g. "-lineinfo" for profiling (doubles the embedded size).
fn extra_flags() -> Vec<String> {
    env::var("SEAM_NVCC_FLAGS").unwrap_or_default().split_whitespace().map(String::from).collect()
}

/// Runs both nvcc jobs at once; Err carries nvcc's message.
fn compile(nvcc: &Path, unit: &Path, include: &Path, ptx: &Path, cubin: &Path) -> Result<(), String> {
    let job = |mode: &str, arch: &str, out: &Path| {
        Command::new(nvcc)
            .args([mode, arch, "-O3", "-std=c++17", "-DSEAM_CUDA_MMA=1"])
            .args(extra_flags())
            .arg("-I").arg(include)
            .arg("-o").arg(out)
            .arg(unit)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("could not run {}: {e}", nvcc.display()))
    };
    let ptx_job = job("-ptx", "-arch=compute_80", ptx)?;
    let cubin_job = job("-cubin", "-arch=sm_90", cubin)?;
    for (what, child) in [("PTX (compute_80)", ptx_job), ("cubin (sm_90)", cubin_job)] {
        let out = child.wait_with_output().map_err(|e| format!("nvcc {what}: {e}"))?;
        if !out.status.success() {
            let msg = String::from_utf8_lossy(&out.stderr);
            let first: Vec<&str> = msg.lines().take(20).collect();
            return Err(format!("nvcc failed building the {what}: {}", first.join(" | ")));
        }
    }
    Ok(())
}

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let kdir = root.join("kernels");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=kernels");
    println!("cargo:rerun-if-env-changed=SEAM_NO_CUDA");
    println!("cargo:rerun-if-env-changed=SEAM_NVCC");
    println!("cargo:rerun-if-env-changed=SEAM_NVCC_FLAGS");

    let ptx = out.join("seam_kernels.ptx");
    let cubin = out.join("seam_kernels_sm90.cubin");
    // Start from empty blobs: a failed compile must not leave a stale module behind.
    let _ = fs::write(&ptx, b"");
    let _ = fs::write(&cubin, b"");

    let sources = kernel_sources(&kdir);
    for s in &sources {
        println!("cargo:rerun-if-changed={}", s.display());
    }
    println!("cargo:rerun-if-changed={}", kdir.join("common.cuh").display());

    // Set when nvcc ran and failed: the sources (or the toolkit) are broken, not merely absent.
    let mut nvcc_failed = false;
    let note = if env::var("SEAM_NO_CUDA").is_ok_and(|v| !v.is_empty() && v != "0") {
        "built with SEAM_NO_CUDA=1 (no CUDA kernels compiled)".to_string()
    } else if sources.is_empty() {
        "no kernels/*.cu found at build time".to_string()
    } else if let Some(nvcc) = find_nvcc() {
        // One translation unit including every kernel file: one PTX, one cubin.
        let unit = out.join("seam_kernels_all.cu");
        let body: String = sources.iter().map(|s| format!("#include \"{}\"\n", s.display())).collect();
        match fs::write(&unit, body).map_err(|e| e.to_string()).and_then(|_| compile(&nvcc, &unit, &kdir, &ptx, &cubin)) {
            Ok(()) => String::new(),
            Err(e) => {
                let _ = fs::write(&ptx, b"");
                let _ = fs::write(&cubin, b"");
                println!("cargo:warning=seam: CUDA kernels not built, CUDA will be unavailable: {e}");
                nvcc_failed = true;
                format!("the CUDA kernels failed to compile at build time: {e}")
            }
        }
    } else {
        println!("cargo:warning=seam: nvcc not found (PATH, /usr/local/cuda/bin); building without CUDA kernels");
        "nvcc was not found at build time (PATH, /usr/local/cuda/bin), so no CUDA kernels are embedded".to_string()
    };
    // one line, no quotes that would need escaping in the JSON the addon builds
    let note = note.replace(['\n', '\r'], " ").replace('"', "'");
    println!("cargo:rustc-env=SEAM_CUDA_BUILD_NOTE={note}");
    println!("cargo:rustc-env=SEAM_CUDA_NVCC_FAILED={}", u8::from(nvcc_failed));
}
