//! Streaming statistics whose result does not depend on the order of the data: an exact
//! sum (for means) and a quantile summary that is exact up to [`EXACT_CAP`] values and a
//! relative-accuracy sketch beyond (for percentiles).
//!
//! Both are *mergeable*: the statistics of a multiset are the same whatever the order in
//! which its values were added and whatever the grouping in which partial summaries were
//! merged, bit for bit. That is what lets Monte Carlo paths be split across threads or Web
//! Workers and still give a bit-identical report, with memory bounded independently of the
//! number of paths.
//!
//! - [`ExactSum`] keeps Shewchuk's non-overlapping partials (as Python's `math.fsum`): their
//!   sum is exactly the sum of the values added, and [`ExactSum::value`] rounds it
//!   correctly once, so the result is independent of order. A handful of partials suffice
//!   in practice (at most about 40 for any finite data).
//! - [`Quantiles`] stores the values themselves while it holds at most a cap of them
//!   ([`EXACT_CAP`] by default), so percentiles are exact; past the cap it keeps a
//!   [`Sketch`]: counts per logarithmic bucket (DDSketch), whose size depends on the spread
//!   of the data (its ratio of largest to smallest magnitude), not on the count.

use serde::{Deserialize, Serialize};

/// A distribution keeps its values (exact percentiles) while it holds at most this many;
/// beyond, it switches to a [`Sketch`]. The default 500-path run stays exact.
pub const EXACT_CAP: u32 = 1_000;

/// Relative accuracy of a [`Sketch`]: every order statistic it returns is within this
/// fraction (0.05 %) of the exact one, in magnitude and of the same sign.
pub const SKETCH_ALPHA: f64 = 5e-4;

/// The report's note on how exact its statistics are (kept in step with [`EXACT_CAP`] and
/// [`SKETCH_ALPHA`] by a test).
pub const PERCENTILE_NOTE: &str = "Means are exact sums over paths, rounded once. Percentiles (5th, median, 95th) are exact up to 1,000 paths; beyond, paths are summarised in logarithmic buckets to bound memory, and each order statistic is within 0.05 % of the exact one.";

/// The sketch's bucket growth factor `γ = (1 + α) / (1 − α)`: bucket `k` holds the
/// magnitudes in `(γ^(k−1), γ^k]`.
pub const SKETCH_GAMMA: f64 = (1.0 + SKETCH_ALPHA) / (1.0 - SKETCH_ALPHA);

/// An exact, order-independent sum of `f64` values.
///
/// Finite values are kept as non-overlapping partials whose exact sum is the exact sum of
/// the values; infinities and NaNs are counted apart, so they never corrupt the partials
/// (and JSON, which has no infinities, can carry the state).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExactSum {
    /// Non-overlapping partials, increasing in magnitude.
    #[serde(rename = "p")]
    partials: Vec<f64>,
    /// Count of `+∞` values (and of sums that overflowed upwards).
    #[serde(default, skip_serializing_if = "is_zero")]
    pos_inf: u64,
    /// Count of `−∞` values (and of sums that overflowed downwards).
    #[serde(default, skip_serializing_if = "is_zero")]
    neg_inf: u64,
    /// Count of NaN values.
    #[serde(default, skip_serializing_if = "is_zero")]
    nan: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl ExactSum {
    /// An empty sum (zero).
    pub fn new() -> ExactSum {
        ExactSum::default()
    }

    /// Adds `x`.
    pub fn add(&mut self, x: f64) {
        if x.is_nan() {
            self.nan += 1;
            return;
        }
        if x.is_infinite() {
            if x > 0.0 {
                self.pos_inf += 1;
            } else {
                self.neg_inf += 1;
            }
            return;
        }
        let mut x = x;
        let mut i = 0;
        for j in 0..self.partials.len() {
            let mut y = self.partials[j];
            if x.abs() < y.abs() {
                std::mem::swap(&mut x, &mut y);
            }
            let hi = x + y;
            if !hi.is_finite() {
                // The exact sum exceeds the largest double: it rounds to an infinity.
                if hi > 0.0 {
                    self.pos_inf += 1;
                } else {
                    self.neg_inf += 1;
                }
                self.partials.clear();
                return;
            }
            let lo = y - (hi - x);
            if lo != 0.0 {
                self.partials[i] = lo;
                i += 1;
            }
            x = hi;
        }
        self.partials.truncate(i);
        self.partials.push(x);
    }

    /// Adds every value of another sum (exactly).
    pub fn merge(&mut self, other: &ExactSum) {
        for &p in &other.partials {
            self.add(p);
        }
        self.pos_inf += other.pos_inf;
        self.neg_inf += other.neg_inf;
        self.nan += other.nan;
    }

    /// The exact sum, correctly rounded (half to even): the same whatever the order of
    /// additions and merges. NaN if a NaN was added or both infinities; `±∞` if one was.
    pub fn value(&self) -> f64 {
        if self.nan > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            return f64::NAN;
        }
        if self.pos_inf > 0 {
            return f64::INFINITY;
        }
        if self.neg_inf > 0 {
            return f64::NEG_INFINITY;
        }
        let p = &self.partials;
        let Some(&top) = p.last() else {
            return 0.0;
        };
        // Sum from the top until the sum becomes inexact (as CPython's `math.fsum`).
        let mut hi = top;
        let mut lo = 0.0;
        let mut k = p.len() - 1;
        while k > 0 {
            k -= 1;
            let x = hi;
            let y = p[k];
            hi = x + y;
            let yr = hi - x;
            lo = y - yr;
            if lo != 0.0 {
                break;
            }
        }
        // Half-even rounding across partials: the rest below `lo` breaks a tie.
        if k > 0 && ((lo < 0.0 && p[k - 1] < 0.0) || (lo > 0.0 && p[k - 1] > 0.0)) {
            let y = lo * 2.0;
            let x = hi + y;
            let yr = x - hi;
            if y == yr {
                hi = x;
            }
        }
        hi
    }
}

