//! Replay backtests of rebalancing policies on a stored return history (the P3
//! reference problems, `peers.p3.v1`).
//!
//! # Problem
//!
//! A book of `n` names and cash, valued in dollars: holdings `h` (n) and `cash`. On each
//! day `d = 0, …, T−2`, with value v = Σh + cash,
//!
//! ```text
//! the policy decides trades u (dollars, names only),
//! cost  = Σᵢ aᵢ |uᵢ|                      (aᵢ the half-spread),
//! cash ← cash − Σᵢ uᵢ − cost,             h ← h + u,
//! h    ← h ∘ (1 + r_d)                    (cash earns nothing),
//! ```
//!
//! so the NAV path has `T` values (v before day 0's trades, …, v after day T−2's return;
//! the last return row is not used). Two policies:
//!
//! - **calendar**: on days `d ≡ 0 (mod rebalance_every)` (day 0 included) trade back to
//!   the target, u = v·t − h; otherwise hold.
//! - **spo** (single-period optimisation): every day choose post-trade weights w⁺
//!   (long-only, cash ≥ 0, w⁺ + cash⁺ summing to one) maximising
//!   −γ (w⁺ − t)ᵀ Σ_d (w⁺ − t) − Σᵢ aᵢ |w⁺ᵢ − wᵢ| with w = h/v the current weights and
//!   Σ_d = (B F Bᵀ + diag D)/252 the daily covariance. The trades are u = v (w⁺ − w).
//!
//! # Conventions (those of cvxportfolio, the peer)
//!
//! - turnover of a day = Σᵢ |uᵢ| / (2v), v the pre-trade value; `turnover_total` sums it;
//! - transaction cost of a day = Σᵢ aᵢ |uᵢ| in dollars; `tcost_total` sums it;
//! - active return of a day = v_{d+1}/v_d − 1 − tᵀr_d (the benchmark is the target
//!   rebalanced daily, free of cost); `tracking_error_annualized` is its sample standard
//!   deviation (T−2 degrees of freedom) × √252, `active_return_annualized` its mean × 252.
//!
//! # Overview
//!
//! [`run`] replays any [`Policy`]; [`run_calendar`] and [`run_spo`] replay the two
//! reference policies. The SPO step is the optimizer's convex problem
//! ([`crate::optimize::RebalanceProblem`]) over the `n` names plus a cash asset (zero
//! loadings, zero cost, target 0, bounds [0, ∞)): the optimizer's budget row 1ᵀw = 1 then
//! says w⁺ + cash⁺ = 1 and cash⁺ ≥ 0 is a bound. The optimizer needs every
//! idiosyncratic variance positive, so cash carries a small variance ε
//! ([`CASH_VARIANCE_RATIO`] × the smallest name's), and the answer is made exact:
//!
//! - on a day the budget binds (cash⁺ = 0) the penalty is zero and the optimizer's answer
//!   is the exact optimum;
//! - on a day the optimum holds cash (a sale not matched by purchases: most days, since
//!   the no-trade bands let names drift) the penalty prices cash at λ = 2γε·cash⁺, which
//!   every traded name's marginal cost equals. One Newton step on the traded names
//!   (w_F ← w_F − λ (2γΣ_FF)⁻¹1, Woodbury on the factor form) removes that price; the
//!   result is accepted only after the true problem's KKT conditions are checked for
//!   every name. If the active set moved (about 1–4 % of the slack days), secant steps on
//!   the cash target τ (re-solves with the penalty ε(cash⁺ − τ)²) find the fixed point
//!   cash⁺(τ) = τ, where the penalty's price vanishes.
//!
//! One optimizer is built per backtest and re-solved each day from the previous day's
//! multipliers ([`crate::optimize::Optimizer::set_current`]).
//!
//! # Usage
//!
//! ```no_run
//! use tollbooth_engine::backtest::{run_calendar, run_spo, P3Instance};
//! let text = std::fs::read_to_string("p3_n050_s0.json").unwrap();
//! let inst: P3Instance = serde_json::from_str(&text).unwrap();
//! let cal = run_calendar(&inst).unwrap();
//! let spo = run_spo(&inst).unwrap();
//! println!("{} {}", cal.tracking_error_annualized, spo.turnover_total);
//! ```
//!
//! # Against the peer (cvxportfolio, `shared/bench/p3`)
//!
//! The calendar backtest is exact accounting: the NAV path matches the peer's to ~1e-15
//! relative at every point, turnover and cost to ~1e-15, tracking error to ~1e-13.
//!
//! The SPO paths drift apart slowly because the peer's daily solves are inexact (its
//! solver's default tolerances: it even trades ~5e-9 of NAV on day 0, where holding the
//! target is exactly optimal). On day 1, from the same state, the trades agree to ~1e-7
//! of NAV; over 1,259 days (ours, peer):
//!
//! | N  | turnover            | cost ($)          | tracking error      | NAV, worst day |
//! |----|---------------------|-------------------|---------------------|----------------|
//! | 20 | 1.77339 / 1.77653   | 4353.62 / 4357.77 | 0.0020086 / 0.0020054 | 1.6e-5 rel   |
//! | 50 | 0.84252 / 0.84336   | 1196.53 / 1197.17 | 0.0023971 / 0.0023960 | 1.4e-5 rel   |
//!
//! i.e. turnover 0.18 % / 0.10 % and cost 0.10 % / 0.05 % below the peer's: an inexact
//! solve leaves small spurious trades, which only add turnover. On the days checked
//! (tests/bench_p3.rs) our post-trade weights are at least as good as an independent
//! Clarabel solve of the same problem.
//!
//! # Performance
//!
//! See `benches/backtest.rs` (criterion, medians on a shared 2-core machine, N = 50):
//! calendar 0.9 ms, SPO 66 ms (1,259 optimisations, ~1.05 solves a day), against the
//! peer's 14 s and 19 s.

