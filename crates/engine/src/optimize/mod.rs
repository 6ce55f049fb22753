//! The rebalancing optimizer.
//!
//! # Problem
//!
//! ```text
//! minimise   κ (w − t)ᵀ Σ (w − t)  +  Σᵢ cᵢ |wᵢ − w0ᵢ|  +  Σᵢ fᵢ · 1[|wᵢ − w0ᵢ| > τ]
//! subject to 1ᵀw = 1,  lᵢ ≤ wᵢ ≤ uᵢ,
//! with       Σ = B F Bᵀ + diag(D)   (factor form: B n×k, F k×k, D > 0)
//! ```
//!
//! `t` is the target, `w0` the current weights, `c` the proportional costs (half-spreads),
//! `f` the fixed fee per traded name (a flat ticket charge) and τ the trade tolerance. The
//! bounds carry do-not-buy (uᵢ = w0ᵢ), do-not-sell (lᵢ = w0ᵢ) and long-only (lᵢ = 0).
//!
//! # Overview
//!
//! - Without fixed fees (P1) the problem is a convex QP. The default method is an exact
//!   dual Newton method on the factor structure (`r + 1` dual variables, r ≤ k): each
//!   iteration costs O(n·r²) and the method ends on the exact active set, so the answer
//!   is KKT-exact to rounding. Clarabel (interior point, factor form) is kept as the
//!   reference and fallback; its answer is polished by the same exact active-set step.
//! - With fixed fees (P2) the problem is a mixed-integer QP over which names trade. The
//!   optimizer runs a best-first branch-and-bound whose bounds are Lagrangian: for any
//!   dual (η, λ) the problem separates by name and each name's fee-inclusive
//!   one-dimensional problem is solved exactly, so every bound is valid; the multipliers
//!   come from the smoothed convex-envelope (perspective) relaxation. Incumbents come
//!   from the relaxations' trade sets, the P1 trade set and greedy drop/add moves, each
//!   re-solved exactly with the other names held.
//!
//! # Usage
//!
//! ```
//! use tollbooth_engine::optimize::{Optimizer, RebalanceProblem, Settings, Status};
//! let problem = RebalanceProblem::long_only(
//!     vec![vec![1.0], vec![0.5]],          // B (2 names, 1 factor)
//!     vec![vec![0.04]],                    // F
//!     vec![0.02, 0.03],                    // D
//!     vec![0.5, 0.5],                      // target
//!     vec![0.7, 0.3],                      // current
//!     vec![0.001, 0.001],                  // half-spreads
//!     10.0,                                // κ
//! );
//! let mut opt = Optimizer::new(&problem, Settings::default()).unwrap();
//! let sol = opt.solve();
//! assert_eq!(sol.status, Status::Optimal);
//! assert!((sol.w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
//! ```
//!
//! # Performance
//!
//! See `benches/optimize.rs` (criterion, the shared reference instances).

// Index loops mirror the formulas (several arrays per name); iterators would obscure them.
#![allow(clippy::needless_range_loop)]

mod dual;
mod fixed_fee;
pub mod instance;
mod reference;
pub(crate) use reference::clarabel_settings;

use nalgebra::{DMatrix, SymmetricEigen};

pub(crate) use dual::{cholesky_factor, cholesky_substitute, Dual};
use dual::{Response, Structure, Workspace};

/// Errors for bad input. An infeasible or unconverged solve is a [`Status`], not an error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimizeError {
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
    /// A value is NaN or infinite (bounds may be infinite, not NaN).
    #[error("`{field}[{index}]` is not finite ({value})")]
    NonFinite {
        /// The offending field.
        field: &'static str,
        /// Flat index of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A cost, fee or κ is negative.
    #[error("`{field}[{index}]` is negative ({value})")]
    Negative {
        /// The offending field.
        field: &'static str,
        /// Index (0 for scalars).
        index: usize,
        /// The value.
        value: f64,
    },
    /// The factor covariance is not positive semidefinite beyond the repair tolerance.
    #[error(
        "factor covariance is not positive semidefinite: eigenvalue {min_eigenvalue} \
         (repairs clip eigenvalues down to −{tolerance} × the largest)"
    )]
    FactorCovNotPsd {
        /// Its smallest eigenvalue.
        min_eigenvalue: f64,
        /// The relative clipping tolerance.
        tolerance: f64,
    },
    /// The factor covariance is not symmetric.
    #[error("factor covariance is not symmetric at ({row}, {col})")]
    FactorCovNotSymmetric {
        /// Row.
        row: usize,
        /// Column.
        col: usize,
    },
    /// An idiosyncratic variance is not positive (Σ must be positive definite).
    #[error("idiosyncratic variance `idio_var[{index}]` = {value} must be positive")]
    IdioVarNotPositive {
        /// The name's index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// κ must be positive.
    #[error("risk aversion κ = {0} must be positive and finite")]
    BadKappa(f64),
    /// A lower bound exceeds its upper bound.
    #[error("bounds of name {index} are inverted: lower {lower} > upper {upper}")]
    BoundsInverted {
        /// The name's index.
        index: usize,
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// The current weight lies outside its bounds (holding it would be infeasible).
    #[error(
        "current weight of name {index} ({current}) lies outside its bounds [{lower}, {upper}]"
    )]
    CurrentOutsideBounds {
        /// The name's index.
        index: usize,
        /// Current weight.
        current: f64,
        /// Lower bound.
        lower: f64,
        /// Upper bound.
        upper: f64,
    },
    /// A reference instance's `warm_start_w0[index]` has the wrong number of weights.
    #[error("`warm_start_w0[{index}]` has {found} weights, expected {expected}")]
    WarmStartLength {
        /// Which warm start.
        index: usize,
        /// The number of names.
        expected: usize,
        /// The number of weights found.
        found: usize,
    },
    /// A reference instance's warm-start weight is NaN or infinite.
    #[error("`warm_start_w0[{start}][{index}]` is not finite ({value})")]
    WarmStartNonFinite {
        /// Which warm start.
        start: usize,
        /// The name's index.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A setting is out of range.
    #[error("setting `{name}` = {value} is out of range")]
    BadSetting {
        /// The setting.
        name: &'static str,
        /// Its value.
        value: f64,
    },
}

