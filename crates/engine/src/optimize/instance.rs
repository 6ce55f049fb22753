//! The shared reference-problem file format (`peers.p1.v1`, `peers.p2.v1`): one
//! rebalance with its inputs and the peers' answers. Read it with `serde_json`
//! (`float_roundtrip` on, so every float is read exactly).

use serde::Deserialize;

use super::{OptimizeError, RebalanceProblem};

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

    /// Checks the instance as the optimizer would, naming fields as the file does (`w0`
    /// where the engine says `current`), and checks that every
    /// `warm_start_w0` portfolio has one weight per name.
    pub fn check(&self) -> Result<(), OptimizeError> {
        let renamed = |field: &'static str| match field {
            "current" => "w0",
            other => other,
        };
        self.to_problem().validate().map_err(|e| match e {
            OptimizeError::DimensionMismatch {
                field,
                expected,
                found,
            } => OptimizeError::DimensionMismatch {
                field: renamed(field),
                expected,
                found,
            },
            OptimizeError::NonFinite {
                field,
                index,
                value,
            } => OptimizeError::NonFinite {
                field: renamed(field),
                index,
                value,
            },
            OptimizeError::Negative {
                field,
                index,
                value,
            } => OptimizeError::Negative {
                field: renamed(field),
                index,
                value,
            },
            other => other,
        })?;
        let n = self.target.len();
        for (j, w) in self.warm_start_w0.iter().enumerate() {
            if w.len() != n {
                return Err(OptimizeError::WarmStartLength {
                    index: j,
                    expected: n,
                    found: w.len(),
                });
            }
            if let Some((index, &value)) = w.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(OptimizeError::WarmStartNonFinite {
                    start: j,
                    index,
                    value,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance() -> ReferenceInstance {
        ReferenceInstance {
            problem: "P1".into(),
            id: "t".into(),
            factor_loadings: vec![vec![1.0], vec![0.5]],
            factor_cov: vec![vec![0.04]],
            idio_var: vec![0.01, 0.02],
            target: vec![0.5, 0.5],
            w0: vec![0.6, 0.4],
            cost: vec![0.001, 0.001],
            kappa: 1.0,
            fixed_fee: None,
            trade_tol: None,
            warm_start_w0: vec![vec![0.5, 0.5]],
            reference: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_valid_instance_passes() {
        assert_eq!(instance().check(), Ok(()));
    }

    #[test]
    fn errors_name_the_files_fields() {
        let mut i = instance();
        i.w0.pop();
        assert_eq!(
            i.check().unwrap_err().to_string(),
            "`w0` has 1 entries, expected 2"
        );
        let mut i = instance();
        i.w0[1] = f64::NAN;
        assert!(i.check().unwrap_err().to_string().starts_with("`w0[1]`"));
        let mut i = instance();
        i.fixed_fee = Some(-1.0);
        assert_eq!(
            i.check().unwrap_err().to_string(),
            "`fixed_fee[0]` is negative (-1)"
        );
    }

    #[test]
    fn a_warm_start_of_the_wrong_length_is_refused() {
        let mut i = instance();
        i.warm_start_w0.push(vec![1.0]);
        assert_eq!(
            i.check().unwrap_err().to_string(),
            "`warm_start_w0[1]` has 1 weights, expected 2"
        );
        let mut i = instance();
        i.warm_start_w0[0][0] = f64::INFINITY;
        assert_eq!(
            i.check().unwrap_err().to_string(),
            "`warm_start_w0[0][0]` is not finite (inf)"
        );
    }
}
