//! P3 reference backtests (cvxportfolio): the calendar policy must reproduce the peer's
//! NAV path to 1e-9 relative at every point; the SPO policy is compared on turnover,
//! cost and NAV within documented tolerances, and its daily optimality is checked.

use std::path::PathBuf;

use tollbooth_engine::backtest::{run_calendar, run_spo, P3Instance};

fn load(name: &str) -> P3Instance {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench/p3"
    ))
    .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("parse")
}

#[test]
fn explore() {
    for f in ["p3_n020_s0.json", "p3_n050_s0.json"] {
        let inst = load(f);
        let r = inst.reference.clone().unwrap();
        let t0 = std::time::Instant::now();
        let c = run_calendar(&inst).unwrap();
        let t1 = t0.elapsed();
        let s = run_spo(&inst).unwrap();
        let t2 = t0.elapsed();
        eprintln!("{f} cal {:?} spo {:?}", t1, t2 - t1);
        let worst = c
            .nav
            .iter()
            .zip(&r.calendar.nav)
            .map(|(a, b)| ((a - b) / b).abs())
            .fold(0.0f64, f64::max);
        eprintln!(
            " cal nav worst {worst:e} to {} {} tc {} {} te {} {}",
            c.turnover_total,
            r.calendar.turnover_total,
            c.tcost_total,
            r.calendar.tcost_total,
            c.tracking_error_annualized,
            r.calendar.tracking_error_annualized
        );
        let worst = s
            .nav
            .iter()
            .zip(&r.spo.nav)
            .map(|(a, b)| ((a - b) / b).abs())
            .fold(0.0f64, f64::max);
        eprintln!(
            " spo nav worst {worst:e} to {} {} tc {} {} te {} {}",
            s.turnover_total,
            r.spo.turnover_total,
            s.tcost_total,
            r.spo.tcost_total,
            s.tracking_error_annualized,
            r.spo.tracking_error_annualized
        );
        for d in 0..8 {
            eprintln!(
                "  d{d} to {:.6e} {:.6e} tc {:.6e} {:.6e}",
                s.turnover_series[d],
                r.spo.turnover_series[d],
                s.tcost_series[d],
                r.spo.tcost_series[d].unwrap()
            );
        }
    }
}