/// One rebalance: factor-form risk, target, current weights, costs, bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct RebalanceProblem {
    /// Factor loadings B, one row of k loadings per name.
    pub factor_loadings: Vec<Vec<f64>>,
    /// Factor covariance F (k×k, symmetric PSD), rows.
    pub factor_cov: Vec<Vec<f64>>,
    /// Idiosyncratic variances D (n, positive).
    pub idio_var: Vec<f64>,
    /// Target weights t (n).
    pub target: Vec<f64>,
    /// Current weights w0 (n).
    pub current: Vec<f64>,
    /// Proportional cost per unit of weight traded, cᵢ ≥ 0 (n).
    pub cost: Vec<f64>,
    /// Fixed fee per traded name, fᵢ ≥ 0 (n); all zero for a convex problem.
    pub fixed_fee: Vec<f64>,
    /// Risk aversion κ > 0.
    pub kappa: f64,
    /// Lower bounds on w (n; `0` long-only, `w0ᵢ` do-not-sell, `-inf` none).
    pub lower: Vec<f64>,
    /// Upper bounds on w (n; `w0ᵢ` do-not-buy, `inf` none).
    pub upper: Vec<f64>,
}

impl RebalanceProblem {
    /// A long-only problem (lᵢ = 0, uᵢ = ∞) without fixed fees.
    pub fn long_only(
        factor_loadings: Vec<Vec<f64>>,
        factor_cov: Vec<Vec<f64>>,
        idio_var: Vec<f64>,
        target: Vec<f64>,
        current: Vec<f64>,
        cost: Vec<f64>,
        kappa: f64,
    ) -> Self {
        let n = target.len();
        RebalanceProblem {
            factor_loadings,
            factor_cov,
            idio_var,
            target,
            current,
            cost,
            fixed_fee: vec![0.0; n],
            kappa,
            lower: vec![0.0; n],
            upper: vec![f64::INFINITY; n],
        }
    }

    /// The same problem with one fixed fee `fee` on every name.
    pub fn with_uniform_fixed_fee(mut self, fee: f64) -> Self {
        self.fixed_fee = vec![fee; self.target.len()];
        self
    }

    /// Number of names.
    pub fn n(&self) -> usize {
        self.target.len()
    }

    /// The objective's terms at `w` (exact formula with B, F, D as given).
    pub fn terms(&self, w: &[f64], trade_tol: f64) -> Terms {
        let k = self.factor_cov.len();
        // The factor exposures: on the stack for the usual few factors (this runs for
        // every candidate of every solve).
        let mut small = [0.0; 16];
        let mut large = Vec::new();
        let y: &mut [f64] = if k <= small.len() {
            &mut small[..k]
        } else {
            large.resize(k, 0.0);
            &mut large
        };
        let mut idio = 0.0;
        let mut prop = 0.0;
        let mut fees = 0.0;
        let mut n_traded = 0;
        for i in 0..self.n() {
            let d = w[i] - self.target[i];
            for (yj, b) in y.iter_mut().zip(&self.factor_loadings[i]) {
                *yj += b * d;
            }
            idio += self.idio_var[i] * d * d;
            let trade = (w[i] - self.current[i]).abs();
            prop += self.cost[i] * trade;
            if trade > trade_tol {
                fees += self.fixed_fee[i];
                n_traded += 1;
            }
        }
        let mut fac = 0.0;
        for (ya, row) in y.iter().zip(&self.factor_cov) {
            for (f, yb) in row.iter().zip(y.iter()) {
                fac += ya * f * yb;
            }
        }
        Terms {
            risk: self.kappa * (fac + idio),
            proportional_cost: prop,
            fixed_fees: fees,
            n_traded,
        }
    }

    fn validate(&self) -> Result<(), OptimizeError> {
        let n = self.n();
        let k = self.factor_cov.len();
        if self.factor_loadings.len() != n {
            return Err(OptimizeError::DimensionMismatch {
                field: "factor_loadings",
                expected: n,
                found: self.factor_loadings.len(),
            });
        }
        for (i, row) in self.factor_loadings.iter().enumerate() {
            if row.len() != k {
                return Err(OptimizeError::DimensionMismatch {
                    field: "factor_loadings row",
                    expected: k,
                    found: row.len(),
                });
            }
            finite("factor_loadings", i * k, row)?;
        }
        for (i, row) in self.factor_cov.iter().enumerate() {
            if row.len() != k {
                return Err(OptimizeError::DimensionMismatch {
                    field: "factor_cov row",
                    expected: k,
                    found: row.len(),
                });
            }
            finite("factor_cov", i * k, row)?;
        }
        for a in 0..k {
            for b in 0..a {
                let (x, y) = (self.factor_cov[a][b], self.factor_cov[b][a]);
                if (x - y).abs() > 1e-12 * (x.abs().max(y.abs()).max(1e-300)) {
                    return Err(OptimizeError::FactorCovNotSymmetric { row: a, col: b });
                }
            }
        }
        finite("target", 0, &self.target)?;
        if !(self.kappa > 0.0 && self.kappa.is_finite()) {
            return Err(OptimizeError::BadKappa(self.kappa));
        }
        self.validate_per_name()
    }