/// One side (positive or negative values) of a [`Sketch`]: `(key, count)` sorted by key,
/// counts positive. Eight bytes a bucket, no more than a value kept exactly; a count
/// saturates at `u32::MAX` (over four billion paths in one bucket).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct Store(Vec<(i32, u32)>);

impl Store {
    fn add(&mut self, key: i32, count: u32) {
        match self.0.binary_search_by_key(&key, |&(k, _)| k) {
            Ok(i) => self.0[i].1 = self.0[i].1.saturating_add(count),
            Err(i) => self.0.insert(i, (key, count)),
        }
    }

    fn merge(&mut self, other: &Store) {
        if other.0.is_empty() {
            return;
        }
        let mut out = Vec::with_capacity(self.0.len() + other.0.len());
        let (mut a, mut b) = (self.0.iter().peekable(), other.0.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (Some(&&(ka, ca)), Some(&&(kb, cb))) => {
                    if ka < kb {
                        out.push((ka, ca));
                        a.next();
                    } else if kb < ka {
                        out.push((kb, cb));
                        b.next();
                    } else {
                        out.push((ka, ca.saturating_add(cb)));
                        a.next();
                        b.next();
                    }
                }
                (Some(&&e), None) => {
                    out.push(e);
                    a.next();
                }
                (None, Some(&&e)) => {
                    out.push(e);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.0 = out;
    }

    fn count(&self) -> u64 {
        self.0.iter().map(|&(_, c)| u64::from(c)).sum()
    }
}

/// A relative-accuracy quantile sketch (DDSketch) of finite values: integer counts per
/// logarithmic bucket of magnitude, one store for positive values, one for negative
/// values, and a count of zeros; plus the exact minimum and maximum.
///
/// The sketch of a multiset is the same whatever the order of insertion and merging (the
/// bucket of a value is a fixed function of it, computed with `libm` so native and wasm
/// agree, and counts add exactly). Its size is the number of occupied buckets: at most
/// `ln(max |x| / min |x|) / ln γ + 1` per sign (about 1,000 per factor of e of spread at
/// the default accuracy), whatever the count.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Sketch {
    /// Buckets of positive values.
    pos: Store,
    /// Buckets of negative values (by magnitude).
    neg: Store,
    /// Count of zeros.
    zero: u64,
    /// Smallest value added (`None` when empty).
    min: Option<f64>,
    /// Largest value added.
    max: Option<f64>,
    /// Whether some value added is not a whole number. While all are (ticket and trade
    /// counts), order statistics below `1 / (2α)` = 1,000 in magnitude are rounded to the
    /// whole number they must be: exact.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    fractional: bool,
}

fn ln_gamma() -> f64 {
    libm::log(SKETCH_GAMMA)
}

/// The bucket of magnitude `m > 0`: `⌈ln m / ln γ⌉`.
fn key_of(m: f64, ln_g: f64) -> i32 {
    // |ln m| ≤ 745 for any positive double, so the key fits an i32 comfortably.
    libm::ceil(libm::log(m) / ln_g) as i32
}

/// The bucket's representative magnitude `2γ^k / (γ + 1)`: within α of every magnitude
/// in `(γ^(k−1), γ^k]`.
fn value_of(key: i32, ln_g: f64) -> f64 {
    2.0 * libm::exp(f64::from(key) * ln_g) / (SKETCH_GAMMA + 1.0)
}

impl Sketch {
    /// An empty sketch.
    pub fn new() -> Sketch {
        Sketch::default()
    }

