//! Fixed fees per traded name: branch-and-bound over which names trade.
//!
//! A node fixes some names to *hold* (wᵢ = w0ᵢ) and some to *trade* (fee paid), leaving
//! the rest free. Its bound is Lagrangian: for any dual (η, λ),
//!
//! q(η, λ) = −‖η‖²/(4κ) + ηᵀGᵀt + λ + Σᵢ gᵢ(sᵢ),
//! gᵢ(s) = min(holdᵢ(s), tradeᵢ(s) + fᵢ) for free names,
//!
//! where holdᵢ(s) = φᵢ(w0ᵢ) − s w0ᵢ and tradeᵢ(s) = minᵥ φᵢ(v) − s v are exact, so q is a
//! valid lower bound whatever (η, λ) is. The multipliers are those of the convex-envelope
//! (perspective) relaxation, whose per-name response is smoothed by a tiny ramp so the
//! same exact dual Newton method solves it. Incumbents: the no-trade portfolio, the P1
//! solution, each node's relaxed trade set, and greedy drop/add moves at the root, each
//! re-solved exactly with the names outside the trade set held.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::dual::{Dual, Response};
use super::{Optimizer, Prepared, Solution, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    Free,
    Hold,
    Trade,
}

struct Node {
    bound: f64,
    id: u64,
    fix: Vec<Fix>,
    dual: Dual,
}

impl PartialEq for Node {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Node {}
impl PartialOrd for Node {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Node {
    fn cmp(&self, other: &Self) -> Ordering {
        // Max-heap: smallest bound first, then oldest node.
        other
            .bound
            .total_cmp(&self.bound)
            .then_with(|| other.id.cmp(&self.id))
    }
}

impl Prepared {
    /// Name `i`'s own part of the objective at weight `v`: κDᵢ(v − tᵢ)² + cᵢ|v − w0ᵢ|.
    pub(super) fn phi(&self, i: usize, v: f64) -> f64 {
        let d = v - self.t[i];
        self.a[i] * d * d + self.c[i] * (v - self.w0[i]).abs()
    }

    /// The smoothed convex-envelope response of a free name.
    fn envelope_response(&self, i: usize) -> Response {
        let (a, f, c) = (self.a[i], self.f[i], self.c[i]);
        if f <= 0.0 {
            return self.p1_response(i);
        }
        let w0 = self.w0[i];
        let beta = 2.0 * a * (w0 - self.t[i]);
        let xl = self.l[i] - w0;
        let xu = self.u[i] - w0;
        let xs = (f / a).sqrt();
        let eps = 1e-6 * (2.0 * (a * f).sqrt() + c);
        let mut knots: Vec<(f64, f64)> = Vec::with_capacity(6);
        if xl < 0.0 {
            if xs < -xl {
                if xl.is_finite() {
                    knots.push((2.0 * a * xl + beta - c, self.l[i]));
                }
                let m = beta - c - 2.0 * (a * f).sqrt();
                knots.push((m, w0 - xs));
                knots.push((m + eps, w0));
            } else {
                let m = a * xl + beta - c + f / xl;
                knots.push((m, self.l[i]));
                knots.push((m + eps, w0));
            }
        }
        if xu > 0.0 {
            if xs < xu {
                let m = beta + c + 2.0 * (a * f).sqrt();
                knots.push((m - eps, w0));
                knots.push((m, w0 + xs));
                if xu.is_finite() {
                    knots.push((2.0 * a * xu + beta + c, self.u[i]));
                }
            } else {
                let m = a * xu + beta + c + f / xu;
                knots.push((m - eps, w0));
                knots.push((m, self.u[i]));
            }
        }
        if knots.is_empty() {
            return Response::fixed(w0);
        }
        let left = if xl < 0.0 && xs < -xl && !xl.is_finite() {
            1.0 / (2.0 * a)
        } else {
            0.0
        };
        let right = if xu > 0.0 && xs < xu && !xu.is_finite() {
            1.0 / (2.0 * a)
        } else {
            0.0
        };
        Response::from_knots(&knots, left, right)
    }

    /// (hold value, trade value without fee) of name i at price s.
    fn name_values(&self, i: usize, s: f64, p1: &Response) -> (f64, f64) {
        let hold = self.phi(i, self.w0[i]) - s * self.w0[i];
        let v = p1.eval(s).0;
        let trade = self.phi(i, v) - s * v;
        (hold, trade.min(hold))
    }

    fn prices(&self, dual: &Dual) -> Vec<f64> {
        (0..self.n)
            .map(|i| self.structure.price(i, &dual.eta, dual.lambda))
            .collect()
    }