    /// The per-name part of [`RebalanceProblem::validate`] (lengths, finiteness, signs and
    /// bounds of everything but the factor model, target and κ): all a problem needs
    /// when its factor model, target and κ equal a validated problem's.
    fn validate_per_name(&self) -> Result<(), OptimizeError> {
        let n = self.n();
        for (field, v) in [
            ("idio_var", self.idio_var.len()),
            ("current", self.current.len()),
            ("cost", self.cost.len()),
            ("fixed_fee", self.fixed_fee.len()),
            ("lower", self.lower.len()),
            ("upper", self.upper.len()),
        ] {
            if v != n {
                return Err(OptimizeError::DimensionMismatch {
                    field,
                    expected: n,
                    found: v,
                });
            }
        }
        finite("idio_var", 0, &self.idio_var)?;
        finite("current", 0, &self.current)?;
        finite("cost", 0, &self.cost)?;
        finite("fixed_fee", 0, &self.fixed_fee)?;
        nonneg("cost", &self.cost)?;
        nonneg("fixed_fee", &self.fixed_fee)?;
        for (index, &value) in self.idio_var.iter().enumerate() {
            if value <= 0.0 {
                return Err(OptimizeError::IdioVarNotPositive { index, value });
            }
        }
        check_bounds(&self.lower, &self.upper, &self.current)
    }
}

/// The bounds' part of [`RebalanceProblem::validate`]: no NaN, `lower ≤ upper`, and the
/// current weights within them (the slices have the problem's length).
fn check_bounds(lower: &[f64], upper: &[f64], current: &[f64]) -> Result<(), OptimizeError> {
    for (i, &current) in current.iter().enumerate() {
        let (lower, upper) = (lower[i], upper[i]);
        if lower.is_nan() || upper.is_nan() {
            return Err(OptimizeError::NonFinite {
                field: if lower.is_nan() { "lower" } else { "upper" },
                index: i,
                value: f64::NAN,
            });
        }
        if lower > upper {
            return Err(OptimizeError::BoundsInverted {
                index: i,
                lower,
                upper,
            });
        }
        if current < lower || current > upper {
            return Err(OptimizeError::CurrentOutsideBounds {
                index: i,
                current,
                lower,
                upper,
            });
        }
    }
    Ok(())
}

fn finite(field: &'static str, offset: usize, v: &[f64]) -> Result<(), OptimizeError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(OptimizeError::NonFinite {
            field,
            index: offset + i,
            value: v[i],
        }),
        None => Ok(()),
    }
}

fn nonneg(field: &'static str, v: &[f64]) -> Result<(), OptimizeError> {
    match v.iter().position(|&x| x < 0.0) {
        Some(index) => Err(OptimizeError::Negative {
            field,
            index,
            value: v[index],
        }),
        None => Ok(()),
    }
}

/// Which method solves the convex (no fixed fee) problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// The exact dual Newton / active-set method on the factor structure (default).
    #[default]
    ActiveSet,
    /// Clarabel's interior point method, then the exact active-set polish.
    Clarabel,
}

/// Solver settings. Build with [`Settings::builder`] or take [`Settings::default`].
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Method for the convex problem. Default [`Method::ActiveSet`].
    pub method: Method,
    /// Largest KKT residual accepted (budget and factor rows, absolute). Default `1e-13`.
    pub tol_kkt: f64,
    /// Newton iterations per convex solve. Default `200`.
    pub max_iter: u32,
    /// Clarabel's gap and feasibility tolerances (reference path). Default `1e-10`.
    pub clarabel_tol: f64,
    /// Clarabel's iteration limit. Default `200`.
    pub clarabel_max_iter: u32,
    /// A trade smaller than this (in weight) is no trade and pays no fixed fee. Default `1e-9`.
    pub trade_tol: f64,
    /// Branch-and-bound node limit. Default `200_000`.
    pub max_nodes: u64,
    /// Wall-clock limit of one solve in seconds (native only; ignored on wasm32).
    /// Default `f64::INFINITY`.
    pub time_limit: f64,
    /// Relative optimality gap at which branch-and-bound stops. Default `1e-9`.
    pub mip_rel_gap: f64,
    /// Eigenvalues of F down to −`psd_repair_tol` × the largest are clipped to zero
    /// (eigenvalue clipping); below that the problem is rejected. Default `1e-10`.
    pub psd_repair_tol: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            method: Method::ActiveSet,
            tol_kkt: 1e-13,
            max_iter: 200,
            clarabel_tol: 1e-10,
            clarabel_max_iter: 200,
            trade_tol: 1e-9,
            max_nodes: 200_000,
            time_limit: f64::INFINITY,
            mip_rel_gap: 1e-9,
            psd_repair_tol: 1e-10,
        }
    }
}

impl Settings {
    /// A builder starting from the defaults.
    pub fn builder() -> SettingsBuilder {
        SettingsBuilder(Settings::default())
    }
}

/// Builder for [`Settings`]; `build()` validates.
#[derive(Debug, Clone)]
pub struct SettingsBuilder(Settings);