// Index loops mirror the formulas (several arrays per name); iterators would obscure them.
#![allow(clippy::needless_range_loop)]

use serde::Deserialize;

use crate::optimize::{OptimizeError, Optimizer, RebalanceProblem, Settings, Status};

/// Trading days per year (annualisation).
pub const TRADING_DAYS: f64 = 252.0;

/// A day's trades below this fraction of the value are rounding residue, not a trade day.
const TRADE_DAY_TOL: f64 = 1e-12;

/// The cash asset's idiosyncratic variance in the SPO problem, relative to the smallest
/// name's (the optimizer needs a positive definite Σ; see the module docs).
pub const CASH_VARIANCE_RATIO: f64 = 1e-3;

/// Errors for bad input or a failed optimisation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    /// A vector or matrix has the wrong length.
    #[error("`{field}` has {found} entries, expected {expected}")]
    DimensionMismatch {
        /// The offending field.
        field: &'static str,
        /// The expected length.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A value is NaN or infinite.
    #[error("`{field}` has a non-finite value at row {row}, column {col}")]
    NonFinite {
        /// The offending field.
        field: &'static str,
        /// Row (0 for vectors).
        row: usize,
        /// Column (the index for vectors).
        col: usize,
    },
    /// A scalar or vector entry is out of range.
    #[error("`{field}[{index}]` = {value} is out of range ({expected})")]
    OutOfRange {
        /// The offending field.
        field: &'static str,
        /// Index (0 for scalars).
        index: usize,
        /// The value.
        value: f64,
        /// What was expected.
        expected: &'static str,
    },
    /// The history is too short for a backtest (at least two days are needed).
    #[error("the return history has {0} rows; a backtest needs at least 2")]
    TooShort(usize),
    /// The book's value fell to zero or below; weights are undefined.
    #[error("the portfolio value on day {day} is {value} (must be positive)")]
    NonPositiveValue {
        /// The day.
        day: usize,
        /// The value.
        value: f64,
    },
    /// A policy returned trades of the wrong length.
    #[error("the policy returned {found} trades on day {day}, expected {expected}")]
    BadTrades {
        /// The day.
        day: usize,
        /// Names in the book.
        expected: usize,
        /// Trades returned.
        found: usize,
    },
    /// The optimizer rejected the problem.
    #[error("optimizer: {source} (day {day})")]
    Optimize {
        /// The day (0 when building the optimizer).
        day: usize,
        /// The optimizer's error.
        source: OptimizeError,
    },
    /// The daily optimisation did not reach optimality.
    #[error("the optimisation of day {day} ended with status {status:?}")]
    NotOptimal {
        /// The day.
        day: usize,
        /// The optimizer's status.
        status: Status,
    },
}

