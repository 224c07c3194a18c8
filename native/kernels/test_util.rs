//! Helpers shared by the kernel tests: a tiny deterministic RNG and comparison.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self { Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1) }
    pub fn next_u32(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as u32
    }
    pub fn below(&mut self, n: usize) -> usize { self.next_u32() as usize % n }
    pub fn f32(&mut self) -> f32 { (self.next_u32() as f32 / u32::MAX as f32) * 2.0 - 1.0 }
    pub fn vec(&mut self, n: usize) -> Vec<f32> { (0..n).map(|_| self.f32()).collect() }
}

/// Asserts |got - want| <= tol * (1 + |want|) elementwise; prints the first mismatch.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g.is_nan() && w.is_nan()) || (g - w).abs() <= tol * (1.0 + w.abs());
        assert!(ok, "{what}: index {i}: got {g}, want {w}");
    }
}