impl SettingsBuilder {
    /// See [`Settings::method`].
    pub fn method(mut self, v: Method) -> Self {
        self.0.method = v;
        self
    }
    /// See [`Settings::tol_kkt`].
    pub fn tol_kkt(mut self, v: f64) -> Self {
        self.0.tol_kkt = v;
        self
    }
    /// See [`Settings::max_iter`].
    pub fn max_iter(mut self, v: u32) -> Self {
        self.0.max_iter = v;
        self
    }
    /// See [`Settings::clarabel_tol`].
    pub fn clarabel_tol(mut self, v: f64) -> Self {
        self.0.clarabel_tol = v;
        self
    }
    /// See [`Settings::clarabel_max_iter`].
    pub fn clarabel_max_iter(mut self, v: u32) -> Self {
        self.0.clarabel_max_iter = v;
        self
    }
    /// See [`Settings::trade_tol`].
    pub fn trade_tol(mut self, v: f64) -> Self {
        self.0.trade_tol = v;
        self
    }
    /// See [`Settings::max_nodes`].
    pub fn max_nodes(mut self, v: u64) -> Self {
        self.0.max_nodes = v;
        self
    }
    /// See [`Settings::time_limit`].
    pub fn time_limit(mut self, v: f64) -> Self {
        self.0.time_limit = v;
        self
    }
    /// See [`Settings::mip_rel_gap`].
    pub fn mip_rel_gap(mut self, v: f64) -> Self {
        self.0.mip_rel_gap = v;
        self
    }
    /// See [`Settings::psd_repair_tol`].
    pub fn psd_repair_tol(mut self, v: f64) -> Self {
        self.0.psd_repair_tol = v;
        self
    }
    /// Validate and return the settings.
    pub fn build(self) -> Result<Settings, OptimizeError> {
        let s = self.0;
        let positive = [
            ("tol_kkt", s.tol_kkt),
            ("clarabel_tol", s.clarabel_tol),
            ("time_limit", s.time_limit),
        ];
        for (name, value) in positive {
            if value.is_nan() || value <= 0.0 {
                return Err(OptimizeError::BadSetting { name, value });
            }
        }
        let nonneg = [
            ("trade_tol", s.trade_tol),
            ("mip_rel_gap", s.mip_rel_gap),
            ("psd_repair_tol", s.psd_repair_tol),
        ];
        for (name, value) in nonneg {
            if !(value >= 0.0 && value.is_finite()) {
                return Err(OptimizeError::BadSetting { name, value });
            }
        }
        Ok(s)
    }
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Optimal to the tolerances (KKT-exact for the convex problem; gap closed for fees).
    Optimal,
    /// The bounds admit no portfolio with 1ᵀw = 1.
    Infeasible,
    /// The convex solver hit its iteration limit; `w` is the best point found.
    IterationLimit,
    /// Branch-and-bound hit its node limit; `w` is the incumbent, see `lower_bound`.
    NodeLimit,
    /// The time limit was reached; `w` is the incumbent, see `lower_bound`.
    TimeLimit,
    /// The numerics failed (e.g. a singular system); `w` is the best point found.
    NumericalError,
}

/// A note about the input the solver worked around.
#[derive(Debug, Clone, PartialEq)]
pub enum Diagnostic {
    /// The target weights do not sum to one; the solver still tracks them as given.
    TargetSumNotOne {
        /// Their sum.
        sum: f64,
    },
    /// The current weights do not sum to one; holding is then not budget-feasible.
    CurrentSumNotOne {
        /// Their sum.
        sum: f64,
    },
    /// Negative eigenvalues of F were clipped to zero (eigenvalue clipping).
    FactorCovRepaired {
        /// The smallest eigenvalue before clipping.
        min_eigenvalue: f64,
    },
}

/// The objective's terms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Terms {
    /// κ (w − t)ᵀ Σ (w − t).
    pub risk: f64,
    /// Σ cᵢ |wᵢ − w0ᵢ|.
    pub proportional_cost: f64,
    /// Σ fᵢ over traded names.
    pub fixed_fees: f64,
    /// Names with |wᵢ − w0ᵢ| > trade tolerance.
    pub n_traded: usize,
}

impl Terms {
    /// The objective: risk + proportional cost + fixed fees.
    pub fn objective(&self) -> f64 {
        self.risk + self.proportional_cost + self.fixed_fees
    }
}

/// A solve's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// How the solve ended.
    pub status: Status,
    /// Post-trade weights.
    pub w: Vec<f64>,
    /// The objective at `w`, recomputed from `w`.
    pub objective: f64,
    /// Its terms.
    pub terms: Terms,
    /// Names traded (|wᵢ − w0ᵢ| > trade tolerance).
    pub n_traded: usize,
    /// A proven lower bound on the optimum (equals `objective` for the convex problem).
    pub lower_bound: f64,
    /// Newton (or Clarabel) iterations, summed over all convex solves.
    pub iterations: u64,
    /// Branch-and-bound nodes explored (0 without fixed fees).
    pub nodes: u64,
    /// Notes about the input.
    pub diagnostics: Vec<Diagnostic>,
}

/// Problem data prepared for the solvers.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub n: usize,
    pub structure: Structure,
    /// κ Dᵢ.
    pub a: Vec<f64>,
    pub t: Vec<f64>,
    pub w0: Vec<f64>,
    pub c: Vec<f64>,
    pub f: Vec<f64>,
    pub l: Vec<f64>,
    pub u: Vec<f64>,
}