    /// The exact Lagrangian bound of a node at `dual`.
    fn lagrangian_bound(&self, dual: &Dual, fix: &[Fix], p1: &[Response]) -> f64 {
        let st = &self.structure;
        let mut q = dual.lambda;
        for j in 0..st.r {
            q += -dual.eta[j] * dual.eta[j] / (4.0 * st.kappa) + dual.eta[j] * st.gt[j];
        }
        let s = self.prices(dual);
        for i in 0..self.n {
            let (hold, trade) = self.name_values(i, s[i], &p1[i]);
            q += match fix[i] {
                Fix::Hold => hold,
                Fix::Trade => trade + self.f[i],
                Fix::Free => hold.min(trade + self.f[i]),
            };
        }
        // The constant κ Σ Dᵢ tᵢ² is inside φ; nothing else to add.
        q
    }
}

struct Search<'a> {
    opt: &'a mut Optimizer,
    p1: Vec<Response>,
    best_obj: f64,
    best_w: Vec<f64>,
    iterations: u64,
}

impl Search<'_> {
    /// Re-solve exactly with only the names in `set` free to trade; update the incumbent.
    fn try_set(&mut self, set: &[bool], start: &Dual) -> Option<(f64, Dual)> {
        let resp: Vec<Response> = (0..self.opt.prep.n)
            .map(|i| {
                if set[i] {
                    self.p1[i]
                } else {
                    Response::fixed(self.opt.prep.w0[i])
                }
            })
            .collect();
        let (status, w, dual, it) = self.opt.convex_with(&resp, start);
        self.iterations += it;
        if status != Status::Optimal {
            return None;
        }
        let obj = self
            .opt
            .problem
            .terms(&w, self.opt.settings.trade_tol)
            .objective();
        if obj < self.best_obj {
            self.best_obj = obj;
            self.best_w = w;
        }
        Some((obj, dual))
    }

    fn traded_set(&self, w: &[f64]) -> Vec<bool> {
        let tol = self.opt.settings.trade_tol;
        w.iter()
            .zip(&self.opt.prep.w0)
            .map(|(a, b)| (a - b).abs() > tol)
            .collect()
    }

    /// Greedy drop/add moves from the incumbent's trade set.
    fn local_search(&mut self, start: &Dual) {
        let n = self.opt.prep.n;
        let mut set = self.traded_set(&self.best_w.clone());
        let mut dual = start.clone();
        for _round in 0..50 {
            let mut improved = false;
            // Drops.
            let members: Vec<usize> = (0..n).filter(|&i| set[i]).collect();
            let mut best_move: Option<(f64, usize, Dual)> = None;
            for &i in &members {
                set[i] = false;
                if let Some((obj, d)) = self.try_set(&set, &dual) {
                    if best_move.as_ref().is_none_or(|b| obj < b.0) {
                        best_move = Some((obj, i, d));
                    }
                }
                set[i] = true;
            }
            // Adds: names the exact dual says would gain from trading, best first.
            let s = self.opt.prep.prices(&dual);
            let mut gains: Vec<(f64, usize)> = (0..n)
                .filter(|&i| !set[i])
                .map(|i| {
                    let (hold, trade) = self.opt.prep.name_values(i, s[i], &self.p1[i]);
                    (hold - trade - self.opt.prep.f[i], i)
                })
                .collect();
            gains.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            for &(_, i) in gains.iter().take(12) {
                set[i] = true;
                if let Some((obj, d)) = self.try_set(&set, &dual) {
                    if best_move.as_ref().is_none_or(|b| obj < b.0) {
                        best_move = Some((obj, i, d));
                    }
                }
                set[i] = false;
            }
            if let Some((obj, i, d)) = best_move {
                let current = self.best_obj;
                if obj <= current && obj < f64::INFINITY {
                    set[i] = !set[i];
                    dual = d;
                    // Re-read the incumbent's actual trade set.
                    set = self.traded_set(&self.best_w.clone());
                    improved = obj < current || self.best_obj < current;
                }
            }
            if !improved {
                break;
            }
        }
    }
}