/// A P3 reference instance as stored (`peers.p3.v1`): the fields the backtests use and
/// the peer's answers.
#[derive(Debug, Clone, Deserialize)]
pub struct P3Instance {
    /// Instance id.
    pub id: String,
    /// Number of names.
    pub n: usize,
    /// Number of factors.
    pub k: usize,
    /// Number of days (return rows).
    #[serde(rename = "T")]
    pub t: usize,
    /// Daily simple returns, `T` rows of `n` (row d: from day d to day d+1).
    pub returns: Vec<Vec<f64>>,
    /// Factor loadings B (n×k), annualised model.
    pub factor_loadings: Vec<Vec<f64>>,
    /// Factor covariance F (k×k), annualised.
    pub factor_cov: Vec<Vec<f64>>,
    /// Idiosyncratic variances D (n), annualised.
    pub idio_var: Vec<f64>,
    /// Target weights t (n, summing to one; the target holds no cash).
    pub target: Vec<f64>,
    /// Half-spreads aᵢ: cost per dollar traded.
    pub half_spread: Vec<f64>,
    /// Initial value in dollars, held at the target weights with no cash.
    pub initial_value: f64,
    /// Calendar period in days (21: monthly).
    pub rebalance_every: usize,
    /// SPO risk aversion γ (on the daily covariance).
    pub spo_gamma: f64,
    /// The peer's answers (cvxportfolio), if stored.
    #[serde(default)]
    pub reference: Option<P3Reference>,
}

/// The peer's answers for both policies.
#[derive(Debug, Clone, Deserialize)]
pub struct P3Reference {
    /// The calendar policy.
    pub calendar: PeerBacktest,
    /// The SPO policy.
    pub spo: PeerBacktest,
}

/// One policy's backtest by the peer (cvxportfolio).
#[derive(Debug, Clone, Deserialize)]
pub struct PeerBacktest {
    /// NAV path (`T` values).
    pub nav: Vec<f64>,
    /// Σ turnover.
    pub turnover_total: f64,
    /// Σ transaction cost, dollars.
    pub tcost_total: f64,
    /// Annualised tracking error against the daily-rebalanced target.
    pub tracking_error_annualized: f64,
    /// Annualised mean active return.
    #[serde(default)]
    pub active_return_annualized: Option<f64>,
    /// Turnover per day (`T` values; the last is a placeholder 0: no trade on the last day).
    pub turnover_series: Vec<f64>,
    /// Cost per day (`T` values; the last is `null`).
    pub tcost_series: Vec<Option<f64>>,
    /// Median wall time of the whole backtest, seconds.
    #[serde(default)]
    pub total_wall_s_median: Option<f64>,
    /// Days with a trade.
    #[serde(default)]
    pub n_periods_with_trades: Option<usize>,
}

