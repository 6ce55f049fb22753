//! `tollbooth trades` on the demo household: JSON, CSV and bad input.

use std::process::Command;

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../engine/testdata/scenarios/household.json"
);

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .arg("trades")
        .args(args)
        .output()
        .expect("run tollbooth")
}

#[test]
fn prints_todays_trades_as_json_and_csv() {
    let out = run(&[DEMO, "--policy", "Daily TLH (household guard)"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["policy"], "Daily TLH (household guard)");
    // A policy without the cost-aware rule trades by its own rules: nothing is optimised,
    // so there is no objective, bound or gap, and rules do not price risk.
    assert_eq!(v["status"], "rules");
    assert!(v["gap"].is_null() && v["objective"].is_null());
    let trades = v["trades"].as_array().unwrap();
    assert!(trades.iter().all(|t| t["risk_reduction"].is_null()));
    // Today it harvests the joint account's VTEB loss (its lots named as in the scenario)
    // and buys the partner, MUB.
    let harvest = trades
        .iter()
        .find(|t| t["reason"] == "harvest")
        .expect("a harvest");
    assert_eq!(
        (&harvest["account"], &harvest["symbol"]),
        (&"joint".into(), &"VTEB".into())
    );
    assert!(harvest["tax_effect"].as_f64().unwrap() < 0.0);
    // Netted for the year, the harvest saves the $3,000 limit's worth at the ordinary
    // rates (37 %) and carries the rest of its loss forward.
    let year = &v["year_tax"];
    assert!(
        (year["tax"].as_f64().unwrap() + 1_110.0).abs() < 1e-9,
        "{year}"
    );
    assert!(
        year["carried_forward"].as_f64().unwrap() > 1_000.0,
        "{year}"
    );
    for lot in harvest["lots"].as_array().unwrap() {
        assert!(!lot["label"].as_str().unwrap().starts_with('#'), "{lot}");
    }
    assert!(trades
        .iter()
        .any(|t| t["reason"] == "partner_swap" && t["symbol"] == "MUB"));

    // The cost-aware policy gets the household optimizer's proven trade list.
    let out = run(&[DEMO, "--policy", "Cost-aware optimizer"]);
    let opt: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert!(matches!(
        opt["status"].as_str(),
        Some("optimal" | "feasible")
    ));
    let gap = opt["gap"].as_f64().unwrap();
    assert!((0.0..=0.005).contains(&gap), "{gap}");
    assert!(opt["lower_bound"].as_f64().unwrap() <= opt["objective"].as_f64().unwrap() + 1e-6);
    assert!(!trades.is_empty());
    assert_eq!(v["tickets"].as_u64().unwrap() as usize, trades.len());
    for t in trades {
        assert!(t["explanation"]
            .as_str()
            .unwrap()
            .contains(t["symbol"].as_str().unwrap()));
        assert!(t["fees"]["commission"].as_f64().is_some());
        assert!(t["reason"].as_str().is_some());
    }
    assert!(trades
        .iter()
        .any(|t| t["side"] == "sell" && !t["lots"].as_array().unwrap().is_empty()));

    let out = run(&[DEMO, "--policy", "Daily TLH (household guard)", "--csv"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    // What the trades were worked out from, as the page's export says it.
    let scenario =
        tollbooth_engine::scenario::Scenario::from_json(&std::fs::read_to_string(DEMO).unwrap())
            .unwrap();
    assert_eq!(
        lines.next().unwrap(),
        tollbooth_engine::Provenance::of_scenario(&scenario)
            .csv_line()
            .trim_end()
    );
    // The page's export of today's trades: one writer, one set of columns.
    assert_eq!(
        lines.next().unwrap(),
        tollbooth_engine::household::TRADE_LIST_CSV_HEADER
    );
    let rows: Vec<&str> = lines.collect();
    let (last, rows) = rows.split_last().unwrap();
    assert!(last.starts_with("# year_tax,"), "{last}");
    assert_eq!(rows.len(), trades.len());
    for (row, t) in rows.iter().zip(trades) {
        let expected = format!(
            "Daily TLH (household guard),{},{},{},",
            v["as_of"].as_str().unwrap(),
            t["account"].as_str().unwrap(),
            t["symbol"].as_str().unwrap()
        );
        assert!(row.starts_with(&expected), "{row}");
        // The explanation holds commas: it is quoted.
        assert!(row.ends_with('"'), "{row}");
    }
}

#[test]
fn a_later_trade_date_and_the_default_policy_work() {
    let out = run(&[DEMO, "--as-of", "2026-12-31"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["as_of"], "2026-12-31");
    assert_eq!(v["policy"], "Cost-aware optimizer");
}

#[test]
fn bad_input_is_a_clear_error() {
    let out = run(&[DEMO, "--policy", "No such policy"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no policy named `No such policy`"), "{err}");
    assert!(err.contains("Quarterly calendar"), "{err}");

    let out = run(&["/nonexistent/scenario.json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reading /nonexistent/scenario.json"));

    let bad =
        std::env::temp_dir().join(format!("tollbooth-trades-bad-{}.json", std::process::id()));
    std::fs::write(&bad, "{ not json").unwrap();
    let out = run(&[bad.to_str().unwrap()]);
    let _ = std::fs::remove_file(&bad);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));

    let out = run(&[DEMO, "--as-of", "yesterday"]);
    assert!(!out.status.success());
    let out = run(&[DEMO, "--as-of", "2000-01-01"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("before the scenario's date"));
}
