//! Reproducibility: the same scenario and seed give a bit-identical report, however the
//! paths are split; the demo report's hash is pinned (the browser test compares the same
//! constant).

use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::{simulate, Accumulator, SimOptions, Simulation};

/// `Report::hash_hex` of the demo, 8 paths, 2 years, the scenario's seed.
pub const DEMO_REPORT_HASH_8_PATHS_2_YEARS: &str = "7b66e455352d665d";

fn options() -> SimOptions {
    SimOptions {
        paths: Some(8),
        years: Some(2),
        ..SimOptions::default()
    }
}

#[test]
fn demo_report_hash_is_pinned() {
    let r = simulate(&Scenario::demo(), &options()).unwrap();
    assert_eq!(r.engine_version, tollbooth_engine::VERSION);
    assert_eq!(r.scenario_hash, Scenario::demo().hash_hex());
    assert_eq!(r.seed, Scenario::demo().market.seed);
    assert_eq!(r.hash_hex(), DEMO_REPORT_HASH_8_PATHS_2_YEARS);
}

#[test]
fn split_paths_merge_to_the_same_report() {
    let s = Scenario::demo();
    let sim = Simulation::new(&s, &options()).unwrap();
    let whole = sim.run().unwrap();
    // Three "workers" with uneven ranges, merged in reverse order.
    let mut parts: Vec<Accumulator> = [0..3u64, 3..4, 4..8]
        .into_iter()
        .map(|r| sim.run_range(r).unwrap())
        .collect();
    let mut acc = Accumulator::new();
    while let Some(p) = parts.pop() {
        acc.merge(p).unwrap();
    }
    let merged = sim.report(&acc);
    assert_eq!(merged.canonical_json(), whole.canonical_json());
    assert_eq!(merged.hash_hex(), whole.hash_hex());
}

#[test]
fn a_different_seed_gives_a_different_report() {
    let s = Scenario::demo();
    let short = SimOptions {
        paths: Some(2),
        years: Some(1),
        ..options()
    };
    let a = simulate(&s, &short).unwrap();
    let b = simulate(
        &s,
        &SimOptions {
            seed: Some(7),
            ..short
        },
    )
    .unwrap();
    assert_ne!(a.hash_hex(), b.hash_hex());
}
