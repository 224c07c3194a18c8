//! Tests of the nn kernels, one module per file: pooling (output-size rule, max / avg / global
//! average against naive loops, tie and NaN rules, bad parameters), BatchNorm (train and eval,
//! forward and backward, against an f64 reference) and cross-entropy.

mod pooling {
    use crate::kernels::nn::pooling::*;

    fn data(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i + seed * 131) * 2654435761usize) % 1009) as f32 / 500.0 - 1.0).collect()
    }

    fn geom(p: [i32; 14], dil_ok: bool) -> PoolGeom {
        PoolGeom::parse("test", &p, dil_ok).unwrap()
    }

    /// Naive: every tap of every window, bounds checked per tap.
    fn naive(x: &[f32], g: &PoolGeom, max: bool) -> (Vec<f32>, Vec<i32>) {
        let (mut y, mut am) = (vec![0f32; g.out_len()], vec![-1i32; g.out_len()]);
        for pl in 0..g.planes() {
            for oy in 0..g.oh {
                for ox in 0..g.ow {
                    let (mut best, mut bi, mut sum, mut inside, mut padded) = (f32::NEG_INFINITY, -1i64, 0f32, 0, 0);
                    for a in 0..g.kh {
                        for b in 0..g.kw {
                            let iy = (oy * g.sh + a * g.dh) as i64 - g.ph as i64;
                            let ix = (ox * g.sw + b * g.dw) as i64 - g.pw as i64;
                            if iy < g.h as i64 + g.ph as i64 && ix < g.w as i64 + g.pw as i64 {
                                padded += 1;
                            }
                            if iy < 0 || ix < 0 || iy >= g.h as i64 || ix >= g.w as i64 {
                                continue;
                            }
                            let idx = iy as usize * g.w + ix as usize;
                            let v = x[pl * g.h * g.w + idx];
                            inside += 1;
                            sum += v;
                            if bi < 0 || v > best || v.is_nan() {
                                best = v;
                                bi = idx as i64;
                            }
                        }
                    }
                    let o = pl * g.oh * g.ow + oy * g.ow + ox;
                    if max {
                        y[o] = best;
                        am[o] = bi as i32;
                    } else {
                        let div = if g.count_include_pad { padded } else { inside };
                        y[o] = if inside == 0 { 0.0 } else { sum / div as f32 };
                    }
                }
            }
        }
        (y, am)
    }

    #[test]
    fn output_size_rule_matches_pytorch() {
        // (H, k, s, p, d, ceil) -> torch's output size
        for (h, k, s, p, d, ceil, want) in [(9, 2, 2, 0, 1, 0, 4), (9, 3, 2, 1, 1, 0, 5), (9, 2, 2, 0, 1, 1, 5),
                                            (10, 3, 2, 1, 1, 1, 6), (10, 3, 2, 1, 1, 0, 5), (32, 3, 2, 1, 1, 0, 16),
                                            (7, 3, 1, 1, 2, 0, 5), (5, 2, 3, 1, 1, 1, 2), (6, 3, 3, 1, 1, 1, 3)] {
            let g = geom([1, 1, h, h, k, k, s, s, p, p, d, d, ceil, 1], true);
            assert_eq!((g.oh, g.ow), (want as usize, want as usize), "h={h} k={k} s={s} p={p} d={d} ceil={ceil}");
        }
    }

    #[test]
    fn rejects_bad_params() {
        let ok = [2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1];
        assert!(PoolGeom::parse("op", &ok, true).is_ok());
        for (i, v) in [(4, 0), (6, 0), (7, -1), (8, 2), (10, 0), (12, 2), (2, 0)] {
            let mut p = ok;
            p[i] = v;
            let e = PoolGeom::parse("op", &p, true).unwrap_err();
            assert!(e.starts_with("op:"), "{e}");
        }
        let mut p = ok;
        p[10] = 2;
        assert!(PoolGeom::parse("op", &p, false).is_err());
        assert!(PoolGeom::parse("op", &[1, 1, 1, 1, 3, 3, 1, 1, 0, 0, 1, 1, 0, 1], true).unwrap_err().contains("too small"));
        assert!(PoolGeom::parse("op", &ok[..13], true).is_err());
    }

    #[test]
    fn max_and_avg_match_naive() {
        let cases: [[i32; 14]; 9] = [
            [2, 3, 9, 9, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1],
            [2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1],
            [2, 3, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0],
            [1, 2, 10, 7, 3, 2, 2, 3, 1, 1, 1, 1, 1, 1],
            [1, 2, 8, 8, 3, 3, 1, 2, 1, 0, 2, 3, 0, 1],
            [1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 3, 3, 0, 1],
            [8, 16, 32, 32, 3, 3, 2, 2, 1, 1, 1, 1, 1, 0],
            [4, 64, 16, 16, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1],
            [2, 3, 40, 38, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1],
        ];
        for p in cases {
            let dil = p[10] != 1 || p[11] != 1;
            let g = geom(p, true);
            let x = data(g.in_len(), 1);
            let gy = data(g.out_len(), 2);
            let (ry, ra) = naive(&x, &g, true);
            let (mut y, mut am) = (vec![0f32; g.out_len()], vec![0i32; g.out_len()]);
            max_forward(&x, &mut y, &mut am, &g);
            assert_eq!(am, ra, "{p:?}");
            assert!(y.iter().zip(&ry).all(|(a, b)| a == b || (a.is_infinite() && b.is_infinite())), "{p:?}");
            let mut gx = vec![7f32; g.in_len()];
            max_backward(&gy, &am, &mut gx, &g);
            let mut rgx = vec![0f32; g.in_len()];
            for (o, &i) in ra.iter().enumerate() {
                if i >= 0 {
                    rgx[o / (g.oh * g.ow) * g.h * g.w + i as usize] += gy[o];
                }
            }
            assert_eq!(gx, rgx, "{p:?}");
            if dil {
                continue;
            }
            let g = geom(p, false);
            let (ry, _) = naive(&x, &g, false);
            avg_forward(&x, &mut y, &g);
            assert!(y.iter().zip(&ry).all(|(a, b)| (a - b).abs() <= 1e-6), "{p:?}");
            // Backward is the transpose of forward: <avg(x), gy> == <x, avg_backward(gy)>.
            avg_backward(&gy, &mut gx, &g);
            let lhs: f64 = y.iter().zip(&gy).map(|(&a, &b)| a as f64 * b as f64).sum();
            let rhs: f64 = x.iter().zip(&gx).map(|(&a, &b)| a as f64 * b as f64).sum();
            assert!((lhs - rhs).abs() <= 1e-4 * (1.0 + lhs.abs()), "{p:?}: {lhs} vs {rhs}");
        }
    }

    #[test]
    fn max_ties_first_and_nan() {
        let g = geom([1, 1, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1, 0, 1], true);
        let (mut y, mut am) = ([0f32; 1], [0i32; 1]);
        max_forward(&[1.0, 3.0, 3.0, 0.0], &mut y, &mut am, &g);
        assert_eq!((y[0], am[0]), (3.0, 1));
        max_forward(&[f32::NEG_INFINITY; 4], &mut y, &mut am, &g);
        assert_eq!((y[0], am[0]), (f32::NEG_INFINITY, 0));
        max_forward(&[1.0, f32::NAN, 5.0, 0.0], &mut y, &mut am, &g);
        assert!(y[0].is_nan() && am[0] == 1);
    }

    #[test]
    fn global_avg_matches_naive() {
        for (nc, hw) in [(6, 81), (1, 1), (5000, 64), (3, 100_000)] {
            let x = data(nc * hw, 3);
            let mut y = vec![0f32; nc];
            global_avg_forward(&x, &mut y, nc, hw);
            for i in 0..nc {
                let m = x[i * hw..(i + 1) * hw].iter().map(|&v| v as f64).sum::<f64>() / hw as f64;
                assert!((y[i] as f64 - m).abs() <= 1e-6, "nc={nc} hw={hw}");
            }
            let mut gx = vec![0f32; nc * hw];
            global_avg_backward(&y, &mut gx, nc, hw);
            assert!(gx.iter().enumerate().all(|(j, &v)| v == y[j / hw] / hw as f32));
        }
    }
}

