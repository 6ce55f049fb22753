//! The market: Monte Carlo paths of daily security returns and dividends, or a replayed
//! return series.
//!
//! # Model
//!
//! Asset class `c` has an expected annual (arithmetic, total) return `μ_c`, an annual
//! volatility `σ_c` (the standard deviation of its annual simple return, as capital-market
//! assumptions state it) and a correlation matrix `R` between classes. Security `j` belongs to
//! class `c(j)`, has an annual idiosyncratic volatility `s_j` against its class and a
//! dividend yield `δ_j`. Steps are the business days ([`Date::is_business_day`]) strictly
//! after the start date up to the start date plus the horizon: the NYSE's sessions. A year
//! has on average `A` = [`STEPS_PER_YEAR`] ≈ 251.03 of them, and `A` annualises every daily
//! quantity so that an average calendar year has the assumed moments.
//!
//! On each step, with `z` a vector of independent unit-variance shocks and `L` the
//! Cholesky factor of `R` (`L Lᵀ = R`):
//!
//! ```text
//! x_c   = (ln(1+μ_c) − ς_c²/2)/A + ς_c/√A · (L z)_c                 class log return
//! r_j   = x_c(j) − (s_j²/2 + δ̃_j)/A + e_j,   e_j ~ N(0, s_j²/A)     security log price return
//! R_j   = exp(r_j) − 1                                               simple price return (Step::returns)
//! ```
//!
//! with `ς_c² = ln(1 + σ_c²/(1+μ_c)²)` ([`log_volatility`]): a lognormal annual growth
//! with mean `1+μ_c` and standard deviation `σ_c` (16 % becomes a log volatility of 14.9 %
//! at `μ` = 6.7 %). `ln(1+μ)` makes `E[exp(Σ x over a year)] = 1 + μ`: the expected
//! annual total return is exactly `μ`. The idiosyncratic part has zero mean in simple terms (the `−s_j²/2`), so
//! every security of a class has the class's expected return. Dividends are paid in cash
//! quarterly, `δ_j/4` per dollar of value on the last business day of March, June,
//! September and December ([`Step::dividends`]); the price drift gives up the equivalent
//! continuous yield `δ̃_j = 4·ln(1+δ_j/4)` so that price growth plus reinvested dividends
//! still earns `μ` in expectation. Reinvesting is a purchase (it can wash a loss): the
//! simulator decides.
//!
//! **Shocks.** [`Shocks::Normal`] draws `z` from independent standard normals. For
//! [`Shocks::StudentT`] with `ν ≥ 4` degrees of freedom ([`MIN_STUDENT_T_DOF`]) the class shocks are multivariate
//! Student-t scaled to unit variance: `z = n·√((ν−2)/χ²_ν)` with one `χ²_ν` draw per day
//! shared by all classes (a market-wide fat-tail day), so the correlation stays `R`.
//! Idiosyncratic shocks stay normal.
//!
//! **TLH partners.** A security with `partner_of = Some(i)` tracks security `i` (its
//! tax-loss-harvesting partner) and shares part of `i`'s idiosyncratic noise:
//! `e_j = q·(s_j/s_i)·e_i + √(1−q²)·s_j/√A·u_j`. The idiosyncratic correlation `q ∈ [0, 1]`
//! is solved so that the two securities' daily log returns correlate at the requested
//! partner correlation `ρ_p` (default 0.99):
//!
//! ```text
//! q = (ρ_p·√(V_i V_j) − C_ij) / √(v_i v_j),  V = class variance + v,  C_ij = class covariance
//! ```
//!
//! When the classes alone already tie the two tighter than `ρ_p` (`q < 0`), or the request
//! is out of reach (`q > 1`), `q` is clamped and [`MarketModel::partner_notes`] reports the
//! achieved correlation next to the requested one.
//!
//! **Random numbers.** Path `p` of seed `s` draws from ChaCha8 keyed by a SplitMix64
//! expansion of `s`, on stream `p` (the stream of `rand_chacha`'s `ChaCha8Rng`, computed
//! four blocks at a time in SIMD lanes): paths are independent of each other and of how they are
//! split between workers. Normals come from Marsaglia and Tsang's ziggurat (256 layers,
//! one 64-bit draw per normal nearly always; its tables computed with `libm`) and gamma
//! variates from Marsaglia–Tsang, with `libm` for every transcendental function and the correctly
//! rounded `f64::sqrt` for square roots (IEEE 754 fixes its bits; in WebAssembly it is one
//! instruction, where `libm`'s is a software loop), so a path is bit-identical natively
//! and in WebAssembly. [`fingerprint`] hashes a path's bits to check that.
//!
//! # Usage
//!
//! ```
//! use tollbooth_engine::date::Date;
//! use tollbooth_engine::market::{Assumptions, MarketModel, MarketPath, SecuritySpec};
//!
//! let assumptions = Assumptions::with_defaults(Date::from_ymd(2026, 1, 2).unwrap(), 1);
//! let securities = [
//!     SecuritySpec::new("VTI", 0, 0.02, 0.013),
//!     SecuritySpec::new("ITOT", 0, 0.02, 0.013).partner_of(0),
//! ];
//! let model = MarketModel::new(&assumptions, &securities).unwrap();
//! let mut path = model.path(42, 0);
//! let mut growth = 1.0;
//! while let Some(step) = path.next_step() {
//!     growth *= 1.0 + step.returns[0] + step.dividends[0];
//! }
//! assert!(growth > 0.0);
//! ```

