//! Shape checks shared by the bindings: products of sizes without overflow, and length checks
//! whose message spells the shape out ("x has 10 elements, expected n*c*hw = 3*6*25 = 450").

/// Product of named sizes; Err naming the op on overflow.
pub fn product(op: &str, dims: &[usize]) -> Result<usize, String> {
    dims.iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| format!("{op}: sizes {dims:?} overflow"))
}

/// Checks `got == prod(dims)`; `names` is the formula, e.g. "n*c*hw".
pub fn expect_shape(op: &str, what: &str, got: usize, names: &str, dims: &[usize]) -> Result<(), String> {
    let want = product(op, dims)?;
    if got != want {
        let values: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
        let formula = if dims.len() > 1 { format!("{names} = {} = {want}", values.join("*")) } else { format!("{names} = {want}") };
        return Err(format!("{op}: {what} has {got} elements, expected {formula}"));
    }
    Ok(())
}

/// Checks that buffers hold the same number of elements as the first one.
pub fn same_len(op: &str, bufs: &[(&str, usize)]) -> Result<(), String> {
    let (first, n) = bufs[0];
    for &(name, len) in &bufs[1..] {
        if len != n {
            return Err(format!("{op}: {name} has {len} elements but {first} has {n}; they must match"));
        }
    }
    Ok(())
}

/// A finite number in [lo, hi] (or [lo, hi) when `hi_open`).
pub fn in_range(op: &str, name: &str, v: f64, lo: f64, hi: f64, hi_open: bool) -> Result<(), String> {
    let ok = v.is_finite() && v >= lo && if hi_open { v < hi } else { v <= hi };
    if !ok {
        let close = if hi_open { ")" } else { "]" };
        return Err(format!("{op}: {name} must be in [{lo}, {hi}{close}, got {v}"));
    }
    Ok(())
}