impl P3Instance {
    /// Check dimensions, finiteness and ranges.
    pub fn validate(&self) -> Result<(), BacktestError> {
        let n = self.n;
        let k = self.k;
        if self.returns.len() < 2 {
            return Err(BacktestError::TooShort(self.returns.len()));
        }
        dim("returns", self.t, self.returns.len())?;
        for (d, row) in self.returns.iter().enumerate() {
            dim("returns row", n, row.len())?;
            finite_row("returns", d, row)?;
            if let Some(i) = row.iter().position(|&r| r < -1.0) {
                return Err(BacktestError::OutOfRange {
                    field: "returns",
                    index: d * n + i,
                    value: row[i],
                    expected: "a simple return ≥ −1",
                });
            }
        }
        dim("factor_loadings", n, self.factor_loadings.len())?;
        for (i, row) in self.factor_loadings.iter().enumerate() {
            dim("factor_loadings row", k, row.len())?;
            finite_row("factor_loadings", i, row)?;
        }
        dim("factor_cov", k, self.factor_cov.len())?;
        for (i, row) in self.factor_cov.iter().enumerate() {
            dim("factor_cov row", k, row.len())?;
            finite_row("factor_cov", i, row)?;
        }
        for (field, v) in [
            ("idio_var", &self.idio_var),
            ("target", &self.target),
            ("half_spread", &self.half_spread),
        ] {
            dim(field, n, v.len())?;
            finite_row(field, 0, v)?;
            if let Some(i) = v.iter().position(|&x| x < 0.0) {
                return Err(BacktestError::OutOfRange {
                    field,
                    index: i,
                    value: v[i],
                    expected: "≥ 0",
                });
            }
        }
        if let Some(i) = self.idio_var.iter().position(|&x| x <= 0.0) {
            return Err(BacktestError::OutOfRange {
                field: "idio_var",
                index: i,
                value: self.idio_var[i],
                expected: "> 0",
            });
        }
        let positive = [
            ("initial_value", self.initial_value),
            ("spo_gamma", self.spo_gamma),
            ("rebalance_every", self.rebalance_every as f64),
        ];
        for (field, value) in positive {
            if !(value > 0.0 && value.is_finite()) {
                return Err(BacktestError::OutOfRange {
                    field,
                    index: 0,
                    value,
                    expected: "positive and finite",
                });
            }
        }
        Ok(())
    }

    /// The initial book: `initial_value` at the target weights, no cash.
    pub fn initial_holdings(&self) -> Vec<f64> {
        self.target
            .iter()
            .map(|&t| self.initial_value * t)
            .collect()
    }
}

fn dim(field: &'static str, expected: usize, found: usize) -> Result<(), BacktestError> {
    if expected == found {
        Ok(())
    } else {
        Err(BacktestError::DimensionMismatch {
            field,
            expected,
            found,
        })
    }
}

fn finite_row(field: &'static str, row: usize, v: &[f64]) -> Result<(), BacktestError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(col) => Err(BacktestError::NonFinite { field, row, col }),
        None => Ok(()),
    }
}

/// A backtest's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct BacktestResult {
    /// NAV before each day's trades: `T` values (the last after day T−2's return).
    pub nav: Vec<f64>,
    /// Turnover Σ|u|/(2v) of each trading day (T−1 values).
    pub turnover_series: Vec<f64>,
    /// Transaction cost Σ aᵢ|uᵢ| of each trading day, dollars (T−1 values).
    pub tcost_series: Vec<f64>,
    /// Σ `turnover_series`.
    pub turnover_total: f64,
    /// Σ `tcost_series`, dollars.
    pub tcost_total: f64,
    /// Sample standard deviation of the daily active returns × √252.
    pub tracking_error_annualized: f64,
    /// Mean daily active return × 252.
    pub active_return_annualized: f64,
    /// Days with a trade (Σ|u| above 1e-12 of the value: rounding residue does not count).
    pub n_periods_with_trades: usize,
}

impl BacktestResult {
    /// The final value (last NAV).
    pub fn final_value(&self) -> f64 {
        self.nav.last().copied().unwrap_or(f64::NAN)
    }
}

/// A trading policy: sees the day and the book, returns the trades in dollars (n names;
/// cash is implied: it pays for the trades and their costs).
pub trait Policy {
    /// Trades for `day` given the pre-trade holdings `h` (dollars) and `cash`.
    fn decide(&mut self, day: usize, h: &[f64], cash: f64) -> Result<Vec<f64>, BacktestError>;
}

