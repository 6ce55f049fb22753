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
//!   [`Sketch`]: counts per logarithmic bucket (DDSketch), at most [`SKETCH_MAX_BUCKETS`]
//!   of them whatever the count and the spread: a sketch over the limit coarsens its
//!   resolution (merging neighbouring buckets) deterministically, as a function of the
//!   multiset of values, and reports the accuracy it keeps.

use serde::{Deserialize, Serialize};

/// A distribution keeps its values (exact percentiles) while it holds at most this many;
/// beyond, it switches to a [`Sketch`]. The default 500-path run stays exact.
pub const EXACT_CAP: u32 = 1_000;

/// Relative accuracy of a [`Sketch`] at full resolution (level 0): every order statistic it
/// returns is within this fraction (0.05 %) of the exact one, in magnitude and of the same
/// sign. A sketch coarsened to level `h` to respect its bucket limit is within
/// [`relative_accuracy_at`]`(h)`.
pub const SKETCH_ALPHA: f64 = 5e-4;

/// The report's note on how exact its statistics are while every distribution is exact
/// (kept in step with [`EXACT_CAP`] by a test); past the cap the report states the
/// accuracy achieved instead ([`percentile_note`]).
pub const PERCENTILE_NOTE: &str = "Means are exact sums over paths, rounded once. Percentiles (5th, median, 95th) are exact, from every path's value (up to 1,000 paths; a longer run summarises paths in logarithmic buckets to bound memory and states its accuracy here).";

/// The report's note on how exact its statistics are, given the worst relative accuracy of
/// the sketches used (`None` while every distribution is exact: then [`PERCENTILE_NOTE`])
/// and the bucket limit. The accuracy is stated rounded up to two significant digits.
pub fn percentile_note(worst: Option<f64>, max_buckets: u32) -> String {
    let Some(alpha) = worst else {
        return PERCENTILE_NOTE.to_string();
    };
    let cap = thousands(u64::from(EXACT_CAP));
    format!(
        "Means are exact sums over paths, rounded once. Percentiles (5th, median, 95th) are exact up to {cap} paths; beyond, paths are summarised in logarithmic buckets (at most {} per distribution, coarsened as needed to bound memory), and each percentile is within {} % of the exact one.",
        thousands(u64::from(max_buckets)),
        percent_up(alpha)
    )
}

/// `n` with thousands separators (`1,024`).
fn thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `100·α` rounded up to two significant digits, without trailing zeros (`0.05`, `3.2`).
fn percent_up(alpha: f64) -> String {
    let pct = 100.0 * alpha;
    if !(pct > 0.0 && pct.is_finite()) {
        return format!("{pct}");
    }
    let decimals = (1 - libm::floor(libm::log10(pct)) as i32).max(0);
    let scale = libm::pow(10.0, f64::from(decimals));
    // The tolerance keeps 0.05 (5e-4 · 100 in binary) from rounding up to 0.051.
    let up = libm::ceil(pct * scale * (1.0 - 1e-12)) / scale;
    let text = format!("{up:.prec$}", prec = decimals as usize);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// How much a [`Distribution`] keeps: its values up to `exact_cap`, then a [`Sketch`] of at
/// most `max_buckets` buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Values kept exactly before switching to a sketch ([`EXACT_CAP`] by default).
    pub exact_cap: u32,
    /// The sketch's bucket limit ([`SKETCH_MAX_BUCKETS`] by default).
    pub max_buckets: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            exact_cap: EXACT_CAP,
            max_buckets: SKETCH_MAX_BUCKETS,
        }
    }
}