mod batchnorm {
    use crate::kernels::nn::batchnorm::*;

    fn data(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i + seed * 31) * 2654435761usize) % 10007) as f32 / 2500.0 - 1.5).collect()
    }

    /// Straightforward f64 reference of forward + backward, training or eval.
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn naive(x: &[f32], gy: &[f32], g: &[f32], b: &[f32], rm: &[f32], rv: &[f32], s: BnShape, training: bool)
             -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let (n, c, hw) = (s.n, s.c, s.hw);
        let m = (n * hw) as f64;
        let (mut y, mut gx) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        let (mut gg, mut gb, mut rm2, mut rv2) = (vec![0.0; c], vec![0.0; c], vec![0.0; c], vec![0.0; c]);
        for ci in 0..c {
            let idx: Vec<usize> = (0..n).flat_map(|ni| (0..hw).map(move |j| (ni * c + ci) * hw + j)).collect();
            let mean_b = idx.iter().map(|&i| x[i] as f64).sum::<f64>() / m;
            let var_b = idx.iter().map(|&i| (x[i] as f64 - mean_b).powi(2)).sum::<f64>() / m;
            rm2[ci] = 0.9 * rm[ci] as f64 + 0.1 * mean_b;
            rv2[ci] = 0.9 * rv[ci] as f64 + 0.1 * var_b * m / (m - 1.0);
            let (mean, var) = if training { (mean_b, var_b) } else { (rm[ci] as f64, rv[ci] as f64) };
            let is = 1.0 / (var + 1e-5).sqrt();
            let xh: Vec<f64> = idx.iter().map(|&i| (x[i] as f64 - mean) * is).collect();
            for (k, &i) in idx.iter().enumerate() {
                y[i] = xh[k] * g[ci] as f64 + b[ci] as f64;
                gb[ci] += gy[i] as f64;
                gg[ci] += gy[i] as f64 * xh[k];
            }
            for (k, &i) in idx.iter().enumerate() {
                gx[i] = if training {
                    g[ci] as f64 * is * (gy[i] as f64 - gb[ci] / m - xh[k] * gg[ci] / m)
                } else {
                    gy[i] as f64 * g[ci] as f64 * is
                };
            }
        }
        (y, gx, gg, gb, rm2, rv2)
    }

    /// ||a - b|| <= tol * max(||b||, floor): with two values per channel the training gradient
    /// cancels to ~0, so it is measured against the scale of its terms (floor) instead.
    fn close_floor(a: &[f32], b: &[f64], tol: f64, floor: f64) {
        let num: f64 = a.iter().zip(b).map(|(&a, &b)| (a as f64 - b).powi(2)).sum::<f64>().sqrt();
        let den: f64 = b.iter().map(|v| v * v).sum::<f64>().sqrt().max(floor).max(1e-30);
        assert!(num <= tol * den, "relative error {}", num / den);
    }

    fn close(a: &[f32], b: &[f64], tol: f64) {
        close_floor(a, b, tol, 0.0)
    }

    #[test]
    fn matches_naive_train_and_eval() {
        for (n, c, hw) in [(1, 1, 2), (3, 6, 25), (2, 5, 1), (4, 8, 1024), (16, 3, 4096)] {
            let s = BnShape { n, c, hw };
            let x = data(n * c * hw, 1);
            let gy = data(n * c * hw, 2);
            let (g, b) = (data(c, 3), data(c, 4));
            let rm0 = data(c, 5);
            let rv0: Vec<f32> = data(c, 6).iter().map(|v| v.abs() + 0.5).collect();
            for training in [false, true] {
                let (ry, rgx, rgg, rgb, rrm, rrv) = naive(&x, &gy, &g, &b, &rm0, &rv0, s, training);
                let (mut rm, mut rv) = (rm0.clone(), rv0.clone());
                let (mut y, mut gx) = (vec![0f32; x.len()], vec![0f32; x.len()]);
                let (mut sm, mut si, mut gg, mut gb) = (vec![0f32; c], vec![0f32; c], vec![0f32; c], vec![0f32; c]);
                let cfg = BnConfig { training, momentum: 0.1, eps: 1e-5 };
                forward(&x, &g, &b, &mut rm, &mut rv, &mut y, &mut sm, &mut si, s, cfg);
                backward(&x, &gy, &g, &sm, &si, &mut gx, Some(&mut gg), Some(&mut gb), s, training);
                close(&y, &ry, 1e-6);
                let (_, eval_gx, ..) = naive(&x, &gy, &g, &b, &rm0, &rv0, s, false);
                let floor = eval_gx.iter().map(|v| v * v).sum::<f64>().sqrt();
                close_floor(&gx, &rgx, 1e-5, floor);
                close(&gg, &rgg, 1e-6);
                close(&gb, &rgb, 1e-6);
                if training {
                    close(&rm, &rrm, 1e-6);
                    close(&rv, &rrv, 1e-6);
                } else {
                    assert_eq!((rm.clone(), rv.clone()), (rm0.clone(), rv0.clone()));
                }
            }
        }
    }
}

