//! Opt-in kernel profiler (cudaProfile): while on, every launch is bracketed by stream
//! synchronisations and its wall time is added to its kernel's row. That serialises the GPU
//! with the host, so totals show where device time goes, not how fast an unprofiled run is.

use std::collections::HashMap;
use std::time::Instant;

#[derive(Default)]
pub struct Profile {
    /// kernel name -> (launches, milliseconds)
    rows: HashMap<&'static str, (u64, f64)>,
}

impl Profile {
    pub fn add(&mut self, kernel: &'static str, since: Instant) {
        let row = self.rows.entry(kernel).or_insert((0, 0.0));
        row.0 += 1;
        row.1 += since.elapsed().as_secs_f64() * 1e3;
    }

    /// {"kernel": [launches, ms], ...}, longest first.
    pub fn to_json(&self) -> String {
        let mut rows: Vec<_> = self.rows.iter().collect();
        rows.sort_by(|a, b| b.1 .1.total_cmp(&a.1 .1));
        let body: Vec<String> = rows.iter().map(|(k, (n, ms))| format!("\"{k}\":[{n},{ms:.4}]")).collect();
        format!("{{{}}}", body.join(","))
    }
}