    /// Adds a finite value (a non-finite one is ignored: [`Quantiles`] counts those).
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            return;
        }
        let ln_g = ln_gamma();
        if x > 0.0 {
            self.pos.add(key_of(x, ln_g), 1);
        } else if x < 0.0 {
            self.neg.add(key_of(-x, ln_g), 1);
        } else {
            self.zero += 1;
        }
        self.min = Some(self.min.map_or(x, |m| m.min(x)));
        self.max = Some(self.max.map_or(x, |m| m.max(x)));
        self.fractional |= libm::trunc(x) != x;
    }

    /// Adds another sketch's counts.
    pub fn merge(&mut self, other: &Sketch) {
        self.pos.merge(&other.pos);
        self.neg.merge(&other.neg);
        self.zero += other.zero;
        self.fractional |= other.fractional;
        if let Some(v) = other.min {
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
        }
        if let Some(v) = other.max {
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
        }
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.pos.count() + self.neg.count() + self.zero
    }

    /// Number of occupied buckets (the sketch's size).
    pub fn buckets(&self) -> usize {
        self.pos.0.len() + self.neg.0.len()
    }

    /// The order statistics of ranks `ranks` (0-based, ascending; each below
    /// [`Sketch::count`]): each within [`SKETCH_ALPHA`] of the exact one, clamped to the
    /// exact minimum and maximum. A rank past the end gives NaN.
    pub fn order_statistics(&self, ranks: &[u64]) -> Vec<f64> {
        let ln_g = ln_gamma();
        let (lo, hi) = (self.min.unwrap_or(f64::NAN), self.max.unwrap_or(f64::NAN));
        let n = self.count();
        // Ascending order: negatives by decreasing magnitude, zeros, positives.
        let neg = self
            .neg
            .0
            .iter()
            .rev()
            .map(|&(k, c)| (-value_of(k, ln_g), u64::from(c)));
        let zero = std::iter::once((0.0, self.zero));
        let pos = self
            .pos
            .0
            .iter()
            .map(|&(k, c)| (value_of(k, ln_g), u64::from(c)));
        let mut buckets = neg.chain(zero).chain(pos).filter(|&(_, c)| c > 0);
        let mut out = Vec::with_capacity(ranks.len());
        let mut below = 0u64; // values in buckets already passed
        let mut cur: Option<(f64, u64)> = None;
        for &r in ranks {
            if r >= n {
                out.push(f64::NAN);
                continue;
            }
            if r == 0 {
                out.push(lo);
                continue;
            }
            if r + 1 == n {
                out.push(hi);
                continue;
            }
            loop {
                match cur {
                    Some((v, c)) if r < below + c => {
                        // A whole number v below 1 / (2α) is the only one within α·v of
                        // its bucket's representative.
                        let v = if self.fractional || v.abs() * SKETCH_ALPHA >= 0.5 {
                            v
                        } else {
                            libm::round(v)
                        };
                        out.push(v.max(lo).min(hi));
                        break;
                    }
                    Some((_, c)) => {
                        below += c;
                        cur = buckets.next();
                    }
                    None => {
                        cur = buckets.next();
                        if cur.is_none() {
                            out.push(f64::NAN);
                            break;
                        }
                    }
                }
            }
        }
        out
    }
}

/// The values of a distribution over paths, for percentiles: exact while it holds at most
/// its cap of values, a [`Sketch`] beyond. Infinities and NaNs are counted apart (ranked
/// `−∞` first, then `+∞`, then NaN last).
///
/// Which form it takes depends only on the count (never on the order), so merging
/// summaries of any split of the data gives the same percentiles bit for bit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Quantiles {
    /// The finite values themselves, in arrival order.
    #[serde(rename = "e")]
    Exact(Vec<f64>),
    /// The finite values' sketch.
    #[serde(rename = "s")]
    Sketch(Sketch),
}

