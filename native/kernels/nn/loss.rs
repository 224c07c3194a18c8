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
