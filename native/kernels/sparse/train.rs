//! Sparse convolutions inside the training step. During a SeaM search a masked weight W*bin(M)
//! loses most of its entries; the forward (x * W) and the data gradient (gy * W^T, which
//! `conv2d.rs` runs as a forward over the flipped weights) then run over the kept weights only.
//! The weight gradient stays dense: the straight-through mask gradient needs all of it.
//!
//! `conv2d_forward_epi` asks `try_forward` first. Whether a call runs sparse is
//! `choose::sparse_train` (the density and the shape); a count of ~4096 weights (all of a small
//! weight, a strided sample of a large one) rules out dense weights before anything is packed.
//! The kept weights are packed afresh on every call (under Adam the masks change every step):
//! two parallel passes over the weight (count per output channel, then fill), into buffers kept
//! between calls. The eval BatchNorm of a fused forward folds into the packed values and the bias.
//!
//! Counts of dense and sparse FLOPs per pass (`stats`) and an optional per-call trace feed the
//! search log and `bench/profile.ts`.

use super::csr::{choose_geom, SparseGeom};
use super::forward::{sparse_conv_run, Epilogue as SparseEpilogue};
use crate::kernels::conv::choose;
use crate::kernels::conv::epilogue::Epilogue;
use crate::kernels::conv::im2col::ConvShape;
use crate::threads::{num_threads, run_on_all, share, SharedMut};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;

/// Which convolution of the step a forward call computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    Forward = 0,
    DataGrad = 1,
}

/// Whether sparse training convolutions run: 0 as `choose::sparse_train` decides, 1 never, 2
/// whenever the shape allows (for tests and measurements). `SEAM_SPARSE_TRAIN=auto|off|on`
/// sets the start value; `convSparseMode` changes it.
static MODE: AtomicU8 = AtomicU8::new(u8::MAX);

pub fn mode() -> u8 {
    let m = MODE.load(Ordering::Relaxed);
    if m != u8::MAX {
        return m;
    }
    let m = match std::env::var("SEAM_SPARSE_TRAIN").as_deref() {
        Ok("off") => 1,
        Ok("on") => 2,
        _ => 0,
    };
    MODE.store(m, Ordering::Relaxed);
    m
}

pub fn set_mode(m: u8) {
    MODE.store(m.min(2), Ordering::Relaxed);
}

/// Dense-equivalent FLOPs (2 * multiply-adds of the dense conv) by [pass][dense 0 / sparse 1].
static FLOPS: [[AtomicU64; 2]; 2] = [[AtomicU64::new(0), AtomicU64::new(0)], [AtomicU64::new(0), AtomicU64::new(0)]];

/// [pass][dense, sparse] FLOPs since the last reset.
pub fn stats(reset: bool) -> [[u64; 2]; 2] {
    let read = |a: &AtomicU64| if reset { a.swap(0, Ordering::Relaxed) } else { a.load(Ordering::Relaxed) };
    [[read(&FLOPS[0][0]), read(&FLOPS[0][1])], [read(&FLOPS[1][0]), read(&FLOPS[1][1])]]
}

/// One traced call: the pass, the conv params, the kept fraction (1.0 when not counted) and the path.
pub struct TraceRow {
    pub pass: Pass,
    pub params: [usize; 14],
    pub density: f64,
    pub sparse: bool,
}

/// Calls recorded while tracing is on (`convTrace`).
pub static TRACE: Mutex<Option<Vec<TraceRow>>> = Mutex::new(None);

/// Counts a call's FLOPs as dense or sparse (and traces it when tracing is on).
pub fn record(s: &ConvShape, pass: Pass, density: f64, sparse: bool) {
    let flops = 2 * (s.n * s.o * s.ohw() * s.ckk()) as u64;
    FLOPS[pass as usize][sparse as usize].fetch_add(flops, Ordering::Relaxed);
    let mut t = TRACE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(rows) = t.as_mut() {
        let params = [s.n, s.c, s.h, s.w, s.o, s.kh, s.kw, s.sh, s.sw, s.ph, s.pw, s.dh, s.dw, s.g];
        rows.push(TraceRow { pass, params, density, sparse });
    }
}

/// The kept weights of one call, packed for the sparse kernel; buffers kept between calls.
struct Packed {
    row_ptr: Vec<i32>,
    offs: Vec<i32>,
    vals: Vec<f32>,
    /// source offset of each weight column k
    col_off: Vec<i32>,
}

static PACKED: Mutex<Packed> = Mutex::new(Packed { row_ptr: Vec::new(), offs: Vec::new(), vals: Vec::new(), col_off: Vec::new() });

/// The fraction of nonzeros: counted exactly for up to 4096 weights, else among about 4096 of them
/// at a stride prime to 2 and 3 (so the sample does not line up with the taps of 3x3 kernels or
/// with channel boundaries, which are multiples of 9 * a power of two in the usual nets).
fn sampled_density(w: &[f32]) -> f64 {
    let mut stride = if w.len() <= 4096 { 1 } else { (w.len() / 4096).max(5) | 1 };
    while stride > 1 && stride % 3 == 0 {
        stride += 2;
    }
    let (mut kept, mut n) = (0usize, 0usize);
    for &v in w.iter().step_by(stride) {
        kept += (v != 0.0) as usize;
        n += 1;
    }
    kept as f64 / n.max(1) as f64
}

