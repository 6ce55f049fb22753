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
//! The fixed fees are handled by greedy elimination over exact convex solves (see
//! `greedy_drop`), run only when the screens say a trade can pay — the fee-free gain
//! covers one ticket, and either three tickets, or a one-class trade of the free cash, or
//! (when it covers two) a two-class trade, each priced exactly (`a_trade_can_pay`: when
//! it says no, the greedy would have ended on holding). The screens need no solve on most
//! check days: the dual function at the last check day's dual is a lower bound on today's
//! fee-free optimum (weak duality), and it stands in for the optimum (on the six-policy
//! scenario 95 fee-free solves a path remain of the 427 check days that reach them, 8 in
//! 10 of them followed by a greedy elimination, 1 in 20 of which ends on holding). The
//! optimizer's exact branch-and-bound costs about 50× more per decision here and, with
//! class-level fees of a few dollars against a household, changes few decisions.
//!
//! Each convex solve starts from a nearby dual: the fee-free solve from the last check
//! day's, each greedy candidate from its incumbent's. The optimum is the same up to
//! rounding (the dual Newton method ends on the optimum's piece from any start), so only a
//! near tie between two trade sets can go the other way; the path to it is shorter — on
//! the six-policy scenario 2.3 Newton iterations a candidate instead of 4.1.
//!
//! A candidate that cannot win is not solved at all: holding a name the incumbent trades
//! costs at least a curvature floor of tracking (`risk_floor`, a small linear solve), and
//! when that floor alone misses the value to beat, the candidate is ruled out. A candidate
//! that leaves one class free or two is priced in closed form (the budget fixes the one;
//! the two have one free variable, see `PairTerms`). On the six-policy scenario, of about
//! 770 candidates a path 213 are ruled out, 155 priced in closed form and 405 solved; the
//! decisions are those of solving every candidate (a test compares them).
//!
//! A class trade smaller than the rule's minimum trade is dropped after the solve; an
//! infeasible or failed solve trades nothing. This adapter is the only place that knows
//! the optimizer; a household-level (lot-aware) optimizer can replace it behind the same
//! `targets` call.

use super::{Holdings, View};
use crate::optimize::{
    cholesky_factor, cholesky_substitute, Dual, Optimizer, RebalanceProblem, Settings, Solution,
    Status, Terms,
};
use crate::scenario::policy::CostAwareRule;
use crate::types::Side;

/// κ: the weight of the annual tracking variance against one-off costs (a risk aversion
/// of 3, halved, over one year).
pub const RISK_AVERSION: f64 = 1.5;

/// The solver's trade tolerance (`Settings::default().trade_tol`): its terms count a name
/// as traded beyond it.
const TRADE_TOL: f64 = 1e-9;

/// The optimizer policy's state (its settings, kept across check days).
pub struct CostAware {
    settings: Settings,
    /// The fee-free class problem (factor part built once, per-class data refreshed).
    convex: Option<RebalanceProblem>,
    /// The greedy elimination's buffers.
    work: Greedy,
    /// The class problem's risk matrix ([`risk_matrix`]), computed with the problem (its
    /// covariance never changes).
    sigma: Vec<f64>,
    /// The solver, built on the first check day and updated with each day's problem (the
    /// factor decomposition of `F` is computed once).
    solver: Option<Optimizer>,
    /// The dual of the last check day's fee-free solve (the next check day's start).
    relaxed_dual: Option<Dual>,
}

