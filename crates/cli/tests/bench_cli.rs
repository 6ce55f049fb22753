//! `tollbooth bench --quick --json` on the shared reference problems: every family is
//! there, every answer within tolerance of the peers'.

use std::process::Command;

use serde_json::Value;

fn bench_dir() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/bench").to_string()
}

fn tollbooth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(args)
        .output()
        .expect("run tollbooth")
}

fn num(row: &Value, key: &str) -> f64 {
    row[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {row}"))
}

fn rows<'a>(out: &'a Value, key: &str) -> &'a Vec<Value> {
    out[key]["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no {key}.rows"))
}

/// The instances of one family with N ≤ 50 (what `--quick` keeps), by id.
fn quick_ids(family: &str) -> Vec<String> {
    let dir = format!("{}/{family}", bench_dir());
    let mut ids: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter_map(|p| {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (v["n"].as_u64().unwrap() <= 50).then(|| v["id"].as_str().unwrap().to_string())
        })
        .collect();
    ids.sort();
    ids
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn quick_json_covers_every_family_within_tolerance() {
    let dir = bench_dir();
    let out = tollbooth(&["bench", "--quick", "--json", "--dir", &dir]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["quick"], true);
    assert_eq!(v["repeat"], 1);
    assert_eq!(
        v["build"],
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );

    // P1: every file with N ≤ 50; default, warm and Clarabel objectives to 1e-8.
    let p1 = rows(&v, "p1");
    assert_eq!(ids(p1), quick_ids("p1"));
    for r in p1 {
        assert_eq!(r["status"], "optimal", "{r}");
        assert_eq!(r["all_optimal"], true, "{r}");
        for key in [
            "objective_rel_err",
            "warm_objective_rel_err",
            "clarabel_objective_rel_err",
        ] {
            assert!(num(r, key) <= 1e-8, "{key}: {r}");
        }
        assert_eq!(r["warm_resolves"], 5, "{r}");
        for key in ["ours_s", "ours_warm_s", "clarabel_rust_s"] {
            assert!(num(r, key) > 0.0, "{key}: {r}");
        }
        let rel = (num(r, "objective") - num(r, "reference_objective")).abs()
            / num(r, "reference_objective");
        assert!((rel - num(r, "objective_rel_err")).abs() <= 1e-15, "{r}");
        // Peer times: the README's N = 50 figures, none elsewhere.
        if r["n"] == 50 {
            for (key, ms) in [
                ("peer_cvxpy_s", 14.0),
                ("peer_cvxpy_warm_s", 1.8),
                ("peer_clarabel_call_s", 1.0),
            ] {
                assert!((num(r, key) - ms / 1e3).abs() <= 1e-15, "{key}: {r}");
            }
        } else {
            assert!(r["peer_cvxpy_s"].is_null(), "{r}");
        }
    }
    assert!(num(&v["p1"]["summary"], "worst_rel_err") <= 1e-8);

    // P2: gap vs the proven optimum within 0.5 %, SCIP's time from the file.
    let p2 = rows(&v, "p2");
    assert_eq!(ids(p2), quick_ids("p2"));
    for r in p2 {
        assert_eq!(r["status"], "optimal", "{r}");
        let gap = num(r, "gap");
        assert!((-1e-9..=5e-3).contains(&gap), "gap {gap}: {r}");
        assert!(num(r, "peer_scip_s") > 0.0, "{r}");
        let speedup = num(r, "speedup");
        assert!(
            (speedup - num(r, "peer_scip_s") / num(r, "ours_s")).abs() <= 1e-9 * speedup,
            "{r}"
        );
    }
    assert_eq!(v["p2"]["summary"]["instances"], p2.len());
    assert!(num(&v["p2"]["summary"], "worst_gap") <= 5e-3);

    // P3: calendar NAV exact to 1e-9; SPO turnover within the peer's solver accuracy.
    let p3 = rows(&v, "p3");
    assert_eq!(ids(p3), quick_ids("p3"));
    assert!(!p3.is_empty());
    for r in p3 {
        assert!(num(r, "calendar_nav_max_rel_err") <= 1e-9, "{r}");
        assert!(num(r, "spo_turnover_rel_diff") <= 5e-3, "{r}");
        assert!(
            num(r, "peer_calendar_s") > 1.0 && num(r, "peer_spo_s") > 1.0,
            "{r}"
        );
        assert!(num(r, "calendar_s") > 0.0 && num(r, "spo_s") > 0.0, "{r}");
    }

    // P4: Ledoit–Wolf to rounding.
    let p4 = rows(&v, "p4");
    assert_eq!(ids(p4), quick_ids("p4"));
    for r in p4 {
        assert!(num(r, "max_rel_err") <= 1e-12, "{r}");
        assert!(num(r, "shrinkage_abs_err") <= 1e-12, "{r}");
    }

    for key in ["p1", "p2", "p3", "p4"] {
        let text = v[key]["summary_text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("{}:", key.to_uppercase())),
            "{text}"
        );
    }
}

#[test]
fn table_has_one_section_and_summary_per_family() {
    // Cheap: a directory holding one P1 file and empty families.
    let dir = bench_dir();
    let tmp = std::env::temp_dir().join(format!("tollbooth-bench-{}", std::process::id()));
    for fam in ["p1", "p2", "p3", "p4"] {
        std::fs::create_dir_all(tmp.join(fam)).unwrap();
    }
    std::fs::copy(
        format!("{dir}/p1/p1_n005_s0.json"),
        tmp.join("p1/p1_n005_s0.json"),
    )
    .unwrap();
    let out = tollbooth(&[
        "bench",
        "--repeat",
        "2",
        "--sim-paths",
        "1",
        "--dir",
        tmp.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&tmp).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.starts_with("instance"))
        .unwrap();
    assert!(lines[header + 1].chars().all(|c| c == '-'));
    let row = lines[header + 2];
    assert!(row.starts_with("p1_n005_s0"), "{row}");
    // Aligned: the row is as wide as the rule under the header.
    assert_eq!(
        row.chars().count(),
        lines[header + 1].chars().count(),
        "{text}"
    );
    for fam in ["P1:", "P2:", "P3:", "P4:"] {
        assert!(lines.iter().any(|l| l.starts_with(fam)), "{fam} in {text}");
    }
    if cfg!(debug_assertions) {
        assert!(String::from_utf8_lossy(&out.stderr).contains("debug build"));
    }
}

#[test]
fn bad_arguments_are_refused() {
    for (args, msg) in [
        (vec!["bench", "--repeat", "0"], "positive integer"),
        (vec!["bench", "--frobnicate"], "unknown argument"),
        (vec!["bench", "--sim-paths", "0"], "positive integer"),
        (
            vec!["bench", "--dir", "/nonexistent"],
            "no reference problems",
        ),
    ] {
        let out = tollbooth(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(msg),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
}