/// Trade back to the target every `every` days, day 0 included.
#[derive(Debug, Clone)]
pub struct Calendar {
    target: Vec<f64>,
    every: usize,
}

impl Calendar {
    /// The calendar policy of `inst`.
    pub fn new(inst: &P3Instance) -> Self {
        Calendar {
            target: inst.target.clone(),
            every: inst.rebalance_every.max(1),
        }
    }
}

impl Policy for Calendar {
    fn decide(&mut self, day: usize, h: &[f64], cash: f64) -> Result<Vec<f64>, BacktestError> {
        if !day.is_multiple_of(self.every) {
            return Ok(vec![0.0; h.len()]);
        }
        let v = h.iter().sum::<f64>() + cash;
        Ok(self
            .target
            .iter()
            .zip(h)
            .map(|(&t, &hi)| v * t - hi)
            .collect())
    }
}

/// Single-period optimisation every day (see the module docs), warm-started.
pub struct Spo {
    /// The daily problem with the cash target at 0, re-solved warm every day.
    optimizer: Optimizer,
    /// The same problem, its cash target moved by the slack-day correction.
    problem: RebalanceProblem,
    n: usize,
    current: Vec<f64>,
    stats: SpoStats,
}

/// Work counters of an SPO backtest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoStats {
    /// Days optimised.
    pub days: usize,
    /// Days on which the optimum holds cash (the budget is slack).
    pub slack_days: usize,
    /// Convex solves in all (one per day plus the slack-day corrections).
    pub solves: usize,
    /// Dual Newton iterations in all.
    pub iterations: u64,
    /// Slack days on which the exact step from the first solve failed its KKT check
    /// (the active set moved) and corrective solves were needed.
    pub slack_fallbacks: usize,
}

/// Largest |cash⁺(τ) − τ| accepted on a slack day (weight units).
const CASH_FIXED_POINT_TOL: f64 = 1e-15;
/// KKT tolerance of the exact slack step, relative to the largest cost or marginal risk.
const SLACK_KKT_TOL: f64 = 1e-10;
/// Most corrective solves on one slack day.
const CASH_FIXED_POINT_MAX: usize = 40;

impl Spo {
    /// Build the daily problem of `inst` (one optimizer for the whole backtest).
    pub fn new(inst: &P3Instance) -> Result<Self, BacktestError> {
        inst.validate()?;
        let n = inst.n;
        let k = inst.k;
        let mut loadings = inst.factor_loadings.clone();
        loadings.push(vec![0.0; k]);
        let factor_cov: Vec<Vec<f64>> = inst
            .factor_cov
            .iter()
            .map(|row| row.iter().map(|x| x / TRADING_DAYS).collect())
            .collect();
        let mut idio: Vec<f64> = inst.idio_var.iter().map(|d| d / TRADING_DAYS).collect();
        let min_idio = idio.iter().copied().fold(f64::INFINITY, f64::min);
        idio.push(CASH_VARIANCE_RATIO * min_idio);
        let mut target = inst.target.clone();
        target.push(0.0);
        let mut cost = inst.half_spread.clone();
        cost.push(0.0);
        let current = target.clone();
        let problem = RebalanceProblem::long_only(
            loadings,
            factor_cov,
            idio,
            target,
            current.clone(),
            cost,
            inst.spo_gamma,
        );
        let optimizer = Optimizer::new(&problem, Settings::default())
            .map_err(|source| BacktestError::Optimize { day: 0, source })?;
        Ok(Spo {
            optimizer,
            problem,
            n,
            current,
            stats: SpoStats::default(),
        })
    }

