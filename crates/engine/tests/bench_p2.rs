//! P2 reference instances (fixed fee per traded name): every instance within 0.5 % of
//! the proven optimum (the aim is the optimum itself).

use std::path::PathBuf;
use std::time::Instant;

use tollbooth_engine::optimize::instance::ReferenceInstance;
use tollbooth_engine::optimize::{Optimizer, Settings, Status};

fn files() -> Vec<PathBuf> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench/p2"
    ));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("bench directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn run(filter: impl Fn(usize) -> bool) {
    let mut worst = f64::NEG_INFINITY;
    let mut sum = 0.0;
    let mut count = 0;
    for f in files() {
        let inst: ReferenceInstance =
            serde_json::from_str(&std::fs::read_to_string(&f).expect("read")).expect("parse");
        let n = inst.target.len();
        if !filter(n) {
            continue;
        }
        let exact = inst.reference["exact"]["objective"].as_f64().unwrap();
        let settings = Settings::builder()
            .trade_tol(inst.trade_tol.unwrap_or(1e-9))
            .build()
            .unwrap();
        let t = Instant::now();
        let sol = Optimizer::new(&inst.to_problem(), settings)
            .unwrap()
            .solve();
        let secs = t.elapsed().as_secs_f64();
        let gap = (sol.objective - exact) / exact;
        eprintln!(
            "{:<26} n_traded {:>3} (ref {:>3}) gap {:+.3e} status {:?} nodes {} lb-gap {:.1e} {:.4}s",
            inst.id,
            sol.n_traded,
            inst.reference["exact"]["n_traded"],
            gap,
            sol.status,
            sol.nodes,
            (sol.objective - sol.lower_bound) / sol.objective,
            secs
        );
        assert!(gap <= 5e-3, "{}: gap {gap:e} over 0.5 %", inst.id);
        assert!(
            sol.lower_bound <= exact * (1.0 + 1e-8),
            "{}: bound above optimum",
            inst.id
        );
        assert!(matches!(
            sol.status,
            Status::Optimal | Status::NodeLimit | Status::TimeLimit
        ));
        worst = worst.max(gap);
        sum += gap;
        count += 1;
    }
    eprintln!(
        "P2: {count} instances, worst gap {worst:+.3e}, mean gap {:+.3e}",
        sum / count as f64
    );
}

#[test]
fn p2_up_to_200_names_within_half_a_percent_of_the_optimum() {
    run(|n| n <= 200);
}

/// The 500-name instances (about 0.3 s in release, a few seconds in debug).
#[test]
fn p2_500_names_within_half_a_percent_of_the_optimum() {
    run(|n| n > 200);
}