impl CostAware {
    /// A new adapter.
    pub fn new() -> CostAware {
        let settings = Settings::default();
        CostAware {
            settings,
            convex: None,
            work: Greedy::default(),
            sigma: Vec::new(),
            solver: None,
            relaxed_dual: None,
        }
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
        let m = w.accounts.len();
        let tax = &w.tax;
        let mut cost = vec![0.0; k];
        let mut upper = vec![f64::INFINITY; k];
        // Each class's ticket before its size, as its accounts' schedules price it.
        let mut class_fixed: Vec<Option<f64>> = vec![None; k];
        let mut by_schedule = vec![0.0; w.schedules.len()];
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
            // The accounts' schedules, weighted by the class's holdings in each account
            // (every account alike where the class is held nowhere); a schedule that
            // prices the whole class gets weight 1 exactly.
            by_schedule.iter_mut().for_each(|x| *x = 0.0);
            let held: f64 = (0..m).map(|a| hold.h[a * k + c]).sum();
            for a in 0..m {
                by_schedule[w.accounts[a].schedule] +=
                    if held > 0.0 { hold.h[a * k + c] } else { 1.0 };
            }
            let total = if held > 0.0 { held } else { m as f64 };
            let (mut ck, mut fixed_c) = (0.0, 0.0);
            for (si, &x) in by_schedule.iter().enumerate() {
                if x == 0.0 {
                    continue;
                }
                let share = x / total;
                let sched = w.schedules[si];
                let per_dollar = sched
                    .proportional_rate(
                        sec.security_type,
                        side,
                        sec.half_spread_bps,
                        v.date,
                        w.regulatory,
                    )
                    .unwrap_or(sec.half_spread_bps / 1e4);
                let per_share = sched
                    .per_share_rate(sec.security_type, side, v.date, w.regulatory)
                    .unwrap_or(0.0);
                ck += share * (per_dollar + per_share / v.prices[s]);
                fixed_c += share * sched.fixed_cost(sec.security_type, side, sec.fractional);
            }
            class_fixed[c] = Some(fixed_c);
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
            one_ticket(&class_fixed, &hold.total) / inv
        } else {
            0.0
        };
        // The fee-free problem, built once (identity loadings; Σ split as F + d·I with d
        // half the smallest eigenvalue, well conditioned) and refreshed in place with
        // today's per-class data.
        let convex = self.convex.get_or_insert_with(|| {
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
            RebalanceProblem {
                factor_loadings: (0..k)
                    .map(|i| (0..k).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
                    .collect(),
                factor_cov: fcov,
                idio_var: vec![dvar; k],
                target: target.clone(),
                current: Vec::new(),
                cost: Vec::new(),
                fixed_fee: vec![0.0; k],
                kappa: RISK_AVERSION,
                lower: vec![0.0; k],
                upper: Vec::new(),
            }
        });
        convex.target.clone_from(&target);
        convex.current.clone_from(&current);
        convex.cost.clone_from(&cost);
        convex.upper.clear();
        convex
            .upper
            .extend(upper.iter().zip(&current).map(|(u, c)| u.max(*c)));
        let convex = &*convex;
        if self.sigma.is_empty() {
            self.sigma = risk_matrix(convex);
        }
        let sigma = &self.sigma;
        let hold = convex.terms(&current, TRADE_TOL).objective();
        // Cheaper screen first: the convex optimum's objective is ≥ 0 (PSD risk plus
        // non-negative costs), so the gain is at most `hold`; when `hold` does not cover a
        // ticket (with a margin far above rounding), the exact screen below would say no.
        if hold <= fixed * (1.0 - 1e-9) {
            return None;
        }
        let decision = Decision {
            fixed,
            convex,
            sigma,
            current: &current,
            hold,
        };
        let p1 = match &mut self.solver {
            Some(opt) => {
                // Start from the last check day's relaxed dual: the problem moved by a
                // week.
                opt.update_from(convex, self.relaxed_dual.take()).ok()?;
                if let Some(d) = opt.last_dual() {
                    // Weak duality: the dual function at last week's dual bounds this
                    // week's fee-free optimum from below, so `hold` less it bounds the
                    // fee-free gain from above. When that does not cover a ticket (with a
                    // margin far above rounding), or cannot pay for two while no one-class
                    // trade pays for its own (`a_trade_can_pay` with the bound for the
                    // optimum), the solve and the screens below would end on holding: the
                    // solve is skipped, and the next check day starts from the same dual.
                    if fixed > 0.0 {
                        let bound = opt.convex_lower_bound(d);
                        if hold - bound <= fixed * (1.0 - 1e-6)
                            || !a_trade_can_pay(&decision, bound)
                        {
                            self.relaxed_dual = Some(d.clone());
                            return None;
                        }
                    }
                }
                opt
            }
            None => self
                .solver
                .insert(Optimizer::new(convex, self.settings.clone()).ok()?),
        };
        let relaxed = p1.solve();
        self.relaxed_dual = p1.last_dual().cloned();
        if matches!(relaxed.status, Status::Infeasible | Status::NumericalError) {
            return None;
        }
        // The screens take the solve's objective for the optimum: only an exact one (a
        // solve stopped early has an objective above the optimum, and the greedy decides).
        let exact = relaxed.status == Status::Optimal;
        if exact && hold - relaxed.objective <= fixed {
            return None;
        }
        if exact && fixed > 0.0 && !a_trade_can_pay(&decision, relaxed.objective) {
            return None;
        }
        let w_best = if fixed > 0.0 {
            greedy_drop(&decision, relaxed, p1, &mut self.work)
        } else {
            relaxed.w
        };
        let mut out = w_best;
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

/// The one charge per ticket the fixed-fee problem takes (its screens and greedy price
/// every class's ticket alike): the classes' charge when they agree, else their average
/// weighted by the household's holdings of each (alike when it holds none). `None` marks
/// a class that cannot trade.
fn one_ticket(class_fixed: &[Option<f64>], held: &[f64]) -> f64 {
    let mut known = class_fixed.iter().flatten();
    let Some(&first) = known.next() else {
        return 0.0;
    };
    if known.all(|&f| f == first) {
        return first;
    }
    let pairs = || {
        class_fixed
            .iter()
            .zip(held)
            .filter_map(|(f, &h)| f.map(|f| (f, h)))
    };
    let total: f64 = pairs().map(|(_, h)| h.max(0.0)).sum();
    if total > 0.0 {
        pairs().map(|(f, h)| f * h.max(0.0)).sum::<f64>() / total
    } else {
        let count = pairs().count() as f64;
        pairs().map(|(f, _)| f).sum::<f64>() / count
    }
}

/// One fixed-fee decision, as the screen and the greedy elimination see it.
#[derive(Clone, Copy)]
struct Decision<'a> {
    /// A ticket's charge, as a fraction of the investable value.
    fixed: f64,
    /// The fee-free problem (the greedy's candidates differ from it only in their bounds).
    convex: &'a RebalanceProblem,
    /// Its risk matrix ([`risk_matrix`]).
    sigma: &'a [f64],
    /// The weights held now.
    current: &'a [f64],
    /// The objective of holding them (no trade, no ticket).
    hold: f64,
}

/// Whether some trade can beat holding once its tickets are paid (when not, the greedy
/// elimination would end on holding: it is not run). `relaxed` is the fee-free optimum or
/// a lower bound on it (a `false` then holds all the more for the optimum); `sigma` is the
/// problem's risk matrix ([`risk_matrix`]).
///
/// A trade moving three names or more has a fee-inclusive objective of at least the
/// fee-free optimum `relaxed` plus three tickets. One moving exactly one name puts the
/// free cash (the budget's gap `1 − Σ current`) into or takes it out of that class, a
/// single point per class, priced here exactly; one moving exactly two is bounded below
/// exactly by [`a_pair_can_pay`] (asked only when two tickets could pay). A trade that
/// moves no name beyond the trade tolerance is dropped by the minimum trade anyway. The
/// comparisons keep a margin of a thousandth of a ticket, far above the solver's accuracy,
/// so that only clear cases are decided here.
fn a_trade_can_pay(d: &Decision<'_>, relaxed: f64) -> bool {
    let Decision {
        fixed,
        convex,
        sigma,
        current,
        hold,
    } = *d;
    let margin = 1e-3 * fixed;
    // (A NaN decides nothing: a trade could pay.)
    if relaxed.is_nan() || hold.is_nan() || hold > relaxed + 3.0 * fixed - margin {
        return true;
    }
    let n = current.len();
    if sigma.len() != n * n {
        return true;
    }
    let pairs = PairTerms::new(convex, sigma, current);
    // With no free cash to place (within the trade tolerance) one name cannot move alone.
    if pairs.gap.abs() > TRADE_TOL {
        for i in 0..n {
            if let Some(v) = pairs.single(i) {
                if v.is_nan() || hold > v + fixed - margin {
                    return true;
                }
            }
        }
    }
    hold > relaxed + 2.0 * fixed - margin && a_pair_can_pay(fixed, &pairs, hold + margin)
}

/// Whether a trade moving exactly two names could come in under `beat` once its two
/// tickets are paid: [`PairTerms::minimum`] plus two tickets is a floor under every trade
/// of the pair.
fn a_pair_can_pay(fixed: f64, pairs: &PairTerms<'_>, beat: f64) -> bool {
    let n = pairs.current.len();
    for a in 0..n {
        for b in a + 1..n {
            // (A NaN minimum decides nothing: the pair could pay.)
            match pairs.minimum(a, b) {
                Some((_, m)) if m.is_nan() || m + 2.0 * fixed < beat => return true,
                _ => {}
            }
        }
    }
    false
}

/// The shared terms of [`PairTerms::minimum`]: `d₀ = current − target`, `Σ d₀`, `d₀ᵀ Σ d₀`.
struct PairTerms<'a> {
    convex: &'a RebalanceProblem,
    sigma: &'a [f64],
    current: &'a [f64],
    gap: f64,
    s0: Vec<f64>,
    q0: f64,
}

