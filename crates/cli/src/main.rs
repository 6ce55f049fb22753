//! `tollbooth`: Tollbooth's engine from the command line.
//!
//! ```text
//! tollbooth --version
//! tollbooth ledger FILE.json                      # replay a wash-sale ledger case
//! tollbooth solve FILE.json [--policy calendar|spo]  # reference problems P1, P2, P3
//! tollbooth simulate SCENARIO.json [--paths N] [--seed S]
//! tollbooth bench [--dir DIR] [--repeat K] [--quick] [--json]   # vs the peers
//! tollbooth trades SCENARIO.json [--policy NAME] [--as-of YYYY-MM-DD] [--csv]
//! ```

mod batch;
mod bench;
mod ledger;

use std::process::ExitCode;

mod simulate;
mod solve;
mod trades;

const USAGE: &str = "usage: tollbooth <command> [args]

commands:
  ledger FILE.json                         replay a ledger case (wash sales, lots, gains)
  solve FILE.json [--policy calendar|spo]  solve a reference problem (P1, P2, P3)
  simulate SCENARIO.json [--paths N] [--seed S]
                                           simulate the policies of a scenario
  bench [--dir DIR] [--repeat K] [--quick] [--json]
                                           time the reference problems against the peers
  trades SCENARIO.json [--policy NAME] [--as-of YYYY-MM-DD] [--csv]
                                           what the household would trade today
  batch (--config F | --preset ID) [FILE | -] [--out F] [--summary F.csv] [--paths N]
        [--years Y] [--seed S] [--threads N] [--fail-fast]
                                           simulate a firm's households (NDJSON in and out)
  batch generate [--households N] [--seed S] [--config F | --preset ID] [--out F]
                                           write a synthetic firm as NDJSON
  --version                                print the version
  --help                                   print this help";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match cmd.as_str() {
        "--version" | "-V" | "version" => {
            println!(
                "tollbooth {} (engine {})",
                env!("CARGO_PKG_VERSION"),
                tollbooth_engine::VERSION
            );
            return ExitCode::SUCCESS;
        }
        "--help" | "-h" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        "ledger" => ledger::run(rest),
        "solve" => solve::run(rest),
        "bench" => bench::run(rest),
        "simulate" => simulate::run(rest),
        "trades" => trades::run(rest),
        "batch" => batch::run(rest),
        other => {
            eprintln!("tollbooth: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tollbooth: {e:#}");
            ExitCode::FAILURE
        }
    }
}
