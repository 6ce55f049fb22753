//! Optimizer benchmarks on the shared reference instances (`../shared/bench`).
//!
//! - `p1/active_set/N`: `Optimizer::new` + `solve` (exact dual active-set method);
//! - `p1/clarabel_plain/N`: plain Clarabel from Rust on the same factor-form QP
//!   (build + solve, no polish);
//! - `p2/branch_and_bound/N`: the fixed-fee problem (`medium` fee regime) to optimality;
//! - `household/realistic_3_accounts_20_securities_300_lots/{tlh,calendar,cost_aware}`:
//!   the household optimizer (model build + search + rounding) under each demo policy, on
//!   the demo household's securities and fees with 300 seeded lots spread over a taxable
//!   account, a traditional IRA and a Roth IRA; each run asserts the proven 0.5% gap.

use std::path::PathBuf;

use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SupportedConeT, ZeroConeT,
};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use tollbooth_engine::optimize::instance::ReferenceInstance;
use tollbooth_engine::optimize::{Optimizer, Settings, Status};

fn load(rel: &str) -> ReferenceInstance {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench"
    ))
    .join(rel);
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("parse")
}

/// Plain Clarabel on x = (w, u⁺, u⁻, y): ½xᵀPx + qᵀx with y = Bᵀ(w − t).
fn clarabel_plain(inst: &ReferenceInstance) -> f64 {
    let n = inst.target.len();
    let k = inst.factor_cov.len();
    let nv = 3 * n + k;
    let (mut pi, mut pj, mut pv) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        pi.push(i);
        pj.push(i);
        pv.push(2.0 * inst.kappa * inst.idio_var[i]);
    }
    for a in 0..k {
        for b in a..k {
            pi.push(3 * n + a);
            pj.push(3 * n + b);
            pv.push(2.0 * inst.kappa * inst.factor_cov[a][b]);
        }
    }
    let p = CscMatrix::new_from_triplets(nv, nv, pi, pj, pv);
    let mut q = vec![0.0; nv];
    for i in 0..n {
        q[i] = -2.0 * inst.kappa * inst.idio_var[i] * inst.target[i];
        q[n + i] = inst.cost[i];
        q[2 * n + i] = inst.cost[i];
    }
    let (mut ai, mut aj, mut av, mut b) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for j in 0..n {
        ai.push(0);
        aj.push(j);
        av.push(1.0);
    }
    b.push(1.0);
    for i in 0..n {
        ai.extend([1 + i; 3]);
        aj.extend([i, n + i, 2 * n + i]);
        av.extend([1.0, -1.0, 1.0]);
        b.push(inst.w0[i]);
    }
    for f in 0..k {
        let row = 1 + n + f;
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
    let neq = 1 + n + k;
    for j in 0..3 * n {
        ai.push(neq + j);
        aj.push(j);
        av.push(-1.0);
        b.push(0.0);
    }
    let a = CscMatrix::new_from_triplets(neq + 3 * n, nv, ai, aj, av);
    let cones: [SupportedConeT<f64>; 2] = [ZeroConeT(neq), NonnegativeConeT(3 * n)];
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .build()
        .unwrap();
    let mut solver = DefaultSolver::new(&p, &q, &a, &b, &cones, settings).unwrap();
    solver.solve();
    solver.solution.obj_val
}

fn p1(c: &mut Criterion) {
    let mut g = c.benchmark_group("p1");
    for n in [10usize, 50, 200, 500] {
        let inst = load(&format!("p1/p1_n{n:03}_s0.json"));
        let problem = inst.to_problem();
        g.bench_with_input(BenchmarkId::new("active_set", n), &problem, |bch, p| {
            bch.iter(|| {
                let sol = Optimizer::new(p, Settings::default()).unwrap().solve();
                assert_eq!(sol.status, Status::Optimal);
                sol.objective
            })
        });
        g.bench_with_input(
            BenchmarkId::new("active_set_warm", n),
            &problem,
            |bch, p| {
                let mut opt = Optimizer::new(p, Settings::default()).unwrap();
                opt.solve();
                let mut j = 0;
                bch.iter(|| {
                    j = (j + 1) % inst.warm_start_w0.len();
                    opt.set_current(&inst.warm_start_w0[j]).unwrap();
                    opt.solve().objective
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("clarabel_plain", n), &inst, |bch, i| {
            bch.iter(|| clarabel_plain(i))
        });
    }
    g.finish();
}

fn p2(c: &mut Criterion) {
    let mut g = c.benchmark_group("p2");
    g.sample_size(10);
    for n in [10usize, 50, 200] {
        let inst = load(&format!("p2/p2_n{n:03}_s0_medium.json"));
        let problem = inst.to_problem();
        g.bench_with_input(
            BenchmarkId::new("branch_and_bound", n),
            &problem,
            |bch, p| {
                bch.iter_batched(
                    || p.clone(),
                    |p| {
                        Optimizer::new(&p, Settings::default())
                            .unwrap()
                            .solve()
                            .objective
                    },
                    BatchSize::SmallInput,
                )
            },
        );
    }
    g.finish();
}

fn household(c: &mut Criterion) {
    use tollbooth_engine::household::{
        optimize_household, HouseholdSettings, HouseholdState, HouseholdStatus,
    };
    let s = tollbooth_engine::scenario::Scenario::demo_300_lots();
    let lots: usize = s.household.accounts.iter().map(|a| a.lots.len()).sum();
    assert_eq!(
        (s.household.accounts.len(), s.securities.len(), lots),
        (3, 20, 300)
    );
    let mut g = c.benchmark_group("household");
    g.sample_size(10);
    for (id, name) in [
        ("tlh", "Daily TLH (household guard)"),
        ("calendar", "Quarterly calendar"),
        ("cost_aware", "Cost-aware optimizer"),
    ] {
        let policy = s.policy(name).expect("policy").clone();
        g.bench_function(
            format!("realistic_3_accounts_20_securities_300_lots/{id}"),
            |b| {
                b.iter_batched(
                    || HouseholdState::from_scenario(&s).expect("state"),
                    |state| {
                        let sol = optimize_household(
                            &s,
                            &policy,
                            &state,
                            s.as_of,
                            &HouseholdSettings::default(),
                        );
                        // The fixed fees are handled to a proven 0.5% gap.
                        assert_eq!(sol.status, HouseholdStatus::Optimal, "{:?}", sol.messages);
                        assert!(sol.gap <= 0.005, "{name}: gap {}", sol.gap);
                        sol
                    },
                    BatchSize::SmallInput,
                )
            },
        );
    }
    g.finish();
}

criterion_group!(benches, p1, p2, household);
criterion_main!(benches);