impl<'a> PairTerms<'a> {
    fn new(convex: &'a RebalanceProblem, sigma: &'a [f64], current: &'a [f64]) -> Self {
        let n = current.len();
        let d0: Vec<f64> = current
            .iter()
            .zip(&convex.target)
            .map(|(c, t)| c - t)
            .collect();
        let s0: Vec<f64> = (0..n)
            .map(|a| (0..n).map(|j| sigma[a * n + j] * d0[j]).sum::<f64>())
            .collect();
        let q0 = d0.iter().zip(&s0).map(|(d, s)| d * s).sum();
        PairTerms {
            convex,
            sigma,
            current,
            gap: 1.0 - current.iter().sum::<f64>(),
            s0,
            q0,
        }
    }

    /// The fee-free objective of the portfolio that moves name `i` alone — by the budget's
    /// gap, the free cash in or out — or `None` when its bounds forbid it:
    /// `κ (d₀ + gap·e_i)ᵀ Σ (d₀ + gap·e_i) + c_i |gap|`.
    fn single(&self, i: usize) -> Option<f64> {
        let (p, gap) = (self.convex, self.gap);
        let n = self.current.len();
        let wi = self.current[i] + gap;
        if wi < p.lower[i] || wi > p.upper[i] {
            return None;
        }
        let sii = self.sigma[i * n + i];
        let risk = p.kappa * (self.q0 + 2.0 * gap * self.s0[i] + gap * gap * sii);
        Some(risk + p.cost[i] * gap.abs())
    }

