//! P1 reference instances: every instance and every warm-start variant must match the
//! KKT-certified reference objective to 1e-8 relative, by both methods.

use std::path::PathBuf;

use tollbooth_engine::optimize::instance::ReferenceInstance;
use tollbooth_engine::optimize::{Method, Optimizer, Settings, Status};

fn bench_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench"
    ))
}

fn instances(dir: &str) -> Vec<ReferenceInstance> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(bench_dir().join(dir))
        .expect("bench directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| serde_json::from_str(&std::fs::read_to_string(f).expect("read")).expect("parse"))
        .collect()
}

fn check(method: Method) {
    let mut worst = 0.0f64;
    let mut count = 0;
    for inst in instances("p1") {
        let settings = Settings::builder().method(method).build().unwrap();
        let mut opt = Optimizer::new(&inst.to_problem(), settings).unwrap();
        let mut cases = vec![(
            inst.w0.clone(),
            inst.reference["objective"].as_f64().unwrap(),
            inst.reference["w"].clone(),
        )];
        for (j, w0) in inst.warm_start_w0.iter().enumerate() {
            let r = &inst.reference["warm_start"][j];
            cases.push((w0.clone(), r["objective"].as_f64().unwrap(), r["w"].clone()));
        }
        for (j, (w0, obj, w_ref)) in cases.into_iter().enumerate() {
            opt.set_current(&w0).unwrap();
            let sol = opt.solve();
            assert_eq!(sol.status, Status::Optimal, "{} case {j}", inst.id);
            let rel = (sol.objective - obj) / obj.abs();
            worst = worst.max(rel.abs());
            count += 1;
            assert!(
                rel.abs() <= 1e-8,
                "{} case {j} ({method:?}): objective {} vs reference {obj} (rel {rel:e})",
                inst.id,
                sol.objective
            );
            let w_ref: Vec<f64> = serde_json::from_value(w_ref).unwrap();
            let dw = sol
                .w
                .iter()
                .zip(&w_ref)
                .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
            assert!(dw <= 1e-6, "{} case {j}: weights differ by {dw:e}", inst.id);
            assert!((sol.w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!(sol.w.iter().all(|&x| x >= 0.0));
        }
    }
    eprintln!("P1 {method:?}: {count} cases, worst relative objective gap {worst:e}");
}

#[test]
fn p1_active_set_matches_reference_objectives() {
    check(Method::ActiveSet);
}

#[test]
fn p1_clarabel_with_polish_matches_reference_objectives() {
    check(Method::Clarabel);
}
