//! Cross-entropy with mean reduction over a rows x classes logit matrix: a numerically stable
//! softmax (max subtracted, f64 exponent sums) and the gradient (probs - onehot) * scale.
//! Per-row losses are added in row order, so the loss does not depend on the thread count.

use crate::kernels::elementwise::PAR_MIN;
use crate::threads::{parallel_ranges, SharedMut};

/// Checks every label is in [0, classes); the error names the first bad row and its label.
pub fn check_labels(op: &str, labels: &[i32], classes: usize) -> Result<(), String> {
    for (r, &l) in labels.iter().enumerate() {
        if l < 0 || l as usize >= classes {
            return Err(format!("{op}: label {l} at row {r} is outside [0, {classes})"));
        }
    }
    Ok(())
}

/// Softmax of one row into `p`; returns -log softmax(z)[label] in f64.
fn row_softmax_nll(z: &[f32], label: usize, p: &mut [f32]) -> f64 {
    let mut max = f32::NEG_INFINITY;
    for &v in z {
        // NaN propagates through the max.
        if v > max || v.is_nan() {
            max = v;
        }
    }
    if max == f32::NEG_INFINITY {
        // Every logit is -inf: torch gives NaN probabilities and loss.
        p.fill(f32::NAN);
        return f64::NAN;
    }
    let m = max as f64;
    let mut s = 0f64;
    for &v in z {
        s += (v as f64 - m).exp();
    }
    let inv = 1.0 / s;
    for (o, &v) in p.iter_mut().zip(z) {
        *o = ((v as f64 - m).exp() * inv) as f32;
    }
    s.ln() + m - z[label] as f64
}

/// Writes softmax(logits) into probs and returns the mean negative log-likelihood.
/// Labels must have been checked (check_labels); rows >= 1, classes >= 1.
pub fn cross_entropy_forward(logits: &[f32], labels: &[i32], probs: &mut [f32], rows: usize, classes: usize) -> f64 {
    let mut nll = vec![0f64; rows];
    let (pp, lp) = (SharedMut::new(probs), SharedMut::new(&mut nll));
    parallel_ranges(rows, (PAR_MIN / (8 * classes.max(1))).max(1), |r| {
        for i in r {
            let p = unsafe { pp.slice(i * classes, classes) };
            let v = row_softmax_nll(&logits[i * classes..(i + 1) * classes], labels[i] as usize, p);
            unsafe { lp.slice(i, 1)[0] = v };
        }
    });
    nll.iter().fold(0.0, |a, &b| a + b) / rows as f64
}

/// gx = (probs - onehot(labels)) * scale. Labels must have been checked.
pub fn cross_entropy_backward(probs: &[f32], labels: &[i32], gx: &mut [f32], rows: usize, classes: usize, scale: f32) {
    let gp = SharedMut::new(gx);
    parallel_ranges(rows, (PAR_MIN / classes.max(1)).max(1), |r| {
        for i in r {
            let g = unsafe { gp.slice(i * classes, classes) };
            for (o, &p) in g.iter_mut().zip(&probs[i * classes..(i + 1) * classes]) {
                *o = p * scale;
            }
            let l = labels[i] as usize;
            g[l] = (probs[i * classes + l] - 1.0) * scale;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

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