    /// The least fee-free objective over the portfolios that move only names `a` and `b`,
    /// with `a`'s move that attains it (`None` when the bounds leave none; both `NaN` when
    /// no minimum is claimed: a side without a bound and no curvature). With every other name held, the budget leaves
    /// one free variable, `a`'s move `x` (`b` moves `gap − x`), along which the objective
    /// is `κ (d₁ + x u)ᵀ Σ (d₁ + x u) + c_a |x| + c_b |gap − x|` with `d₁ = d₀ + gap·e_b`,
    /// `u = e_a − e_b`: a convex quadratic with two kinks, minimised exactly (the minimiser
    /// is an end, a kink, or a stationary point of one of the pieces).
    fn minimum(&self, a: usize, b: usize) -> Option<(f64, f64)> {
        let (p, sigma, current, gap) = (self.convex, self.sigma, self.current, self.gap);
        let n = current.len();
        let (saa, sbb, sab) = (sigma[a * n + a], sigma[b * n + b], sigma[a * n + b]);
        let uu = saa + sbb - 2.0 * sab;
        let ud1 = (self.s0[a] + gap * sab) - (self.s0[b] + gap * sbb);
        let d1d1 = self.q0 + 2.0 * gap * self.s0[b] + gap * gap * sbb;
        let (ca, cb, kappa) = (p.cost[a], p.cost[b], p.kappa);
        let h = |x: f64| {
            kappa * (d1d1 + 2.0 * x * ud1 + x * x * uu) + ca * x.abs() + cb * (gap - x).abs()
        };
        let lo = (p.lower[a] - current[a]).max(current[b] + gap - p.upper[b]);
        let hi = (p.upper[a] - current[a]).min(current[b] + gap - p.lower[b]);
        if lo.is_nan() || hi.is_nan() || lo > hi {
            return None;
        }
        // On an unbounded side the minimum is attained only with curvature; without it
        // nothing is claimed (`NaN`: the callers solve, or count the pair as paying).
        if uu.is_nan() || uu <= 0.0 && (lo.is_infinite() || hi.is_infinite()) {
            return Some((f64::NAN, f64::NAN));
        }
        let mut best = (f64::NAN, f64::INFINITY);
        let mut consider = |x: f64| {
            if x.is_finite() {
                let v = h(x);
                if v < best.1 {
                    best = (x, v);
                }
            }
        };
        consider(lo);
        consider(hi);
        for x in [0.0, gap] {
            if (lo..=hi).contains(&x) {
                consider(x);
            }
        }
        if uu > 0.0 {
            for (sa, sb) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
                let x = -(2.0 * kappa * ud1 + ca * sa - cb * sb) / (2.0 * kappa * uu);
                if x.is_finite() {
                    consider(x.clamp(lo, hi));
                }
            }
        }
        if best.0.is_nan() {
            return Some((f64::NAN, f64::NAN));
        }
        Some(best)
    }

    /// The portfolio of [`PairTerms::minimum`]: `current` with `a` moved by `x` and `b` by
    /// `gap − x`.
    fn portfolio(&self, a: usize, b: usize, x: f64) -> Vec<f64> {
        let mut w = self.current.to_vec();
        w[a] += x;
        w[b] += self.gap - x;
        w
    }
}

/// The fee-inclusive objective from a fee-free problem's terms: the same risk and cost, and
/// `fixed` for each name traded, summed name by name as [`RebalanceProblem::terms`] would
/// with `fixed` on every name.
fn with_tickets(t: &Terms, fixed: f64) -> f64 {
    let fees = (0..t.n_traded).fold(0.0, |f, _| f + fixed);
    t.risk + t.proportional_cost + fees
}

/// The greedy elimination's buffers, kept across check days.
#[derive(Default)]
struct Greedy {
    /// A candidate's bounds.
    lower: Vec<f64>,
    upper: Vec<f64>,
    /// Scratch for [`risk_floor`].
    scratch: Vec<f64>,
    /// Candidates solved, ruled out by [`risk_floor`], and priced in closed form
    /// (diagnostics).
    solved: u64,
    pruned: u64,
    closed: u64,
    /// Solve every candidate (no floor, no closed form): the tests' reference.
    solve_all: bool,
}

/// The risk matrix `Σ = B F Bᵀ + D` of `p`, row-major `n × n`: the risk term is
/// `κ (w − t)ᵀ Σ (w − t)`.
fn risk_matrix(p: &RebalanceProblem) -> Vec<f64> {
    let n = p.n();
    let mut sigma = vec![0.0; n * n];
    for a in 0..n {
        for b in 0..n {
            let (la, lb) = (&p.factor_loadings[a], &p.factor_loadings[b]);
            let mut v = if a == b { p.idio_var[a] } else { 0.0 };
            for (x, row) in la.iter().zip(&p.factor_cov) {
                for (f, y) in row.iter().zip(lb) {
                    v += x * f * y;
                }
            }
            sigma[a * n + b] = v;
        }
    }
    sigma
}

