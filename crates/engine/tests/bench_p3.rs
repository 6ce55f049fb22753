//! P3 reference backtests (cvxportfolio, `../shared/bench/p3`).
//!
//! - calendar: the NAV path must match the peer's to 1e-9 relative at every point (we
//!   reach ~1e-15), and turnover, cost and tracking error to 1e-12 / 1e-12 / 1e-10;
//! - SPO: the peer's daily optimisations are inexact (its solver's default tolerances), so
//!   the paths drift apart slowly; turnover and cost must agree to 0.5 %, the NAV to
//!   5e-5 relative at every point, the tracking error to 1 %;
//! - SPO optimality: on recorded days of our own path, our post-trade weights are checked
//!   against an independent Clarabel solve of the same problem (cash as a slack, no
//!   penalty) and against feasible perturbations.

// Index loops mirror the formulas.
#![allow(clippy::needless_range_loop)]

use std::path::PathBuf;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus,
    SupportedConeT, ZeroConeT,
};
use tollbooth_engine::backtest::{
    run, run_calendar, run_spo, BacktestError, P3Instance, Policy, Spo, TRADING_DAYS,
};

const FILES: [&str; 2] = ["p3_n020_s0.json", "p3_n050_s0.json"];

fn load(name: &str) -> P3Instance {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench/p3"
    ))
    .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("parse")
}

fn rel(a: f64, b: f64) -> f64 {
    ((a - b) / b).abs()
}

#[test]
fn calendar_reproduces_the_peer_exactly() {
    for f in FILES {
        let inst = load(f);
        let peer = inst.reference.clone().expect("reference").calendar;
        let ours = run_calendar(&inst).expect("calendar backtest");
        assert_eq!(ours.nav.len(), inst.t);
        assert_eq!(ours.nav.len(), peer.nav.len());
        let worst = ours
            .nav
            .iter()
            .zip(&peer.nav)
            .map(|(a, b)| rel(*a, *b))
            .fold(0.0f64, f64::max);
        eprintln!(
            "{f} calendar: NAV worst rel {worst:.1e}; turnover {} vs {}; tcost {} vs {}; TE {} vs {}",
            ours.turnover_total,
            peer.turnover_total,
            ours.tcost_total,
            peer.tcost_total,
            ours.tracking_error_annualized,
            peer.tracking_error_annualized
        );
        assert!(worst <= 1e-9, "{f}: NAV differs by {worst:e}");
        assert!(rel(ours.turnover_total, peer.turnover_total) <= 1e-12);
        assert!(rel(ours.tcost_total, peer.tcost_total) <= 1e-12);
        assert!(
            rel(
                ours.tracking_error_annualized,
                peer.tracking_error_annualized
            ) <= 1e-10
        );
        if let Some(ar) = peer.active_return_annualized {
            assert!(rel(ours.active_return_annualized, ar) <= 1e-10);
        }
        // Day 0 trades rounding residue (~1e-10 dollars), not counted as a trade day.
        assert_eq!(Some(ours.n_periods_with_trades), peer.n_periods_with_trades);
        // Day by day (the peer's series carry a trailing placeholder for the last day).
        assert_eq!(ours.turnover_series.len(), inst.t - 1);
        for d in 0..inst.t - 1 {
            assert!((ours.turnover_series[d] - peer.turnover_series[d]).abs() <= 1e-14);
            let pc = peer.tcost_series[d].expect("cost");
            assert!((ours.tcost_series[d] - pc).abs() <= 1e-9 + 1e-12 * pc);
        }
        assert_eq!(peer.turnover_series[inst.t - 1], 0.0);
        assert_eq!(peer.tcost_series[inst.t - 1], None);
    }
}