impl Prepared {
    fn new(
        p: &RebalanceProblem,
        settings: &Settings,
    ) -> Result<(Self, Vec<Diagnostic>), OptimizeError> {
        let n = p.n();
        let k = p.factor_cov.len();
        let mut diagnostics = Vec::new();
        // F = V Λ Vᵀ; G = B V Λ^½ over the positive eigenvalues.
        let fm = DMatrix::from_fn(k, k, |a, b| 0.5 * (p.factor_cov[a][b] + p.factor_cov[b][a]));
        let eig = SymmetricEigen::new(fm);
        let max_ev = eig.eigenvalues.iter().fold(0.0f64, |a, &b| a.max(b));
        let min_ev = eig.eigenvalues.iter().fold(f64::INFINITY, |a, &b| a.min(b));
        if k > 0 && min_ev < -settings.psd_repair_tol * max_ev.max(f64::MIN_POSITIVE) {
            return Err(OptimizeError::FactorCovNotPsd {
                min_eigenvalue: min_ev,
                tolerance: settings.psd_repair_tol,
            });
        }
        if k > 0 && min_ev < 0.0 {
            diagnostics.push(Diagnostic::FactorCovRepaired {
                min_eigenvalue: min_ev,
            });
        }
        let keep: Vec<usize> = (0..k)
            .filter(|&j| eig.eigenvalues[j] > 1e-14 * max_ev)
            .collect();
        let r = keep.len();
        let mut g = vec![0.0; n * r];
        for i in 0..n {
            for (jj, &j) in keep.iter().enumerate() {
                let sq = eig.eigenvalues[j].sqrt();
                let mut v = 0.0;
                for a in 0..k {
                    v += p.factor_loadings[i][a] * eig.eigenvectors[(a, j)];
                }
                g[i * r + jj] = v * sq;
            }
        }
        let mut gt = vec![0.0; r];
        for i in 0..n {
            for j in 0..r {
                gt[j] += g[i * r + j] * p.target[i];
            }
        }
        let tsum: f64 = p.target.iter().sum();
        if (tsum - 1.0).abs() > 1e-9 {
            diagnostics.push(Diagnostic::TargetSumNotOne { sum: tsum });
        }
        let csum: f64 = p.current.iter().sum();
        if (csum - 1.0).abs() > 1e-9 {
            diagnostics.push(Diagnostic::CurrentSumNotOne { sum: csum });
        }
        Ok((
            Prepared {
                n,
                structure: Structure {
                    n,
                    r,
                    g,
                    gt,
                    kappa: p.kappa,
                },
                a: p.idio_var.iter().map(|d| p.kappa * d).collect(),
                t: p.target.clone(),
                w0: p.current.clone(),
                c: p.cost.clone(),
                f: p.fixed_fee.clone(),
                l: p.lower.clone(),
                u: p.upper.clone(),
            },
            diagnostics,
        ))
    }

    /// Proportional-cost response of name i.
    pub(crate) fn p1_response(&self, i: usize) -> Response {
        Response::proportional(
            self.a[i], self.t[i], self.w0[i], self.c[i], self.l[i], self.u[i],
        )
    }

    /// The dual function q(η, λ) of the fee-free problem (see [`dual`]): by weak duality
    /// a lower bound on its optimal objective at any dual point, exact at the optimum's.
    pub(crate) fn dual_value(&self, dual: &Dual) -> f64 {
        let s = &self.structure;
        if dual.eta.len() != s.r {
            return f64::NEG_INFINITY;
        }
        let mut q = dual.lambda;
        for (e, gt) in dual.eta.iter().zip(&s.gt) {
            q += e * gt - e * e / (4.0 * s.kappa);
        }
        for i in 0..self.n {
            let si = s.price(i, &dual.eta, dual.lambda);
            let v = self.p1_response(i).eval(si).0;
            q += self.phi(i, v) - si * v;
        }
        q
    }

    /// A starting dual: factor prices at the current portfolio, λ centring the hold bands.
    pub(crate) fn default_start(&self) -> Dual {
        let s = &self.structure;
        let r = s.r;
        let mut eta = vec![0.0; r];
        for i in 0..self.n {
            for j in 0..r {
                eta[j] -= 2.0 * s.kappa * s.g[i * r + j] * (self.w0[i] - self.t[i]);
            }
        }
        let mut lam = 0.0;
        for i in 0..self.n {
            let ge: f64 = (0..r).map(|j| s.g[i * r + j] * eta[j]).sum();
            lam += 2.0 * self.a[i] * (self.w0[i] - self.t[i]) - ge;
        }
        Dual {
            eta,
            lambda: lam / self.n.max(1) as f64,
        }
    }

    fn feasible(&self) -> bool {
        let lo: f64 = self.l.iter().sum();
        let hi: f64 = self.u.iter().sum();
        lo <= 1.0 + 1e-12 && hi >= 1.0 - 1e-12
    }
}

/// The solver: built once per problem, solved (and re-solved) many times.
pub struct Optimizer {
    problem: RebalanceProblem,
    settings: Settings,
    prep: Prepared,
    diagnostics: Vec<Diagnostic>,
    warm: Option<Dual>,
    ws: Workspace,
    /// The responses of the last convex solve (a buffer).
    resp: Vec<Response>,
    clarabel: Option<reference::ClarabelModel>,
    started: Option<Timer>,
}

#[derive(Debug, Clone, Copy)]
struct Timer {
    #[cfg(not(target_arch = "wasm32"))]
    start: std::time::Instant,
}

impl Timer {
    fn start() -> Self {
        Timer {
            #[cfg(not(target_arch = "wasm32"))]
            start: std::time::Instant::now(),
        }
    }
    fn elapsed(&self) -> f64 {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.start.elapsed().as_secs_f64()
        }
        #[cfg(target_arch = "wasm32")]
        {
            0.0
        }
    }
}