/// A floor under the rise of the fee-free objective from the optimum `x` of a problem to
/// any point of a smaller feasible set in which the names `free` may move and every other
/// name is held at `current` (the greedy's candidate): `min κ dᵀΣd` over `d = w − x` with
/// the held names' entries fixed and `1ᵀd = 0` (the budget), the bounds relaxed.
///
/// The objective is `κ (w − t)ᵀ Σ (w − t)` plus a convex cost, and `x` minimises it over a
/// convex set containing the candidate's, so `f(w) ≥ f(x) + κ (w − x)ᵀ Σ (w − x)` there (the
/// first-order term is non-negative at an optimum). `None` when no name is free or the
/// free block of `Σ` is not positive definite (no floor is claimed).
fn risk_floor(
    sigma: &[f64],
    kappa: f64,
    x: &[f64],
    current: &[f64],
    free: impl Fn(usize) -> bool,
    scratch: &mut Vec<f64>,
) -> Option<f64> {
    let n = x.len();
    // d: the held names' moves (fixed), the free names' filled in below.
    let f_idx: Vec<usize> = (0..n).filter(|&j| free(j)).collect();
    let nf = f_idx.len();
    if nf == 0 {
        return None;
    }
    scratch.clear();
    scratch.resize(n + nf * nf + 4 * nf, 0.0);
    let (d, rest) = scratch.split_at_mut(n);
    let (a, rest) = rest.split_at_mut(nf * nf);
    let (rhs_u, rest) = rest.split_at_mut(nf);
    let (rhs_v, rest) = rest.split_at_mut(nf);
    let (u, v) = rest.split_at_mut(nf);
    let mut held_sum = 0.0;
    for j in 0..n {
        if !free(j) {
            d[j] = current[j] - x[j];
            held_sum += d[j];
        }
    }
    // A = Σ_FF (lower triangle); the right-hand sides Σ_FH d_H and 1 (u, v solve them).
    for (p, &fp) in f_idx.iter().enumerate() {
        for (q, &fq) in f_idx.iter().enumerate().take(p + 1) {
            a[p * nf + q] = sigma[fp * n + fq];
        }
        let mut b = 0.0;
        for j in 0..n {
            if !free(j) {
                b += sigma[fp * n + j] * d[j];
            }
        }
        rhs_u[p] = b;
        rhs_v[p] = 1.0;
    }
    if !cholesky_factor(a, nf) {
        return None;
    }
    cholesky_substitute(a, nf, rhs_u, u);
    cholesky_substitute(a, nf, rhs_v, v);
    // d_F = −u − μ v with 1ᵀd_F = −Σ d_H.
    let (su, sv) = (u.iter().sum::<f64>(), v.iter().sum::<f64>());
    if sv.is_nan() || sv <= 0.0 {
        return None;
    }
    let mu = (held_sum - su) / sv;
    for (p, &fp) in f_idx.iter().enumerate() {
        d[fp] = -u[p] - mu * v[p];
    }
    let mut q = 0.0;
    for i in 0..n {
        let row = &sigma[i * n..(i + 1) * n];
        q += d[i] * row.iter().zip(d.iter()).map(|(s, dj)| s * dj).sum::<f64>();
    }
    q.is_finite().then_some(kappa * q.max(0.0))
}

/// The best candidate of a round of the greedy elimination.
struct Winner {
    /// The name it holds.
    held: usize,
    w: Vec<f64>,
    /// Its fee-inclusive objective.
    value: f64,
    dual: Option<Dual>,
    /// Its fee-free objective, when the solve ended optimal (the next round's floors
    /// need an exact optimum).
    convex: Option<f64>,
}

