//! Sparse conv against the dense conv (the reference) over shapes that exercise every lowering
//! (lanes with full and partial groups of images), every tile width, stride/padding/dilation,
//! 1x1 and Linear-as-conv, with the fused epilogue; the lowering chosen per shape and batch; the
//! portable micro-kernel against the AVX-512 one; determinism; rejection of bad CSR input.

use super::csr::{choose_geom, count_nonzero, pack, Lowering, SparseGeom, MAX_TILE};
use super::forward::{sparse_conv_forward, Epilogue};
use super::tile::{row_portable, row_tile};
use crate::kernels::conv::conv2d::conv2d_forward;
use crate::kernels::conv::im2col::ConvShape;
use crate::kernels::test_util::{assert_close, Rng};

fn shape(p: [usize; 14]) -> ConvShape {
    ConvShape::from_params("test", &p.map(|v| v as i32)).unwrap()
}

/// Random weight keeping about `keep` of the entries.
fn sparse_weight(rng: &mut Rng, n: usize, keep: f32) -> Vec<f32> {
    (0..n).map(|_| if (rng.next_u32() as f32 / u32::MAX as f32) < keep { rng.f32() } else { 0.0 }).collect()
}

struct Packed { row_ptr: Vec<i32>, offs: Vec<i32>, vals: Vec<f32> }

fn packed(s: &ConvShape, g: &SparseGeom, w: &[f32]) -> Packed {
    let nnz = count_nonzero(w);
    let mut p = Packed { row_ptr: vec![0; s.o + 1], offs: vec![0; nnz], vals: vec![0.0; nnz] };
    pack(s, g, w, &mut p.row_ptr, &mut p.offs, &mut p.vals);
    p
}

/// Dense conv + bias, then residual and ReLU: what the fused sparse forward must produce.
fn reference(s: &ConvShape, x: &[f32], w: &[f32], b: &[f32], r: &[f32], relu: bool) -> Vec<f32> {
    let mut y = vec![0.0; s.y_len()];
    conv2d_forward(s, x, w, Some(b), &mut y);
    for (v, rv) in y.iter_mut().zip(r) {
        *v += rv;
        if relu { *v = v.max(0.0) }
    }
    y
}

fn check(p: [usize; 14], keep: f32, geoms: &[SparseGeom], seed: u64) {
    let s = shape(p);
    let mut rng = Rng::new(seed);
    let x = rng.vec(s.x_len());
    let w = sparse_weight(&mut rng, s.w_len(), keep);
    let b = rng.vec(s.o);
    let r = rng.vec(s.y_len());
    for relu in [false, true] {
        let want = reference(&s, &x, &w, &b, &r, relu);
        for g in geoms {
            let pk = packed(&s, g, &w);
            let mut y = vec![f32::NAN; s.y_len()];
            let ep = Epilogue { bias: Some(&b), residual: Some(&r), relu };
            sparse_conv_forward("test", &s, g, &x, &pk.row_ptr, &pk.offs, &pk.vals, &ep, &mut y).unwrap();
            assert_close(&format!("{} {:?} relu={relu}", s.describe(), g), &y, &want, 1e-4);
        }
    }
}

fn all_geoms(s: [usize; 14]) -> Vec<SparseGeom> {
    let sh = shape(s);
    let mut v: Vec<SparseGeom> = [16, 48, 64, 128].iter().map(|&t| SparseGeom { mode: Lowering::Panel, tile: t }).collect();
    v.extend([16, 32, 80, 128].iter().map(|&t| SparseGeom { mode: Lowering::Direct, tile: t }));
    v.extend([16, 48, 96, 128].iter().map(|&t| SparseGeom { mode: Lowering::Lanes, tile: t }));
    v.push(choose_geom(&sh));
    v
}

