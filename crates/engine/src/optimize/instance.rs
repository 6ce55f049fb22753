//! The shared reference-problem file format (`peers.p1.v1`, `peers.p2.v1`): one
//! rebalance with its inputs and the peers' answers. Read it with `serde_json`
//! (`float_roundtrip` on, so every float is read exactly).

use serde::Deserialize;

use super::RebalanceProblem;

/// A P1 or P2 reference instance as stored (the fields the optimizer uses; the peers'
/// answers stay as raw JSON in `reference`).
#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceInstance {
    /// `"P1"` or `"P2"`.
    pub problem: String,
    /// Instance id.
    pub id: String,
    /// Factor loadings B (rows).
    pub factor_loadings: Vec<Vec<f64>>,
    /// Factor covariance F (rows).
    pub factor_cov: Vec<Vec<f64>>,
    /// Idiosyncratic variances D.
    pub idio_var: Vec<f64>,
    /// Target weights.
    pub target: Vec<f64>,
    /// Current weights.
    pub w0: Vec<f64>,
    /// Proportional costs (half-spreads).
    pub cost: Vec<f64>,
    /// Risk aversion κ.
    pub kappa: f64,
    /// Fixed fee per traded name (P2).
    #[serde(default)]
    pub fixed_fee: Option<f64>,
    /// Trade tolerance (P2).
    #[serde(default)]
    pub trade_tol: Option<f64>,
    /// Further current portfolios for warm re-solves (P1).
    #[serde(default)]
    pub warm_start_w0: Vec<Vec<f64>>,
    /// The peers' answers.
    #[serde(default)]
    pub reference: serde_json::Value,
}

impl ReferenceInstance {
    /// The long-only rebalance this instance poses (with its fixed fee for P2).
    pub fn to_problem(&self) -> RebalanceProblem {
        let p = RebalanceProblem::long_only(
            self.factor_loadings.clone(),
            self.factor_cov.clone(),
            self.idio_var.clone(),
            self.target.clone(),
            self.w0.clone(),
            self.cost.clone(),
            self.kappa,
        );
        match self.fixed_fee {
            Some(f) => p.with_uniform_fixed_fee(f),
            None => p,
        }
    }
}