#[test]
fn spo_tracks_the_peer_within_its_solver_accuracy() {
    for f in FILES {
        let inst = load(f);
        let peer = inst.reference.clone().expect("reference").spo;
        let ours = run_spo(&inst).expect("spo backtest");
        assert_eq!(ours.nav.len(), peer.nav.len());
        let worst = ours
            .nav
            .iter()
            .zip(&peer.nav)
            .map(|(a, b)| rel(*a, *b))
            .fold(0.0f64, f64::max);
        let (dt, dc, dte) = (
            rel(ours.turnover_total, peer.turnover_total),
            rel(ours.tcost_total, peer.tcost_total),
            rel(
                ours.tracking_error_annualized,
                peer.tracking_error_annualized,
            ),
        );
        eprintln!(
            "{f} spo: turnover {:.10} vs peer {:.10} ({:.2e} rel); tcost {:.6} vs {:.6} \
             ({:.2e}); TE {:.8} vs {:.8} ({:.2e}); NAV worst rel {worst:.2e}; final {:.4} vs {:.4}",
            ours.turnover_total,
            peer.turnover_total,
            dt,
            ours.tcost_total,
            peer.tcost_total,
            dc,
            ours.tracking_error_annualized,
            peer.tracking_error_annualized,
            dte,
            ours.final_value(),
            peer.nav[peer.nav.len() - 1],
        );
        assert!(dt <= 5e-3, "{f}: turnover differs by {dt:e}");
        assert!(dc <= 5e-3, "{f}: tcost differs by {dc:e}");
        assert!(dte <= 1e-2, "{f}: tracking error differs by {dte:e}");
        assert!(worst <= 5e-5, "{f}: NAV differs by {worst:e}");
        // Day 0 starts at the target: the exact optimum is not to trade (the peer's
        // solver trades ~5e-9 of NAV).
        assert_eq!(ours.turnover_series[0], 0.0);
        assert!(peer.turnover_series[0] < 1e-8);
        // The same state on day 1 (no trade on day 0 either side, to the peer's 1e-8):
        // the trades agree to the peer's accuracy.
        let d1 = (ours.turnover_series[1] - peer.turnover_series[1]).abs();
        assert!(d1 <= 2e-7, "{f}: day-1 turnover differs by {d1:e}");
    }
}

/// Wraps the SPO policy and records (day, current weights, post-trade weights).
struct Recorder {
    spo: Spo,
    days: Vec<usize>,
    seen: Vec<(usize, Vec<f64>, Vec<f64>)>,
}

impl Policy for Recorder {
    fn decide(&mut self, day: usize, h: &[f64], cash: f64) -> Result<Vec<f64>, BacktestError> {
        let u = self.spo.decide(day, h, cash)?;
        if self.days.contains(&day) {
            let v = h.iter().sum::<f64>() + cash;
            let w: Vec<f64> = h.iter().map(|x| x / v).collect();
            let wp: Vec<f64> = h.iter().zip(&u).map(|(x, y)| (x + y) / v).collect();
            self.seen.push((day, w, wp));
        }
        Ok(u)
    }
}

/// γ (w − t)ᵀ Σ_d (w − t) + Σ aᵢ |wᵢ − w0ᵢ| (the SPO objective, negated).
fn spo_objective(inst: &P3Instance, w0: &[f64], w: &[f64]) -> f64 {
    let k = inst.k;
    let mut y = vec![0.0; k];
    let mut idio = 0.0;
    let mut cost = 0.0;
    for i in 0..inst.n {
        let d = w[i] - inst.target[i];
        for a in 0..k {
            y[a] += inst.factor_loadings[i][a] * d;
        }
        idio += inst.idio_var[i] * d * d;
        cost += inst.half_spread[i] * (w[i] - w0[i]).abs();
    }
    let mut fac = 0.0;
    for a in 0..k {
        for b in 0..k {
            fac += y[a] * inst.factor_cov[a][b] * y[b];
        }
    }
    inst.spo_gamma * (fac + idio) / TRADING_DAYS + cost
}

/// Clarabel on x = (w, u⁺, u⁻, y): the SPO problem with 1ᵀw ≤ 1 (cash a slack).
fn clarabel_spo(inst: &P3Instance, w0: &[f64]) -> Vec<f64> {
    let (n, k) = (inst.n, inst.k);
    let g = inst.spo_gamma / TRADING_DAYS;
    let nv = 3 * n + k;
    let (mut pi, mut pj, mut pv) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        pi.push(i);
        pj.push(i);
        pv.push(2.0 * g * inst.idio_var[i]);
    }
    for a in 0..k {
        for b in a..k {
            pi.push(3 * n + a);
            pj.push(3 * n + b);
            pv.push(2.0 * g * inst.factor_cov[a][b]);
        }
    }
    let p = CscMatrix::new_from_triplets(nv, nv, pi, pj, pv);
    let mut q = vec![0.0; nv];
    for i in 0..n {
        q[i] = -2.0 * g * inst.idio_var[i] * inst.target[i];
        q[n + i] = inst.half_spread[i];
        q[2 * n + i] = inst.half_spread[i];
    }
    let (mut ai, mut aj, mut av, mut b) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        ai.extend([i; 3]);
        aj.extend([i, n + i, 2 * n + i]);
        av.extend([1.0, -1.0, 1.0]);
        b.push(w0[i]);
    }
    for f in 0..k {
        let row = n + f;
        let mut bt = 0.0;
        for i in 0..n {
            ai.push(row);
            aj.push(i);
            av.push(inst.factor_loadings[i][f]);
            bt += inst.factor_loadings[i][f] * inst.target[i];
        }
        ai.push(row);
        aj.push(3 * n + f);
        av.push(-1.0);
        b.push(bt);
    }
    let neq = n + k;
    for j in 0..n {
        ai.push(neq);
        aj.push(j);
        av.push(1.0);
    }
    b.push(1.0);
    for j in 0..3 * n {
        ai.push(neq + 1 + j);
        aj.push(j);
        av.push(-1.0);
        b.push(0.0);
    }
    let a = CscMatrix::new_from_triplets(neq + 1 + 3 * n, nv, ai, aj, av);
    let cones: [SupportedConeT<f64>; 2] = [ZeroConeT(neq), NonnegativeConeT(1 + 3 * n)];
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .tol_gap_abs(1e-12)
        .tol_gap_rel(1e-12)
        .tol_feas(1e-12)
        .build()
        .unwrap();
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings).unwrap();
    solver.solve();
    assert!(matches!(
        solver.solution.status,
        SolverStatus::Solved | SolverStatus::AlmostSolved
    ));
    solver.solution.x[..n].to_vec()
}

