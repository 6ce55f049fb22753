//! The cost-aware optimizer policy: an adapter from the household's holdings to
//! [`crate::optimize::Optimizer`] at the asset-class level.
//!
//! On its check days the policy solves
//!
//! ```text
//! minimise  κ (w − t)ᵀ Σ (w − t) + Σ_k c_k |w_k − w0_k| + Σ_k f · 1[w_k ≠ w0_k]
//! s.t.      Σ w = 1, w ≥ 0
//! ```
//!
//! over class weights of the investable value, where
//!
//! - `Σ` is the annualised covariance of the classes' benchmark securities from the market
//!   model (factor form `B = I`, `F = Σ − d·I`, `D = d`, `d` half the smallest eigenvalue of
//!   `Σ`), and κ = [`RISK_AVERSION`]: a
//!   tracking variance of `v` a year is worth `κ·v` of wealth;
//! - `c_k` is the proportional cost of trading the class's vehicle (half-spread, % of
//!   notional commission and, for a class that would be sold, the SEC rate) plus, when
//!   taxes are in the objective and the class is overweight, the tax per dollar sold of
//!   its lowest-gain taxable position: `max(0, gain/value) · r_LT` — unless the class can
//!   be sold in tax-deferred accounts, which the planner sells first;
//! - `f` is the flat ticket fee of the taxable (or first) account's schedule divided by
//!   the investable value, when tickets are in the objective.
//!
//! Branch-and-bound runs only when the screen says a trade can pay, and stops after
//! [`MAX_NODES`] nodes with its incumbent (a feasible trade set; the fees of a household
//! rebalance are small against the gap this leaves).
//!
//! A class trade smaller than the rule's minimum trade is dropped after the solve; an
//! infeasible or failed solve trades nothing. This adapter is the only place that knows
//! the optimizer; a household-level (lot-aware) optimizer can replace it behind the same
//! `targets` call.

use super::{Holdings, View};
use crate::optimize::{Optimizer, RebalanceProblem, Settings, Status};
use crate::scenario::policy::CostAwareRule;
use crate::types::Side;

/// κ: the weight of the annual tracking variance against one-off costs (a risk aversion
/// of 3, halved, over one year).
pub const RISK_AVERSION: f64 = 1.5;

/// Branch-and-bound node limit per solve.
pub const MAX_NODES: u64 = 1;

/// The optimizer policy's state (its settings, kept across check days).
pub struct CostAware {
    settings: Settings,
}

impl CostAware {
    /// A new adapter.
    pub fn new() -> CostAware {
        let settings = Settings::builder()
            .max_nodes(MAX_NODES)
            .mip_rel_gap(1e-2)
            .build()
            .unwrap_or_default();
        CostAware { settings }
    }