mod assumptions;
mod chacha;
mod correlation;
mod ledoit_wolf;
mod model;
pub(crate) mod random;
mod replay;

pub use assumptions::{
    AssetClass, Assumptions, SecuritySpec, Shocks, DEFAULT_AS_OF, DEFAULT_CORRELATION,
    DEFAULT_SOURCE, DEFAULT_TABLE,
};
pub use correlation::{validate_correlation, Repair, RepairMethod, ValidCorrelation};
pub use ledoit_wolf::ledoit_wolf;
pub use model::{
    fingerprint, reference_market, MarketModel, PartnerNote, PathIter, MIN_STUDENT_T_DOF,
    STEPS_PER_YEAR,
};
pub use replay::{ReplayMarket, ReplayPath};

use crate::date::Date;

/// The annual log-return volatility `ς` of a lognormal annual growth with mean `1 + μ`
/// and standard deviation `σ` (the stated volatility of simple returns):
/// `ς² = ln(1 + σ²/(1+μ)²)`. 0 for `σ` = 0.
pub fn log_volatility(expected_return: f64, volatility: f64) -> f64 {
    let g = 1.0 + expected_return;
    f64::sqrt(libm::log1p(volatility * volatility / (g * g)))
}

/// One business day of a path: the simple price return and the dividend cash of every
/// security from the previous business day's close to this day's close.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step<'a> {
    /// Position of this step on the path (0 for the first business day after the start).
    pub index: usize,
    /// The business day the step ends on.
    pub date: Date,
    /// Per security: simple price return `P_t/P_{t−1} − 1` (excludes dividends).
    pub returns: &'a [f64],
    /// Per security: dividend cash paid on this day per dollar of value held at the
    /// previous close (0 on most days).
    pub dividends: &'a [f64],
}

/// A stream of daily steps. Implemented by Monte Carlo paths ([`PathIter`]) and by
/// replayed return series ([`ReplayPath`]), so a simulator runs on either.
///
/// It is a lending iterator: the slices of a [`Step`] live in buffers the path reuses, so
/// no step allocates.
pub trait MarketPath {
    /// Number of securities (length of every step's slices).
    fn n_securities(&self) -> usize;
    /// Total number of steps on the path.
    fn n_steps(&self) -> usize;
    /// The next step, or `None` at the end of the path.
    fn next_step(&mut self) -> Option<Step<'_>>;
}

/// A source of paths: the Monte Carlo [`MarketModel`] or a [`ReplayMarket`].
pub trait Market {
    /// The path type.
    type Path<'a>: MarketPath
    where
        Self: 'a;
    /// Path `path_index` of `seed`. A replayed market ignores both and replays its series.
    fn path(&self, seed: u64, path_index: u64) -> Self::Path<'_>;
    /// The day the portfolio is valued before the first step.
    fn start(&self) -> Date;
    /// The dates of the steps, in order.
    fn dates(&self) -> &[Date];
    /// Number of securities.
    fn n_securities(&self) -> usize;
}

