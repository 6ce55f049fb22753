//! `tollbooth`: Tollbooth's engine from the command line.
//!
//! ```text
//! tollbooth --version
//! tollbooth ledger FILE.json                      # replay a wash-sale ledger case
//! tollbooth solve FILE.json [--policy calendar|spo]  # reference problems P1, P2, P3
//! tollbooth simulate SCENARIO.json [--paths N] [--seed S] [--no-trade-list]
//! tollbooth bench [--dir DIR] [--repeat K] [--quick] [--json]   # vs the peers
//! tollbooth trades SCENARIO.json [--policy NAME] [--as-of YYYY-MM-DD] [--csv]
//! tollbooth break-even SCENARIO.json --policy NAME [--paths N]   # confirm by re-running
//! ```

mod batch;
mod bench;
mod break_even;
mod ledger;
mod output;
mod simulate;
mod solve;
mod trades;

use std::process::ExitCode;

const USAGE: &str = "usage: tollbooth <command> [args]

commands:
  ledger FILE.json [--detail]              replay a ledger case (wash sales, lots, gains)
  solve FILE.json [--policy calendar|spo]  solve a reference problem (P1, P2, P3)
  simulate (SCENARIO.json | --preset ID) [--paths N] [--seed S] [--years Y] [--threads T]
           [--trades-csv F | --no-trade-list]
                                           simulate the policies of a scenario
  bench [--dir DIR] [--repeat K] [--quick] [--sim-paths N] [--json]
                                           time the reference problems against the peers
  trades SCENARIO.json [--policy NAME] [--as-of YYYY-MM-DD] [--csv]
                                           what the household would trade today
  batch (--config F | --preset ID) [FILE | -] [--out F] [--summary F.csv] [--paths N]
        [--years Y] [--seed S] [--threads N] [--scenarios DIR] [--fail-fast] [--quiet]
                                           simulate a firm's households (NDJSON in and out)
  batch generate [--households N] [--seed S] [--config F | --preset ID] [--out F]
                                           write a synthetic firm as NDJSON
  break-even (SCENARIO.json | --preset ID) --policy NAME [--paths N] [--seed S] [--years Y]
             [--threads T]               confirm a break-even ticket fee by re-simulation
  --version                                print the version
  --help                                   print this help (each command has its own --help)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    if let Some(option) = repeated_option(rest) {
        eprintln!("tollbooth: `{option}` given twice (which one was meant?)");
        return ExitCode::from(2);
    }
    let result = match cmd.as_str() {
        "--version" | "-V" | "version" => output::println(&format!(
            "tollbooth {} (engine {})",
            env!("CARGO_PKG_VERSION"),
            tollbooth_engine::VERSION
        )),
        "--help" | "-h" | "help" => output::println(USAGE),
        "ledger" => ledger::run(rest),
        "solve" => solve::run(rest),
        "bench" => bench::run(rest),
        "simulate" => simulate::run(rest),
        "trades" => trades::run(rest),
        "batch" => batch::run(rest),
        "break-even" => break_even::run(rest),
        other => {
            eprintln!("tollbooth: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader closed stdout (`tollbooth … | head`): a quiet, successful end.
        Err(e) if output::is_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollbooth: {}", describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// The first option given twice in `args` (`--paths 1 … --paths=2`): every option of every
/// subcommand is given at most once, and taking the last (or the first) silently would run
/// something other than one of the two the user typed.
fn repeated_option(args: &[String]) -> Option<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for a in args {
        if !a.starts_with("--") || a == "--" {
            continue;
        }
        let name = a.split_once('=').map_or(a.as_str(), |(n, _)| n);
        if seen.contains(&name) {
            return Some(name);
        }
        seen.push(name);
    }
    None
}

/// The error and its causes, `: `-separated, each cause left out when the text before it
/// already ends with it (the engine's errors spell out their source in their message).
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        #[derive(Debug)]
        struct Inner;
        impl std::fmt::Display for Inner {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("only 3 held")
            }
        }
        impl std::error::Error for Inner {}
        #[derive(Debug)]
        struct Outer(Inner);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "ledger, VTI: {}", self.0)
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = anyhow::Error::new(Outer(Inner)).context("simulation failed");
        assert_eq!(describe(&e), "simulation failed: ledger, VTI: only 3 held");
        let plain = anyhow::anyhow!("disk full").context("writing the output");
        assert_eq!(describe(&plain), "writing the output: disk full");
    }
}