pub(super) fn solve(opt: &mut Optimizer) -> Solution {
    let n = opt.prep.n;
    let p1: Vec<Response> = (0..n).map(|i| opt.prep.p1_response(i)).collect();
    let no_trade = opt.prep.w0.clone();
    let w0_sum: f64 = no_trade.iter().sum();
    let no_trade_obj = if (w0_sum - 1.0).abs() <= 1e-12 {
        opt.problem
            .terms(&no_trade, opt.settings.trade_tol)
            .objective()
    } else {
        f64::INFINITY
    };
    let mut search = Search {
        opt: &mut *opt,
        p1: p1.clone(),
        best_obj: no_trade_obj,
        best_w: no_trade,
        iterations: 0,
    };
    let start = search.opt.prep.default_start();
    // The P1 solution (all names may trade, fees paid afterwards).
    let all = vec![true; n];
    let p1_dual = search
        .try_set(&all, &start)
        .map(|x| x.1)
        .unwrap_or_else(|| start.clone());
    // Root relaxation.
    let root_fix = vec![Fix::Free; n];
    let tol_gap = search.opt.settings.mip_rel_gap;
    let max_nodes = search.opt.settings.max_nodes;
    let time_limit = search.opt.settings.time_limit;
    let mut heap = BinaryHeap::new();
    heap.push(Node {
        bound: f64::NEG_INFINITY,
        id: 0,
        fix: root_fix,
        dual: p1_dual.clone(),
    });
    let mut next_id = 1;
    let mut nodes = 0u64;
    let mut status = Status::Optimal;
    let mut global_lb = f64::NEG_INFINITY;
    let mut did_local = false;
    while let Some(node) = heap.pop() {
        let cutoff = search.best_obj - tol_gap * search.best_obj.abs();
        if node.bound >= cutoff {
            global_lb = global_lb.max(node.bound.min(search.best_obj));
            heap.clear();
            break;
        }
        if nodes >= max_nodes {
            status = Status::NodeLimit;
            heap.push(node);
            break;
        }
        if search.opt.elapsed() > time_limit {
            status = Status::TimeLimit;
            heap.push(node);
            break;
        }
        nodes += 1;
        let prep = &search.opt.prep;
        let resp: Vec<Response> = (0..n)
            .map(|i| match node.fix[i] {
                Fix::Hold => Response::fixed(prep.w0[i]),
                Fix::Trade => p1[i],
                Fix::Free => prep.envelope_response(i),
            })
            .collect();
        let (_st, w_rel, dual, it) = search.opt.convex_with(&resp, &node.dual);
        search.iterations += it;
        let prep = &search.opt.prep;
        let mut bound = node.bound.max(prep.lagrangian_bound(&dual, &node.fix, &p1));
        if node.bound == f64::NEG_INFINITY {
            // Root: the P1 multipliers also give a bound.
            bound = bound.max(prep.lagrangian_bound(&p1_dual, &node.fix, &p1));
        }
        // Incumbent from the relaxed trade set.
        let tol = search.opt.settings.trade_tol;
        let set: Vec<bool> = (0..n)
            .map(|i| match node.fix[i] {
                Fix::Hold => false,
                Fix::Trade => true,
                Fix::Free => (w_rel[i] - prep.w0[i]).abs() > tol,
            })
            .collect();
        search.try_set(&set, &dual);
        if !did_local {
            did_local = true;
            search.local_search(&dual);
        }
        let cutoff = search.best_obj - tol_gap * search.best_obj.abs();
        if bound >= cutoff {
            continue;
        }
        // Branch: the most fractional free name of the envelope relaxation, else the
        // free name whose exact hold/trade values are closest.
        let prep = &search.opt.prep;
        let mut pick: Option<(f64, usize)> = None;
        for i in 0..n {
            if node.fix[i] != Fix::Free || prep.f[i] <= 0.0 {
                continue;
            }
            let x = (w_rel[i] - prep.w0[i]).abs();
            let room = if w_rel[i] >= prep.w0[i] {
                prep.u[i] - prep.w0[i]
            } else {
                prep.w0[i] - prep.l[i]
            };
            let cap = (prep.f[i] / prep.a[i]).sqrt().min(room);
            let theta = x / cap;
            if x > tol && theta < 1.0 - 1e-7 {
                let score = prep.f[i] * theta.min(1.0 - theta);
                if pick.is_none_or(|p| score > p.0) {
                    pick = Some((score, i));
                }
            }
        }
        if pick.is_none() {
            let s = prep.prices(&dual);
            for i in 0..n {
                if node.fix[i] != Fix::Free {
                    continue;
                }
                let (hold, trade) = prep.name_values(i, s[i], &p1[i]);
                let score = -(hold - trade - prep.f[i]).abs();
                if pick.is_none_or(|p| score > p.0) {
                    pick = Some((score, i));
                }
            }
        }
        let Some((_, i)) = pick else {
            // Every name fixed: the leaf's exact solve above is its value.
            continue;
        };
        for choice in [Fix::Trade, Fix::Hold] {
            let mut fix = node.fix.clone();
            fix[i] = choice;
            heap.push(Node {
                bound,
                id: next_id,
                fix,
                dual: dual.clone(),
            });
            next_id += 1;
        }
    }
    let lb = if status == Status::Optimal {
        search
            .best_obj
            .min(global_lb.max(search.best_obj - tol_gap * search.best_obj.abs()))
    } else {
        heap.iter()
            .map(|n| n.bound)
            .fold(f64::INFINITY, f64::min)
            .min(search.best_obj)
    };
    let Search {
        best_w, iterations, ..
    } = search;
    opt.finish(status, best_w, lb, iterations, nodes)
}