    /// The optimal post-trade weights (n names, then cash) for the current weights `w`
    /// (n names; cash is 1 − Σw and only enters through the budget).
    ///
    /// The optimizer's problem penalises cash by ε(cash⁺ − τ)² (τ = 0). When its answer
    /// holds no cash the penalty is zero and the answer is exact. When it holds cash, the
    /// exact optimum is the fixed point τ = cash⁺(τ) (there the penalty's price is zero):
    /// cash⁺(τ) is monotone and piecewise linear with slope below one, so secant steps
    /// from τ = 0 land on it exactly once they share the optimum's active set.
    pub fn post_trade_weights(&mut self, day: usize, w: &[f64]) -> Result<Vec<f64>, BacktestError> {
        dim("current weights", self.n, w.len())?;
        self.current[..self.n].copy_from_slice(w);
        // Cash has no cost, so its current weight does not enter the objective; 0 keeps
        // it inside its bound even when yesterday's costs overdrew it.
        self.current[self.n] = 0.0;
        self.optimizer
            .set_current(&self.current)
            .map_err(|source| BacktestError::Optimize { day, source })?;
        let sol = self.optimizer.solve();
        self.stats.days += 1;
        self.stats.solves += 1;
        self.stats.iterations += sol.iterations;
        if sol.status != Status::Optimal {
            return Err(BacktestError::NotOptimal {
                day,
                status: sol.status,
            });
        }
        let cash0 = sol.w[self.n];
        if cash0 <= 0.0 {
            return Ok(sol.w);
        }
        self.stats.slack_days += 1;
        if let Some(exact) = self.slack_optimum(&sol.w, 0.0) {
            return Ok(exact);
        }
        // The active set moved: find τ with cash⁺(τ) = τ by secant steps (g(τ) =
        // cash⁺(τ) − τ is decreasing, g(0) = cash0 > 0), trying the exact step at each.
        self.stats.slack_fallbacks += 1;
        let (mut tau_prev, mut g_prev) = (0.0, cash0);
        let mut tau = cash0;
        let mut best = sol.w;
        for _ in 0..CASH_FIXED_POINT_MAX {
            let wp = self.solve_with_cash_target(day, tau)?;
            if let Some(exact) = self.slack_optimum(&wp, tau) {
                return Ok(exact);
            }
            let g = wp[self.n] - tau;
            best = wp;
            if g.abs() <= CASH_FIXED_POINT_TOL {
                break;
            }
            let slope = (g - g_prev) / (tau - tau_prev);
            let next = if slope < 0.0 && slope.is_finite() {
                tau - g / slope
            } else {
                tau + g
            };
            (tau_prev, g_prev) = (tau, g);
            tau = next.max(0.0);
            if tau == tau_prev {
                break;
            }
        }
        Ok(best)
    }

