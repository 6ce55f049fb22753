//! Monte Carlo market generation: 10 years of daily steps for 20 securities, 100 paths.
//! Throughput is in steps (one business day of all 20 securities): ns/step = 1e9 / it.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use tollbooth_engine::date::Date;
use tollbooth_engine::market::{Assumptions, MarketModel, MarketPath, SecuritySpec};

fn model_20_securities() -> MarketModel {
    let start = Date::from_ymd(2026, 1, 2).expect("valid date");
    let a = Assumptions::with_defaults(start, 10);
    let mut secs = Vec::new();
    for c in 0..8 {
        secs.push(SecuritySpec::new(format!("S{c}"), c, 0.03, 0.02));
    }
    for c in 0..8 {
        secs.push(SecuritySpec::new(format!("P{c}"), c, 0.03, 0.02).partner_of(c));
    }
    for c in 0..4 {
        secs.push(SecuritySpec::new(format!("X{c}"), c, 0.25, 0.01));
    }
    MarketModel::new(&a, &secs).expect("valid market")
}

fn bench(c: &mut Criterion) {
    let model = model_20_securities();
    let paths = 100u64;
    let steps = model.n_steps() as u64 * paths;
    let mut g = c.benchmark_group("market");
    g.sample_size(10);
    g.throughput(Throughput::Elements(steps));
    g.bench_function("generate_10y_daily_20_securities_100_paths", |b| {
        b.iter_batched(
            || (),
            |_| {
                let mut acc = 0.0;
                for p in 0..paths {
                    let mut path = model.path(42, p);
                    while let Some(step) = path.next_step() {
                        acc += step.returns[0] + step.dividends[19];
                    }
                }
                black_box(acc)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