impl Limits {
    /// Limits with the given cap and the default bucket limit.
    pub fn with_cap(exact_cap: u32) -> Limits {
        Limits {
            exact_cap,
            ..Limits::default()
        }
    }
}

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

    /// Moves every bucket to the next level: key `k` becomes `⌈k / 2⌉`, so buckets
    /// `2i − 1` and `2i` merge into `i`. The map is monotone, so the store stays sorted
    /// and equal keys are adjacent.
    fn coarsen(&mut self) {
        let mut out: Vec<(i32, u32)> = Vec::with_capacity(self.0.len());
        for &(k, c) in &self.0 {
            let k = coarse_key(k, 1);
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = last.1.saturating_add(c),
                _ => out.push((k, c)),
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
/// # Resolution levels and the bucket limit
///
/// At level `h ≥ 0` the bucket of a magnitude `m` is `⌈k₀ / 2^h⌉` where `k₀ = ⌈ln m / ln γ⌉`
/// is its level-0 bucket: level `h` is the same sketch with growth factor `γ_h = γ^(2^h)`
/// (bucket `k` holds `(γ_h^(k−1), γ_h^k]`) and relative accuracy
/// `α_h = (γ_h − 1) / (γ_h + 1)` ([`Sketch::relative_accuracy`]). Since
/// `⌈⌈k / 2^h⌉ / 2⌉ = ⌈k / 2^(h+1)⌉`, coarsening a level-`h` sketch to `h + 1` (merging
/// buckets `2i − 1` and `2i` into `i`) is a function of the bucket counts alone, and puts
/// every value exactly where inserting it at level `h + 1` would.
///
/// A sketch holds at most `max_buckets` occupied buckets (positive and negative stores
/// together; [`SKETCH_MAX_BUCKETS`] by default): after every insertion or merge, while it
/// holds more, it coarsens one level (up to [`SKETCH_MAX_LEVEL`], where at most four
/// buckets remain, so any limit of four or more is met). Two sketches merge by coarsening
/// both to the larger of their levels, adding counts, then coarsening while over the limit.
///
/// # Why the result depends only on the multiset
///
/// For a multiset `S` let `B_h(S)` be its number of occupied buckets at level `h`, and
/// `L(S)` the least level `h` with `B_h(S) ≤ max_buckets` (or [`SKETCH_MAX_LEVEL`]).
/// `B_h(S)` does not increase with `h` (coarsening only merges buckets) and, for `T ⊆ S`,
/// `B_h(T) ≤ B_h(S)` at every level (every bucket `T` occupies, `S` occupies), hence
/// `L(T) ≤ L(S)`. Invariant: a sketch built from `T` in any way is at level `L(T)` and holds
/// `T`'s exact counts there. Inserting `x` into it, or merging it with a sketch of `U`, gives
/// the exact counts of `S = T ∪ {x}` (or `T ∪ U`) at a level `h₀ = max(L(T), L(U)) ≤ L(S)`;
/// every level in `[h₀, L(S))` has `B_h(S)` over the limit (`L(S)` is the least that
/// fits), so coarsening while over the limit stops exactly at `L(S)`. The counts, zero
/// count, minimum, maximum and the whole-number flag are functions of `S`; so is the sketch.
///
/// Whole numbers: while every value added is a whole number (ticket and trade counts), an
/// order statistic whose bucket `(a, b]` has `α_h·b < ½` is rounded to the one whole number
/// the bucket can hold: exact (below `1 / (2α)` = 1,000 in magnitude at level 0, less at
/// coarser levels). The level is a function of the multiset, so this stays deterministic.
///
/// Its size is the number of occupied buckets: at most `max_buckets`, whatever the count
/// and the spread (at level 0, about 1,000 per factor of e between the smallest and the
/// largest magnitude per sign).
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
    /// counts), order statistics in narrow enough buckets are rounded to the whole number
    /// they must be: exact.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    fractional: bool,
    /// Resolution level `h` (growth factor `γ^(2^h)`).
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    level: u8,
}

fn is_zero_u8(n: &u8) -> bool {
    *n == 0
}

/// Default bucket limit of a [`Sketch`] (positive and negative buckets together): 8 KB of
/// counts per distribution, as much as the [`EXACT_CAP`] values an exact distribution
/// holds, so a run never holds more than it did at the cap. Value-like distributions
/// (spread within a factor of about 2.7) fit at full accuracy ([`SKETCH_ALPHA`]); wide
/// ones centred near zero are coarsened.
pub const SKETCH_MAX_BUCKETS: u32 = 1_024;

/// The coarsest level of a [`Sketch`]: at level 20 every magnitude of a double falls in
/// bucket 0 or 1 (`|k₀| < 2^20`), so at most four buckets remain.
pub const SKETCH_MAX_LEVEL: u8 = 20;

fn ln_gamma() -> f64 {
    libm::log(SKETCH_GAMMA)
}

/// The level-0 bucket of magnitude `m > 0`: `⌈ln m / ln γ⌉`.
fn key_of(m: f64, ln_g: f64) -> i32 {
    // |ln m| ≤ 745 for any positive double, so |key| < 2^20.
    libm::ceil(libm::log(m) / ln_g) as i32
}

/// `⌈k / 2^h⌉` (an arithmetic shift floors, so negate twice). Levels past
/// [`SKETCH_MAX_LEVEL`] (only from a hand-edited JSON) act as that level.
fn coarse_key(k: i32, h: u8) -> i32 {
    -((-k) >> u32::from(h.min(SKETCH_MAX_LEVEL)))
}

/// `ln γ_h = 2^h · ln γ` (levels past [`SKETCH_MAX_LEVEL`] act as that level).
fn ln_gamma_at(level: u8) -> f64 {
    ln_gamma() * f64::from(1u32 << u32::from(level.min(SKETCH_MAX_LEVEL)))
}

/// Relative accuracy at level `h`: `α_h = (γ_h − 1) / (γ_h + 1) = tanh(ln γ_h / 2)`
/// ([`SKETCH_ALPHA`] at level 0).
pub fn relative_accuracy_at(level: u8) -> f64 {
    if level == 0 {
        SKETCH_ALPHA
    } else {
        libm::tanh(0.5 * ln_gamma_at(level))
    }
}

/// Bucket `key`'s representative magnitude `2γ_h^k / (γ_h + 1)` (written
/// `2γ_h^(k−1) / (1 + 1/γ_h)`, which stays finite at coarse levels) and its upper edge
/// `γ_h^k`: the representative is within `α_h` of every magnitude in `(γ_h^(k−1), γ_h^k]`.
fn value_of(key: i32, ln_gh: f64) -> (f64, f64) {
    let rep = 2.0 * libm::exp(f64::from(key - 1) * ln_gh) / (1.0 + libm::exp(-ln_gh));
    (rep, libm::exp(f64::from(key) * ln_gh))
}

impl Sketch {
    /// An empty sketch (level 0).
    pub fn new() -> Sketch {
        Sketch::default()
    }

    /// Adds a finite value (a non-finite one is ignored: [`Quantiles`] counts those), then
    /// coarsens while more than `max_buckets` buckets are occupied.
    pub fn add(&mut self, x: f64, max_buckets: u32) {
        if !x.is_finite() {
            return;
        }
        let ln_g = ln_gamma();
        if x > 0.0 {
            self.pos.add(coarse_key(key_of(x, ln_g), self.level), 1);
        } else if x < 0.0 {
            self.neg.add(coarse_key(key_of(-x, ln_g), self.level), 1);
        } else {
            self.zero += 1;
        }
        self.min = Some(self.min.map_or(x, |m| m.min(x)));
        self.max = Some(self.max.map_or(x, |m| m.max(x)));
        self.fractional |= libm::trunc(x) != x;
        self.fit(max_buckets);
    }

    /// Adds another sketch's counts: both at the coarser of the two levels, then coarsened
    /// while more than `max_buckets` buckets are occupied.
    pub fn merge(&mut self, other: &Sketch, max_buckets: u32) {
        self.coarsen_to(other.level);
        if other.level < self.level {
            let mut o = other.clone();
            o.coarsen_to(self.level);
            self.pos.merge(&o.pos);
            self.neg.merge(&o.neg);
        } else {
            self.pos.merge(&other.pos);
            self.neg.merge(&other.neg);
        }
        self.zero += other.zero;
        self.fractional |= other.fractional;
        if let Some(v) = other.min {
            self.min = Some(self.min.map_or(v, |m| m.min(v)));
        }
        if let Some(v) = other.max {
            self.max = Some(self.max.map_or(v, |m| m.max(v)));
        }
        self.fit(max_buckets);
    }

    /// Coarsens one level at a time until at level `level` (no-op if already there or
    /// coarser).
    fn coarsen_to(&mut self, level: u8) {
        while self.level < level.min(SKETCH_MAX_LEVEL) {
            self.coarsen();
        }
    }

    fn coarsen(&mut self) {
        self.pos.coarsen();
        self.neg.coarsen();
        self.level += 1;
    }

    /// Coarsens while over the bucket limit.
    fn fit(&mut self, max_buckets: u32) {
        while self.buckets() > max_buckets as usize && self.level < SKETCH_MAX_LEVEL {
            self.coarsen();
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

    /// The resolution level `h` (0 = full accuracy).
    pub fn level(&self) -> u8 {
        self.level
    }

    /// The relative accuracy `α_h` of every order statistic at the sketch's level.
    pub fn relative_accuracy(&self) -> f64 {
        relative_accuracy_at(self.level)
    }

    /// The order statistics of ranks `ranks` (0-based, ascending; each below
    /// [`Sketch::count`]): each within [`Sketch::relative_accuracy`] of the exact one,
    /// clamped to the exact minimum and maximum. A rank past the end gives NaN.
    pub fn order_statistics(&self, ranks: &[u64]) -> Vec<f64> {
        let ln_gh = ln_gamma_at(self.level);
        let alpha = self.relative_accuracy();
        let (lo, hi) = (self.min.unwrap_or(f64::NAN), self.max.unwrap_or(f64::NAN));
        let n = self.count();
        // Ascending order: negatives by decreasing magnitude, zeros, positives; each
        // bucket as (representative, upper edge of its magnitudes, count).
        let neg = self.neg.0.iter().rev().map(|&(k, c)| {
            let (v, b) = value_of(k, ln_gh);
            (-v, b, u64::from(c))
        });
        let zero = std::iter::once((0.0, 0.0, self.zero));
        let pos = self.pos.0.iter().map(|&(k, c)| {
            let (v, b) = value_of(k, ln_gh);
            (v, b, u64::from(c))
        });
        let mut buckets = neg.chain(zero).chain(pos).filter(|&(_, _, c)| c > 0);
        let mut out = Vec::with_capacity(ranks.len());
        let mut below = 0u64; // values in buckets already passed
        let mut cur: Option<(f64, f64, u64)> = None;
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
                    Some((v, b, c)) if r < below + c => {
                        // A bucket (a, b] with α_h·b < ½ is narrower than 1 and its
                        // representative is within α_h·b of each of its magnitudes: it
                        // holds at most one whole number, the one nearest to it.
                        let v = if self.fractional || alpha * b >= 0.5 * (1.0 - 1e-9) {
                            v
                        } else {
                            libm::round(v)
                        };
                        out.push(v.max(lo).min(hi));
                        break;
                    }
                    Some((_, _, c)) => {
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

    /// The relative accuracy of its order statistics: `None` while exact, the sketch's
    /// `α_h` beyond (a function of the multiset of values, like the sketch).
    pub fn relative_error(&self) -> Option<f64> {
        match &self.finite {
            Quantiles::Exact(_) => None,
            Quantiles::Sketch(s) => Some(s.relative_accuracy()),
        }
    }

    /// Adds `x`; past `limits.exact_cap` values the distribution becomes a sketch of at
    /// most `limits.max_buckets` buckets.
    pub fn add(&mut self, x: f64, limits: Limits) {
        if x.is_nan() {
            self.nonfinite.nan += 1;
        } else if x == f64::INFINITY {
            self.nonfinite.pos_inf += 1;
        } else if x == f64::NEG_INFINITY {
            self.nonfinite.neg_inf += 1;
        } else {
            match &mut self.finite {
                Quantiles::Exact(v) => v.push(x),
                Quantiles::Sketch(s) => s.add(x, limits.max_buckets),
            }
        }
        self.settle(limits);
    }

    /// Adds another distribution's values; past `limits.exact_cap` values the result is a
    /// sketch of at most `limits.max_buckets` buckets.
    pub fn merge(&mut self, other: &Distribution, limits: Limits) {
        let mb = limits.max_buckets;
        self.nonfinite.neg_inf += other.nonfinite.neg_inf;
        self.nonfinite.pos_inf += other.nonfinite.pos_inf;
        self.nonfinite.nan += other.nonfinite.nan;
        match (&mut self.finite, &other.finite) {
            (Quantiles::Exact(a), Quantiles::Exact(b)) => a.extend_from_slice(b),
            (Quantiles::Sketch(a), Quantiles::Sketch(b)) => a.merge(b, mb),
            (Quantiles::Sketch(a), Quantiles::Exact(b)) => b.iter().for_each(|&x| a.add(x, mb)),
            (Quantiles::Exact(a), Quantiles::Sketch(b)) => {
                let mut s = b.clone();
                a.iter().for_each(|&x| s.add(x, mb));
                self.finite = Quantiles::Sketch(s);
            }
        }
        self.settle(limits);
    }

    /// Switches to a sketch once the count passes `cap` (the form depends on the count
    /// alone).
    fn settle(&mut self, limits: Limits) {
        if self.count() > u64::from(limits.exact_cap) {
            if let Quantiles::Exact(v) = &self.finite {
                let mut s = Sketch::new();
                v.iter().for_each(|&x| s.add(x, limits.max_buckets));
                self.finite = Quantiles::Sketch(s);
            }
        }
    }

    /// The quantiles `qs` (each in `[0, 1]`), by linear interpolation between the order
    /// statistics at `(n − 1)·q`, as [`super::report::quantile`] on the sorted values:
    /// exact below the cap, within [`Distribution::relative_error`] per order statistic
    /// beyond. NaN when empty.
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
        assert!(PERCENTILE_NOTE.contains(&format!("up to {thousands},{units} paths")));
        assert_eq!(percentile_note(None, SKETCH_MAX_BUCKETS), PERCENTILE_NOTE);
        let level0 = percentile_note(Some(SKETCH_ALPHA), SKETCH_MAX_BUCKETS);
        assert!(level0.contains("exact up to 1,000 paths"), "{level0}");
        assert!(
            level0.contains("at most 1,024 per distribution"),
            "{level0}"
        );
        assert!(level0.contains("within 0.05 %"), "{level0}");
        // Rounded up: the statement stays true.
        assert_eq!(percent_up(relative_accuracy_at(1)), "0.1");
        assert_eq!(percent_up(relative_accuracy_at(6)), "3.2");
        assert_eq!(percent_up(0.0123), "1.3");
        assert_eq!(percent_up(0.25), "25");
        for h in 0..=SKETCH_MAX_LEVEL {
            let a = relative_accuracy_at(h);
            let stated: f64 = percent_up(a).parse().unwrap();
            assert!(
                stated >= 100.0 * a * (1.0 - 1e-12) && stated <= 110.0 * a,
                "{h}: {a}"
            );
        }
    }

    #[test]
    fn coarsening_puts_values_where_direct_insertion_would() {
        for k in -3_000..3_000 {
            for h in 0..6u8 {
                assert_eq!(
                    coarse_key(coarse_key(k, h), 1),
                    coarse_key(k, h + 1),
                    "{k} {h}"
                );
                let d = 1i64 << h;
                assert_eq!(
                    i64::from(coarse_key(k, h)),
                    (i64::from(k) + d - 1).div_euclid(d)
                );
            }
        }
        let mut seed = 17u64;
        let xs: Vec<f64> = (0..2_000)
            .map(|_| (lcg(&mut seed) - 0.4) * 10f64.powf(6.0 * lcg(&mut seed) - 2.0))
            .collect();
        for h in 1..8u8 {
            let mut coarsened = Sketch::new();
            xs.iter().for_each(|&x| coarsened.add(x, u32::MAX));
            assert_eq!(coarsened.level(), 0);
            coarsened.coarsen_to(h);
            let mut direct = Sketch::new();
            direct.coarsen_to(h);
            xs.iter().for_each(|&x| direct.add(x, u32::MAX));
            assert_eq!(coarsened, direct, "level {h}");
            // γ_h = γ^(2^h): the level-h bucket of a magnitude brackets it.
            let g = ln_gamma_at(h);
            for &(k, _) in &direct.pos.0 {
                let (rep, upper) = value_of(k, g);
                let lower = libm::exp(f64::from(k - 1) * g);
                assert!(lower < rep && rep < upper);
                assert!((rep - lower) <= relative_accuracy_at(h) * lower * (1.0 + 1e-12));
                assert!((upper - rep) <= relative_accuracy_at(h) * upper * (1.0 + 1e-12));
            }
        }
        // A level past the last (hand-edited JSON) does not panic.
        let bad: Sketch = serde_json::from_str(
            r#"{"pos":[[3,2],[9,1]],"neg":[],"zero":0,"min":1.0,"max":2.0,"level":200}"#,
        )
        .unwrap();
        assert!(bad
            .order_statistics(&[0, 1, 2])
            .iter()
            .all(|v| v.is_finite()));
        let mut bad = bad;
        bad.add(5.0, 4);
        assert_eq!(
            relative_accuracy_at(200),
            relative_accuracy_at(SKETCH_MAX_LEVEL)
        );
        assert!(
            (relative_accuracy_at(1) - 2.0 * SKETCH_ALPHA / (1.0 + SKETCH_ALPHA.powi(2))).abs()
                < 1e-15
        );
    }

    /// Wide data centred on zero, over several decades of magnitude (net benefit, taxes).
    fn wide(seed: u64, n: usize) -> Vec<f64> {
        let mut seed = seed;
        (0..n)
            .map(|i| {
                let (u, v) = (lcg(&mut seed).max(1e-300), lcg(&mut seed));
                let z = (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos();
                match i % 97 {
                    0 => 0.0,
                    1 => 1e-3 * z,
                    _ => 2e4 * z + 300.0 * z.powi(3),
                }
            })
            .collect()
    }

    #[test]
    fn the_bucket_limit_holds_and_the_level_depends_only_on_the_multiset() {
        let limit = 16;
        let xs = wide(23, 1_500);
        let mut whole = Sketch::new();
        xs.iter().for_each(|&x| whole.add(x, limit));
        assert!(whole.buckets() <= limit as usize);
        assert!(whole.level() >= 3, "{}", whole.level());
        // The least level that fits: one level finer holds more than the limit.
        let mut finer = Sketch::new();
        finer.coarsen_to(whole.level() - 1);
        xs.iter().for_each(|&x| finer.add(x, u32::MAX));
        assert!(finer.buckets() > limit as usize);
        let mut seed = 99u64;
        let mut levels_seen = std::collections::BTreeSet::new();
        for trial in 0..64 {
            // Random cuts, scrambled push order inside each part, merged as a left fold
            // in a rotated order or as a tree.
            let mut cuts: Vec<usize> = (0..1 + trial % 9)
                .map(|_| (lcg(&mut seed) * xs.len() as f64) as usize)
                .collect();
            cuts.push(0);
            cuts.push(xs.len());
            cuts.sort_unstable();
            let mut parts: Vec<Sketch> = cuts
                .windows(2)
                .map(|w| {
                    let mut chunk = xs[w[0]..w[1]].to_vec();
                    let r = (lcg(&mut seed) * (chunk.len() + 1) as f64) as usize;
                    let len = chunk.len();
                    chunk.rotate_left(r.min(len));
                    if trial % 2 == 0 {
                        chunk.reverse();
                    }
                    let mut s = Sketch::new();
                    chunk.iter().for_each(|&x| s.add(x, limit));
                    levels_seen.insert(s.level());
                    s
                })
                .collect();
            let len = parts.len();
            parts.rotate_left(trial % len);
            let merged = if trial % 3 == 0 {
                while parts.len() > 1 {
                    let mut next = Vec::new();
                    let mut it = parts.into_iter();
                    while let Some(mut a) = it.next() {
                        if let Some(b) = it.next() {
                            a.merge(&b, limit);
                        }
                        next.push(a);
                    }
                    parts = next;
                }
                parts.pop().unwrap()
            } else {
                let mut acc = Sketch::new();
                for p in parts.iter().rev() {
                    acc.merge(p, limit);
                }
                acc
            };
            assert_eq!(merged, whole, "trial {trial}");
        }
        // Parts coarsened at different times: some stayed finer than the whole.
        assert!(levels_seen.len() >= 3, "{levels_seen:?}");
    }

    #[test]
    fn coarsened_order_statistics_are_within_the_stated_accuracy() {
        let mut xs = wide(31, 30_000);
        let mut d = Distribution::new();
        xs.iter().for_each(|&x| d.add(x, Limits::default()));
        let Quantiles::Sketch(s) = &d.finite else {
            panic!("not sketched");
        };
        assert!(s.buckets() <= SKETCH_MAX_BUCKETS as usize);
        assert!(s.level() >= 1, "{}", s.level());
        let alpha = d.relative_error().unwrap();
        assert_eq!(alpha, relative_accuracy_at(s.level()));
        assert!(alpha > SKETCH_ALPHA);
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as u64;
        let ranks: Vec<u64> = (0..n).step_by(7).chain([n - 2, n - 1]).collect();
        let got = s.order_statistics(&ranks);
        for (&r, g) in ranks.iter().zip(got) {
            let exact = xs[r as usize];
            assert!(
                (g - exact).abs() <= alpha * (1.0 + 1e-9) * exact.abs(),
                "rank {r}: {g} vs {exact} (α {alpha})"
            );
        }
        // Percentiles whose two order statistics share a sign: within α too.
        for q in [0.01, 0.05, 0.25, 0.75, 0.95, 0.99] {
            let g = d.quantiles(&[q])[0];
            let exact = crate::simulate::report::quantile(&xs, q);
            assert!(
                (g - exact).abs() <= alpha * (1.0 + 1e-9) * exact.abs(),
                "q {q}: {g} vs {exact}"
            );
        }
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
            d.add(f64::from(x), Limits::with_cap(21));
        }
        assert!(!d.is_sketch());
        assert_eq!(d.quantiles(&[0.05, 0.5, 0.95]), vec![1.0, 10.0, 19.0]);
        d.add(f64::INFINITY, Limits::with_cap(21));
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
            d.add(x, Limits::default());
        }
        assert!(d.is_sketch());
        xs.sort_by(f64::total_cmp);
        let qs = [
            0.0, 0.001, 0.01, 0.05, 0.07, 0.25, 0.5, 0.75, 0.95, 0.999, 1.0,
        ];
        let got = d.quantiles(&qs);
        let alpha = d.relative_error().unwrap();
        let n = xs.len();
        for (q, g) in qs.iter().zip(got) {
            let x = (n - 1) as f64 * q;
            let i = x.floor() as usize;
            // Each order statistic within α; the interpolation of two same-sign
            // order statistics too.
            let exact = crate::simulate::report::quantile(&xs, *q);
            assert!(
                (g - exact).abs() <= alpha * 1.000_001 * exact.abs(),
                "q {q} (rank {i}): {g} vs {exact}"
            );
        }
        if let Quantiles::Sketch(s) = &d.finite {
            assert!(
                s.buckets() <= SKETCH_MAX_BUCKETS as usize,
                "{}",
                s.buckets()
            );
        }
    }

    #[test]
    fn whole_numbers_stay_whole_in_the_sketch() {
        let mut d = Distribution::new();
        let mut seed = 5u64;
        let mut xs: Vec<f64> = (0..3_000)
            .map(|_| (40.0 + 900.0 * lcg(&mut seed)).floor())
            .collect();
        xs.iter().for_each(|&x| d.add(x, Limits::with_cap(100)));
        assert!(d.is_sketch());
        xs.sort_by(f64::total_cmp);
        for q in [0.05, 0.5, 0.95] {
            let exact = crate::simulate::report::quantile(&xs, q);
            assert_eq!(d.quantiles(&[q])[0], exact, "q {q}");
        }
        // Coarsened: whole numbers in buckets narrower than 1 stay exact.
        let mut seed = 8u64;
        let ys: Vec<f64> = (0..3_000)
            .map(|i| {
                let small = (1.0 + 20.0 * lcg(&mut seed)).floor();
                if i % 10 == 0 {
                    (1e6 * (1.0 + 0.2 * lcg(&mut seed))).floor()
                } else {
                    small
                }
            })
            .collect();
        let mut c = Distribution::new();
        let limits = Limits {
            exact_cap: 100,
            max_buckets: 32,
        };
        ys.iter().for_each(|&y| c.add(y, limits));
        let Quantiles::Sketch(sk) = &c.finite else {
            panic!("not sketched");
        };
        assert!(sk.level() >= 3 && sk.buckets() <= 32, "{}", sk.level());
        let mut ys = ys;
        ys.sort_by(f64::total_cmp);
        for q in [0.05, 0.25, 0.5, 0.75] {
            let exact = crate::simulate::report::quantile(&ys, q);
            assert_eq!(c.quantiles(&[q])[0], exact, "q {q}");
        }
        // One fraction and the order statistics are the buckets' representatives again.
        d.add(0.5, Limits::with_cap(100));
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
        xs.iter().for_each(|&x| a.add(x, Limits::with_cap(100)));
        let mut parts: Vec<Distribution> = xs
            .chunks(37)
            .rev()
            .map(|c| {
                let mut d = Distribution::new();
                c.iter()
                    .rev()
                    .for_each(|&x| d.add(x, Limits::with_cap(100)));
                d
            })
            .collect();
        let mut b = Distribution::new();
        while let Some(p) = parts.pop() {
            let mut p = p;
            p.merge(&b, Limits::with_cap(100));
            b = p;
        }
        assert_eq!(a, b);
        let json = serde_json::to_string(&b).unwrap();
        assert_eq!(serde_json::from_str::<Distribution>(&json).unwrap(), b);
    }
}