    /// Class weight targets for today, or `None` to trade nothing.
    pub(crate) fn targets(
        &mut self,
        v: &View<'_, '_>,
        hold: &Holdings,
        rule: &CostAwareRule,
    ) -> Option<Vec<f64>> {
        let w = v.w;
        let k = hold.k;
        let inv = hold.investable;
        if inv <= 0.0 || k == 0 {
            return None;
        }
        let n = w.n();
        let current: Vec<f64> = hold.total.iter().map(|x| x / inv).collect();
        let target: Vec<f64> = w.classes.iter().map(|c| c.weight).collect();
        let acct = w.tax_account.unwrap_or(0);
        let sched = w.schedules[w.accounts.get(acct)?.schedule];
        let tax = &w.tax;
        let mut cost = vec![0.0; k];
        let mut upper = vec![f64::INFINITY; k];
        for c in 0..k {
            let Some(s) = w.classes[c].bench else {
                upper[c] = current[c];
                continue;
            };
            if w.classes[c].vehicles.is_empty() {
                upper[c] = current[c];
            }
            let sec = &w.secs[s];
            let side = if current[c] > target[c] {
                Side::Sell
            } else {
                Side::Buy
            };
            let mut ck = sched
                .proportional_rate(
                    sec.security_type,
                    side,
                    sec.half_spread_bps,
                    v.date,
                    w.regulatory,
                )
                .unwrap_or(sec.half_spread_bps / 1e4);
            if rule.taxes_in_objective && side == Side::Sell {
                let over = hold.total[c] - target[c] * inv;
                let deferred: f64 = (0..w.accounts.len())
                    .filter(|&a| !w.accounts[a].kind.is_taxable())
                    .map(|a| hold.h[a * k + c])
                    .sum();
                if deferred < over {
                    let mut best = f64::INFINITY;
                    for a in 0..w.accounts.len() {
                        if !w.accounts[a].kind.is_taxable() {
                            continue;
                        }
                        for x in 0..n {
                            let q = v.book.qty[a * n + x];
                            if w.secs[x].class != c || q <= 0.0 {
                                continue;
                            }
                            let value = q * v.prices[x];
                            let g = (value - v.book.basis[a * n + x]) / value;
                            best = best.min(g);
                        }
                    }
                    if best.is_finite() {
                        ck += best.max(0.0) * tax.long_term_rate();
                    }
                }
            }
            cost[c] = ck;
        }
        let fixed = if rule.tickets_in_objective {
            let s = w.classes.iter().find_map(|c| c.bench).unwrap_or(0);
            sched.fixed_cost(w.secs[s].security_type, Side::Buy) / inv
        } else {
            0.0
        };
        let eye: Vec<Vec<f64>> = (0..k)
            .map(|i| (0..k).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect();
        // Split Σ = F + D·I with D half the smallest eigenvalue (well conditioned).
        let (eig, _) = crate::scenario::market::symmetric_eigen(&w.class_cov);
        let lmin = eig.iter().copied().fold(f64::INFINITY, f64::min);
        let dvar = if lmin.is_finite() && lmin > 2e-8 {
            lmin / 2.0
        } else {
            1e-8
        };
        let mut fcov = w.class_cov.clone();
        for (i, row) in fcov.iter_mut().enumerate() {
            row[i] = (row[i] - dvar).max(0.0);
        }
        let problem = RebalanceProblem {
            factor_loadings: eye,
            factor_cov: fcov,
            idio_var: vec![dvar; k],
            target,
            current: current.clone(),
            cost,
            fixed_fee: vec![fixed; k],
            kappa: RISK_AVERSION,
            lower: vec![0.0; k],
            upper: upper.iter().zip(&current).map(|(u, c)| u.max(*c)).collect(),
        };
        // Exact screen: the convex problem without fees bounds what any trade set can
        // gain; when that gain does not cover one ticket, not trading is optimal.
        let convex = RebalanceProblem {
            fixed_fee: vec![0.0; k],
            ..problem.clone()
        };
        let mut p1 = Optimizer::new(&convex, self.settings.clone()).ok()?;
        let relaxed = p1.solve();
        if matches!(relaxed.status, Status::Infeasible | Status::NumericalError) {
            return None;
        }
        let hold = convex.terms(&current, 1e-9).objective();
        if hold - relaxed.objective <= fixed {
            return None;
        }
        let sol = if fixed > 0.0 {
            let mut opt = Optimizer::new(&problem, self.settings.clone()).ok()?;
            opt.solve()
        } else {
            relaxed
        };
        match sol.status {
            Status::Infeasible | Status::NumericalError => return None,
            _ => {}
        }
        let mut out = sol.w;
        for c in 0..k {
            if ((out[c] - current[c]) * inv).abs() < rule.min_trade_usd {
                out[c] = current[c];
            }
        }
        if out.iter().zip(&current).all(|(a, b)| a == b) {
            return None;
        }
        Some(out)
    }
}

impl Default for CostAware {
    fn default() -> Self {
        CostAware::new()
    }
}