#[cfg(test)]
mod tests {
    use crate::optimize::{Optimizer, RebalanceProblem, Settings, Status};

    /// A small deterministic generator (no external randomness in unit tests).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 11) as f64) / ((1u64 << 53) as f64)
        }
    }

    fn random_problem(seed: u64, n: usize, fee: f64) -> RebalanceProblem {
        let mut g = Lcg(seed);
        let k = 2;
        let b: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..k).map(|_| 0.5 + g.next()).collect())
            .collect();
        let f = vec![vec![0.03, 0.005], vec![0.005, 0.02]];
        let d: Vec<f64> = (0..n).map(|_| 0.01 + 0.05 * g.next()).collect();
        let normalise = |v: Vec<f64>| {
            let s: f64 = v.iter().sum();
            v.into_iter().map(|x| x / s).collect::<Vec<_>>()
        };
        let t = normalise((0..n).map(|_| 0.2 + g.next()).collect());
        let w0 = normalise((0..n).map(|_| 0.05 + g.next()).collect());
        let c: Vec<f64> = (0..n).map(|_| 0.0005 + 0.002 * g.next()).collect();
        RebalanceProblem::long_only(b, f, d, t, w0, c, 5.0 + 20.0 * g.next())
            .with_uniform_fixed_fee(fee)
    }

    /// Exhaustive enumeration of trade sets through the public API (held names pinned
    /// by their bounds).
    fn enumerate(p: &RebalanceProblem) -> f64 {
        let n = p.n();
        let mut best = f64::INFINITY;
        for mask in 0u32..(1 << n) {
            let mut q = p.clone();
            q.fixed_fee = vec![0.0; n];
            for i in 0..n {
                if mask & (1 << i) == 0 {
                    q.lower[i] = q.current[i];
                    q.upper[i] = q.current[i];
                }
            }
            let sol = Optimizer::new(&q, Settings::default()).unwrap().solve();
            if sol.status == Status::Optimal {
                best = best.min(p.terms(&sol.w, 1e-9).objective());
            }
        }
        best
    }

    #[test]
    fn branch_and_bound_matches_enumeration() {
        for seed in 0..12u64 {
            for fee in [1e-5, 2e-4, 1e-3] {
                let p = random_problem(seed, 6, fee);
                let exact = enumerate(&p);
                let sol = Optimizer::new(&p, Settings::default()).unwrap().solve();
                assert_eq!(sol.status, Status::Optimal);
                assert!(
                    (sol.objective - exact).abs() <= 1e-10 * exact,
                    "seed {seed} fee {fee}: {} vs enumeration {exact}",
                    sol.objective
                );
                assert!(sol.lower_bound <= exact * (1.0 + 1e-12));
            }
        }
    }

    #[test]
    fn active_set_matches_clarabel_with_bounds() {
        use crate::optimize::Method;
        for seed in 0..24u64 {
            let mut p = random_problem(seed, 12, 0.0);
            // Do-not-buy on name 0, do-not-sell on name 1, a cap on name 2.
            p.upper[0] = p.current[0];
            p.lower[1] = p.current[1];
            p.upper[2] = p.current[2].max(0.05);
            let a = Optimizer::new(&p, Settings::default()).unwrap().solve();
            let s = Settings::builder()
                .method(Method::Clarabel)
                .build()
                .unwrap();
            let b = Optimizer::new(&p, s).unwrap().solve();
            assert_eq!(a.status, Status::Optimal);
            assert!(
                (a.objective - b.objective).abs() <= 1e-9 * b.objective,
                "seed {seed}: {} vs {}",
                a.objective,
                b.objective
            );
            assert!(a.w[0] <= p.current[0] && a.w[1] >= p.current[1]);
        }
    }
}
