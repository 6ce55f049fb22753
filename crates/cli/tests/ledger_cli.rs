//! `tollbooth ledger` end to end: a worked vector, and bad inputs that must fail with a
//! message naming the place.

use std::path::PathBuf;
use std::process::{Command, Output};

fn tollbooth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(args)
        .output()
        .expect("tollbooth runs")
}

fn shared_vector(name: &str) -> String {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/ledger"
    ))
    .join(name)
    .to_string_lossy()
    .into_owned()
}

/// Writes `json` to a fresh temporary file and returns its path.
fn temp_case(tag: &str, json: &serde_json::Value) -> String {
    let dir = std::env::temp_dir().join(format!("tollbooth-ledger-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{tag}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(json).expect("json")).expect("write");
    path.to_string_lossy().into_owned()
}

fn base() -> serde_json::Value {
    serde_json::json!({
        "lot_method": "fifo",
        "accounts": [{"id": "T", "kind": "taxable", "owner": "A"},
                     {"id": "IRA", "kind": "traditional_ira", "owner": "A"}],
        "securities": [{"symbol": "XYZ", "group": "XYZ"}],
        "lots": [{"account": "T", "symbol": "XYZ", "quantity": 100, "basis": 1000.0,
                  "acquired": "2026-01-05"}],
        "trades": [
            {"date": "2026-03-02", "account": "T", "symbol": "XYZ", "side": "sell",
             "quantity": 100, "price": 7.5},
            {"date": "2026-03-10", "account": "IRA", "symbol": "XYZ", "side": "buy",
             "quantity": 100, "price": 8.0},
            {"date": "2026-03-12", "account": "T", "symbol": "XYZ", "side": "buy",
             "quantity": 10, "price": 8.0},
            {"date": "2026-03-13", "account": "T", "symbol": "XYZ", "side": "sell",
             "quantity": 10, "price": 8.1}
        ]
    })
}

/// Runs a bad case; asserts failure and that stderr contains every `needles` entry.
fn assert_rejected(tag: &str, case: serde_json::Value, needles: &[&str]) {
    let path = temp_case(tag, &case);
    let out = tollbooth(&["ledger", &path]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "{tag}: should fail, stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(out.stdout.is_empty(), "{tag}: no report on failure");
    for n in needles {
        assert!(
            err.contains(n),
            "{tag}: stderr {err:?} should contain {n:?}"
        );
    }
}

#[test]
fn replays_a_shared_vector() {
    let out = tollbooth(&[
        "ledger",
        &shared_vector("rev-rul-2008-5-ira-replacement.json"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["sales"][0]["trade"], 0);
    assert_eq!(report["sales"][0]["disallowed"], 250.0);
    assert_eq!(report["permanently_disallowed"], 250.0);
    assert_eq!(report["lots"][0]["account"], "IRA");
    assert_eq!(report["lots"][0]["basis"], 800.0);
    assert_eq!(report["lots"][0]["holding_start"], "2026-03-10");
    let keys: Vec<&String> = report.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["lots", "permanently_disallowed", "sales"]);
}

#[test]
fn valid_base_case_replays() {
    let path = temp_case("valid", &base());
    let out = tollbooth(&["ledger", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    // Two taxable sales; the first is washed by the IRA purchase, for good.
    assert_eq!(report["sales"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["permanently_disallowed"], 250.0);
    // The same case saved with a byte-order mark reads the same.
    let bom = format!("\u{feff}{}", std::fs::read_to_string(&path).expect("case"));
    let bom_path = format!("{path}.bom.json");
    std::fs::write(&bom_path, bom).expect("write");
    let again = tollbooth(&["ledger", &bom_path]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn shortfall_names_the_trade() {
    let mut c = base();
    c["trades"][0]["quantity"] = 120.into();
    assert_rejected(
        "shortfall",
        c,
        &["trades[0]: sells 120 XYZ in account T but only 100 are held"],
    );
}

#[test]
fn bad_date_names_the_field() {
    let mut c = base();
    c["lots"][0]["acquired"] = "2026-02-30".into();
    assert_rejected("bad-date", c, &["lots[0].acquired", "2026-02-30"]);
}

#[test]
fn unknown_symbol_and_account() {
    let mut c = base();
    c["trades"][2]["symbol"] = "ABC".into();
    assert_rejected("unknown-symbol", c, &["trades[2]", "unknown symbol `ABC`"]);
    let mut c = base();
    c["lots"][0]["account"] = "Q".into();
    assert_rejected("unknown-account", c, &["lots[0]", "unknown account `Q`"]);
}

#[test]
fn duplicate_account_ids() {
    let mut c = base();
    c["accounts"][1]["id"] = "T".into();
    assert_rejected(
        "dup-account",
        c,
        &["accounts[1].id", "duplicate account id `T`"],
    );
}

#[test]
fn non_positive_or_non_finite_numbers() {
    let mut c = base();
    c["trades"][1]["quantity"] = 0.into();
    assert_rejected("zero-qty", c, &["trades[1]", "quantity 0"]);
    let mut c = base();
    c["trades"][3]["price"] = (-8.1).into();
    assert_rejected("neg-price", c, &["trades[3]", "price -8.1"]);
    // JSON has no NaN: a huge exponent overflows to a non-finite number or fails to parse.
    let path = temp_case("inf", &base());
    let text = std::fs::read_to_string(&path).expect("read").replacen(
        "\"price\": 7.5",
        "\"price\": 1e999",
        1,
    );
    std::fs::write(&path, text).expect("write");
    let out = tollbooth(&["ledger", &path]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("trades[0]"));
}

#[test]
fn lot_acquired_after_the_trade_that_sells_it() {
    let mut c = base();
    c["lots"][0]["acquired"] = "2026-03-05".into();
    assert_rejected("lot-after-trade", c, &["lots[0].acquired", "trades[0]"]);
}

#[test]
fn missing_field_and_usage() {
    let mut c = base();
    c["trades"][1]
        .as_object_mut()
        .expect("object")
        .remove("side");
    assert_rejected("missing-side", c, &["trades[1]", "missing field `side`"]);
    let out = tollbooth(&["ledger"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: tollbooth ledger"));
    let out = tollbooth(&["ledger", "/nonexistent/case.json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/case.json"));
}

#[test]
fn detail_lists_relieved_lots_and_washes() {
    let out = tollbooth(&[
        "ledger",
        &shared_vector("reg-1.1091-1-two-replacement-lots.json"),
        "--detail",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["sales"][0]["lots"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["washes"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["washes"][0]["disallowed"], 500.0);
    assert_eq!(v["washes"][1]["disallowed"], 250.0);
    let out = tollbooth(&["ledger", "--bogus"]);
    assert!(!out.status.success());
}
