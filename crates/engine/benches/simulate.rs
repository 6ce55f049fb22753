//! The simulator on the demo household: 3 accounts, 21 ETFs, daily business-day steps.
//!
//! - `simulate_10y_daily/demo_3_policies`: the demo's three policies (quarterly calendar,
//!   daily TLH with the household guard, the weekly cost-aware optimizer), one path of 10
//!   years: time per path for the whole household.
//! - `simulate_10y_daily/quarterly_only` and `daily_tlh_only`: one policy each (2 policies
//!   per scenario are required, the other is buy and hold), to split the cost by rule.
//! - `simulate_10y_daily_50_paths/demo_3_policies`: 50 paths through `Simulation::run`
//!   (report included).
//! - `simulate_default_scenario/six_policies_8_paths_10y`: the default scenario
//!   ([`six_policies`]: the performance target, 500 paths in the app and in `tollbooth
//!   bench`) on 8 paths, one thread; criterion's throughput line gives the time per path.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use tollbooth_engine::scenario::{Policy, Scenario};
use tollbooth_engine::simulate::{six_policies, SimOptions, Simulation};

fn with_policy(name: &str) -> Scenario {
    let mut s = Scenario::demo();
    let keep = s.policy(name).cloned().expect("demo policy");
    s.policies = vec![keep, Policy::buy_and_hold("Hold")];
    s.baseline = name.to_string();
    s
}

fn per_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate_10y_daily");
    g.sample_size(10);
    let opts = SimOptions {
        paths: Some(1),
        years: Some(10),
        ..SimOptions::default()
    };
    let cases = [
        ("demo_3_policies", Scenario::demo()),
        ("quarterly_only", with_policy("Quarterly calendar")),
        ("daily_tlh_only", with_policy("Daily TLH (household guard)")),
        ("optimizer_only", with_policy("Cost-aware optimizer")),
    ];
    for (name, s) in &cases {
        let sim = Simulation::new(s, &opts).expect("valid scenario");
        let mut p = 0u64;
        g.bench_function(*name, |b| {
            b.iter(|| {
                p += 1;
                black_box(sim.run_path(p).expect("path"))
            })
        });
    }
    g.finish();
}

fn fifty_paths(c: &mut Criterion) {
    let mut g = c.benchmark_group("simulate_10y_daily_50_paths");
    g.sample_size(10);
    let s = Scenario::demo();
    let opts = SimOptions {
        paths: Some(50),
        years: Some(10),
        ..SimOptions::default()
    };
    let sim = Simulation::new(&s, &opts).expect("valid scenario");
    g.bench_function("demo_3_policies", |b| {
        b.iter(|| black_box(sim.run().expect("report")))
    });
    g.finish();
}

fn default_scenario(c: &mut Criterion) {
    const PATHS: u64 = 8;
    let mut g = c.benchmark_group("simulate_default_scenario");
    g.sample_size(10);
    g.throughput(Throughput::Elements(PATHS));
    let s = six_policies();
    let opts = SimOptions {
        paths: Some(PATHS),
        years: Some(10),
        ..SimOptions::default()
    };
    let sim = Simulation::new(&s, &opts).expect("valid scenario");
    g.bench_function("six_policies_8_paths_10y", |b| {
        b.iter(|| black_box(sim.run().expect("report")))
    });
    g.finish();
}

criterion_group!(benches, per_path, fifty_paths, default_scenario);
criterion_main!(benches);
