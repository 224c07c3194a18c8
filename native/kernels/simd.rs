//! Run-time SIMD dispatch for loops the compiler auto-vectorises, and fixed-lane f64 reductions.
//!
//! `multiversion!` compiles one plain Rust body three times (AVX-512F, AVX2, baseline x86-64) and
//! picks a version per call from `is_x86_feature_detected!` (std caches the answer). The bodies use
//! no `mul_add` and Rust never contracts `a * b + c` into an FMA, so every version rounds the same
//! way: results are bitwise identical whatever the CPU. Reductions accumulate into a fixed number of
//! lanes (element i goes to lane i % 16) combined by halving (lane i += lane i + w for w = 8, 4, 2, 1),
//! so their result depends only on the input, never on the vector width. (LLVM's SLP vectoriser
//! turns the f32 -> f64 lane loops into 2-wide SSE/AVX ops with 8 independent chains: enough to
//! keep up with memory bandwidth, which bounds these reductions.)

/// The AVX-512 lane mask (`__mmask16`) of the first min(n, 16) lanes: the tail of a row.
#[inline]
pub fn lanes16(n: usize) -> u16 {
    if n >= 16 { 0xffff } else { ((1u32 << n) - 1) as u16 }
}

#[inline]
pub fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        return is_x86_feature_detected!("avx512f");
    }
    #[allow(unreachable_code)]
    false
}

#[inline]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        return is_x86_feature_detected!("avx2");
    }
    #[allow(unreachable_code)]
    false
}

/// `multiversion! { pub fn name(a: &[f32], s: f32, out: &mut [f32]) { body } }` defines `name`
/// with `body` compiled for AVX-512F, AVX2 and the baseline, dispatched at run time.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn inner($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                unsafe fn v512($($arg: $ty),*) $(-> $ret)? { inner($($arg),*) }
                #[target_feature(enable = "avx2")]
                unsafe fn v256($($arg: $ty),*) $(-> $ret)? { inner($($arg),*) }
                if $crate::kernels::simd::has_avx512() {
                    return unsafe { v512($($arg),*) };
                }
                if $crate::kernels::simd::has_avx2() {
                    return unsafe { v256($($arg),*) };
                }
            }
            inner($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// Number of f64 accumulators of the lane reductions.
pub const LANES: usize = 16;

#[inline(always)]
fn combine(mut a: [f64; LANES]) -> f64 {
    let mut w = LANES / 2;
    while w >= 1 {
        for i in 0..w {
            a[i] += a[i + w];
        }
        w /= 2;
    }
    a[0]
}

multiversion! {
    /// Sum of `x` accumulated in f64 over fixed lanes.
    pub fn sum_f64(x: &[f32]) -> f64 {
        let mut acc = [0f64; LANES];
        let chunks = x.chunks_exact(LANES);
        let rem = chunks.remainder();
        for c in chunks {
            for l in 0..LANES {
                acc[l] += c[l] as f64;
            }
        }
        for (l, &v) in rem.iter().enumerate() {
            acc[l] += v as f64;
        }
        combine(acc)
    }
}

multiversion! {
    /// Sum of `(x - mean)^2` in f64 over fixed lanes.
    pub fn sum_sq_dev_f64(x: &[f32], mean: f64) -> f64 {
        let mut acc = [0f64; LANES];
        let chunks = x.chunks_exact(LANES);
        let rem = chunks.remainder();
        for c in chunks {
            for l in 0..LANES {
                let d = c[l] as f64 - mean;
                acc[l] += d * d;
            }
        }
        for (l, &v) in rem.iter().enumerate() {
            let d = v as f64 - mean;
            acc[l] += d * d;
        }
        combine(acc)
    }
}

multiversion! {
    /// `(sum(gy), sum(gy * (x - mean)))` in f64 over fixed lanes.
    pub fn sum_and_dot_dev_f64(gy: &[f32], x: &[f32], mean: f64) -> (f64, f64) {
        let n = gy.len().min(x.len());
        let (gy, x) = (&gy[..n], &x[..n]);
        let mut s = [0f64; LANES];
        let mut d = [0f64; LANES];
        let full = n / LANES * LANES;
        for (gc, xc) in gy[..full].chunks_exact(LANES).zip(x[..full].chunks_exact(LANES)) {
            for l in 0..LANES {
                let g = gc[l] as f64;
                s[l] += g;
                d[l] += g * (xc[l] as f64 - mean);
            }
        }
        for l in 0..n - full {
            let g = gy[full + l] as f64;
            s[l] += g;
            d[l] += g * (x[full + l] as f64 - mean);
        }
        (combine(s), combine(d))
    }
}
