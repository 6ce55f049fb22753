//! `tollbooth solve FILE.json [--policy calendar|spo]`: answer a reference problem.
//!
//! P1/P2 print `{"status", "w", "objective", "n_traded", "solve_seconds"}`; the objective
//! is recomputed from `w` with the problem's exact formula (fixed fees included) and
//! `solve_seconds` is the engine's own time (parsing excluded).
//!
//! P3 (`--policy calendar|spo`) prints `{"nav", "turnover_total", "tcost_total",
//! "tracking_error_annualized", "wall_seconds"}`; `wall_seconds` is the engine's backtest
//! time (parsing excluded).

use std::time::Instant;

use crate::output;
use anyhow::{bail, Context};
use serde_json::json;
use tollbooth_engine::backtest::{run_calendar, run_spo, P3Instance};
use tollbooth_engine::optimize::instance::ReferenceInstance;
use tollbooth_engine::optimize::{Optimizer, Settings, Status};

const USAGE: &str = "usage: tollbooth solve FILE.json [--policy calendar|spo]";

/// Run the subcommand.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut file: Option<&str> = None;
    let mut policy: Option<&str> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--help" | "-h" => return output::println(USAGE),
            "--policy" => {
                policy = Some(
                    it.next()
                        .context("`--policy` needs a value (calendar|spo)")?,
                )
            }
            s if s.starts_with("--policy=") => policy = Some(&s["--policy=".len()..]),
            s if s.starts_with('-') => bail!("unknown option `{s}`\n{USAGE}"),
            s => {
                if file.replace(s).is_some() {
                    bail!("one FILE.json expected");
                }
            }
        }
    }
    let file = file.context(USAGE)?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    let raw: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {file}"))?;
    let kind = raw
        .get("problem")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    match kind.as_str() {
        "P1" | "P2" => {
            if policy.is_some() {
                bail!("`--policy` applies to P3 backtests, not to {kind}");
            }
            let inst: ReferenceInstance = serde_json::from_value(raw)
                .with_context(|| format!("{file}: not a valid {kind} instance"))?;
            inst.check()
                .with_context(|| format!("{file}: not a valid {kind} instance"))?;
            solve_rebalance(&inst)
        }
        "P3" => {
            let policy = match policy {
                Some(p @ ("calendar" | "spo")) => p,
                Some(p) => bail!("unknown policy `{p}` (calendar|spo)"),
                None => bail!("P3 needs `--policy calendar|spo`"),
            };
            let inst: P3Instance = serde_json::from_value(raw)
                .with_context(|| format!("{file}: not a valid P3 instance"))?;
            backtest(&inst, policy)
        }
        other => bail!("{file}: unknown problem `{other}` (expected P1, P2 or P3)"),
    }
}

fn solve_rebalance(inst: &ReferenceInstance) -> anyhow::Result<()> {
    let problem = inst.to_problem();
    let settings = Settings::builder()
        .trade_tol(inst.trade_tol.unwrap_or(1e-9))
        .build()?;
    let start = Instant::now();
    let mut opt =
        Optimizer::new(&problem, settings).with_context(|| format!("instance {}", inst.id))?;
    let sol = opt.solve();
    let secs = start.elapsed().as_secs_f64();
    let status = match sol.status {
        Status::Optimal => "optimal",
        Status::Infeasible => "infeasible",
        Status::IterationLimit => "iteration_limit",
        Status::NodeLimit => "node_limit",
        Status::TimeLimit => "time_limit",
        Status::NumericalError => "numerical_error",
    };
    let out = json!({
        "status": status,
        "w": sol.w,
        "objective": sol.objective,
        "n_traded": sol.n_traded,
        "solve_seconds": secs,
    });
    output::println(&serde_json::to_string(&out)?)
}

fn backtest(inst: &P3Instance, policy: &str) -> anyhow::Result<()> {
    let start = Instant::now();
    let result = if policy == "spo" {
        run_spo(inst)
    } else {
        run_calendar(inst)
    }
    .with_context(|| format!("instance {}: {policy} backtest", inst.id))?;
    let secs = start.elapsed().as_secs_f64();
    let out = json!({
        "nav": result.nav,
        "turnover_total": result.turnover_total,
        "tcost_total": result.tcost_total,
        "tracking_error_annualized": result.tracking_error_annualized,
        "wall_seconds": secs,
    });
    output::println(&serde_json::to_string(&out)?)
}