impl Optimizer {
    /// Validate `problem` and prepare it (eigen-decomposition of F, factor form).
    pub fn new(problem: &RebalanceProblem, settings: Settings) -> Result<Self, OptimizeError> {
        let settings = SettingsBuilder(settings).build()?;
        problem.validate()?;
        let (prep, diagnostics) = Prepared::new(problem, &settings)?;
        Ok(Optimizer {
            problem: problem.clone(),
            settings,
            prep,
            diagnostics,
            warm: None,
            ws: Workspace::default(),
            resp: Vec::new(),
            clarabel: None,
            started: None,
        })
    }

    /// Replace the whole problem, re-using this solver's factor decomposition when the
    /// factor model (`factor_loadings`, `factor_cov`), the target and κ are unchanged —
    /// the common case of a policy re-solving period after period or a heuristic
    /// re-solving with other bounds. The solver is then exactly as [`Optimizer::new`]
    /// would build it (same decomposition, no warm start), at a fraction of the cost.
    pub fn update(&mut self, problem: &RebalanceProblem) -> Result<(), OptimizeError> {
        self.update_from(problem, None)
    }

    /// [`Optimizer::update`], with the next convex solve starting from `start` (a dual of a
    /// nearby problem with the same structure, see [`Optimizer::last_dual`]) instead of
    /// the default start. The optimum is the same; only the Newton path to it is shorter.
    pub(crate) fn update_from(
        &mut self,
        problem: &RebalanceProblem,
        start: Option<Dual>,
    ) -> Result<(), OptimizeError> {
        let same_structure = problem.kappa == self.problem.kappa
            && problem.target == self.problem.target
            && problem.factor_cov == self.problem.factor_cov
            && problem.factor_loadings == self.problem.factor_loadings;
        if !same_structure {
            *self = Optimizer::new(problem, self.settings.clone())?;
            return Ok(());
        }
        // The factor model, target and κ equal this solver's, validated when it was built.
        problem.validate_per_name()?;
        let prep = &mut self.prep;
        prep.a.clear();
        prep.a
            .extend(problem.idio_var.iter().map(|d| problem.kappa * d));
        prep.w0.clone_from(&problem.current);
        prep.c.clone_from(&problem.cost);
        prep.f.clone_from(&problem.fixed_fee);
        prep.l.clone_from(&problem.lower);
        prep.u.clone_from(&problem.upper);
        // The factor model, target and κ are equal already: copy the per-name data only.
        let own = &mut self.problem;
        own.idio_var.clone_from(&problem.idio_var);
        own.current.clone_from(&problem.current);
        own.cost.clone_from(&problem.cost);
        own.fixed_fee.clone_from(&problem.fixed_fee);
        own.lower.clone_from(&problem.lower);
        own.upper.clone_from(&problem.upper);
        let csum: f64 = problem.current.iter().sum();
        self.diagnostics
            .retain(|d| !matches!(d, Diagnostic::CurrentSumNotOne { .. }));
        if (csum - 1.0).abs() > 1e-9 {
            self.diagnostics
                .push(Diagnostic::CurrentSumNotOne { sum: csum });
        }
        self.warm = start.filter(|d| d.eta.len() == self.prep.structure.r);
        self.clarabel = None;
        self.started = None;
        Ok(())
    }

    /// [`Optimizer::update_from`] for a problem that differs from this solver's only in its
    /// bounds (a heuristic holding some names at their current weight): the bounds are
    /// checked and replaced, nothing else is compared, validated or copied.
    pub(crate) fn update_bounds_from(
        &mut self,
        lower: &[f64],
        upper: &[f64],
        start: Option<Dual>,
    ) -> Result<(), OptimizeError> {
        let n = self.problem.n();
        for (field, v) in [("lower", lower), ("upper", upper)] {
            if v.len() != n {
                return Err(OptimizeError::DimensionMismatch {
                    field,
                    expected: n,
                    found: v.len(),
                });
            }
        }
        check_bounds(lower, upper, &self.problem.current)?;
        self.prep.l.clone_from_slice(lower);
        self.prep.u.clone_from_slice(upper);
        self.problem.lower.clone_from_slice(lower);
        self.problem.upper.clone_from_slice(upper);
        self.warm = start.filter(|d| d.eta.len() == self.prep.structure.r);
        self.clarabel = None;
        self.started = None;
        Ok(())
    }

    /// A lower bound on the fee-free (convex) optimum of the loaded problem: the dual
    /// function at `dual` (weak duality), `-∞` for a dual of another size.
    pub(crate) fn convex_lower_bound(&self, dual: &Dual) -> f64 {
        self.prep.dual_value(dual)
    }

    /// The dual of the last convex solve that ended optimal (a warm start for
    /// [`Optimizer::update_from`]).
    pub(crate) fn last_dual(&self) -> Option<&Dual> {
        self.warm.as_ref()
    }

    /// The problem as given.
    pub fn problem(&self) -> &RebalanceProblem {
        &self.problem
    }

    /// Replace the current weights (the warm re-solve path: the previous solution's dual
    /// and, on the Clarabel path, the built solver are re-used).
    pub fn set_current(&mut self, current: &[f64]) -> Result<(), OptimizeError> {
        let mut p = self.problem.clone();
        if current.len() != p.n() {
            return Err(OptimizeError::DimensionMismatch {
                field: "current",
                expected: p.n(),
                found: current.len(),
            });
        }
        p.current = current.to_vec();
        p.validate()?;
        self.problem.current = p.current;
        self.prep.w0 = current.to_vec();
        if let Some(model) = &mut self.clarabel {
            if !model.update_current(current) {
                self.clarabel = None;
            }
        }
        let csum: f64 = current.iter().sum();
        self.diagnostics
            .retain(|d| !matches!(d, Diagnostic::CurrentSumNotOne { .. }));
        if (csum - 1.0).abs() > 1e-9 {
            self.diagnostics
                .push(Diagnostic::CurrentSumNotOne { sum: csum });
        }
        Ok(())
    }

