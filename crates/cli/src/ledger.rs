//! `tollbooth ledger FILE.json [--detail]`: replay a ledger case (wash sales, lots, gains)
//! and print the report as one JSON object shaped like the case's `expect`
//! (`{sales, lots, permanently_disallowed}`). With `--detail`, print the full records
//! instead: every sale with the lots it relieved, every open lot, every wash-sale match.
//! `FILE` may be `-` for standard input.

use crate::output;
use anyhow::{bail, Context};
use tollbooth_engine::ledger::{LedgerCase, LedgerReport};

const USAGE: &str = "usage: tollbooth ledger FILE.json [--detail]";

/// Runs the subcommand with the arguments after `ledger`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut path = None;
    let mut detail = false;
    for a in args {
        match a.as_str() {
            "--detail" => detail = true,
            "--help" | "-h" => return output::println(USAGE),
            s if s.starts_with('-') && s != "-" => bail!("unknown option `{s}`\n{USAGE}"),
            s if path.is_none() => path = Some(s.to_string()),
            _ => bail!("{USAGE}"),
        }
    }
    let Some(path) = path else {
        bail!("{USAGE}");
    };
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(&path).with_context(|| format!("cannot read `{path}`"))?
    };
    let report = replay_text(&text, detail).with_context(|| path.clone())?;
    output::println(&report)
}

/// Parses a case (errors name the JSON path) and replays it; returns pretty JSON.
fn replay_text(text: &str, detail: bool) -> anyhow::Result<String> {
    // A byte-order mark (files saved by some Windows editors) is not content.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let de = &mut serde_json::Deserializer::from_str(text);
    let case: LedgerCase = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            anyhow::anyhow!("{inner}")
        } else {
            anyhow::anyhow!("{path}: {inner}")
        }
    })?;
    let ledger = case.ledger()?;
    let json = if detail {
        serde_json::json!({
            "sales": ledger.sales(),
            "lots": ledger.lots().collect::<Vec<_>>(),
            "washes": ledger.washes(),
            "permanently_disallowed": ledger.permanently_disallowed(),
        })
    } else {
        serde_json::to_value(LedgerReport::of(&ledger))?
    };
    Ok(serde_json::to_string_pretty(&json)?)
}
