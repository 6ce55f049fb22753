//! `tollbooth solve` on one P1 and one P2 reference file.

use std::process::Command;

fn bench(rel: &str) -> String {
    format!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/bench/{}"),
        rel
    )
}

fn solve(rel: &str) -> (serde_json::Value, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(["solve", &bench(rel)])
        .output()
        .expect("run tollbooth");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bench(rel)).unwrap()).unwrap();
    (answer, file)
}

#[test]
fn solves_a_p1_file() {
    let (a, f) = solve("p1/p1_n050_s0.json");
    assert_eq!(a["status"], "optimal");
    let obj = a["objective"].as_f64().unwrap();
    let r = f["reference"]["objective"].as_f64().unwrap();
    assert!(((obj - r) / r).abs() < 1e-8, "{obj} vs {r}");
    assert_eq!(a["w"].as_array().unwrap().len(), 50);
    assert_eq!(a["n_traded"], f["reference"]["n_traded"]);
    assert!(a["solve_seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn solves_a_p2_file() {
    let (a, f) = solve("p2/p2_n050_s0_medium.json");
    assert_eq!(a["status"], "optimal");
    let obj = a["objective"].as_f64().unwrap();
    let r = f["reference"]["exact"]["objective"].as_f64().unwrap();
    assert!((obj - r) / r < 5e-3, "{obj} vs {r}");
    assert_eq!(a["n_traded"], f["reference"]["exact"]["n_traded"]);
}

#[test]
fn p3_is_refused_until_implemented() {
    let out = Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args([
            "solve",
            &bench("p3/p3_n020_s0.json"),
            "--policy",
            "calendar",
        ])
        .output()
        .expect("run tollbooth");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not implemented"));
    assert!(out.stdout.is_empty());
}
