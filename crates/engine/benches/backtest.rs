//! Backtest benchmarks on the shared P3 reference instances (`../shared/bench/p3`):
//! five years of daily data (1,259 periods), N = 20 and 50.
//!
//! - `p3/calendar/N`: the calendar policy (trade back to the target every 21 days);
//! - `p3/spo/N`: single-period optimisation every day (one warm-started solve a day).
//!
//! The peer (cvxportfolio) takes 14 s (calendar) and 19 s (SPO) at N = 50.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tollbooth_engine::backtest::{run_calendar, run_spo, P3Instance};

fn load(n: usize) -> P3Instance {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench/p3"
    ))
    .join(format!("p3_n{n:03}_s0.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("parse")
}

fn p3(c: &mut Criterion) {
    let mut g = c.benchmark_group("p3");
    g.sample_size(20);
    for n in [20usize, 50] {
        let inst = load(n);
        g.bench_with_input(BenchmarkId::new("calendar", n), &inst, |b, i| {
            b.iter(|| run_calendar(i).expect("calendar").final_value())
        });
        g.bench_with_input(BenchmarkId::new("spo", n), &inst, |b, i| {
            b.iter(|| run_spo(i).expect("spo").final_value())
        });
    }
    g.finish();
}

criterion_group!(benches, p3);
criterion_main!(benches);