impl Default for Quantiles {
    fn default() -> Quantiles {
        Quantiles::Exact(Vec::new())
    }
}

/// A distribution's non-finite values.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct NonFinite {
    /// Count of `−∞`.
    pub neg_inf: u64,
    /// Count of `+∞`.
    pub pos_inf: u64,
    /// Count of NaN.
    pub nan: u64,
}

impl NonFinite {
    fn total(&self) -> u64 {
        self.neg_inf + self.pos_inf + self.nan
    }
}

/// The values of a distribution: [`Quantiles`] of the finite ones plus the count of the
/// others, with a cap (the number of values kept exactly).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Distribution {
    /// Finite values.
    #[serde(rename = "v")]
    pub finite: Quantiles,
    /// Non-finite values.
    #[serde(default, skip_serializing_if = "NonFinite::is_empty")]
    pub nonfinite: NonFinite,
}

impl NonFinite {
    fn is_empty(&self) -> bool {
        self.total() == 0
    }
}

impl Distribution {
    /// An empty distribution.
    pub fn new() -> Distribution {
        Distribution::default()
    }

    /// Number of values (finite or not).
    pub fn count(&self) -> u64 {
        self.finite_count() + self.nonfinite.total()
    }

    fn finite_count(&self) -> u64 {
        match &self.finite {
            Quantiles::Exact(v) => v.len() as u64,
            Quantiles::Sketch(s) => s.count(),
        }
    }

    /// True once the values are summarised by a sketch.
    pub fn is_sketch(&self) -> bool {
        matches!(self.finite, Quantiles::Sketch(_))
    }

    /// Adds `x`; past `cap` values the distribution becomes a sketch.
    pub fn add(&mut self, x: f64, cap: u32) {
        if x.is_nan() {
            self.nonfinite.nan += 1;
        } else if x == f64::INFINITY {
            self.nonfinite.pos_inf += 1;
        } else if x == f64::NEG_INFINITY {
            self.nonfinite.neg_inf += 1;
        } else {
            match &mut self.finite {
                Quantiles::Exact(v) => v.push(x),
                Quantiles::Sketch(s) => s.add(x),
            }
        }
        self.settle(cap);
    }

    /// Adds another distribution's values; past `cap` values the result is a sketch.
    pub fn merge(&mut self, other: &Distribution, cap: u32) {
        self.nonfinite.neg_inf += other.nonfinite.neg_inf;
        self.nonfinite.pos_inf += other.nonfinite.pos_inf;
        self.nonfinite.nan += other.nonfinite.nan;
        match (&mut self.finite, &other.finite) {
            (Quantiles::Exact(a), Quantiles::Exact(b)) => a.extend_from_slice(b),
            (Quantiles::Sketch(a), Quantiles::Sketch(b)) => a.merge(b),
            (Quantiles::Sketch(a), Quantiles::Exact(b)) => b.iter().for_each(|&x| a.add(x)),
            (Quantiles::Exact(a), Quantiles::Sketch(b)) => {
                let mut s = b.clone();
                a.iter().for_each(|&x| s.add(x));
                self.finite = Quantiles::Sketch(s);
            }
        }
        self.settle(cap);
    }

    /// Switches to a sketch once the count passes `cap` (the form depends on the count
    /// alone).
    fn settle(&mut self, cap: u32) {
        if self.count() > u64::from(cap) {
            if let Quantiles::Exact(v) = &self.finite {
                let mut s = Sketch::new();
                v.iter().for_each(|&x| s.add(x));
                self.finite = Quantiles::Sketch(s);
            }
        }
    }

    /// The quantiles `qs` (each in `[0, 1]`), by linear interpolation between the order
    /// statistics at `(n − 1)·q`, as [`super::report::quantile`] on the sorted values:
    /// exact below the cap, within [`SKETCH_ALPHA`] per order statistic beyond. NaN when
    /// empty.
    pub fn quantiles(&self, qs: &[f64]) -> Vec<f64> {
        let n = self.count();
        if n == 0 {
            return vec![f64::NAN; qs.len()];
        }
        // The ranks needed, ascending and deduplicated.
        let pos: Vec<(u64, f64)> = qs
            .iter()
            .map(|&q| {
                let x = (n - 1) as f64 * q;
                let i = (libm::floor(x) as u64).min(n - 1);
                (i, x - i as f64)
            })
            .collect();
        let mut ranks: Vec<u64> = pos
            .iter()
            .flat_map(|&(i, _)| [i, (i + 1).min(n - 1)])
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        let values = self.order_statistics(&ranks);
        let at = |r: u64| ranks.binary_search(&r).map_or(f64::NAN, |j| values[j]);
        pos.iter()
            .map(|&(i, f)| {
                if i + 1 >= n {
                    at(n - 1)
                } else {
                    let (a, b) = (at(i), at(i + 1));
                    a + f * (b - a)
                }
            })
            .collect()
    }

