//! Tests of the kernels at the top of `kernels/`, one module per file: the SIMD reductions, the
//! elementwise ops, the reductions and the optimiser steps, each against a naive loop.

mod simd {
    use crate::kernels::simd::*;

    fn data(n: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919 % 1013) as f32 - 500.0) * 0.013).collect()
    }

    #[test]
    fn lane_sums_match_naive() {
        for n in [0, 1, 7, 8, 9, 63, 1000, 4097] {
            let x = data(n);
            let g: Vec<f32> = x.iter().map(|v| v * 0.5 - 0.1).collect();
            let naive: f64 = x.iter().map(|&v| v as f64).sum();
            assert!((sum_f64(&x) - naive).abs() <= 1e-9 * (1.0 + naive.abs()), "n={n}");
            let mean = naive / (n.max(1) as f64);
            let sq: f64 = x.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
            assert!((sum_sq_dev_f64(&x, mean) - sq).abs() <= 1e-9 * (1.0 + sq), "n={n}");
            let (s, d) = sum_and_dot_dev_f64(&g, &x, mean);
            let s0: f64 = g.iter().map(|&v| v as f64).sum();
            let d0: f64 = g.iter().zip(&x).map(|(&a, &b)| a as f64 * (b as f64 - mean)).sum();
            assert!((s - s0).abs() <= 1e-9 * (1.0 + s0.abs()) && (d - d0).abs() <= 1e-9 * (1.0 + d0.abs()), "n={n}");
        }
    }
}

mod elementwise {
    use crate::kernels::elementwise::*;

    fn data(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(2654435761).wrapping_add(12345);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 20001) as f32 / 10000.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn ops_match_naive_small_and_large() {
        for n in [0, 1, 5, 33, 100_003, 3 * PAR_MIN + 7] {
            let (a, b) = (data(n, 1), data(n, 2));
            let mut out = vec![0f32; n];
            masked_weight(&a, &b, &mut out);
            assert!(out.iter().zip(&a).zip(&b).all(|((&o, &w), &m)| o == if m > 0.0 { w } else { 0.0 }));
            mask_grad(&a, &b, &mut out);
            assert!(out.iter().zip(&a).zip(&b).all(|((&o, &g), &w)| o == (g * w).clamp(-1.0, 1.0)));
            relu(&a, &mut out);
            assert!(out.iter().zip(&a).all(|(&o, &x)| o == x.max(0.0)));
            relu_backward(&a, &b, &mut out);
            assert!(out.iter().zip(&a).zip(&b).all(|((&o, &y), &g)| o == if y > 0.0 { g } else { 0.0 }));
            add(&a, &b, &mut out);
            assert!(out.iter().zip(&a).zip(&b).all(|((&o, &x), &y)| o == x + y));
            mul(&a, &b, &mut out);
            assert!(out.iter().zip(&a).zip(&b).all(|((&o, &x), &y)| o == x * y));
            scale(&a, 1.5, &mut out);
            assert!(out.iter().zip(&a).all(|(&o, &x)| o == x * 1.5));
            let mut y = b.clone();
            axpy(-0.25, &a, &mut y);
            assert!(y.iter().zip(&a).zip(&b).all(|((&o, &x), &y0)| o == y0 + -0.25 * x));
            let mut y = b.clone();
            add_scalar(&mut y, 0.5);
            assert!(y.iter().zip(&b).all(|(&o, &y0)| o == y0 + 0.5));
        }
    }

    #[test]
    fn relu_and_mask_keep_nan() {
        let x = [f32::NAN, -1.0, 2.0];
        let mut y = [0f32; 3];
        relu(&x, &mut y);
        assert!(y[0].is_nan() && y[1] == 0.0 && y[2] == 2.0);
        mask_grad(&x, &[1.0, 5.0, 5.0], &mut y);
        assert!(y[0].is_nan() && y[1] == -1.0 && y[2] == 1.0);
    }

    #[test]
    fn add_row_bias_matches_naive() {
        for (rows, cols) in [(0, 3), (3, 0), (1, 1), (7, 5), (5000, 33), (3, 70_000)] {
            let b = data(cols, 3);
            let y0 = data(rows * cols, 4);
            let mut y = y0.clone();
            add_row_bias(&mut y, &b, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(y[r * cols + c], y0[r * cols + c] + b[c]);
                }
            }
        }
    }
}

mod reduce {
    use crate::kernels::reduce::*;

