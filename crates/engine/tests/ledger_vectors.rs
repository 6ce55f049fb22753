//! Replays every ledger vector (the shared worked examples and the project's own) and
//! compares the report with the file's `expect`: money to 1e-6, lots as a multiset keyed
//! by (account, symbol, holding_start) with quantities and bases summed per key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tollbooth_engine::ledger::{LedgerCase, LedgerReport};

const TOL: f64 = 1e-6;

fn shared_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/ledger"
    ))
}

fn own_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/ledger"
    ))
}

fn vectors(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    out.sort();
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL
}

type LotKey = (String, String, String);

fn lot_multiset(r: &LedgerReport) -> BTreeMap<LotKey, (f64, f64)> {
    let mut m: BTreeMap<LotKey, (f64, f64)> = BTreeMap::new();
    for l in &r.lots {
        let e = m
            .entry((
                l.account.clone(),
                l.symbol.clone(),
                l.holding_start.to_string(),
            ))
            .or_default();
        e.0 += l.quantity;
        e.1 += l.basis;
    }
    m
}

/// Every difference between a report and the expected one (empty when they agree).
fn diff(got: &LedgerReport, want: &LedgerReport) -> Vec<String> {
    let mut out = Vec::new();
    if got.sales.len() != want.sales.len() {
        out.push(format!(
            "sales: got {} entries, want {}",
            got.sales.len(),
            want.sales.len()
        ));
    }
    for (i, (g, w)) in got.sales.iter().zip(&want.sales).enumerate() {
        if g.trade != w.trade {
            out.push(format!(
                "sales[{i}].trade: got {}, want {}",
                g.trade, w.trade
            ));
        }
        for (name, a, b) in [
            ("proceeds", g.proceeds, w.proceeds),
            ("basis", g.basis, w.basis),
            ("disallowed", g.disallowed, w.disallowed),
            ("short_term", g.short_term, w.short_term),
            ("long_term", g.long_term, w.long_term),
        ] {
            if !close(a, b) {
                out.push(format!("sales[{i}].{name}: got {a}, want {b}"));
            }
        }
    }
    let (g, w) = (lot_multiset(got), lot_multiset(want));
    for (k, wv) in &w {
        match g.get(k) {
            None => out.push(format!("lots: missing {k:?} {wv:?}")),
            Some(gv) if !close(gv.0, wv.0) || !close(gv.1, wv.1) => out.push(format!(
                "lots {k:?}: got (quantity, basis) {gv:?}, want {wv:?}"
            )),
            _ => {}
        }
    }
    for k in g.keys().filter(|k| !w.contains_key(*k)) {
        out.push(format!("lots: unexpected {k:?} {:?}", g[k]));
    }
    if !close(got.permanently_disallowed, want.permanently_disallowed) {
        out.push(format!(
            "permanently_disallowed: got {}, want {}",
            got.permanently_disallowed, want.permanently_disallowed
        ));
    }
    out
}

fn run_dir(dir: &Path, at_least: usize) {
    let files = vectors(dir);
    assert!(
        files.len() >= at_least,
        "{}: expected at least {at_least} vectors, found {}",
        dir.display(),
        files.len()
    );
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("readable vector");
        let case: LedgerCase =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let want: LedgerReport = serde_json::from_value(
            case.expect
                .clone()
                .unwrap_or_else(|| panic!("{}: no expect", path.display())),
        )
        .unwrap_or_else(|e| panic!("{}: expect: {e}", path.display()));
        match case.replay() {
            Ok(got) => {
                let d = diff(&got, &want);
                if !d.is_empty() {
                    failures.push(format!("{}:\n  {}", path.display(), d.join("\n  ")));
                }
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shared_vectors() {
    run_dir(&shared_dir(), 6);
}

#[test]
fn project_vectors() {
    run_dir(&own_dir(), 15);
}

#[test]
fn comparison_detects_a_wrong_expectation() {
    // The comparison itself must be able to fail.
    let path = shared_dir().join("pub550-basic-replacement-after-sale.json");
    let case: LedgerCase =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vector")).expect("case");
    let got = case.replay().expect("replays");
    let mut wrong = got.clone();
    wrong.sales[0].disallowed += 1e-3;
    wrong.lots[0].holding_start = wrong.lots[0].holding_start.add_days(1);
    assert_eq!(diff(&got, &wrong).len(), 3);
    assert!(diff(&got, &got).is_empty());
}
