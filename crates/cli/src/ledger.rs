//! `tollbooth ledger FILE.json`: replay a ledger case (wash sales, lots, gains) and print
//! the report as one JSON object shaped like the case's `expect`.

use anyhow::{bail, Context};
use std::io::Write;
use tollbooth_engine::ledger::LedgerCase;

const USAGE: &str = "usage: tollbooth ledger FILE.json";

/// Runs the subcommand with the arguments after `ledger`.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let path = match args {
        [path] if !path.starts_with('-') || path == "-" => path,
        _ => bail!("{USAGE}"),
    };
    let text = if path == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read `{path}`"))?
    };
    let report = replay_text(&text).with_context(|| path.clone())?;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{report}") {
        // A closed pipe (`tollbooth ledger f.json | head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write the report"),
    }
}

/// Parses a case and replays it; returns the report as pretty JSON.
fn replay_text(text: &str) -> anyhow::Result<String> {
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
    let report = case.replay()?;
    Ok(serde_json::to_string_pretty(&report)?)
}
