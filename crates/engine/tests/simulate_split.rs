//! Splitting the paths: any partition of the paths into `run_range` accumulators, merged
//! in any order, gives the same report (the CLI's threads and the app's Web Workers rely on
//! it); the accumulator reduces paths as they come, keeping trades for the recorded path
//! only.

use tollbooth_engine::simulate::{policy_parts, six_policies, Accumulator, SimOptions, Simulation};

fn options() -> SimOptions {
    SimOptions {
        paths: Some(7),
        years: Some(1),
        record_path: Some(2),
        ..SimOptions::default()
    }
}

#[test]
fn chunks_partition_the_paths() {
    let s = six_policies();
    let sim = Simulation::new(&s, &options()).unwrap();
    for parts in [0u64, 1, 2, 3, 7, 20] {
        let c = sim.chunks(parts);
        assert_eq!(c.len() as u64, parts.clamp(1, 7), "{parts}");
        assert_eq!(c.first().unwrap().start, 0);
        assert_eq!(c.last().unwrap().end, 7);
        for w in c.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        let (lo, hi) = c.iter().fold((u64::MAX, 0), |(lo, hi), r| {
            let n = r.end - r.start;
            (lo.min(n), hi.max(n))
        });
        assert!(lo >= 1 && hi - lo <= 1, "{parts}: {c:?}");
    }
}

#[test]
fn any_split_merged_in_any_order_gives_the_same_hash() {
    let s = six_policies();
    assert_eq!(s.policies.len(), 6);
    let sim = Simulation::new(&s, &options()).unwrap();
    let whole = sim.run().unwrap();
    // Threads of the CLI: contiguous chunks, merged in order.
    for parts in [2u64, 3] {
        let mut acc = Accumulator::new();
        for r in sim.chunks(parts) {
            acc.merge(sim.run_range(r).unwrap()).unwrap();
        }
        assert_eq!(sim.report(&acc).hash_hex(), whole.hash_hex(), "{parts}");
    }
    // Arbitrary groupings (not contiguous), merged in scrambled orders.
    let single: Vec<Accumulator> = (0..7u64)
        .map(|p| sim.run_range(p..p + 1).unwrap())
        .collect();
    let groupings: [&[&[usize]]; 3] = [
        &[&[6, 0], &[3], &[1, 5, 2], &[4]],
        &[&[2, 4, 6], &[1, 3, 5, 0]],
        &[&[5], &[4], &[3], &[2], &[1], &[0], &[6]],
    ];
    for g in groupings {
        let mut parts: Vec<Accumulator> = g
            .iter()
            .map(|grp| {
                let mut a = Accumulator::new();
                for &p in grp.iter() {
                    a.merge(single[p].clone()).unwrap();
                }
                a
            })
            .collect();
        parts.reverse();
        let mut acc = Accumulator::new();
        for p in parts {
            acc.merge(p).unwrap();
        }
        let merged = sim.report(&acc);
        assert_eq!(merged.canonical_json(), whole.canonical_json(), "{g:?}");
        assert_eq!(merged.hash_hex(), whole.hash_hex(), "{g:?}");
    }
}

#[test]
fn the_accumulator_keeps_the_run_shape_and_one_trade_list() {
    let s = six_policies();
    let sim = Simulation::new(&s, &options()).unwrap();
    let acc = sim.run_range(0..7).unwrap();
    // One month-end per calendar month touched by the year's business days.
    let months = sim.report(&acc).series.dates.len();
    assert!((12..=13).contains(&months), "{months}");
    let shape = *acc.shape().unwrap();
    assert_eq!(shape, sim.shape());
    assert_eq!((shape.policies, shape.months), (6, months));
    assert_eq!(acc.len(), 7);
    assert!(acc.is_exact());
    assert_eq!(acc.recorded_path(), Some(2));
    assert_eq!(sim.run_range(3..7).unwrap().recorded_path(), None);
    // Paths of a different run do not mix.
    let other = Simulation::new(
        &s,
        &SimOptions {
            years: Some(2),
            ..options()
        },
    )
    .unwrap();
    let mut mixed = sim.run_range(0..1).unwrap();
    assert!(mixed.merge(other.run_range(0..1).unwrap()).is_err());
    assert!(Accumulator::new().push(sim.run_path(0).unwrap()).is_err());
}