    fn data(n: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 2654435761usize) % 10007) as f32 / 5003.0 - 1.0).collect()
    }

    #[test]
    fn count_and_sum_match_naive() {
        for n in [0, 1, 17, BLOCK - 1, BLOCK + 1, 9 * BLOCK + 5] {
            let x = data(n);
            assert_eq!(count_positive(&x), x.iter().filter(|&&v| v > 0.0).count());
            let naive: f64 = x.iter().map(|&v| v as f64).sum();
            assert!((sum(&x) - naive).abs() < 1e-9 * (1.0 + naive.abs()), "n={n}");
        }
        assert_eq!(count_positive(&[f32::NAN, 0.0, -0.0, 1e-30]), 1);
    }

    #[test]
    fn sum_rows_matches_naive() {
        for (rows, cols) in [(0, 4), (1, 1), (3, 5), (300, 7), (1000, 3000), (64, 5000), (2, 0)] {
            let g = data(rows * cols);
            let mut out = vec![9f32; cols];
            sum_rows(&g, &mut out, rows, cols);
            for c in 0..cols {
                let s: f64 = (0..rows).map(|r| g[r * cols + c] as f64).sum();
                assert!((out[c] as f64 - s).abs() <= 1e-6 * (1.0 + s.abs()), "rows={rows} cols={cols} c={c}");
            }
        }
    }

    #[test]
    fn argmax_first_maximum() {
        let x = [1.0, 3.0, 3.0, 0.0, -1.0, -1.0, 2.0, f32::NAN, 5.0];
        let mut out = [0i32; 3];
        argmax(&x, &mut out, 3, 3);
        assert_eq!(out, [1, 0, 1]);
        let (rows, cols) = (5000, 37);
        let x = data(rows * cols);
        let mut out = vec![0i32; rows];
        argmax(&x, &mut out, rows, cols);
        for r in 0..rows {
            let row = &x[r * cols..(r + 1) * cols];
            let mut b = 0;
            for j in 1..cols {
                if row[j] > row[b] {
                    b = j;
                }
            }
            assert_eq!(out[r] as usize, b);
        }
    }
}

mod optim {
    use crate::kernels::elementwise::PAR_MIN;
    use crate::kernels::optim::*;

    fn data(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i + seed * 17) * 2654435761usize) % 1013) as f32 / 500.0 - 1.0).collect()
    }

    #[test]
    fn adam_matches_naive_f64() {
        let n = 3 * PAR_MIN + 11;
        let p0 = data(n, 1);
        let (mut p, mut m, mut v) = (p0.clone(), vec![0f32; n], vec![0f32; n]);
        let (mut rp, mut rm, mut rv): (Vec<f64>, Vec<f64>, Vec<f64>) =
            (p0.iter().map(|&x| x as f64).collect(), vec![0.0; n], vec![0.0; n]);
        for step in 1..=3u64 {
            let g = data(n, step as usize + 5);
            let h = Adam { step, lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-6, weight_decay: 0.01 };
            adam_step(&mut p, &g, &mut m, &mut v, h);
            for i in 0..n {
                let gi = g[i] as f64 + 0.01 * rp[i];
                rm[i] = 0.8 * rm[i] + 0.2 * gi;
                rv[i] = 0.99 * rv[i] + 0.01 * gi * gi;
                let mh = rm[i] / (1.0 - 0.8f64.powi(step as i32));
                let vh = rv[i] / (1.0 - 0.99f64.powi(step as i32));
                rp[i] -= 0.01 * mh / (vh.sqrt() + 1e-6);
            }
        }
        assert!(p.iter().zip(&rp).all(|(&a, &b)| (a as f64 - b).abs() < 1e-5));
    }

    #[test]
    fn sgd_matches_naive() {
        for (mom, damp, nesterov) in [(0.0, 0.0, false), (0.9, 0.0, false), (0.9, 0.1, false), (0.5, 0.0, true)] {
            let n = 1000;
            let p0 = data(n, 2);
            let (mut p, mut buf) = (p0.clone(), vec![0f32; n]);
            let (mut rp, mut rb) = (p0.clone(), vec![0f32; n]);
            for step in 0..3 {
                let g = data(n, 9 + step);
                let h = Sgd { lr: 0.1, momentum: mom, dampening: damp, weight_decay: 1e-4, nesterov, first_step: step == 0 };
                sgd_step(&mut p, &g, if mom != 0.0 { Some(&mut buf) } else { None }, h);
                for i in 0..n {
                    let mut d = g[i] + 1e-4f32 * rp[i];
                    if mom != 0.0 {
                        rb[i] = if step == 0 { d } else { rb[i] * mom as f32 + (1.0 - damp as f32) * d };
                        d = if nesterov { d + mom as f32 * rb[i] } else { rb[i] };
                    }
                    rp[i] += -0.1f32 * d;
                }
            }
            assert_eq!(p, rp, "momentum {mom} dampening {damp} nesterov {nesterov}");
        }
    }
}