    /// From the optimum `wp` (names, then cash > 0) of the problem with cash target `tau`,
    /// the exact optimum of the budget-slack problem on the same active set, if its KKT
    /// conditions hold.
    ///
    /// Every free name (traded, above zero) has the marginal cost λ = 2γε(cash⁺ − τ), the
    /// cash penalty's price. With the free set F and its risk Hessian H = 2γΣ_FF, the step
    /// w_F ← w_F − λ H⁻¹1 zeroes every free name's marginal cost (Woodbury on the factor
    /// form: k×k). The result is accepted only if the true problem's KKT conditions hold
    /// for every name (free names keep their side and stay above zero, held names stay
    /// inside their no-trade band, names at zero do not want to be bought) and cash ≥ 0.
    fn slack_optimum(&self, wp: &[f64], tau: f64) -> Option<Vec<f64>> {
        let n = self.n;
        let p = &self.problem;
        let k = p.factor_cov.len();
        let kappa = p.kappa;
        let lambda = 2.0 * kappa * p.idio_var[n] * (wp[n] - tau);
        let w0 = &self.current[..n];
        let free: Vec<usize> = (0..n).filter(|&i| wp[i] > 0.0 && wp[i] != w0[i]).collect();
        let mut w: Vec<f64> = wp[..n].to_vec();
        if !free.is_empty() && lambda != 0.0 {
            // x = Σ_FF⁻¹ 1 = D⁻¹1 − D⁻¹B (I + F BᵀD⁻¹B)⁻¹ F Bᵀ D⁻¹ 1.
            let mut m = nalgebra::DMatrix::<f64>::zeros(k, k);
            let mut b1 = nalgebra::DVector::<f64>::zeros(k);
            for &i in &free {
                let di = 1.0 / p.idio_var[i];
                let bi = &p.factor_loadings[i];
                for a in 0..k {
                    b1[a] += bi[a] * di;
                    for b in 0..k {
                        m[(a, b)] += bi[a] * di * bi[b];
                    }
                }
            }
            let f = nalgebra::DMatrix::from_fn(k, k, |a, b| p.factor_cov[a][b]);
            let lhs = nalgebra::DMatrix::<f64>::identity(k, k) + &f * &m;
            let rhs = &f * &b1;
            let y = lhs.lu().solve(&rhs)?;
            for &i in &free {
                let bi = &p.factor_loadings[i];
                let by: f64 = (0..k).map(|a| bi[a] * y[a]).sum();
                let x = (1.0 - by) / p.idio_var[i];
                w[i] -= lambda * x / (2.0 * kappa);
            }
        }
        let invested: f64 = w.iter().sum();
        let cash = 1.0 - invested;
        if cash.is_nan() || cash < 0.0 {
            return None;
        }
        // The true problem's KKT conditions at w (no budget price: cash is free).
        let grad = self.risk_gradient(&w);
        let scale = p.cost[..n]
            .iter()
            .chain(grad.iter())
            .fold(0.0f64, |a, &x| a.max(x.abs()))
            .max(f64::MIN_POSITIVE);
        let tol = SLACK_KKT_TOL * scale;
        for i in 0..n {
            let (g, c) = (grad[i], p.cost[i]);
            let ok = if free.binary_search(&i).is_ok() {
                let side = (wp[i] - w0[i]).signum();
                w[i] > 0.0 && (w[i] - w0[i]).signum() == side && (g + c * side).abs() <= tol
            } else if w[i] > 0.0 {
                g.abs() <= c + tol
            } else if w0[i] > 0.0 {
                g - c >= -tol
            } else {
                g + c >= -tol
            };
            if !ok {
                return None;
            }
        }
        w.push(cash);
        Some(w)
    }

    /// 2γ Σ_d (w − t) over the names (factor form).
    fn risk_gradient(&self, w: &[f64]) -> Vec<f64> {
        let n = self.n;
        let p = &self.problem;
        let k = p.factor_cov.len();
        let mut y = vec![0.0; k];
        for i in 0..n {
            let d = w[i] - p.target[i];
            for (a, ya) in y.iter_mut().enumerate() {
                *ya += p.factor_loadings[i][a] * d;
            }
        }
        let z: Vec<f64> = (0..k)
            .map(|a| (0..k).map(|b| p.factor_cov[a][b] * y[b]).sum())
            .collect();
        (0..n)
            .map(|i| {
                let bz: f64 = (0..k).map(|a| p.factor_loadings[i][a] * z[a]).sum();
                2.0 * p.kappa * (bz + p.idio_var[i] * (w[i] - p.target[i]))
            })
            .collect()
    }

    fn solve_with_cash_target(&mut self, day: usize, tau: f64) -> Result<Vec<f64>, BacktestError> {
        self.problem.target[self.n] = tau;
        self.problem.current.copy_from_slice(&self.current);
        let mut opt = Optimizer::new(&self.problem, Settings::default())
            .map_err(|source| BacktestError::Optimize { day, source })?;
        let sol = opt.solve();
        self.stats.solves += 1;
        self.stats.iterations += sol.iterations;
        if sol.status != Status::Optimal {
            return Err(BacktestError::NotOptimal {
                day,
                status: sol.status,
            });
        }
        Ok(sol.w)
    }

    /// The daily problem as posed to the optimizer (n names + cash, cash target 0), with
    /// the current weights of the last call.
    pub fn problem(&self) -> &RebalanceProblem {
        self.optimizer.problem()
    }

