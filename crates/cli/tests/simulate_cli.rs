//! `tollbooth simulate` end to end.

use std::process::Command;

fn tollbooth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(args)
        .output()
        .expect("run tollbooth")
}

fn household_file() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engine/testdata/scenarios/household.json"
    )
    .to_string()
}

#[test]
fn simulates_the_demo_file() {
    let out = tollbooth(&[
        "simulate",
        &household_file(),
        "--paths",
        "2",
        "--years",
        "1",
        "--seed",
        "5",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    assert_eq!(r["paths"], 2);
    assert_eq!(r["seed"], 5);
    assert_eq!(r["horizon_years"], 1);
    assert_eq!(r["policies"].as_array().unwrap().len(), 3);
    assert_eq!(r["report_hash"].as_str().unwrap().len(), 16);
    assert!(r["definitions"].as_array().unwrap().len() > 10);
    // Same inputs, same report.
    let again = tollbooth(&[
        "simulate",
        &household_file(),
        "--paths",
        "2",
        "--years",
        "1",
        "--seed",
        "5",
    ]);
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn simulates_a_preset_and_writes_the_trade_list() {
    let dir = std::env::temp_dir().join(format!("tollbooth-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("trades.csv");
    let out = tollbooth(&[
        "simulate",
        "--preset",
        "seed_firm",
        "--paths",
        "1",
        "--years",
        "1",
        "--trades-csv",
        csv.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    // The printed report's provenance line, then the header.
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON report");
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    assert!(first.starts_with("# scenario,"), "{first}");
    let s = |k: &str| r[k].to_string().trim_matches('"').to_string();
    let want = format!(
        ",hash,{},seed,{},paths,1,years,1,engine,{},report,{}",
        s("scenario_hash"),
        s("seed"),
        s("engine_version"),
        s("report_hash")
    );
    assert!(first.ends_with(&want), "{first} vs {want}");
    assert!(lines.next().unwrap().starts_with("policy,date,account"));
    assert!(text.lines().count() > 10);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_input_is_a_message_not_a_panic() {
    for args in [
        vec!["simulate", "--preset", "household", "--paths", "0"],
        vec!["simulate", "--preset", "household", "--years", "0"],
        vec!["simulate", "--preset", "nope"],
        vec!["simulate", "--paths", "x"],
        vec!["simulate", "/no/such/file.json"],
        vec!["simulate"],
    ] {
        let out = tollbooth(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("tollbooth:"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let out = tollbooth(&["simulate", "--preset", "household", "--paths", "0"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("paths must be at least 1"));
}

#[test]
fn the_report_is_the_same_on_any_thread_count() {
    let hash = |threads: &str| {
        let out = tollbooth(&[
            "simulate",
            "--preset",
            "six_policies",
            "--paths",
            "5",
            "--years",
            "1",
            "--threads",
            threads,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(r["policies"].as_array().unwrap().len(), 6);
        r["report_hash"].as_str().unwrap().to_string()
    };
    let one = hash("1");
    for t in ["2", "3", "7"] {
        assert_eq!(hash(t), one, "--threads {t}");
    }
    for bad in ["0", "257", "18446744073709551615", "two"] {
        let out = tollbooth(&["simulate", "--preset", "household", "--threads", bad]);
        assert!(!out.status.success(), "--threads {bad}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("`--threads` must be a whole number from 1 to 256"),
            "--threads {bad}: {err}"
        );
    }
    let out = tollbooth(&["batch", "--preset", "household", "--threads", "100000"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("from 1 to 256"));
}

/// Regression: `--paths` had no upper bound and `--years 101` ran, although a scenario
/// file allows at most 1,000,000 paths and 100 years.
#[test]
fn paths_and_years_above_the_scenario_file_limits_are_refused() {
    for (args, needle) in [
        (
            ["--paths", "1000001"],
            "`--paths 1000001` is above the limit of 1000000 paths",
        ),
        (
            ["--years", "101"],
            "`--years 101` is above the limit of 100 years",
        ),
    ] {
        let out = tollbooth(&["simulate", &household_file(), args[0], args[1]]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
}

/// `tollbooth break-even` re-simulates until the crossing is bracketed, the same on one
/// thread or two, and names a policy it cannot search.
#[test]
fn break_even_confirms_the_estimate_by_re_simulation() {
    let file = household_file();
    let run = |threads: &str| {
        let out = tollbooth(&[
            "break-even",
            &file,
            "--policy",
            "Daily TLH (household guard)",
            "--paths",
            "2",
            "--years",
            "2",
            "--threads",
            threads,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let one = run("1");
    assert_eq!(one, run("2"), "the search is the same for any thread count");
    let r: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(r["policy"], "Daily TLH (household guard)");
    assert_eq!(r["paths"], 2);
    let trials = r["trials"].as_array().unwrap();
    assert!(trials.len() >= 2, "{r}");
    assert!(
        trials[0]["fee"].is_null(),
        "the first trial is today's fees"
    );
    assert_eq!(trials[0]["estimate"], r["estimate"]);
    assert!(
        r["conclusion"]
            .as_str()
            .unwrap()
            .starts_with("Daily TLH (household guard)"),
        "{r}"
    );
    let kind = r["confirmed"]["kind"].as_str().unwrap();
    assert!(
        ["crossing", "unresolved", "never_wins", "always_wins"].contains(&kind),
        "{r}"
    );

    let out = tollbooth(&["break-even", &file, "--policy", "Quarterly calendar"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "`Quarterly calendar` is not one of the scenario's policies other than the baseline"
        ),
        "{err}"
    );
    let out = tollbooth(&["break-even", &file]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("`--policy NAME` is required"));
}
