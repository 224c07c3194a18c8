use super::*;

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