    /// Work counters so far.
    pub fn stats(&self) -> SpoStats {
        self.stats
    }
}

impl Policy for Spo {
    fn decide(&mut self, day: usize, h: &[f64], cash: f64) -> Result<Vec<f64>, BacktestError> {
        let v = h.iter().sum::<f64>() + cash;
        let w: Vec<f64> = h.iter().map(|x| x / v).collect();
        let wp = self.post_trade_weights(day, &w)?;
        // Holds and full sales are exact (no rounding residue left in the book).
        Ok((0..h.len())
            .map(|i| {
                if wp[i] == w[i] {
                    0.0
                } else if wp[i] == 0.0 {
                    -h[i]
                } else {
                    v * wp[i] - h[i]
                }
            })
            .collect())
    }
}

/// Replay `policy` over the history of `inst` (see the module docs for the accounting).
pub fn run(inst: &P3Instance, policy: &mut dyn Policy) -> Result<BacktestResult, BacktestError> {
    inst.validate()?;
    let n = inst.n;
    let periods = inst.returns.len() - 1;
    let mut h = inst.initial_holdings();
    let mut cash = 0.0;
    let mut nav = Vec::with_capacity(periods + 1);
    let mut turnover_series = Vec::with_capacity(periods);
    let mut tcost_series = Vec::with_capacity(periods);
    let mut active = Vec::with_capacity(periods);
    let mut n_traded_days = 0;
    for day in 0..periods {
        let v = h.iter().sum::<f64>() + cash;
        if v.is_nan() || v <= 0.0 {
            return Err(BacktestError::NonPositiveValue { day, value: v });
        }
        nav.push(v);
        let u = policy.decide(day, &h, cash)?;
        if u.len() != n {
            return Err(BacktestError::BadTrades {
                day,
                expected: n,
                found: u.len(),
            });
        }
        let mut traded = 0.0;
        let mut net = 0.0;
        let mut cost = 0.0;
        for i in 0..n {
            traded += u[i].abs();
            net += u[i];
            cost += inst.half_spread[i] * u[i].abs();
            h[i] += u[i];
        }
        cash -= net + cost;
        if traded > TRADE_DAY_TOL * v {
            n_traded_days += 1;
        }
        turnover_series.push(traded / (2.0 * v));
        tcost_series.push(cost);
        let r = &inst.returns[day];
        let mut bench = 0.0;
        for i in 0..n {
            h[i] *= 1.0 + r[i];
            bench += inst.target[i] * r[i];
        }
        let v_next = h.iter().sum::<f64>() + cash;
        active.push(v_next / v - 1.0 - bench);
    }
    let v = h.iter().sum::<f64>() + cash;
    nav.push(v);
    let m = active.len() as f64;
    let mean = active.iter().sum::<f64>() / m;
    let var = if active.len() > 1 {
        active.iter().map(|a| (a - mean) * (a - mean)).sum::<f64>() / (m - 1.0)
    } else {
        f64::NAN
    };
    Ok(BacktestResult {
        turnover_total: turnover_series.iter().sum(),
        tcost_total: tcost_series.iter().sum(),
        tracking_error_annualized: (var * TRADING_DAYS).sqrt(),
        active_return_annualized: mean * TRADING_DAYS,
        n_periods_with_trades: n_traded_days,
        nav,
        turnover_series,
        tcost_series,
    })
}

/// The calendar backtest of `inst`.
pub fn run_calendar(inst: &P3Instance) -> Result<BacktestResult, BacktestError> {
    run(inst, &mut Calendar::new(inst))
}

/// The SPO backtest of `inst` (one optimisation per day, warm-started).
pub fn run_spo(inst: &P3Instance) -> Result<BacktestResult, BacktestError> {
    let mut spo = Spo::new(inst)?;
    let r = run(inst, &mut spo);
    if std::env::var("P3DBG").is_ok() {
        eprintln!("DBG stats {:?}", spo.stats());
    }
    r
}
