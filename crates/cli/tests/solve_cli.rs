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

fn run_p3(rel: &str, policy: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollbooth"));
    cmd.args(["solve", &bench(rel)]);
    if let Some(p) = policy {
        cmd.args(["--policy", p]);
    }
    cmd.output().expect("run tollbooth")
}

#[test]
fn backtests_a_p3_file_with_both_policies() {
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bench("p3/p3_n020_s0.json")).unwrap())
            .unwrap();
    for policy in ["calendar", "spo"] {
        let out = run_p3("p3/p3_n020_s0.json", Some(policy));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let a: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        let r = &file["reference"][policy];
        let nav = a["nav"].as_array().unwrap();
        let rnav = r["nav"].as_array().unwrap();
        assert_eq!(nav.len(), rnav.len());
        // Calendar: exact accounting; SPO: within the peer's solver accuracy.
        let tol = if policy == "calendar" { 1e-9 } else { 5e-5 };
        for (x, y) in nav.iter().zip(rnav) {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(((x - y) / y).abs() <= tol, "{policy}: {x} vs {y}");
        }
        let tol = if policy == "calendar" { 1e-12 } else { 5e-3 };
        for key in ["turnover_total", "tcost_total"] {
            let (x, y) = (a[key].as_f64().unwrap(), r[key].as_f64().unwrap());
            assert!(((x - y) / y).abs() <= tol, "{policy} {key}: {x} vs {y}");
        }
        let te = a["tracking_error_annualized"].as_f64().unwrap();
        let rte = r["tracking_error_annualized"].as_f64().unwrap();
        assert!(
            ((te - rte) / rte).abs() <= 1e-2,
            "{policy}: TE {te} vs {rte}"
        );
        let secs = a["wall_seconds"].as_f64().unwrap();
        assert!((0.0..60.0).contains(&secs));
        assert_eq!(a.as_object().unwrap().len(), 5);
    }
}

#[test]
fn p3_needs_a_known_policy() {
    for (policy, msg) in [
        (None, "needs `--policy"),
        (Some("monthly"), "unknown policy"),
    ] {
        let out = run_p3("p3/p3_n020_s0.json", policy);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(msg),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_malformed_instance_is_refused_in_the_files_words() {
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bench("p1/p1_n005_s0.json")).unwrap())
            .unwrap();
    let dir = std::env::temp_dir().join(format!("tollbooth-solve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, edit, msg) in [
        (
            "short_w0",
            (|f: &mut serde_json::Value| {
                f["w0"].as_array_mut().unwrap().pop();
            }) as fn(&mut serde_json::Value),
            "`w0` has 4 entries, expected 5",
        ),
        (
            "short_warm_start",
            |f: &mut serde_json::Value| {
                f["warm_start_w0"][2].as_array_mut().unwrap().pop();
            },
            "`warm_start_w0[2]` has 4 weights, expected 5",
        ),
    ] {
        let mut f = file.clone();
        edit(&mut f);
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, f.to_string()).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_tollbooth"))
            .args(["solve", path.to_str().unwrap()])
            .output()
            .expect("run tollbooth");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}");
        assert!(err.contains(msg), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