/// Fixed fees by greedy elimination: start from the fee-free optimum's trade set and drop,
/// one at a time, the name whose removal (re-solving the rest exactly with it held)
/// lowers the fee-inclusive objective most, until no removal helps; then compare with
/// not trading at all (`hold`, the objective at `current`).
///
/// A candidate is solved only when it could win: its fee-free objective is at least the
/// incumbent's plus [`risk_floor`] (holding a name that the incumbent trades a lot costs
/// more tracking than its ticket saves), so when that floor already misses the value to
/// beat (by a thousandth of a ticket, far above the solver's accuracy) the candidate is
/// ruled out unsolved. The elimination's result is the same with or without the floor.
fn greedy_drop(
    d: &Decision<'_>,
    start: Solution,
    opt: &mut Optimizer,
    work: &mut Greedy,
) -> Vec<f64> {
    let Decision {
        fixed,
        convex,
        sigma,
        current,
        hold,
    } = *d;
    let tol = TRADE_TOL;
    let total = |t: &Terms| with_tickets(t, fixed);
    let convex_part = |t: &Terms| t.risk + t.proportional_cost;
    let k = current.len();
    let mut best = total(&start.terms);
    // The incumbent's fee-free objective, when it is an exact optimum (else no floor).
    let mut best_convex = (start.status == Status::Optimal).then(|| convex_part(&start.terms));
    let mut best_w = start.w;
    let Greedy {
        lower,
        upper,
        scratch,
        solved,
        pruned,
        closed,
        solve_all,
    } = work;
    let solve_all = *solve_all;
    let pairs = PairTerms::new(convex, sigma, current);
    // The candidates differ from `convex` (loaded in `opt`) only in their bounds.
    let mut traded: Vec<bool> = (0..k)
        .map(|i| (best_w[i] - current[i]).abs() > tol)
        .collect();
    // Each candidate differs from the incumbent by one name held: start from its dual.
    let mut best_dual = opt.last_dual().cloned();
    loop {
        let mut found: Option<Winner> = None;
        for i in (0..k).filter(|&i| traded[i]) {
            let to_beat = found.as_ref().map_or(best, |f| f.value) - 1e-15;
            if let Some(base) = best_convex.filter(|_| !solve_all) {
                let floor = risk_floor(
                    sigma,
                    convex.kappa,
                    &best_w,
                    current,
                    |j| traded[j] && j != i,
                    scratch,
                );
                if floor.is_some_and(|f| base + f > to_beat + 1e-3 * fixed) {
                    *pruned += 1;
                    continue;
                }
            }
            // A candidate that leaves one name or two free is priced in closed form: the
            // budget fixes one name's move, and leaves a pair one free variable.
            let mut free = (0..k).filter(|&j| traded[j] && j != i);
            let few = match (free.next(), free.next(), free.next()) {
                _ if solve_all => None,
                (Some(j), None, None) => Some(
                    (convex.lower[j]..=convex.upper[j])
                        .contains(&(current[j] + pairs.gap))
                        .then(|| pairs.portfolio(j, j, 0.0)),
                ),
                (Some(a), Some(b), None) => match pairs.minimum(a, b) {
                    None => Some(None),
                    Some((x, _)) if x.is_finite() => Some(Some(pairs.portfolio(a, b, x))),
                    // No minimum claimed (a side without a bound): the solver decides.
                    Some(_) => None,
                },
                _ => None,
            };
            if let Some(w) = few {
                *closed += 1;
                let Some(w) = w else { continue };
                let t = convex.terms(&w, tol);
                let v = total(&t);
                if v < to_beat {
                    found = Some(Winner {
                        held: i,
                        w,
                        value: v,
                        dual: None,
                        convex: Some(convex_part(&t)),
                    });
                }
                continue;
            }
            lower.clone_from(&convex.lower);
            upper.clone_from(&convex.upper);
            for j in 0..k {
                if !traded[j] || j == i {
                    lower[j] = current[j];
                    upper[j] = current[j];
                }
            }
            if opt
                .update_bounds_from(lower, upper, best_dual.clone())
                .is_err()
            {
                continue;
            }
            *solved += 1;
            let sol = opt.solve();
            if matches!(sol.status, Status::Infeasible | Status::NumericalError) {
                continue;
            }
            let v = total(&sol.terms);
            if v < to_beat {
                let exact = (sol.status == Status::Optimal).then(|| convex_part(&sol.terms));
                found = Some(Winner {
                    held: i,
                    w: sol.w,
                    value: v,
                    dual: opt.last_dual().cloned(),
                    convex: exact,
                });
            }
        }
        match found {
            Some(win) => {
                // (A candidate priced in closed form has no dual: later solves, if any,
                // start from the last one.)
                best_dual = win.dual.or(best_dual);
                best_convex = win.convex;
                traded[win.held] = false;
                for j in 0..k {
                    traded[j] = traded[j] && (win.w[j] - current[j]).abs() > tol;
                }
                best_w = win.w;
                best = win.value;
            }
            None => break,
        }
    }
    if hold <= best {
        current.to_vec()
    } else {
        best_w
    }
}

