//! `f64` maximum and minimum as comparisons.
//!
//! `f64::max` and `f64::min` return the other operand when one is NaN, which WebAssembly's
//! `f64.max`/`f64.min` do not (they return NaN), so in WebAssembly each is a call to
//! `fmax`/`fmin`: a few percent of a simulated path in a worker. These are the same
//! functions as those calls (`compiler-builtins`' `fmax`/`fmin`), written as a comparison
//! and a select, which compile to a few instructions on every target. They are for the
//! loops that run every simulated day; elsewhere the standard methods read better.

/// The larger of `a` and `b`; if one is NaN, the other (as `f64::max`).
#[inline(always)]
pub(crate) fn max(a: f64, b: f64) -> f64 {
    if a.is_nan() || a < b {
        b
    } else {
        a
    }
}

/// The smaller of `a` and `b`; if one is NaN, the other (as `f64::min`).
#[inline(always)]
pub(crate) fn min(a: f64, b: f64) -> f64 {
    if b.is_nan() || a < b {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agree_with_the_standard_methods() {
        let xs = [
            f64::NAN,
            f64::NEG_INFINITY,
            -3.5,
            -1e-300,
            0.0,
            1e-300,
            2.0,
            2.0 + f64::EPSILON * 2.0,
            f64::INFINITY,
        ];
        for &a in &xs {
            for &b in &xs {
                let (m, n) = (max(a, b), min(a, b));
                assert!(
                    m == a.max(b) || (m.is_nan() && a.max(b).is_nan()),
                    "max({a}, {b})"
                );
                assert!(
                    n == a.min(b) || (n.is_nan() && a.min(b).is_nan()),
                    "min({a}, {b})"
                );
            }
        }
    }
}
