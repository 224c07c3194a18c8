//! The inference max pooling against a naive loop.

use super::max_pool::max_pool_2x2;

#[test]
fn matches_naive() {
    let (planes, h, w) = (3, 5, 6);
    let x: Vec<f32> = (0..planes * h * w).map(|i| ((i * 37) % 11) as f32 - 5.0).collect();
    let mut y = vec![0.0; planes * 2 * 3];
    max_pool_2x2(&x, &mut y, planes, h, w);
    for p in 0..planes {
        for a in 0..2 {
            for b in 0..3 {
                let m = [(0, 0), (0, 1), (1, 0), (1, 1)].iter()
                    .map(|&(u, v)| x[(p * h + 2 * a + u) * w + 2 * b + v]).fold(f32::MIN, f32::max);
                assert_eq!(y[(p * 2 + a) * 3 + b], m);
            }
        }
    }
}