#[test]
fn sparse_conv_matches_dense() {
    let cases: [[usize; 14]; 13] = [
        [2, 8, 12, 12, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1],  // 3x3 pad 1
        [3, 5, 9, 7, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1],     // stride 2, odd sizes
        [2, 16, 8, 8, 32, 1, 1, 2, 2, 0, 0, 1, 1, 1],   // 1x1 stride 2 (downsample)
        [2, 16, 8, 8, 8, 1, 1, 1, 1, 0, 0, 1, 1, 1],    // pointwise
        [1, 4, 10, 10, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1],   // dilation 2
        [4, 3, 32, 32, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1],  // CIFAR stem
        [5, 64, 1, 1, 10, 1, 1, 1, 1, 0, 0, 1, 1, 1],   // Linear 64 -> 10 as a conv
        [2, 6, 11, 13, 4, 5, 5, 1, 1, 2, 1, 1, 1, 1],   // 5x5, unequal padding
        [4, 4, 10, 10, 5, 3, 3, 1, 1, 2, 2, 2, 2, 1],   // dilation 2, images split over threads
        [4, 5, 9, 9, 6, 3, 3, 2, 2, 2, 2, 2, 2, 1],     // stride 2 + dilation 2 (phase planes)
        [2, 3, 9, 8, 4, 3, 3, 2, 1, 1, 1, 1, 1, 1],     // stride 2 x 1
        [20, 8, 4, 4, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1],   // two groups of lanes, the second partial
        [16, 24, 2, 2, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1],   // 2x2 map, one full group
    ];
    for (i, p) in cases.iter().enumerate() {
        for keep in [0.0, 0.1, 0.5, 1.0] {
            check(*p, keep, &all_geoms(*p), 100 + i as u64);
        }
    }
}

#[test]
fn lanes_for_small_maps_with_enough_images() {
    let conv = |n: usize, hw: usize| shape([n, 512, hw, hw, 512, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    assert_eq!(choose_geom(&conv(16, 4)).mode, Lowering::Lanes);
    assert_eq!(choose_geom(&conv(32, 2)).mode, Lowering::Lanes);
    assert_eq!(choose_geom(&conv(8, 4)).mode, Lowering::Panel);
    assert_eq!(choose_geom(&conv(17, 4)).mode, Lowering::Panel); // the second group mostly empty
    assert_eq!(choose_geom(&conv(16, 8)).mode, Lowering::Direct);
}

#[test]
fn avx512_tile_matches_portable() {
    let mut rng = Rng::new(7);
    let src = rng.vec(4096);
    for tile in (16..=MAX_TILE).step_by(16) {
        for nnz in [0, 1, 2, 3, 17] {
            let offs: Vec<i32> = (0..nnz).map(|_| rng.below(4096 - MAX_TILE) as i32).collect();
            let vals = rng.vec(nnz);
            let (mut a, mut b) = ([0.0f32; MAX_TILE], [0.0f32; MAX_TILE]);
            unsafe {
                row_tile(tile, src.as_ptr(), &offs, &vals, &mut a);
                row_portable(src.as_ptr(), &offs, &vals, &mut b[..tile], false);
            }
            assert_close(&format!("tile {tile} nnz {nnz}"), &a[..tile], &b[..tile], 1e-5);
        }
    }
}

#[test]
fn deterministic() {
    let s = shape([4, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    let mut rng = Rng::new(3);
    let x = rng.vec(s.x_len());
    let w = sparse_weight(&mut rng, s.w_len(), 0.1);
    let g = choose_geom(&s);
    let pk = packed(&s, &g, &w);
    let run = || {
        let mut y = vec![0.0; s.y_len()];
        sparse_conv_forward("t", &s, &g, &x, &pk.row_ptr, &pk.offs, &pk.vals, &Epilogue::default(), &mut y).unwrap();
        y
    };
    let a = run();
    assert!(a.iter().zip(run()).all(|(p, q)| p.to_bits() == q.to_bits()));
}

#[test]
fn rejects_bad_csr() {
    let s = shape([1, 4, 6, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1]);
    let g = SparseGeom { mode: Lowering::Direct, tile: 32 };
    let x = vec![0.0; s.x_len()];
    let mut y = vec![0.0; s.y_len()];
    let ep = Epilogue::default();
    let bad: [(&[i32], &[i32], &[f32]); 5] = [
        (&[0, 1, 1], &[0], &[1.0]),             // rowPtr too short
        (&[0, 1, 1, 2], &[0, 0], &[1.0]),       // offs/vals lengths differ
        (&[0, 2, 1, 2], &[0, 0], &[1.0, 1.0]),  // decreasing
        (&[0, 1, 1, 1], &[-1], &[1.0]),         // negative offset
        (&[0, 1, 1, 1], &[100000], &[1.0]),     // offset past the source
    ];
    for (rp, o, v) in bad {
        assert!(sparse_conv_forward("t", &s, &g, &x, rp, o, v, &ep, &mut y).is_err());
    }
    assert!(SparseGeom::new("t", &s, 0, 24).is_err());
    assert!(SparseGeom::new("t", &shape([1, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 2]), 1, 32).is_err());
}
