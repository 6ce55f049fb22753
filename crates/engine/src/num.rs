//! `f64` maximum, minimum and rounding as comparisons.
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

/// `x` rounded to the nearest integer, half-way cases away from zero (as `f64::round`).
///
/// WebAssembly's `f64.nearest` rounds half-way cases to even, so `f64::round` is a call to
/// `round` there. This is the same function from `trunc` (an instruction everywhere):
/// `x − trunc(x)` is exact (the fraction of a number below 2⁵² has fewer significant bits
/// than the number), and so is adding ±1 to an integer below 2⁵³; from 2⁵² up every `f64`
/// is an integer and the fraction is 0. NaN and infinities come back unchanged.
#[inline(always)]
pub(crate) fn round(x: f64) -> f64 {
    let t = x.trunc();
    if (x - t).abs() >= 0.5 {
        t + 1f64.copysign(x)
    } else {
        t
    }
}

/// An `f64` for a message: as Rust prints it when that is short, in scientific notation
/// when the decimal text would be long (a subnormal such as 5e-324 is 327 characters in
/// decimal, 1e300 is 301).
pub(crate) struct Shown(pub f64);

/// The longest decimal text shown as is.
const SHOWN_CHARS: usize = 24;

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0.to_string();
        if text.len() > SHOWN_CHARS {
            write!(f, "{:e}", self.0)
        } else {
            f.write_str(&text)
        }
    }
}

/// [`Shown`] of a field, for `thiserror` format arguments.
pub(crate) fn shown(v: &f64) -> Shown {
    Shown(*v)
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

    #[test]
    fn round_agrees_with_the_standard_method() {
        let mut xs = vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1.0 - f64::EPSILON / 2.0,
        ];
        // Every exponent, through the bits of a simple generator.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            xs.push(f64::from_bits(state));
            // Near half-way points and small magnitudes, where rounding is decided.
            let h = (state % 2_000_001) as f64 / 1000.0 - 1000.0;
            xs.extend([h + 0.5, h - 0.5, (h + 0.5).next_up(), (h + 0.5).next_down()]);
        }
        for &x in &xs {
            let (ours, std) = (round(x), x.round());
            assert!(
                ours.to_bits() == std.to_bits() || (ours.is_nan() && std.is_nan()),
                "round({x:e}) = {ours:e}, std {std:e}"
            );
        }
    }
}
