//! Ledoit–Wolf shrinkage against scikit-learn on every P4 reference instance.

use serde_json::Value;
use std::path::PathBuf;
use tollbooth_engine::market::ledoit_wolf;

fn bench_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/bench/p4"
    ))
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("array of rows")
        .iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|x| x.as_f64().expect("number"))
                .collect()
        })
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / b.abs().max(a.abs())
    }
}

#[test]
fn matches_sklearn_on_every_p4_instance() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(bench_dir())
        .expect("shared/bench/p4 is present")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 9,
        "expected the 9 P4 instances, found {}",
        files.len()
    );
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        let doc: Value = serde_json::from_str(&text).expect("valid JSON");
        let returns = matrix(&doc["returns"]);
        let reference = &doc["reference"]["sklearn_ledoit_wolf"];
        let want_cov = matrix(&reference["covariance"]);
        let want_delta = reference["shrinkage"].as_f64().expect("shrinkage");
        let (cov, delta) = ledoit_wolf(&returns).expect("valid returns");
        assert!(
            rel(delta, want_delta) <= 1e-10,
            "{}: shrinkage {delta} vs {want_delta}",
            file.display()
        );
        assert_eq!(cov.len(), want_cov.len());
        let mut worst = 0.0f64;
        for (row, want_row) in cov.iter().zip(&want_cov) {
            for (&a, &b) in row.iter().zip(want_row) {
                worst = worst.max(rel(a, b));
            }
        }
        assert!(
            worst <= 1e-10,
            "{}: covariance max relative error {worst:e}",
            file.display()
        );
    }
}

#[test]
fn rejects_ragged_and_non_finite_input() {
    let ragged = vec![vec![0.01, 0.02], vec![0.03]];
    let err = ledoit_wolf(&ragged).unwrap_err().to_string();
    assert!(err.contains("returns[1]"), "{err}");
    let nan = vec![vec![0.01, 0.02], vec![0.03, f64::NAN]];
    let err = ledoit_wolf(&nan).unwrap_err().to_string();
    assert!(err.contains("returns[1][1]"), "{err}");
    assert!(ledoit_wolf(&[]).is_err());
}

#[test]
fn constant_columns_do_not_divide_by_zero() {
    let flat = vec![vec![0.25, -0.5]; 10];
    let (cov, delta) = ledoit_wolf(&flat).unwrap();
    assert_eq!(delta, 0.0);
    assert!(cov.iter().flatten().all(|v| *v == 0.0));
}