/// Packs the nonzeros of w (O x K rows), each row scaled by scale[o] when given, in two parallel
/// passes; returns the nonzero count. Same CSR as `csr::pack` (offsets of the lowering `g`).
fn pack_parallel(s: &ConvShape, g: &SparseGeom, w: &[f32], scale: Option<&[f32]>, p: &mut Packed) -> usize {
    let (o, k) = (s.o, s.ckk());
    p.col_off.clear();
    p.col_off.extend((0..k).map(|kk| g.offset(s, kk) as i32));
    p.row_ptr.resize(o + 1, 0);
    let parts = num_threads().min(o).max(1);
    {
        // Pass 1: nonzeros per row, written at row_ptr[o + 1].
        let rp = SharedMut::new(&mut p.row_ptr[1..]);
        run_on_all(&|t| {
            if t >= parts {
                return;
            }
            for r in share(o, parts, t) {
                let n = w[r * k..(r + 1) * k].iter().filter(|&&v| v != 0.0).count();
                // Safety: row r's count is written only by the part that holds r.
                unsafe { rp.slice(r, 1)[0] = n as i32 };
            }
        });
    }
    p.row_ptr[0] = 0;
    for r in 0..o {
        p.row_ptr[r + 1] += p.row_ptr[r];
    }
    let nnz = p.row_ptr[o] as usize;
    p.offs.resize(nnz, 0);
    p.vals.resize(nnz, 0.0);
    let (op, vp) = (SharedMut::new(&mut p.offs), SharedMut::new(&mut p.vals));
    let (row_ptr, col_off) = (&p.row_ptr, &p.col_off);
    run_on_all(&|t| {
        if t >= parts {
            return;
        }
        for r in share(o, parts, t) {
            let (j0, j1) = (row_ptr[r] as usize, row_ptr[r + 1] as usize);
            // Safety: row r's entries j0..j1 are written only by the part that holds r.
            let (offs, vals) = unsafe { (op.slice(j0, j1 - j0), vp.slice(j0, j1 - j0)) };
            let a = scale.map_or(1.0, |sc| sc[r]);
            let mut j = 0;
            for (kk, &v) in w[r * k..(r + 1) * k].iter().enumerate() {
                if v != 0.0 {
                    offs[j] = col_off[kk];
                    vals[j] = if scale.is_some() { v * a } else { v };
                    j += 1;
                }
            }
        }
    });
    nnz
}

/// SEAM_SPARSE_LOWERING=direct|panel|lanes (measurements only): that lowering where the shape allows it.
fn lowering_override(s: &ConvShape) -> Option<SparseGeom> {
    use super::csr::{Lowering, LANES};
    let want = std::env::var("SEAM_SPARSE_LOWERING").ok()?;
    let g = choose_geom(s);
    let tile = |unit: usize| (16..=128).step_by(16).filter(|t| t % unit == 0).last().unwrap_or(16);
    match want.as_str() {
        "lanes" if s.n >= LANES => Some(SparseGeom { mode: Lowering::Lanes, tile: tile(LANES) }),
        "direct" => Some(SparseGeom { mode: Lowering::Direct, tile: if g.mode == Lowering::Direct { g.tile } else { 64 } }),
        "panel" => Some(SparseGeom { mode: Lowering::Panel, tile: 32 }),
        _ => None,
    }
}

/// Runs y = epi(conv(x, w) + bias) sparse when `choose::sparse_train` says so for this weight;
/// false (nothing written) when the dense path should run. Records the pass either way.
pub fn try_forward(s: &ConvShape, x: &[f32], w: &[f32], bias: Option<&[f32]>, y: &mut [f32], epi: Option<&Epilogue>,
                   pass: Pass) -> bool {
    let m = mode();
    if m == 1 || !choose::sparse_train_shape(s) {
        record(s, pass, 1.0, false);
        return false;
    }
    if m == 0 && !choose::sparse_train(s, sampled_density(w)) {
        record(s, pass, 1.0, false);
        return false; // dense weights cost a sample of ~4096 reads and no packing
    }
    let geom = lowering_override(s).unwrap_or_else(|| choose_geom(s));
    let mut guard = PACKED.lock().unwrap_or_else(|e| e.into_inner());
    let p = &mut *guard;
    // An eval BatchNorm epilogue relu((conv + bias) * a + b [+ res]) becomes
    // relu(conv(x, a*w) + (a*bias + b) [+ res]): a folds into the packed rows.
    let scale: Option<Vec<f32>> = epi.map(|e| (0..s.o).map(|o| e.affine(o).0).collect());
    let nnz = pack_parallel(s, &geom, w, scale.as_deref(), p);
    let density = nnz as f64 / w.len().max(1) as f64;
    if m == 0 && !choose::sparse_train(s, density) {
        record(s, pass, density, false);
        return false;
    }
    let folded: Option<Vec<f32>> = epi.map(|e| (0..s.o).map(|o| {
        let (a, b) = e.affine(o);
        bias.map_or(0.0, |bi| bi[o]) * a + b
    }).collect());
    let ep = SparseEpilogue { bias: folded.as_deref().or(bias), residual: epi.and_then(|e| e.residual()), relu: epi.is_some() };
    sparse_conv_run(s, &geom, x, &p.row_ptr, &p.offs, &p.vals, &ep, y);
    record(s, pass, density, true);
    true
}