#[test]
fn spo_days_are_optimal() {
    for f in FILES {
        let mut inst = load(f);
        // The first 120 days suffice (and keep the debug build fast).
        inst.returns.truncate(121);
        inst.t = 121;
        let days: Vec<usize> = vec![1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 119];
        let mut rec = Recorder {
            spo: Spo::new(&inst).expect("spo"),
            days: days.clone(),
            seen: Vec::new(),
        };
        run(&inst, &mut rec).expect("backtest");
        assert_eq!(rec.seen.len(), days.len());
        let mut slack = 0;
        for (day, w0, wp) in &rec.seen {
            let ours = spo_objective(&inst, w0, wp);
            let cw = clarabel_spo(&inst, w0);
            let theirs = spo_objective(&inst, w0, &cw);
            let cash = 1.0 - wp.iter().sum::<f64>();
            if cash > 1e-12 {
                slack += 1;
            }
            eprintln!(
                "{f} day {day}: objective {ours:.15e}, Clarabel {theirs:.15e}, cash {cash:.3e}"
            );
            // Up to the optimizer's budget tolerance (1e-13) and the dollar book's rounding.
            assert!(cash >= -1e-12, "day {day}: cash {cash}");
            assert!(wp.iter().all(|&x| x >= 0.0));
            // Clarabel's objective carries constants of order γ tᵀΣ_d t ≈ 0.1, so its
            // answer is accurate to ~1e-12 absolute; ours must be at least as good.
            assert!(
                ours <= theirs + 1e-15,
                "day {day}: {ours} > Clarabel {theirs}"
            );
            assert!(
                (ours - theirs).abs() <= 1e-11,
                "day {day}: {ours} vs {theirs}"
            );
            // Feasible perturbations do not improve the objective.
            for i in 0..inst.n {
                for step in [1e-7, -1e-7, 1e-5, -1e-5] {
                    let mut x = wp.clone();
                    x[i] = (x[i] + step).max(0.0);
                    if x.iter().sum::<f64>() > 1.0 {
                        continue;
                    }
                    let o = spo_objective(&inst, w0, &x);
                    assert!(o >= ours - 1e-15 * ours.abs(), "day {day} name {i}");
                }
            }
        }
        // Both kinds of day are covered.
        assert!(slack > 0 && slack < days.len(), "{f}: {slack} slack days");
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let mut inst = load(FILES[0]);
    inst.half_spread.pop();
    assert!(matches!(
        run_calendar(&inst),
        Err(BacktestError::DimensionMismatch {
            field: "half_spread",
            ..
        })
    ));
    let mut inst = load(FILES[0]);
    inst.returns[3][2] = f64::NAN;
    assert!(matches!(
        run_spo(&inst),
        Err(BacktestError::NonFinite {
            field: "returns",
            row: 3,
            col: 2
        })
    ));
    let mut inst = load(FILES[0]);
    inst.rebalance_every = 0;
    assert!(matches!(
        run_calendar(&inst),
        Err(BacktestError::OutOfRange {
            field: "rebalance_every",
            ..
        })
    ));
    let mut inst = load(FILES[0]);
    inst.returns.truncate(1);
    inst.t = 1;
    assert!(matches!(
        run_calendar(&inst),
        Err(BacktestError::TooShort(1))
    ));
}