/// Why market inputs were rejected. Every variant names the offending entry.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MarketError {
    /// No asset classes were given.
    #[error("the market needs at least one asset class")]
    NoClasses,
    /// The correlation matrix does not have one row and column per asset class.
    #[error("correlation has {rows} rows but there are {expected} asset classes")]
    CorrelationRows {
        /// Rows given.
        rows: usize,
        /// Rows needed.
        expected: usize,
    },
    /// A row of the correlation matrix has the wrong length.
    #[error("correlation[{row}] has {len} entries, expected {expected}")]
    CorrelationRowLength {
        /// The row.
        row: usize,
        /// Its length.
        len: usize,
        /// The length needed.
        expected: usize,
    },
    /// A correlation entry is NaN or infinite.
    #[error("correlation[{row}][{col}] is not a finite number")]
    CorrelationNotFinite {
        /// Row.
        row: usize,
        /// Column.
        col: usize,
    },
    /// A correlation entry lies outside [−1, 1].
    #[error("correlation[{row}][{col}] = {value} is outside [-1, 1]")]
    CorrelationOutOfRange {
        /// Row.
        row: usize,
        /// Column.
        col: usize,
        /// The value.
        value: f64,
    },
    /// A diagonal entry is not 1.
    #[error("correlation[{index}][{index}] = {value} must be 1")]
    CorrelationDiagonal {
        /// Row and column.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The matrix is not symmetric.
    #[error(
        "correlation[{row}][{col}] = {value} differs from correlation[{col}][{row}] = {mirror}"
    )]
    CorrelationNotSymmetric {
        /// Row.
        row: usize,
        /// Column.
        col: usize,
        /// `correlation[row][col]`.
        value: f64,
        /// `correlation[col][row]`.
        mirror: f64,
    },
    /// The nearest-correlation repair did not produce a usable matrix.
    #[error("correlation matrix is not positive semidefinite and could not be repaired")]
    CorrelationUnrepairable,
    /// An asset-class or security parameter is invalid.
    #[error("{field} = {value} is invalid: {reason}")]
    InvalidParameter {
        /// Where, e.g. `classes[2].volatility` or `securities[4].idiosyncratic_vol`.
        field: String,
        /// The value given.
        value: f64,
        /// What is allowed.
        reason: &'static str,
    },
    /// A security refers to an asset class that does not exist.
    #[error(
        "securities[{security}].asset_class = {class} but there are {n_classes} asset classes"
    )]
    UnknownClass {
        /// Security index.
        security: usize,
        /// Class index given.
        class: usize,
        /// Number of classes.
        n_classes: usize,
    },
    /// A security's partner is itself, out of range, or itself tracks another security.
    #[error("securities[{security}].partner_of = {partner}: {reason}")]
    InvalidPartner {
        /// Security index.
        security: usize,
        /// Partner index given.
        partner: usize,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// The horizon holds no business day.
    #[error("the horizon of {years} years from {start} holds no business day")]
    EmptyHorizon {
        /// Start date.
        start: Date,
        /// Horizon in years.
        years: u32,
    },
    /// A replayed series is empty.
    #[error("the return series has no rows")]
    EmptySeries,
    /// A replayed series' dates are not strictly increasing.
    #[error("dates[{index}] = {date} is not after dates[{prev}] = {prev_date}")]
    DatesNotIncreasing {
        /// The offending row.
        index: usize,
        /// Its date.
        date: Date,
        /// The previous row.
        prev: usize,
        /// The previous date.
        prev_date: Date,
    },
    /// The number of dates and of return rows differ.
    #[error("{dates} dates but {rows} rows of {what}")]
    SeriesLength {
        /// Number of dates.
        dates: usize,
        /// Number of rows.
        rows: usize,
        /// Which table (`returns` or `dividends`).
        what: &'static str,
    },
    /// A row of a table has the wrong number of securities.
    #[error("{what}[{row}] has {len} entries, expected {expected}")]
    RowLength {
        /// Which table (`returns` or `dividends`).
        what: &'static str,
        /// The row.
        row: usize,
        /// Its length.
        len: usize,
        /// The length needed.
        expected: usize,
    },
    /// A value in a table is not usable (NaN, infinite, a return ≤ −100 %, a negative dividend).
    #[error("{what}[{row}][{col}] = {value} is invalid: {reason}")]
    BadValue {
        /// Which table.
        what: &'static str,
        /// Row.
        row: usize,
        /// Column.
        col: usize,
        /// The value.
        value: f64,
        /// What is allowed.
        reason: &'static str,
    },
}