mod loss {
    use crate::kernels::nn::loss::*;

    #[test]
    fn matches_naive() {
        for (rows, classes) in [(1, 1), (6, 5), (64, 10), (3000, 100)] {
            let z: Vec<f32> = (0..rows * classes).map(|i| ((i * 7919) % 997) as f32 / 50.0 - 10.0).collect();
            let t: Vec<i32> = (0..rows).map(|i| ((i * 13) % classes) as i32).collect();
            check_labels("ce", &t, classes).unwrap();
            let mut p = vec![0f32; rows * classes];
            let loss = cross_entropy_forward(&z, &t, &mut p, rows, classes);
            let mut want = 0f64;
            for r in 0..rows {
                let row = &z[r * classes..(r + 1) * classes];
                let lse = row.iter().map(|&v| (v as f64).exp()).sum::<f64>().ln();
                want += lse - row[t[r] as usize] as f64;
                for c in 0..classes {
                    let pr = (row[c] as f64).exp() / lse.exp();
                    assert!((p[r * classes + c] as f64 - pr).abs() < 1e-6);
                }
            }
            want /= rows as f64;
            assert!((loss - want).abs() < 1e-9 * (1.0 + want.abs()), "{loss} vs {want}");
            let mut g = vec![0f32; rows * classes];
            cross_entropy_backward(&p, &t, &mut g, rows, classes, 0.5);
            for r in 0..rows {
                for c in 0..classes {
                    let oh = if c == t[r] as usize { 1.0 } else { 0.0 };
                    assert_eq!(g[r * classes + c], (p[r * classes + c] - oh) * 0.5);
                }
            }
        }
    }

    #[test]
    fn stable_for_huge_logits_and_checks_labels() {
        let mut p = [0f32; 2];
        let l = cross_entropy_forward(&[1000.0, 0.0], &[1], &mut p, 1, 2);
        assert!((l - 1000.0).abs() < 1e-9 && p[0] == 1.0 && p[1] == 0.0);
        let e = check_labels("crossEntropyForward", &[0, 2, 5], 3).unwrap_err();
        assert!(e.contains("row 2") && e.contains("label 5"), "{e}");
        assert!(check_labels("x", &[-1], 3).unwrap_err().contains("row 0"));
    }
}
