use std::time::Instant;
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::{six_policies, SimOptions, Simulation};

fn main() {
    let paths: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(8);
    let only: Option<usize> = std::env::args().nth(2).and_then(|s| s.parse().ok());
    let full = six_policies();
    let opts = SimOptions {
        paths: Some(paths),
        years: Some(10),
        ..SimOptions::default()
    };
    let sim = Simulation::new(&full, &opts).expect("valid");
    let t = Instant::now();
    for p in 0..paths {
        std::hint::black_box(sim.run_path(p + 1).expect("path"));
    }
    println!(
        "all six: {:.2} ms/path",
        t.elapsed().as_secs_f64() * 1e3 / paths as f64
    );
    for (i, pol) in full.policies.iter().enumerate() {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let t = Instant::now();
        for p in 0..paths {
            std::hint::black_box(sim.run_path_part(p + 1, &[i]).expect("path"));
        }
        println!(
            "{:>40}: {:.2} ms/path",
            pol.name,
            t.elapsed().as_secs_f64() * 1e3 / paths as f64
        );
    }
    let _ = Scenario::demo;
}