/// The summary (for partial results) is the report less its month-end series.
#[test]
fn the_summary_is_the_report_without_series() {
    let s = tollbooth_engine::scenario::Scenario::demo();
    let sim = tollbooth_engine::simulate::Simulation::new(
        &s,
        &tollbooth_engine::simulate::SimOptions {
            paths: Some(3),
            years: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    let acc = sim.run_range(0..3).unwrap();
    let mut full = sim.report(&acc);
    let summary = sim.summary(&acc);
    assert!(summary.series.dates.is_empty());
    assert!(summary
        .series
        .policies
        .iter()
        .all(|p| p.wealth_p50.is_empty() && p.after_tax_p50.is_empty()));
    assert!(!full.series.dates.is_empty());
    full.series = summary.series.clone();
    assert_eq!(full, summary);
}

/// A path's policies run in parts (as the page's first path runs on two workers at once)
/// and joined give exactly the path's outcome — the recorded path's trades included — and
/// so the same report.
#[test]
fn a_path_run_in_policy_parts_is_the_whole_path() {
    let mut s = six_policies();
    // A tactical overlay too: its signal is seeded by the policy's index in the scenario.
    let mut tactical = s.policies[0].clone();
    tactical.name = "Tactical".into();
    tactical.calendar = None;
    tactical.tactical = Some(Default::default());
    s.policies.push(tactical);
    let sim = Simulation::new(&s, &options()).unwrap();
    let np = s.policies.len();
    for parts in 1..=4 {
        let groups = policy_parts(&s, parts);
        assert_eq!(groups.len(), parts.min(np));
        let mut all: Vec<usize> = groups.concat();
        all.sort_unstable();
        assert_eq!(all, (0..np).collect::<Vec<_>>(), "{groups:?}");
        assert!(groups.iter().all(|g| !g.is_empty()));
    }
    // In the default scenario the cost-aware optimizer (the heaviest policy) gets a group
    // of its own at two parts.
    let six = six_policies();
    let optimizer = six
        .policies
        .iter()
        .position(|p| p.optimizer.is_some())
        .unwrap();
    assert!(policy_parts(&six, 2).contains(&vec![optimizer]));
    let mut whole = sim.accumulator();
    let mut joined = sim.accumulator();
    for path in 0..3 {
        let expected = sim.run_path(path).unwrap();
        assert_eq!(expected.trades.is_some(), path == 2);
        for groups in [
            policy_parts(&s, 2),
            policy_parts(&s, 3),
            vec![vec![5, 0], vec![3, 1, 6, 2, 4]],
        ] {
            // Parts in any order, each crossing a JSON boundary as between workers.
            let parts: Vec<_> = groups
                .iter()
                .rev()
                .map(|g| {
                    let part = sim.run_path_part(path, g).unwrap();
                    serde_json::from_str(&serde_json::to_string(&part).unwrap()).unwrap()
                })
                .collect();
            assert_eq!(
                sim.join_parts(parts).unwrap(),
                expected,
                "path {path}, {groups:?}"
            );
        }
        whole.push(expected).unwrap();
        let parts = policy_parts(&s, 2)
            .iter()
            .map(|g| sim.run_path_part(path, g).unwrap())
            .collect();
        joined.push(sim.join_parts(parts).unwrap()).unwrap();
    }
    assert_eq!(
        sim.report(&whole).hash_hex(),
        sim.report(&joined).hash_hex()
    );
}

#[test]
fn parts_that_do_not_make_a_path_are_refused() {
    use tollbooth_engine::simulate::SimError;
    let s = six_policies();
    let sim = Simulation::new(&s, &options()).unwrap();
    fn bad<T>(r: Result<T, SimError>) -> bool {
        matches!(r, Err(SimError::BadPart { .. }))
    }
    assert!(bad(sim.run_path_part(0, &[0, 0])));
    assert!(bad(sim.run_path_part(0, &[6])));
    let a = sim.run_path_part(1, &[0, 1, 2]).unwrap();
    let b = sim.run_path_part(1, &[3, 4, 5]).unwrap();
    let other = sim.run_path_part(3, &[3, 4, 5]).unwrap();
    let overlap = sim.run_path_part(1, &[2, 3, 4, 5]).unwrap();
    assert!(bad(sim.join_parts(vec![a.clone()])), "a policy missing");
    assert!(bad(sim.join_parts(vec![a.clone(), other])), "two paths");
    assert!(
        bad(sim.join_parts(vec![a.clone(), overlap])),
        "a policy twice"
    );
    let mut short = b.clone();
    short.outcomes.pop();
    assert!(bad(sim.join_parts(vec![a.clone(), short])));
    assert!(sim.join_parts(vec![b, a]).is_ok());
}