    /// Order statistics of the ranks given (ascending).
    fn order_statistics(&self, ranks: &[u64]) -> Vec<f64> {
        let nf = &self.nonfinite;
        let m = self.finite_count();
        let finite_ranks: Vec<u64> = ranks
            .iter()
            .filter(|&&r| r >= nf.neg_inf && r < nf.neg_inf + m)
            .map(|&r| r - nf.neg_inf)
            .collect();
        let finite = match &self.finite {
            Quantiles::Exact(v) => {
                let mut s = v.clone();
                s.sort_by(f64::total_cmp);
                finite_ranks.iter().map(|&r| s[r as usize]).collect()
            }
            Quantiles::Sketch(s) => s.order_statistics(&finite_ranks),
        };
        let mut finite = finite.into_iter();
        ranks
            .iter()
            .map(|&r| {
                if r < nf.neg_inf {
                    f64::NEG_INFINITY
                } else if r < nf.neg_inf + m {
                    finite.next().unwrap_or(f64::NAN)
                } else if r < nf.neg_inf + m + nf.pos_inf {
                    f64::INFINITY
                } else {
                    f64::NAN
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(state: &mut u64) -> f64 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 11) as f64 / (1u64 << 53) as f64
    }

    #[test]
    fn the_note_states_the_constants() {
        let cap = EXACT_CAP.to_string();
        let (thousands, units) = cap.split_at(cap.len() - 3);
        assert!(PERCENTILE_NOTE.contains(&format!("exact up to {thousands},{units} paths")));
        assert!(PERCENTILE_NOTE.contains(&format!("within {} %", 100.0 * SKETCH_ALPHA)));
    }

    #[test]
    fn exact_sum_is_correctly_rounded_and_order_independent() {
        let mut s = ExactSum::new();
        for x in [1e-16, 1.0, 1e16] {
            s.add(x);
        }
        // Python: math.fsum([1e-16, 1, 1e16]) == 1.0000000000000002e16
        assert_eq!(s.value(), 1.000_000_000_000_000_2e16);
        let xs = [0.1, 0.2, 0.3, -0.6, 1e100, 1.0, -1e100];
        let mut a = ExactSum::new();
        xs.iter().for_each(|&x| a.add(x));
        assert_eq!(a.value(), 1.0);
        let mut b = ExactSum::new();
        xs.iter().rev().for_each(|&x| b.add(x));
        // 0.1 + 0.2 + 0.3 − 0.6 is 2^-54·… exactly, not zero: both orders agree bit for bit.
        assert_eq!(a.value().to_bits(), b.value().to_bits());
        let mut seed = 7u64;
        let ys: Vec<f64> = (0..500)
            .map(|_| (lcg(&mut seed) - 0.5) * 10f64.powi((lcg(&mut seed) * 30.0) as i32 - 15))
            .collect();
        let mut fwd = ExactSum::new();
        ys.iter().for_each(|&y| fwd.add(y));
        let (mut p, mut q) = (ExactSum::new(), ExactSum::new());
        ys.iter().rev().step_by(2).for_each(|&y| p.add(y));
        ys.iter().rev().skip(1).step_by(2).for_each(|&y| q.add(y));
        q.merge(&p);
        assert_eq!(fwd.value().to_bits(), q.value().to_bits());
    }

    #[test]
    fn non_finite_values_are_kept_apart() {
        let mut s = ExactSum::new();
        s.add(1.0);
        s.add(f64::INFINITY);
        assert_eq!(s.value(), f64::INFINITY);
        s.add(f64::NEG_INFINITY);
        assert!(s.value().is_nan());
        let mut t = ExactSum::new();
        t.add(f64::MAX);
        t.add(f64::MAX);
        assert_eq!(t.value(), f64::INFINITY);
        let mut u = ExactSum::new();
        u.add(2.0);
        u.add(f64::NAN);
        assert!(u.value().is_nan());
        let json = serde_json::to_string(&u).unwrap();
        assert_eq!(serde_json::from_str::<ExactSum>(&json).unwrap(), u);
    }

    #[test]
    fn a_distribution_is_exact_up_to_the_cap() {
        let mut d = Distribution::new();
        for x in (0..=20).rev() {
            d.add(f64::from(x), 21);
        }
        assert!(!d.is_sketch());
        assert_eq!(d.quantiles(&[0.05, 0.5, 0.95]), vec![1.0, 10.0, 19.0]);
        d.add(f64::INFINITY, 21);
        assert!(d.is_sketch());
        assert_eq!(d.count(), 22);
        let q = d.quantiles(&[0.0, 0.5, 1.0]);
        assert_eq!(q[0], 0.0);
        assert!((q[1] - 10.5).abs() <= 10.5 * SKETCH_ALPHA, "{q:?}");
        assert_eq!(q[2], f64::INFINITY);
        assert!(Distribution::new().quantiles(&[0.5])[0].is_nan());
    }

    #[test]
    fn sketch_quantiles_are_within_alpha_of_the_exact_ones() {
        let mut seed = 11u64;
        let mut xs = Vec::new();
        let mut d = Distribution::new();
        for i in 0..5_000 {
            // Lognormal by Box–Muller; a few negatives and zeros too.
            let (u, v) = (lcg(&mut seed).max(1e-300), lcg(&mut seed));
            let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
            let x = match i % 50 {
                0 => 0.0,
                1..=4 => -(1e3 * (0.8 * z).exp()),
                _ => 1e6 * (0.3 * z).exp(),
            };
            xs.push(x);
            d.add(x, EXACT_CAP);
        }
        assert!(d.is_sketch());
        xs.sort_by(f64::total_cmp);
        let qs = [
            0.0, 0.001, 0.01, 0.05, 0.07, 0.25, 0.5, 0.75, 0.95, 0.999, 1.0,
        ];
        let got = d.quantiles(&qs);
        let n = xs.len();
        for (q, g) in qs.iter().zip(got) {
            let x = (n - 1) as f64 * q;
            let i = x.floor() as usize;
            // Each order statistic within α; the interpolation of two same-sign
            // order statistics too.
            let exact = crate::simulate::report::quantile(&xs, *q);
            assert!(
                (g - exact).abs() <= SKETCH_ALPHA * 1.000_001 * exact.abs(),
                "q {q} (rank {i}): {g} vs {exact}"
            );
        }
        if let Quantiles::Sketch(s) = &d.finite {
            assert!(s.buckets() < 5_000, "{}", s.buckets());
        }
    }

    #[test]
    fn whole_numbers_stay_whole_in_the_sketch() {
        let mut d = Distribution::new();
        let mut seed = 5u64;
        let mut xs: Vec<f64> = (0..3_000)
            .map(|_| (40.0 + 900.0 * lcg(&mut seed)).floor())
            .collect();
        xs.iter().for_each(|&x| d.add(x, 100));
        assert!(d.is_sketch());
        xs.sort_by(f64::total_cmp);
        for q in [0.05, 0.5, 0.95] {
            let exact = crate::simulate::report::quantile(&xs, q);
            assert_eq!(d.quantiles(&[q])[0], exact, "q {q}");
        }
        // One fraction and the order statistics are the buckets' representatives again.
        d.add(0.5, 100);
        let median = d.quantiles(&[0.5])[0];
        assert!(median.fract() != 0.0, "{median}");
    }

    #[test]
    fn the_sketch_does_not_depend_on_order_or_grouping() {
        let mut seed = 3u64;
        let xs: Vec<f64> = (0..3_000)
            .map(|_| 5e5 * (1.0 + 0.2 * (lcg(&mut seed) - 0.5)) - 4e5)
            .collect();
        let mut a = Distribution::new();
        xs.iter().for_each(|&x| a.add(x, 100));
        let mut parts: Vec<Distribution> = xs
            .chunks(37)
            .rev()
            .map(|c| {
                let mut d = Distribution::new();
                c.iter().rev().for_each(|&x| d.add(x, 100));
                d
            })
            .collect();
        let mut b = Distribution::new();
        while let Some(p) = parts.pop() {
            let mut p = p;
            p.merge(&b, 100);
            b = p;
        }
        assert_eq!(a, b);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Distribution>(&json).unwrap(), b);
    }
}