    /// Solve the problem (branch-and-bound if any fixed fee is positive).
    pub fn solve(&mut self) -> Solution {
        self.started = Some(Timer::start());
        if !self.prep.feasible() {
            let w = self.prep.w0.clone();
            return self.finish(Status::Infeasible, w, f64::NAN, 0, 0);
        }
        if self.prep.f.iter().any(|&f| f > 0.0) {
            return fixed_fee::solve(self);
        }
        let (status, w, iters) = match self.settings.method {
            Method::ActiveSet => self.solve_convex_active_set(),
            Method::Clarabel => self.solve_convex_clarabel(),
        };
        let terms = self.problem.terms(&w, self.settings.trade_tol);
        let obj = terms.objective();
        self.finish_with(status, w, terms, obj, iters, 0)
    }

    fn finish(
        &self,
        status: Status,
        w: Vec<f64>,
        lower_bound: f64,
        iterations: u64,
        nodes: u64,
    ) -> Solution {
        let terms = self.problem.terms(&w, self.settings.trade_tol);
        self.finish_with(status, w, terms, lower_bound, iterations, nodes)
    }

    /// [`Optimizer::finish`] with the terms at `w` already computed.
    fn finish_with(
        &self,
        status: Status,
        w: Vec<f64>,
        terms: Terms,
        lower_bound: f64,
        iterations: u64,
        nodes: u64,
    ) -> Solution {
        Solution {
            status,
            objective: terms.objective(),
            n_traded: terms.n_traded,
            terms,
            w,
            lower_bound,
            iterations,
            nodes,
            diagnostics: self.diagnostics.clone(),
        }
    }

    fn elapsed(&self) -> f64 {
        self.started.map(|t| t.elapsed()).unwrap_or(0.0)
    }

    /// Convex solve with the given responses, warm-started; returns (status, w, dual, iters).
    fn convex_with(&mut self, resp: &[Response], start: &Dual) -> (Status, Vec<f64>, Dual, u64) {
        let out = self.prep.structure.solve(
            resp,
            start,
            self.settings.tol_kkt,
            self.settings.max_iter,
            &mut self.ws,
        );
        let status = if out.converged {
            Status::Optimal
        } else if out.residual <= 1e3 * self.settings.tol_kkt {
            // Stalled at rounding level: still KKT to 1e-10.
            Status::Optimal
        } else if out.iterations >= self.settings.max_iter {
            Status::IterationLimit
        } else {
            Status::NumericalError
        };
        (status, out.w, out.dual, out.iterations as u64)
    }

    fn solve_convex_active_set(&mut self) -> (Status, Vec<f64>, u64) {
        // The responses' buffer is kept across solves (a policy solves thousands of times).
        let mut resp = std::mem::take(&mut self.resp);
        resp.clear();
        resp.extend((0..self.prep.n).map(|i| self.prep.p1_response(i)));
        let warm = self.warm.take();
        let from_warm = warm.is_some();
        let start = warm.unwrap_or_else(|| self.prep.default_start());
        let (status, w, dual, iters) = self.convex_with(&resp, &start);
        self.resp = resp;
        if status == Status::Optimal {
            self.warm = Some(dual);
            return (status, w, iters);
        }
        if from_warm {
            self.warm = Some(start);
        }
        // Fall back to the reference path.
        let (s2, w2, i2) = self.solve_convex_clarabel();
        if s2 == Status::Optimal {
            (s2, w2, iters + i2)
        } else {
            (status, w, iters + i2)
        }
    }

