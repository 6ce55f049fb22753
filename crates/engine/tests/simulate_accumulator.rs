//! The streaming accumulator on synthetic paths: any split of the paths, merged in any
//! order and grouping, gives a bit-identical report — with the percentiles exact and with
//! them sketched (the exact cap crossed) — its JSON form round-trips bit for bit, and its
//! size stops growing once the distributions are sketched.

use proptest::prelude::*;
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::report::PolicyPath;
use tollbooth_engine::simulate::stats::{
    percentile_note, PERCENTILE_NOTE, SKETCH_ALPHA, SKETCH_MAX_BUCKETS,
};
use tollbooth_engine::simulate::{Accumulator, PathOutcome, Shape, SimOptions, Simulation};

/// A small deterministic generator (no dependency): uniform in [0, 1) and standard normal.
struct Gen(u64);

impl Gen {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform().max(1e-300), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

/// A path with realistic magnitudes: a household of about $1.2 M, month-end values on a
/// random walk, costs and taxes that differ by policy, the first policy's trades recorded
/// on path 0.
fn synthetic(shape: &Shape, path: u64) -> PathOutcome {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15 ^ path.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let market: Vec<f64> = (0..shape.months).map(|_| 0.045 * g.normal()).collect();
    let policies = (0..shape.policies)
        .map(|p| {
            let tickets = (10.0 + 8.0 * p as f64 + 6.0 * g.uniform()).round();
            let mut value = 1.2e6;
            let (mut monthly_value, mut monthly_after_tax) = (Vec::new(), Vec::new());
            let (mut monthly_tickets, mut monthly_fees) = (Vec::new(), Vec::new());
            for (m, r) in market.iter().enumerate() {
                value *= 1.004 + r + 0.002 * g.normal();
                monthly_value.push(value);
                monthly_after_tax.push(value - 0.12 * (value - 1.2e6).max(0.0));
                let share = (m + 1) as f64 / shape.months as f64;
                monthly_tickets.push((tickets * share).floor());
                monthly_fees.push((tickets * share).floor() * 4.95);
            }
            let after_tax = *monthly_after_tax.last().unwrap_or(&1.2e6);
            PolicyPath {
                tickets,
                trades: tickets + (3.0 * g.uniform()).floor(),
                trade_days: (tickets / 2.0).floor(),
                policy_trade_days: (tickets / 3.0).floor(),
                commission: tickets * 4.95,
                regulatory: 0.01 * (200.0 * g.uniform()).round(),
                spread: 50.0 * g.uniform() * (p + 1) as f64,
                notional: 2e5 * (1.0 + g.uniform()) * (p + 1) as f64,
                taxes_paid: 3_000.0 * g.normal() + 1_000.0 * p as f64,
                harvest_gross: if p == 0 { 0.0 } else { 2e4 * g.uniform() },
                harvest_washed: if p == 0 { 0.0 } else { 1e3 * g.uniform() },
                flows: 1e4,
                start_value: 1.2e6,
                terminal_pretax: value,
                after_tax: after_tax + 1_500.0 * g.normal() * p as f64,
                avg_value: 1.25e6 + 5e4 * g.normal(),
                tracking_error: 0.01 * (1.0 + g.uniform()),
                avg_drift: 0.02 * g.uniform(),
                max_drift: 0.05 * g.uniform(),
                monthly_value,
                monthly_tickets,
                monthly_fees,
                monthly_after_tax,
                ..PolicyPath::default()
            }
        })
        .collect();
    PathOutcome {
        path,
        policies,
        trades: (path == 0).then(|| vec![Vec::new(); shape.policies]),
    }
}

fn options() -> SimOptions {
    SimOptions {
        paths: Some(30),
        years: Some(1),
        ..SimOptions::default()
    }
}

/// Splits `0..n` by `cuts` (sorted positions), fills one accumulator per part in a
/// scrambled push order, and merges the parts in the order `order` picks, as a left fold or
/// as a tree.
fn split_and_merge(
    shape: Shape,
    paths: &[PathOutcome],
    cuts: &[usize],
    rotate: usize,
    tree: bool,
) -> Accumulator {
    let mut bounds = vec![0];
    bounds.extend(cuts.iter().map(|&c| c % (paths.len() + 1)));
    bounds.push(paths.len());
    bounds.sort_unstable();
    let mut parts: Vec<Accumulator> = bounds
        .windows(2)
        .map(|w| {
            let mut a = Accumulator::with_shape(shape);
            let mut chunk: Vec<&PathOutcome> = paths[w[0]..w[1]].iter().collect();
            let len = chunk.len().max(1);
            chunk.rotate_left(rotate % len);
            for o in chunk {
                a.push(o.clone()).unwrap();
            }
            a
        })
        .collect();
    let len = parts.len();
    parts.rotate_left(rotate % len);
    if tree {
        while parts.len() > 1 {
            let mut next = Vec::new();
            let mut it = parts.into_iter();
            while let Some(mut a) = it.next() {
                if let Some(b) = it.next() {
                    a.merge(b).unwrap();
                }
                next.push(a);
            }
            parts = next;
        }
        parts.pop().unwrap()
    } else {
        let mut acc = Accumulator::new();
        for p in parts.into_iter().rev() {
            acc.merge(p).unwrap();
        }
        acc
    }
}

fn property(
    cap: u32,
    max_buckets: u32,
    cuts: Vec<usize>,
    rotate: usize,
    tree: bool,
) -> Result<(), TestCaseError> {
    let s = Scenario::demo();
    let sim = Simulation::new(&s, &options()).unwrap();
    let shape = Shape {
        exact_cap: cap,
        max_buckets,
        ..sim.shape()
    };
    let paths: Vec<PathOutcome> = (0..30).map(|p| synthetic(&shape, p)).collect();
    let mut whole = Accumulator::with_shape(shape);
    for o in &paths {
        whole.push(o.clone()).unwrap();
    }
    prop_assert_eq!(whole.is_exact(), cap >= 30);
    let expected = sim.report(&whole);
    let merged = split_and_merge(shape, &paths, &cuts, rotate, tree);
    prop_assert_eq!(merged.len(), 30);
    prop_assert_eq!(merged.recorded_path(), Some(0));
    prop_assert_eq!(
        merged.worst_relative_error().map(f64::to_bits),
        whole.worst_relative_error().map(f64::to_bits)
    );
    let got = sim.report(&merged);
    prop_assert_eq!(got.canonical_json(), expected.canonical_json());
    prop_assert_eq!(got.hash_hex(), expected.hash_hex());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Exact percentiles (30 paths ≤ cap).
    #[test]
    fn any_split_and_merge_order_gives_the_same_report(
        cuts in prop::collection::vec(0usize..31, 0..8),
        rotate in 0usize..30,
        tree in any::<bool>(),
    ) {
        property(1_000, SKETCH_MAX_BUCKETS, cuts, rotate, tree)?;
    }

    /// Sketched percentiles: the cap (10) is crossed within some parts and only at the
    /// merge in others.
    #[test]
    fn any_split_and_merge_order_gives_the_same_report_past_the_cap(
        cuts in prop::collection::vec(0usize..31, 0..8),
        rotate in 0usize..30,
        tree in any::<bool>(),
    ) {
        property(10, SKETCH_MAX_BUCKETS, cuts, rotate, tree)?;
    }

    /// Coarsened sketches: with 16 buckets at most, the parts reach their resolution
    /// levels at different times (some within a part, some only at a merge), yet the
    /// report, including its stated accuracy, is the same.
    #[test]
    fn any_split_and_merge_order_gives_the_same_report_when_coarsened(
        cuts in prop::collection::vec(0usize..31, 0..8),
        rotate in 0usize..30,
        tree in any::<bool>(),
    ) {
        property(10, 16, cuts, rotate, tree)?;
    }
}

/// With a small bucket limit the sketches coarsen, and the report says how far: the worst
/// accuracy appears in its assumptions, and is coarser than full resolution.
#[test]
fn the_report_states_the_accuracy_achieved() {
    let s = Scenario::demo();
    let sim = Simulation::new(&s, &options()).unwrap();
    let exact = sim.shape();
    let mut acc = Accumulator::with_shape(exact);
    for p in 0..30 {
        acc.push(synthetic(&exact, p)).unwrap();
    }
    assert_eq!(acc.worst_relative_error(), None);
    let note = |acc: &Accumulator| {
        sim.report(acc)
            .assumptions
            .into_iter()
            .find(|a| a.starts_with("Means are exact"))
            .unwrap()
    };
    assert_eq!(note(&acc), PERCENTILE_NOTE);
    for (max_buckets, coarse) in [(SKETCH_MAX_BUCKETS, false), (16, true)] {
        let shape = Shape {
            exact_cap: 10,
            max_buckets,
            ..exact
        };
        let mut acc = Accumulator::with_shape(shape);
        for p in 0..30 {
            acc.push(synthetic(&shape, p)).unwrap();
        }
        let worst = acc.worst_relative_error().unwrap();
        assert_eq!(worst > SKETCH_ALPHA, coarse, "{worst}");
        let text = note(&acc);
        assert_eq!(text, percentile_note(Some(worst), max_buckets));
        assert_ne!(text, PERCENTILE_NOTE);
        assert!(
            text.contains(if coarse {
                "at most 16 per distribution"
            } else {
                "at most 1,024 per distribution"
            }),
            "{text}"
        );
    }
}

/// The accumulator crosses the Web Worker boundary as JSON: it round-trips bit for bit,
/// exact and sketched, and the report from the decoded copy is the same.
#[test]
fn json_round_trips_bit_for_bit() {
    let s = Scenario::demo();
    let sim = Simulation::new(&s, &options()).unwrap();
    for cap in [1_000, 10] {
        let shape = Shape {
            exact_cap: cap,
            ..sim.shape()
        };
        let mut acc = Accumulator::with_shape(shape);
        for p in 0..30 {
            acc.push(synthetic(&shape, p)).unwrap();
        }
        let json = serde_json::to_string(&acc).unwrap();
        let back: Accumulator = serde_json::from_str(&json).unwrap();
        assert_eq!(back, acc);
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
        assert_eq!(sim.report(&back).hash_hex(), sim.report(&acc).hash_hex());
    }
}

/// The recorded path's trades can travel apart from the aggregates (a page reads them in
/// tasks of their own) and be put back: the report is the same; of two recorded paths the
/// lower is kept, whichever comes first.
#[test]
fn recorded_trades_travel_apart_and_come_back() {
    let s = Scenario::demo();
    let sim = Simulation::new(&s, &options()).unwrap();
    let acc = sim.run_range(0..3).unwrap();
    let whole = sim.report(&acc).hash_hex();
    let mut apart = acc.clone();
    let trades = apart.take_recorded().expect("path 0 is recorded");
    assert_eq!(trades.path, 0);
    assert!(!trades.policies[0].is_empty());
    assert_eq!(apart.recorded_path(), None);
    assert_ne!(sim.report(&apart).hash_hex(), whole);
    let json = serde_json::to_string(&trades.policies[0]).unwrap();
    let mut back = trades.clone();
    back.policies[0] = serde_json::from_str(&json).unwrap();
    assert_eq!(back, trades);
    // A higher path's trades do not replace a lower path's, in either order.
    let mut later = trades.clone();
    later.path = 7;
    let mut a = apart.clone();
    a.add_recorded(later.clone());
    a.add_recorded(back.clone());
    let mut b = apart;
    b.add_recorded(back);
    b.add_recorded(later);
    assert_eq!(a, b);
    assert_eq!(a, acc);
    assert_eq!(sim.report(&a).hash_hex(), whole);
    // Trades added before any path (an empty accumulator) survive the first merge.
    let mut early = Accumulator::new();
    early.add_recorded(trades);
    let mut rest = acc.clone();
    rest.take_recorded();
    early.merge(rest).unwrap();
    assert_eq!(early, acc);
}

/// Memory is hard-bounded: past the cap every sketch holds at most
/// [`SKETCH_MAX_BUCKETS`] buckets, so the serialized accumulator stays under a ceiling set
/// by the limit alone (each bucket `[key,count],` at most 24 bytes of JSON, plus the exact
/// sums and field names), smaller than at the cap, and stops growing once saturated (a store
/// of every path, as before the sketch, doubles with the paths: +100 %). Wide distributions
/// centred near zero coarsen instead of filling new buckets.
#[test]
fn the_accumulator_size_is_bounded_past_the_cap() {
    let shape = Shape::new(2, 0, 1.0, 12);
    let distributions = shape.policies * (20 + 2 * shape.months);
    let ceiling = distributions * (SKETCH_MAX_BUCKETS as usize * 24 + 2_000);
    let mut acc = Accumulator::with_shape(shape);
    let mut size_after = |paths: u64| {
        for p in acc.len()..paths {
            acc.push(synthetic(&shape, p)).unwrap();
        }
        (
            serde_json::to_string(&acc).unwrap().len(),
            acc.worst_relative_error(),
        )
    };
    let (at_cap, worst) = size_after(1_000);
    assert_eq!(worst, None);
    let (at_3000, _) = size_after(3_000);
    let (at_6000, _) = size_after(6_000);
    let (at_12000, worst) = size_after(12_000);
    let growth = at_12000 as f64 / at_6000 as f64 - 1.0;
    eprintln!(
        "accumulator JSON: 1,000 paths {at_cap} B, 3,000 {at_3000} B, 6,000 {at_6000} B, 12,000 {at_12000} B ({:+.1} % per doubling), ceiling {ceiling} B; worst α {worst:?}",
        100.0 * growth
    );
    for size in [at_3000, at_6000, at_12000] {
        assert!(
            size < ceiling && size < at_cap,
            "{size} vs {ceiling}, {at_cap}"
        );
    }
    assert!(growth < 0.05, "{at_6000} → {at_12000}");
    let worst = worst.unwrap();
    assert!((SKETCH_ALPHA..0.05).contains(&worst), "{worst}");
}