impl Default for CostAware {
    fn default() -> Self {
        CostAware::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic stream in [0, 1).
    fn stream(mut state: u64) -> impl FnMut() -> f64 {
        move || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// A class problem like the policy's: `k` classes, a drifted portfolio with a little
    /// free cash, proportional costs.
    fn problem(next: &mut impl FnMut() -> f64, k: usize) -> RebalanceProblem {
        let target: Vec<f64> = {
            let raw: Vec<f64> = (0..k).map(|_| 0.5 + next()).collect();
            let s: f64 = raw.iter().sum();
            raw.iter().map(|x| x / s).collect()
        };
        let cash = 1e-4 * next();
        let current: Vec<f64> = {
            let raw: Vec<f64> = target.iter().map(|t| t * (0.9 + 0.2 * next())).collect();
            let s: f64 = raw.iter().sum();
            raw.iter().map(|x| x / s * (1.0 - cash)).collect()
        };
        let vol: Vec<f64> = (0..k).map(|_| 0.05 + 0.2 * next()).collect();
        let cov: Vec<Vec<f64>> = (0..k)
            .map(|a| {
                (0..k)
                    .map(|b| {
                        let rho = if a == b { 1.0 } else { 0.6 };
                        rho * vol[a] * vol[b]
                    })
                    .collect()
            })
            .collect();
        let d = 1e-4;
        let mut fcov = cov.clone();
        for (i, row) in fcov.iter_mut().enumerate() {
            row[i] -= d;
        }
        RebalanceProblem {
            factor_loadings: (0..k)
                .map(|i| (0..k).map(|j| f64::from(u8::from(i == j))).collect())
                .collect(),
            factor_cov: fcov,
            idio_var: vec![d; k],
            target,
            current: current.clone(),
            cost: (0..k).map(|_| 1e-4 + 5e-4 * next()).collect(),
            fixed_fee: vec![0.0; k],
            kappa: RISK_AVERSION,
            lower: vec![0.0; k],
            upper: vec![f64::INFINITY; k],
        }
    }

    /// Whenever the screen says no trade can pay for its tickets, the greedy elimination
    /// (which the screen skips) indeed ends on holding; and the screen does decide cases.
    #[test]
    fn the_no_trade_screen_agrees_with_the_greedy_elimination() {
        let mut next = stream(11);
        let (mut screened, mut cases) = (0, 0);
        for case in 0..300 {
            let p = problem(&mut next, 3 + case % 6);
            let hold = p.terms(&p.current, TRADE_TOL).objective();
            let mut opt = Optimizer::new(&p, Settings::default()).expect("solver");
            let relaxed = opt.solve();
            assert_eq!(relaxed.status, Status::Optimal);
            // A ticket worth between a quarter and all of the fee-free gain, as on the
            // policy's check days that reach the greedy elimination.
            let fixed = (hold - relaxed.objective) * (0.25 + 0.75 * next());
            if fixed.is_nan() || fixed <= 0.0 {
                continue;
            }
            cases += 1;
            let sigma = risk_matrix(&p);
            let decision = Decision {
                fixed,
                convex: &p,
                sigma: &sigma,
                current: &p.current,
                hold,
            };
            let can_pay = a_trade_can_pay(&decision, relaxed.objective);
            // The policy's pre-solve screen passes a lower bound on the optimum (the dual
            // function at last week's dual): a `false` there must hold for the optimum too.
            let bound = relaxed.objective - fixed * next();
            let can_pay_bound = a_trade_can_pay(&decision, bound);
            assert!(
                can_pay_bound || !can_pay,
                "case {case}: the screen says no with a lower bound but yes with the optimum"
            );
            let greedy = greedy_drop(&decision, relaxed, &mut opt, &mut Greedy::default());
            if !can_pay_bound {
                assert_eq!(
                    greedy, p.current,
                    "case {case}: the bound's screen skipped a trade"
                );
            }
            if !can_pay {
                screened += 1;
                assert_eq!(
                    greedy, p.current,
                    "case {case}: the screen skipped a paying trade"
                );
            }
        }
        assert!(cases >= 100, "only {cases} cases reached the screen");
        assert!(
            screened >= 10 && screened < cases,
            "the screen decided {screened} of {cases} cases"
        );
    }

    /// The floor never exceeds the true rise of the fee-free objective when names are held
    /// (so a candidate it rules out could not have won), and it is not vacuous: it rules
    /// out candidates holding a name the optimum trades a lot.
    #[test]
    fn the_risk_floor_is_a_floor() {
        let mut next = stream(23);
        let (mut checked, mut strong) = (0, 0);
        for case in 0..200 {
            let p = problem(&mut next, 3 + case % 6);
            let k = p.n();
            let mut opt = Optimizer::new(&p, Settings::default()).expect("solver");
            let relaxed = opt.solve();
            assert_eq!(relaxed.status, Status::Optimal);
            let base = relaxed.terms.risk + relaxed.terms.proportional_cost;
            let sigma = risk_matrix(&p);
            let mut scratch = Vec::new();
            // Hold one name, or two, of the optimum; free the rest.
            for i in 0..k {
                let j = (i + 1 + case) % k;
                for held in [vec![i], vec![i, j]] {
                    let free = |x: usize| !held.contains(&x);
                    let Some(floor) =
                        risk_floor(&sigma, p.kappa, &relaxed.w, &p.current, free, &mut scratch)
                    else {
                        continue;
                    };
                    let (mut lo, mut up) = (p.lower.clone(), p.upper.clone());
                    for &h in &held {
                        lo[h] = p.current[h];
                        up[h] = p.current[h];
                    }
                    opt.update_bounds_from(&lo, &up, None).expect("bounds");
                    let sol = opt.solve();
                    if sol.status != Status::Optimal {
                        continue;
                    }
                    let rise = sol.terms.risk + sol.terms.proportional_cost - base;
                    assert!(
                        floor <= rise + 1e-12 * (1.0 + base.abs()),
                        "case {case}, held {held:?}: floor {floor:e} above the rise {rise:e}"
                    );
                    checked += 1;
                    if floor > 0.5 * rise && rise > 0.0 {
                        strong += 1;
                    }
                }
            }
        }
        assert!(checked >= 500, "only {checked} candidates checked");
        assert!(
            strong * 4 >= checked,
            "the floor is tight in {strong} of {checked}"
        );
    }

    /// The pair minimum is the exact optimum of the problem with every other name held
    /// (checked against the solver), so a floor built on it never rules out a paying trade;
    /// a single name's objective is the terms' at its point.
    #[test]
    fn the_pair_minimum_is_the_held_problems_optimum() {
        let mut next = stream(31);
        let mut checked = 0;
        for case in 0..60 {
            let p = problem(&mut next, 3 + case % 6);
            let k = p.n();
            let sigma = risk_matrix(&p);
            let pairs = PairTerms::new(&p, &sigma, &p.current);
            let mut opt = Optimizer::new(&p, Settings::default()).expect("solver");
            // One name alone takes the free cash: its objective is the terms' at that point.
            for i in 0..k {
                let mut w = p.current.clone();
                w[i] += pairs.gap;
                let t = p.terms(&w, TRADE_TOL);
                let direct = t.risk + t.proportional_cost;
                let single = pairs.single(i).expect("within the bounds");
                assert!(
                    (single - direct).abs() <= 1e-12 * direct.abs(),
                    "case {case}, name {i}: {single:e} vs {direct:e}"
                );
            }
            for a in 0..k {
                for b in a + 1..k {
                    let (mut lo, mut up) = (p.current.clone(), p.current.clone());
                    for x in [a, b] {
                        lo[x] = p.lower[x];
                        up[x] = p.upper[x];
                    }
                    opt.update_bounds_from(&lo, &up, None).expect("bounds");
                    let sol = opt.solve();
                    let (_, exact) = pairs.minimum(a, b).expect("a feasible pair");
                    assert_eq!(sol.status, Status::Optimal, "case {case}, pair ({a}, {b})");
                    let solved = sol.terms.risk + sol.terms.proportional_cost;
                    assert!(
                        (exact - solved).abs() <= 1e-12 * (1.0 + solved.abs())
                            && exact <= solved + 1e-15,
                        "case {case}, pair ({a}, {b}): minimum {exact:e}, solver {solved:e}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked >= 500, "only {checked} pairs checked");
    }

    /// The floors and the closed-form candidates change no decision of the greedy
    /// elimination: against solving every candidate, the same names trade and the
    /// fee-inclusive objective agrees to rounding; and both shortcuts are taken.
    #[test]
    fn the_greedy_shortcuts_change_no_decision() {
        let mut next = stream(47);
        let (mut runs, mut traded) = (0, 0);
        let mut fast = Greedy::default();
        for case in 0..300 {
            let p = problem(&mut next, 3 + case % 6);
            let hold = p.terms(&p.current, TRADE_TOL).objective();
            let mut opt = Optimizer::new(&p, Settings::default()).expect("solver");
            let relaxed = opt.solve();
            let fixed = (hold - relaxed.objective) * (0.05 + 0.5 * next());
            if fixed.is_nan() || fixed <= 0.0 {
                continue;
            }
            let sigma = risk_matrix(&p);
            let decision = Decision {
                fixed,
                convex: &p,
                sigma: &sigma,
                current: &p.current,
                hold,
            };
            let w_fast = greedy_drop(&decision, relaxed, &mut opt, &mut fast);
            // The reference from a fresh solver (the same warm starts).
            let mut opt = Optimizer::new(&p, Settings::default()).expect("solver");
            let relaxed = opt.solve();
            let mut reference = Greedy {
                solve_all: true,
                ..Greedy::default()
            };
            let w_ref = greedy_drop(&decision, relaxed, &mut opt, &mut reference);
            let names = |w: &[f64]| -> Vec<bool> {
                w.iter()
                    .zip(&p.current)
                    .map(|(a, b)| (a - b).abs() > TRADE_TOL)
                    .collect()
            };
            assert_eq!(
                names(&w_fast),
                names(&w_ref),
                "case {case}: different trades"
            );
            let value = |w: &[f64]| with_tickets(&p.terms(w, TRADE_TOL), fixed);
            let (a, b) = (value(&w_fast), value(&w_ref));
            assert!(
                (a - b).abs() <= 1e-9 * b.abs(),
                "case {case}: {a:e} vs {b:e}"
            );
            runs += 1;
            traded += usize::from(w_ref != p.current);
        }
        assert!(
            runs >= 200 && traded >= 50,
            "{runs} runs, {traded} ending in a trade"
        );
        assert!(
            fast.pruned > 0 && fast.closed > 0,
            "pruned {}, closed {}",
            fast.pruned,
            fast.closed
        );
    }

    /// Without bounds the pair minimum is still exact where the objective curves, and is
    /// not claimed where it does not (perfectly correlated classes: the pair's own risk is
    /// flat, and its cost alone bounds nothing); a NaN decides nothing in the screen.
    #[test]
    fn the_pair_minimum_claims_nothing_it_cannot_prove() {
        let mut next = stream(5);
        let mut p = problem(&mut next, 4);
        p.lower = vec![f64::NEG_INFINITY; 4];
        p.upper = vec![f64::INFINITY; 4];
        let sigma = risk_matrix(&p);
        let pairs = PairTerms::new(&p, &sigma, &p.current);
        let (x, v) = pairs.minimum(0, 1).expect("feasible");
        assert!(x.is_finite() && v.is_finite(), "({x}, {v})");
        // Classes 0 and 1 identical: moving one against the other changes no risk.
        let mut flat = sigma.clone();
        for j in 0..4 {
            flat[j] = sigma[4 + j];
            flat[j * 4] = sigma[j * 4 + 1];
        }
        flat[0] = sigma[5];
        let pairs = PairTerms::new(&p, &flat, &p.current);
        let (x, v) = pairs.minimum(0, 1).expect("feasible");
        assert!(x.is_nan() && v.is_nan(), "claimed ({x}, {v})");
        assert!(a_pair_can_pay(1.0, &pairs, f64::NEG_INFINITY));
        let decision = Decision {
            fixed: 1e-6,
            convex: &p,
            sigma: &sigma,
            current: &p.current,
            hold: 1.0,
        };
        assert!(a_trade_can_pay(&decision, f64::NAN));
    }
}