    fn solve_convex_clarabel(&mut self) -> (Status, Vec<f64>, u64) {
        if self.clarabel.is_none() {
            self.clarabel = reference::ClarabelModel::new(
                &self.prep,
                self.settings.clarabel_tol,
                self.settings.clarabel_max_iter,
            );
        }
        let Some(model) = self.clarabel.as_mut() else {
            return (Status::NumericalError, self.prep.w0.clone(), 0);
        };
        let ans = model.solve();
        let iters = ans.iterations as u64;
        use clarabel::solver::SolverStatus as S;
        let ok = matches!(ans.status, S::Solved | S::AlmostSolved);
        if !ok {
            let st = match ans.status {
                S::PrimalInfeasible | S::AlmostPrimalInfeasible => Status::Infeasible,
                S::MaxIterations => Status::IterationLimit,
                S::MaxTime => Status::TimeLimit,
                _ => Status::NumericalError,
            };
            return (st, ans.w, iters);
        }
        // Exact active-set polish from Clarabel's multipliers.
        let resp: Vec<Response> = (0..self.prep.n).map(|i| self.prep.p1_response(i)).collect();
        let start = Dual {
            eta: ans.eta,
            lambda: ans.lambda,
        };
        let (status, w, dual, pit) = self.convex_with(&resp, &start);
        if status == Status::Optimal {
            self.warm = Some(dual);
            (status, w, iters + pit)
        } else {
            // Polish failed: Clarabel's point, at its accuracy.
            (Status::Optimal, ans.w, iters + pit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> RebalanceProblem {
        RebalanceProblem::long_only(
            vec![vec![1.0, 0.2], vec![0.5, -0.3], vec![0.8, 0.1]],
            vec![vec![0.04, 0.01], vec![0.01, 0.02]],
            vec![0.02, 0.03, 0.025],
            vec![0.4, 0.3, 0.3],
            vec![0.6, 0.1, 0.3],
            vec![0.001, 0.002, 0.0015],
            20.0,
        )
    }

    #[test]
    fn active_set_matches_clarabel_on_a_small_problem() {
        let p = small();
        let a = Optimizer::new(&p, Settings::default()).unwrap().solve();
        let s = Settings::builder()
            .method(Method::Clarabel)
            .build()
            .unwrap();
        let b = Optimizer::new(&p, s).unwrap().solve();
        assert_eq!(a.status, Status::Optimal);
        assert_eq!(b.status, Status::Optimal);
        assert!((a.objective - b.objective).abs() <= 1e-12 * a.objective.abs());
        for (x, y) in a.w.iter().zip(&b.w) {
            assert!((x - y).abs() < 1e-9);
        }
    }

    #[test]
    fn a_bounds_only_update_solves_as_a_full_update_would() {
        let p = small();
        let mut opt = Optimizer::new(&p, Settings::default()).unwrap();
        opt.solve();
        let dual = opt.last_dual().cloned();
        // Hold the second name at its current weight.
        let mut held = p.clone();
        held.lower[1] = held.current[1];
        held.upper[1] = held.current[1];
        opt.update_bounds_from(&held.lower, &held.upper, dual.clone())
            .unwrap();
        let fast = opt.solve();
        let mut full = Optimizer::new(&p, Settings::default()).unwrap();
        full.update_from(&held, dual).unwrap();
        let slow = full.solve();
        assert_eq!(fast.status, Status::Optimal);
        assert_eq!(fast.w, slow.w);
        assert_eq!(fast.objective, slow.objective);
        assert_eq!(opt.problem(), full.problem());
        assert_eq!(fast.w[1], p.current[1]);
        // Bad bounds are refused, naming the name, and change nothing.
        let (mut lower, mut upper) = (held.lower.clone(), held.upper.clone());
        lower[2] = 0.9;
        upper[2] = 0.8;
        assert!(matches!(
            opt.update_bounds_from(&lower, &upper, None),
            Err(OptimizeError::BoundsInverted { index: 2, .. })
        ));
        assert!(matches!(
            opt.update_bounds_from(&held.lower[..2], &held.upper, None),
            Err(OptimizeError::DimensionMismatch { field: "lower", .. })
        ));
        assert_eq!(opt.problem(), full.problem());
    }

    /// The dual function bounds the fee-free optimum from below at any dual point (weak
    /// duality), and meets it at the optimum's dual: the policy's no-trade screen relies
    /// on both.
    #[test]
    fn the_dual_function_bounds_the_optimum_and_meets_it() {
        let p = small();
        let mut opt = Optimizer::new(&p, Settings::default()).unwrap();
        let sol = opt.solve();
        assert_eq!(sol.status, Status::Optimal);
        let d = opt.last_dual().cloned().unwrap();
        let at_opt = opt.convex_lower_bound(&d);
        assert!(
            (at_opt - sol.objective).abs() <= 1e-12 * sol.objective.abs(),
            "{at_opt} vs {}",
            sol.objective
        );
        // Any other dual point, near and far, gives a lower value.
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        for scale in [1e-4, 1e-2, 1.0, 100.0] {
            for _ in 0..50 {
                let moved = Dual {
                    eta: d.eta.iter().map(|e| e + scale * next()).collect(),
                    lambda: d.lambda + scale * next(),
                };
                let q = opt.convex_lower_bound(&moved);
                assert!(
                    q <= sol.objective + 1e-15,
                    "scale {scale}: {q} > {}",
                    sol.objective
                );
            }
        }
        // A dual of another size bounds nothing.
        let wrong = Dual {
            eta: vec![0.0; d.eta.len() + 1],
            lambda: 0.0,
        };
        assert_eq!(opt.convex_lower_bound(&wrong), f64::NEG_INFINITY);
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let mut p = small();
        p.cost[1] = -1.0;
        assert!(matches!(
            Optimizer::new(&p, Settings::default()),
            Err(OptimizeError::Negative {
                field: "cost",
                index: 1,
                ..
            })
        ));
        let mut p = small();
        p.factor_cov[0][0] = -1.0;
        assert!(matches!(
            Optimizer::new(&p, Settings::default()),
            Err(OptimizeError::FactorCovNotPsd { .. })
        ));
        let mut p = small();
        p.target.pop();
        assert!(matches!(
            Optimizer::new(&p, Settings::default()),
            Err(OptimizeError::DimensionMismatch { .. })
        ));
    }

    #[test]
    fn infeasible_bounds_are_a_status() {
        let mut p = small();
        // Every name pinned, and the pins sum to 1.1.
        p.current = vec![0.6, 0.2, 0.3];
        p.lower = p.current.clone();
        p.upper = p.current.clone();
        let sol = Optimizer::new(&p, Settings::default()).unwrap().solve();
        assert_eq!(sol.status, Status::Infeasible);
    }

    #[test]
    fn target_not_summing_to_one_is_diagnosed() {
        let mut p = small();
        p.target[0] = 0.5;
        let sol = Optimizer::new(&p, Settings::default()).unwrap().solve();
        assert!(sol
            .diagnostics
            .iter()
            .any(|d| matches!(d, Diagnostic::TargetSumNotOne { .. })));
    }
}
