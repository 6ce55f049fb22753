//! `tollbooth trades SCENARIO.json [--policy NAME] [--as-of YYYY-MM-DD] [--csv]`: what the
//! household would trade today.
//!
//! Prints one JSON object: the policy, the trade date, the optimizer's status, objective,
//! lower bound and gap, the objective's terms, messages, and the trades (reason,
//! explanation, itemised fees, lots relieved). `--csv` prints the trade list as CSV
//! instead: the scenario's provenance line ([`Provenance::csv_line`]: its name, hash and
//! seed, and the engine version), then [`trade_list_csv`]: the same file as the page's
//! export of today's trades. Without `--policy` the scenario's first
//! cost-aware policy is used (its first policy when none is cost-aware); without
//! `--as-of`, the scenario's date.

use crate::output;
use anyhow::{bail, Context};
use serde_json::json;
use tollbooth_engine::date::Date;
use tollbooth_engine::household::{todays_trades, trade_list_csv, HouseholdStatus};
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::Provenance;

const USAGE: &str =
    "usage: tollbooth trades SCENARIO.json [--policy NAME] [--as-of YYYY-MM-DD] [--csv]";

/// Run the subcommand.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut file: Option<&str> = None;
    let mut policy: Option<&str> = None;
    let mut as_of: Option<&str> = None;
    let mut csv = false;
    let mut it = args.iter();
    // (An option given twice is refused before any subcommand runs: `main`.)
    while let Some(a) = it.next() {
        match a.as_str() {
            "--help" | "-h" => return output::println(USAGE),
            "--policy" => policy = Some(it.next().context("`--policy` needs a policy name")?),
            s if s.starts_with("--policy=") => policy = Some(&s["--policy=".len()..]),
            "--as-of" => as_of = Some(it.next().context("`--as-of` needs a date YYYY-MM-DD")?),
            s if s.starts_with("--as-of=") => as_of = Some(&s["--as-of=".len()..]),
            "--csv" => csv = true,
            s if s.starts_with('-') => bail!("unknown option `{s}`\n{USAGE}"),
            s => {
                if file.replace(s).is_some() {
                    bail!("one SCENARIO.json expected\n{USAGE}");
                }
            }
        }
    }
    let file = file.context(USAGE)?;
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    let scenario = Scenario::from_json(&text).with_context(|| file.to_string())?;
    let policy = match policy {
        Some(name) => scenario.policy(name).with_context(|| {
            let names: Vec<String> = scenario
                .policies
                .iter()
                .map(|p| format!("`{}`", p.name))
                .collect();
            format!(
                "{file}: no policy named `{name}` (policies: {})",
                names.join(", ")
            )
        })?,
        None => scenario
            .policies
            .iter()
            .find(|p| p.optimizer.is_some())
            .or_else(|| scenario.policies.first())
            .with_context(|| format!("{file}: the scenario has no policy"))?,
    };
    let as_of = match as_of {
        Some(d) => d
            .parse::<Date>()
            .map_err(|e| anyhow::anyhow!("`--as-of {d}`: {e}"))?,
        None => scenario.as_of,
    };
    let sol = todays_trades(&scenario, policy, as_of);
    if matches!(
        sol.status,
        HouseholdStatus::InvalidInput | HouseholdStatus::NumericalError
    ) {
        bail!(
            "{file}, policy `{}`: {}",
            policy.name,
            sol.messages.join("; ")
        );
    }
    if csv {
        let mut out = Provenance::of_scenario(&scenario).csv_line();
        out += &trade_list_csv(&sol, &policy.name, as_of, &scenario.tax);
        output::print(&out)
    } else {
        let out = json!({
            "policy": policy.name,
            "as_of": as_of,
            "status": sol.status,
            "objective": finite(sol.objective),
            "lower_bound": finite(sol.lower_bound),
            "gap": finite(sol.gap),
            "household_value": sol.household_value,
            "tickets": sol.tickets(),
            "solves": sol.solves,
            "terms": sol.terms,
            "year_tax": sol.year_tax(&scenario.tax),
            "messages": sol.messages,
            "trades": sol.trades,
        });
        output::println(&serde_json::to_string_pretty(&out)?)
    }
}

/// NaN (an infeasible solve) as JSON null.
fn finite(x: f64) -> serde_json::Value {
    if x.is_finite() {
        json!(x)
    } else {
        serde_json::Value::Null
    }
}
