//! Firm-wide batches: one shared configuration, many households.
//!
//! # Problem
//!
//! A firm runs the same rebalancing policies, fee schedules, tax profile and market
//! assumptions over every client household `h = 1..H`. For each household, simulate the
//! policies as usual (the same market paths for every household: one market for the firm)
//! and report the mean over paths `m̄_h(π)` of each metric; then the firm total of an
//! additive metric is `Σ_h m̄_h(π)` (tickets, ticket charges, taxes, net benefit …), and
//! the firm figure of a rate (tax alpha, turnover, tracking error) is its average weighted
//! by starting household value `V_h`: `Σ_h V_h·r̄_h(π) / Σ_h V_h`.
//!
//! # Overview
//!
//! - [`FirmHousehold`] is one line of a households file (NDJSON): an `id`, the scenario's
//!   `household` (members and accounts with their lots), its accounts' `min_cash` and its
//!   `cash_flows`. [`parse_line`] reads a line and names the line, the household and the
//!   field of any error ([`FirmError`]).
//! - [`FirmHousehold::scenario`] puts the household into the shared configuration (a
//!   [`Scenario`]): the configuration's own household, minimum cash and cash flows are
//!   replaced, everything else (securities, target classes and restrictions, fee schedules,
//!   regulatory tables, tax profile, market, policies, baseline) is shared. The result is
//!   validated like any scenario, and errors point at the line's own fields.
//! - [`HouseholdLine`] is one line of the output: per policy the mean over paths of the key
//!   metrics, with the scenario and report hashes for reproducibility and the report's
//!   warnings ([`Report::warnings`]), or the error.
//! - [`FirmSummary`] adds lines up as they stream (in input order, so the sums are
//!   reproducible bit for bit) and writes the firm summary as CSV, one row per policy.
//! - [`FirmGenerator`] makes a synthetic firm: household `i` of seed `s` is the same
//!   whatever else is generated, so a firm can be generated in pieces.
//!
//! # Usage
//!
//! ```
//! use tollbooth_engine::firm::{batch_options, parse_line, FirmGenerator, FirmSummary, HouseholdLine};
//! use tollbooth_engine::scenario::Scenario;
//! use tollbooth_engine::simulate::{SimOptions, Simulation};
//!
//! let config = Scenario::demo();
//! let gen = FirmGenerator::new(&config, 7)?;
//! let text = serde_json::to_string(&gen.household(0)).unwrap();
//! let household = parse_line(1, &text)?;
//! let scenario = household.scenario(&config, 1)?;
//! let options = SimOptions { paths: Some(1), years: Some(1), ..batch_options() };
//! let report = Simulation::new(&scenario, &options).unwrap().run().unwrap();
//! let line = HouseholdLine::from_report(&household.id, 1, &scenario, &report);
//! let mut summary = FirmSummary::new(&config);
//! summary.add(&line)?;
//! assert!(summary.to_csv().starts_with("policy,baseline,households,"));
//! # Ok::<(), tollbooth_engine::firm::FirmError>(())
//! ```

use crate::csv_text;
use crate::date::Date;
use crate::market::random::{path_rng, Variates};
use crate::scenario::policy::Frequency;
use crate::scenario::target::MinCash;
use crate::scenario::{
    Account, CashFlow, CashFlowSchedule, FieldError, Household, Lot, Member, Scenario,
};
use crate::simulate::{Report, SimOptions};
use crate::types::AccountKind;
use serde::{Deserialize, Serialize};

/// Why a household line could not be used. Every variant names the line (1-based).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FirmError {
    /// The line is not JSON.
    #[error("line {line}: not valid JSON (column {column}): {message}")]
    Syntax {
        /// Line number (1-based).
        line: u64,
        /// Column of the error (1-based).
        column: usize,
        /// What the parser found.
        message: String,
    },
    /// A field is missing or has the wrong type.
    #[error("line {line}{}: {path}: {message}", household_label(.id))]
    Field {
        /// Line number.
        line: u64,
        /// The household's id, when it could be read.
        id: Option<String>,
        /// The field's path within the line, e.g. `household.accounts[0].lots[1].acquired`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The household does not validate against the shared configuration.
    #[error(
        "line {line}{}: {}",
        household_label(&Some(.id.clone())),
        problems(.errors)
    )]
    Invalid {
        /// Line number.
        line: u64,
        /// The household's id.
        id: String,
        /// Every problem, with paths within the line (`household.…`, `min_cash[…]`,
        /// `cash_flows[…]`).
        errors: Vec<FieldError>,
    },
    /// Two lines carry the same household id.
    #[error("line {line}: household id `{id}` was already used on line {first}")]
    DuplicateId {
        /// Line number.
        line: u64,
        /// The id.
        id: String,
        /// The line that used it first.
        first: u64,
    },
    /// A household line's policies do not match the summary's (a different configuration).
    #[error(
        "line {line}: household `{id}` was simulated with other policies than the firm summary's"
    )]
    PolicyMismatch {
        /// Line number.
        line: u64,
        /// The household's id.
        id: String,
    },
    /// The generator's configuration has nothing to hold.
    #[error("cannot generate households: {reason}")]
    Generator {
        /// What is missing from the configuration.
        reason: &'static str,
    },
}

impl FirmError {
    /// The household's id, when the line got far enough to name it.
    pub fn household_id(&self) -> Option<&str> {
        match self {
            FirmError::Field { id, .. } => id.as_deref(),
            FirmError::Invalid { id, .. }
            | FirmError::DuplicateId { id, .. }
            | FirmError::PolicyMismatch { id, .. } => Some(id),
            FirmError::Syntax { .. } | FirmError::Generator { .. } => None,
        }
    }
}

fn household_label(id: &Option<String>) -> String {
    match id {
        Some(id) => format!(" (household `{id}`)"),
        None => String::new(),
    }
}

/// Every problem, `; `-separated (`path: message; path: message`).
fn problems(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One household of a firm: a line of the households file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirmHousehold {
    /// The household's id (unique in the file).
    pub id: String,
    /// Members and accounts with their tax lots (the scenario's `household`).
    pub household: Household,
    /// Minimum cash per account (accounts not listed: 0).
    #[serde(default)]
    pub min_cash: Vec<MinCash>,
    /// Contributions and withdrawals.
    #[serde(default)]
    pub cash_flows: Vec<CashFlow>,
}

/// Reads line `line` (1-based) of a households file (its line ending is ignored).
pub fn parse_line(line: u64, text: &str) -> Result<FirmHousehold, FirmError> {
    let text = text.trim_end_matches(['\n', '\r']);
    // A byte-order mark (files saved by some Windows editors) opens the first line.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| syntax_error(line, text, &e))?;
    if !v.is_object() {
        let found = match v {
            serde_json::Value::Null => "null",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::Object(_) => "an object",
        };
        return Err(FirmError::Field {
            line,
            id: None,
            path: "the line".to_string(),
            message: format!(
                "a household is a JSON object ({{\"id\": …, \"household\": …}}), not {found}"
            ),
        });
    }
    let id = v
        .get("id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    // A field no household has (a misspelling) refuses the line, as in a scenario file.
    let parsed = crate::scenario::from_value_strict::<FirmHousehold>(v);
    if let Ok((_, Some(path))) = &parsed {
        return Err(FirmError::Field {
            line,
            id,
            path: path.clone(),
            message: "no household has this field (misspelled?)".to_string(),
        });
    }
    let (h, _) = parsed.map_err(|e| {
        let mut path = e.path().to_string();
        let mut message = e.inner().to_string();
        // serde names the struct that lacks a field; name the field itself.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|r| r.strip_suffix('`'))
        {
            path = if path == "." || path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            message = "this field is missing".to_string();
        }
        FirmError::Field {
            line,
            id: id.clone(),
            path,
            message,
        }
    })?;
    if h.id.trim().is_empty() {
        return Err(FirmError::Field {
            line,
            id: None,
            path: "id".to_string(),
            message: "the household id is empty".to_string(),
        });
    }
    Ok(h)
}

/// The [`FirmError::Syntax`] of `text`, line `line` of the file: the parser's message
/// without its own position (the parser counts lines within `text`, and its column is 0
/// at the end of a line), and the 1-based column, in characters, of the character where
/// parsing stopped.
fn syntax_error(line: u64, text: &str, e: &serde_json::Error) -> FirmError {
    let full = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&position).unwrap_or(&full).to_string();
    // The parser's (line, column) as a byte offset in `text`: its column counts the bytes
    // of its line up to and including the character where it stopped.
    let line_start: usize = text
        .split('\n')
        .take(e.line().saturating_sub(1))
        .map(|l| l.len() + 1)
        .sum();
    let end = (line_start + e.column()).min(text.len());
    let column = text
        .get(..end)
        .map_or(end, |before| before.chars().count())
        .max(1);
    FirmError::Syntax {
        line,
        column,
        message,
    }
}

impl FirmHousehold {
    /// The household in the shared configuration: `config` with its household, minimum
    /// cash and cash flows replaced by this line's, named after the household, validated.
    /// Field errors are reported with paths within the line.
    ///
    /// The result is the validated scenario (names and symbols trimmed), as
    /// [`Scenario::from_json`] reads a scenario file: saved with
    /// [`Scenario::to_json_pretty`] and read back, it is the same scenario, with the same
    /// hash.
    pub fn scenario(&self, config: &Scenario, line: u64) -> Result<Scenario, FirmError> {
        let mut s = config.clone();
        s.name = format!("{} — household {}", config.name, self.id);
        s.household = self.household.clone();
        s.target.min_cash = self.min_cash.clone();
        s.cash_flows = self.cash_flows.clone();
        s.to_form().validate().map_err(|errors| FirmError::Invalid {
            line,
            id: self.id.clone(),
            errors: errors
                .into_iter()
                .map(|mut e| {
                    if let Some(rest) = e.path.strip_prefix("target.min_cash") {
                        e.path = format!("min_cash{rest}");
                    }
                    e
                })
                .collect(),
        })
    }

    /// Number of tax lots over all accounts.
    pub fn lot_count(&self) -> usize {
        self.household.accounts.iter().map(|a| a.lots.len()).sum()
    }
}

/// Simulation options for a batch: the scenario's settings, and no trade list (a
/// firm-wide run keeps only the metrics; recording a path's trades would hold them in
/// memory for nothing).
pub fn batch_options() -> SimOptions {
    SimOptions {
        record_path: Some(u64::MAX),
        ..SimOptions::default()
    }
}

/// Whether a household line was simulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineStatus {
    /// Simulated.
    Ok,
    /// Not simulated: see `error`.
    Error,
}

/// One policy's key metrics for one household: each the mean over paths (see
/// [`crate::simulate::report::definitions`] for their definitions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyLine {
    /// The policy's name.
    pub name: String,
    /// True for the baseline.
    pub baseline: bool,
    /// Tickets (count).
    pub tickets: f64,
    /// Ticket charges (commissions), dollars.
    pub ticket_charges: f64,
    /// SEC and FINRA fees, dollars.
    pub regulatory_fees: f64,
    /// Half-spread and impact cost, dollars.
    pub spread_impact: f64,
    /// Taxes on realized gains over the horizon, dollars.
    pub taxes_paid: f64,
    /// Harvested losses, gross, dollars.
    pub harvested_gross: f64,
    /// Harvested losses washed (deferred into basis), dollars.
    pub harvested_washed: f64,
    /// Harvested losses lost for good (replacement in an IRA or Roth), dollars.
    pub harvested_lost: f64,
    /// After-tax terminal wealth, dollars.
    pub after_tax_wealth: f64,
    /// Net benefit vs the baseline, dollars.
    pub net_benefit_usd: f64,
    /// Net benefit vs the baseline, bps per year of the starting value; `None` (null)
    /// where the report cannot define it (no starting value: [`Report::undefined`]), as
    /// for the three figures below.
    pub net_benefit_bps: Option<f64>,
    /// Tax alpha before costs, bps per year.
    pub tax_alpha_before_costs_bps: Option<f64>,
    /// Tax alpha after costs, bps per year.
    pub tax_alpha_after_costs_bps: Option<f64>,
    /// One-way annual turnover (fraction per year).
    pub turnover: f64,
    /// Annualised tracking error (fraction).
    pub tracking_error: f64,
    /// Average drift: the average over days of the largest absolute deviation of a class
    /// weight from its target (fraction).
    pub avg_drift: f64,
    /// Maximum drift: the largest absolute deviation of a class weight from its target on
    /// any day (fraction).
    pub max_drift: f64,
    /// Harvesting yield, the vendors' figure: gross harvested losses ÷ starting value, bps
    /// per year (not a return).
    pub harvesting_yield: Option<f64>,
    /// Losses disallowed by the wash-sale rule on every sale in a taxable account
    /// (harvests, rebalancing, cash raising), deferred or lost for good, dollars.
    pub disallowed_all: f64,
    /// Mean ticket charges ÷ mean net new assets
    /// ([`crate::simulate::PolicyReport::ticket_charges_to_nna`]; none without net new
    /// assets).
    pub ticket_charges_to_nna: Option<f64>,
    /// Mean net new assets ([`crate::simulate::PolicyReport::net_new_assets`]), $.
    #[serde(default)]
    pub net_new_assets: f64,
    /// The flat ticket fee at which the policy's net benefit vs the baseline is zero (none
    /// when it buys as many tickets as the baseline).
    pub break_even_ticket_fee: Option<f64>,
    /// The side of the break-even fee on which the policy beats the baseline.
    #[serde(default)]
    pub break_even_wins: Option<crate::simulate::BreakEvenSide>,
    /// [`crate::simulate::PolicyReport::flat_slope`] (what the firm's break-even is
    /// computed from, with `flat_offset`).
    #[serde(default)]
    pub flat_slope: f64,
    /// [`crate::simulate::PolicyReport::flat_offset`].
    #[serde(default)]
    pub flat_offset: f64,
    /// Trades more often than quarterly with a negative mean net benefit.
    pub friction_flag: bool,
}

/// One line of a batch's output: a household's results, or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdLine {
    /// The household's id (empty when the line could not be read).
    pub id: String,
    /// Its line in the input (1-based).
    pub line: u64,
    /// Simulated or not.
    pub status: LineStatus,
    /// Why not (errors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The results (simulated lines only; written inline, next to `id` and `status`).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub result: Option<HouseholdResult>,
}

/// A simulated household's results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HouseholdResult {
    /// Starting household value at the configuration's prices, dollars (to the cent).
    pub start_value: f64,
    /// Accounts.
    pub accounts: u64,
    /// Tax lots.
    pub lots: u64,
    /// Engine version.
    pub engine_version: String,
    /// The household scenario's hash ([`Scenario::hash_hex`]).
    pub scenario_hash: String,
    /// The report's hash ([`Report::hash_hex`]). A batch report records no trade list
    /// ([`batch_options`]), so this equals the hash of the same scenario simulated with
    /// `record_path: Some(u64::MAX)`, not of a run that recorded a path's trades.
    pub report_hash: String,
    /// Seed.
    pub seed: u64,
    /// Paths.
    pub paths: u64,
    /// Horizon in years.
    pub horizon_years: u32,
    /// The horizon as the per-year metrics divide by it ([`Report::years_span`]: days ÷
    /// 365.2425).
    pub years_span: f64,
    /// The report's warnings ([`Report::warnings`]): withdrawals not met in full, cash
    /// flows after the horizon, no starting value … Empty when there are none.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Per policy, in the configuration's order.
    pub policies: Vec<PolicyLine>,
}

impl HouseholdLine {
    /// The line of a simulated household (`scenario` is the household's scenario).
    pub fn from_report(id: &str, line: u64, scenario: &Scenario, report: &Report) -> HouseholdLine {
        let mean = |p: &crate::simulate::PolicyReport, key: &str| {
            p.metric(key).map_or(f64::NAN, |s| s.mean)
        };
        // A ratio the report cannot define is n/a there and null here, not its 0.
        let defined = |p: &crate::simulate::PolicyReport, key: &str| {
            report.defines(key).then(|| mean(p, key))
        };
        let policies = report
            .policies
            .iter()
            .map(|p| PolicyLine {
                name: p.name.clone(),
                baseline: p.baseline,
                tickets: mean(p, "tickets"),
                ticket_charges: mean(p, "ticket_charges"),
                regulatory_fees: mean(p, "regulatory_fees"),
                spread_impact: mean(p, "spread_impact"),
                taxes_paid: mean(p, "taxes_paid"),
                harvested_gross: mean(p, "harvested_gross"),
                harvested_washed: mean(p, "harvested_washed"),
                harvested_lost: mean(p, "harvested_lost"),
                after_tax_wealth: mean(p, "after_tax_wealth"),
                net_benefit_usd: mean(p, "net_benefit_usd"),
                net_benefit_bps: defined(p, "net_benefit_bps"),
                tax_alpha_before_costs_bps: defined(p, "tax_alpha_before_costs"),
                tax_alpha_after_costs_bps: defined(p, "tax_alpha_after_costs"),
                turnover: mean(p, "turnover"),
                tracking_error: mean(p, "tracking_error"),
                avg_drift: mean(p, "avg_drift"),
                max_drift: mean(p, "max_drift"),
                harvesting_yield: defined(p, "harvesting_yield"),
                disallowed_all: mean(p, "disallowed_all"),
                ticket_charges_to_nna: p.ticket_charges_to_nna,
                net_new_assets: p.net_new_assets,
                break_even_ticket_fee: p.break_even_ticket_fee,
                break_even_wins: p.break_even_wins,
                flat_slope: p.flat_slope,
                flat_offset: p.flat_offset,
                friction_flag: p.friction_flag,
            })
            .collect();
        let accounts = &scenario.household.accounts;
        HouseholdLine {
            id: id.to_string(),
            line,
            status: LineStatus::Ok,
            error: None,
            result: Some(HouseholdResult {
                start_value: scenario.household_value(),
                accounts: accounts.len() as u64,
                lots: accounts.iter().map(|a| a.lots.len() as u64).sum(),
                engine_version: report.engine_version.clone(),
                scenario_hash: report.scenario_hash.clone(),
                report_hash: report.hash_hex(),
                seed: report.seed,
                paths: report.paths,
                horizon_years: report.horizon_years,
                years_span: report.years_span(),
                warnings: report.warnings(),
                policies,
            }),
        }
    }

    /// The line of a household that could not be simulated.
    pub fn failed(id: Option<&str>, line: u64, error: String) -> HouseholdLine {
        HouseholdLine {
            id: id.unwrap_or_default().to_string(),
            line,
            status: LineStatus::Error,
            error: Some(error),
            result: None,
        }
    }
}

/// Firm totals of one policy.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PolicyTotals {
    /// The policy's name.
    pub name: String,
    /// True for the baseline.
    pub baseline: bool,
    /// Households whose mean net benefit vs the baseline is positive.
    pub households_beating_baseline: u64,
    /// Households with the friction flag.
    pub households_friction_flag: u64,
    /// Σ tickets.
    pub tickets: f64,
    /// Σ flat slopes ([`PolicyLine::flat_slope`]).
    #[serde(default)]
    pub flat_slope: f64,
    /// Σ flat offsets.
    #[serde(default)]
    pub flat_offset: f64,
    /// Σ ticket charges.
    pub ticket_charges: f64,
    /// Σ regulatory fees.
    pub regulatory_fees: f64,
    /// Σ spread and impact.
    pub spread_impact: f64,
    /// Σ taxes paid.
    pub taxes_paid: f64,
    /// Σ harvested losses, gross.
    pub harvested_gross: f64,
    /// Σ harvested losses washed.
    pub harvested_washed: f64,
    /// Σ harvested losses lost for good.
    pub harvested_lost: f64,
    /// Σ after-tax terminal wealth.
    pub after_tax_wealth: f64,
    /// Σ net benefit vs the baseline.
    pub net_benefit_usd: f64,
    /// Σ start value × tax alpha before costs (bps/yr), for the value-weighted mean.
    pub weighted_tax_alpha_before_costs: f64,
    /// Σ start value × tax alpha after costs (bps/yr).
    pub weighted_tax_alpha_after_costs: f64,
    /// Σ start value × turnover.
    pub weighted_turnover: f64,
    /// Σ start value × tracking error.
    pub weighted_tracking_error: f64,
    /// Σ losses disallowed as wash sales on all sales, dollars.
    #[serde(default)]
    pub disallowed_all: f64,
    /// Σ start value × average drift.
    #[serde(default)]
    pub weighted_avg_drift: f64,
    /// Σ start value × maximum drift.
    #[serde(default)]
    pub weighted_max_drift: f64,
    /// Σ net new assets.
    #[serde(default)]
    pub net_new_assets: f64,
}

/// The firm summary, added up line by line in input order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FirmSummary {
    /// Households simulated.
    pub households: u64,
    /// Households that failed.
    pub households_failed: u64,
    /// Simulated households whose line carries warnings ([`HouseholdResult::warnings`]).
    #[serde(default)]
    pub households_with_warnings: u64,
    /// Σ starting household value of the simulated households.
    pub start_value: f64,
    /// Horizon in years (of the first simulated household).
    pub horizon_years: u32,
    /// The horizon as the per-year columns divide by it, as each household's report does
    /// ([`HouseholdResult::years_span`] of the first simulated household: the households
    /// of a batch share one horizon).
    #[serde(default)]
    pub years_span: f64,
    /// Per policy, in the configuration's order.
    pub policies: Vec<PolicyTotals>,
}

impl FirmSummary {
    /// An empty summary for the policies of `config`.
    pub fn new(config: &Scenario) -> FirmSummary {
        FirmSummary {
            households: 0,
            households_failed: 0,
            households_with_warnings: 0,
            start_value: 0.0,
            horizon_years: 0,
            years_span: 0.0,
            policies: config
                .policies
                .iter()
                .map(|p| PolicyTotals {
                    name: p.name.clone(),
                    baseline: p.name == config.baseline,
                    ..PolicyTotals::default()
                })
                .collect(),
        }
    }

    /// Adds a line (a failed line is counted). Errors when its policies are not the
    /// summary's.
    pub fn add(&mut self, line: &HouseholdLine) -> Result<(), FirmError> {
        let r = match (&line.status, &line.result) {
            (LineStatus::Ok, Some(r)) => r,
            _ => {
                self.households_failed += 1;
                return Ok(());
            }
        };
        let same = r.policies.len() == self.policies.len()
            && r.policies
                .iter()
                .zip(&self.policies)
                .all(|(a, b)| a.name == b.name && a.baseline == b.baseline);
        if !same {
            return Err(FirmError::PolicyMismatch {
                line: line.line,
                id: line.id.clone(),
            });
        }
        if self.households == 0 {
            self.horizon_years = r.horizon_years;
            self.years_span = r.years_span;
        }
        self.households += 1;
        self.households_with_warnings += u64::from(!r.warnings.is_empty());
        let v = r.start_value;
        self.start_value += v;
        for (t, p) in self.policies.iter_mut().zip(&r.policies) {
            t.households_beating_baseline += u64::from(!p.baseline && p.net_benefit_usd > 0.0);
            t.households_friction_flag += u64::from(p.friction_flag);
            t.tickets += p.tickets;
            t.flat_slope += p.flat_slope;
            t.flat_offset += p.flat_offset;
            t.ticket_charges += p.ticket_charges;
            t.regulatory_fees += p.regulatory_fees;
            t.spread_impact += p.spread_impact;
            t.taxes_paid += p.taxes_paid;
            t.harvested_gross += p.harvested_gross;
            t.harvested_washed += p.harvested_washed;
            t.harvested_lost += p.harvested_lost;
            t.after_tax_wealth += p.after_tax_wealth;
            t.net_benefit_usd += p.net_benefit_usd;
            // (Undefined only with no starting value, which weighs nothing.)
            t.weighted_tax_alpha_before_costs += v * p.tax_alpha_before_costs_bps.unwrap_or(0.0);
            t.weighted_tax_alpha_after_costs += v * p.tax_alpha_after_costs_bps.unwrap_or(0.0);
            t.weighted_turnover += v * p.turnover;
            t.weighted_tracking_error += v * p.tracking_error;
            t.disallowed_all += p.disallowed_all;
            t.weighted_avg_drift += v * p.avg_drift;
            t.weighted_max_drift += v * p.max_drift;
            t.net_new_assets += p.net_new_assets;
        }
        Ok(())
    }

    /// The CSV header of [`FirmSummary::to_csv`].
    pub const CSV_HEADER: &'static str = "policy,baseline,households,households_failed,\
households_beating_baseline,households_friction_flag,start_value,tickets,tickets_per_year,\
tickets_vs_baseline,ticket_charges,ticket_charges_per_year,ticket_charges_vs_baseline,regulatory_fees,spread_impact,trading_costs,\
trading_costs_vs_baseline,taxes_paid,taxes_paid_vs_baseline,harvested_gross,harvested_washed,\
harvested_lost,after_tax_wealth,net_benefit_usd,net_benefit_bps,tax_alpha_before_costs_bps,\
tax_alpha_after_costs_bps,turnover,tracking_error,break_even_ticket_fee,break_even_wins,\
households_with_warnings,disallowed_all,harvesting_yield_bps,avg_drift,max_drift,\
net_new_assets,ticket_charges_to_nna";

    /// The firm summary as CSV: one row per policy. Dollar and count columns are firm
    /// totals (sums over households of the per-household means over paths), `_per_year`
    /// columns the totals ÷ the horizon in years (the firm's yearly clearing bill),
    /// `_vs_baseline` columns the policy's total minus the baseline's; `net_benefit_bps` is the firm's net
    /// benefit ÷ the firm's starting value ÷ years. Years are the horizon's span as each
    /// household's report counts them ([`FirmSummary::years_span`], days ÷ 365.2425), so a
    /// one-household firm's figures are its line's. Tax alpha, turnover and tracking error
    /// are averages weighted by starting household value (a household that starts with
    /// nothing counts in the totals and weighs nothing in these averages, which are empty
    /// for a firm of such households alone); `break_even_ticket_fee` is the
    /// flat ticket fee at which the firm's net benefit is zero,
    /// [`crate::simulate::break_even`] of the firm's sums, and `break_even_wins` the side
    /// of it on which the policy beats the baseline (`below` when it buys more tickets
    /// that pay a flat fee, `above` when fewer; both empty for the baseline and when the
    /// policy buys as many such tickets as the baseline); `households_with_warnings`
    /// counts the simulated households whose line carries warnings; `disallowed_all` is the
    /// firm's total of losses disallowed on all sales, `harvesting_yield_bps` the firm's
    /// harvested losses ÷ its starting value ÷ years (the vendors' figure, as
    /// `net_benefit_bps`), `avg_drift`, `max_drift` value-weighted averages of the
    /// households', `net_new_assets` the firm's total and `ticket_charges_to_nna` the firm's
    /// ticket charges ÷ its net new assets (the clearing bill against the money coming in:
    /// every household's charges over every household's net new assets; empty when the
    /// firm's are not positive). Numbers are written in full (shortest round-trip) precision.
    pub fn to_csv(&self) -> String {
        self.csv(None)
    }

    /// [`FirmSummary::to_csv`] opened by the run's provenance line
    /// ([`crate::Provenance::csv_line`]: the configuration, the seed, paths and years).
    pub fn to_csv_with(&self, provenance: &crate::Provenance) -> String {
        self.csv(Some(provenance))
    }

    fn csv(&self, provenance: Option<&crate::Provenance>) -> String {
        let mut out = provenance.map_or_else(String::new, crate::Provenance::csv_line);
        out.push_str(Self::CSV_HEADER);
        out.push('\n');
        let base = self.policies.iter().find(|p| p.baseline);
        let costs = |t: &PolicyTotals| t.ticket_charges + t.regulatory_fees + t.spread_impact;
        let vs = |f: &dyn Fn(&PolicyTotals) -> f64, t: &PolicyTotals| {
            base.map_or(String::new(), |b| num(f(t) - f(b)))
        };
        let weighted = |x: f64| {
            if self.start_value > 0.0 {
                num(x / self.start_value)
            } else {
                String::new()
            }
        };
        let years = self.years_span;
        let per_year = |x: f64| {
            if years > 0.0 {
                num(x / years)
            } else {
                String::new()
            }
        };
        for t in &self.policies {
            let bps = |x: f64| {
                if self.start_value > 0.0 && years > 0.0 {
                    num(1e4 * x / self.start_value / years)
                } else {
                    String::new()
                }
            };
            let (net_bps, harvest_bps) = (bps(t.net_benefit_usd), bps(t.harvested_gross));
            let break_even = match base {
                Some(b) if !t.baseline => crate::simulate::break_even(
                    t.net_benefit_usd,
                    t.flat_slope - b.flat_slope,
                    t.flat_offset - b.flat_offset,
                ),
                _ => None,
            };
            let (break_even, wins) = match break_even {
                Some((fee, crate::simulate::BreakEvenSide::Below)) => (num(fee), "below"),
                Some((fee, crate::simulate::BreakEvenSide::Above)) => (num(fee), "above"),
                None => (String::new(), ""),
            };
            let cells = [
                csv_text(&t.name),
                t.baseline.to_string(),
                self.households.to_string(),
                self.households_failed.to_string(),
                t.households_beating_baseline.to_string(),
                t.households_friction_flag.to_string(),
                num(self.start_value),
                num(t.tickets),
                per_year(t.tickets),
                vs(&|x| x.tickets, t),
                num(t.ticket_charges),
                per_year(t.ticket_charges),
                vs(&|x| x.ticket_charges, t),
                num(t.regulatory_fees),
                num(t.spread_impact),
                num(costs(t)),
                vs(&costs, t),
                num(t.taxes_paid),
                vs(&|x| x.taxes_paid, t),
                num(t.harvested_gross),
                num(t.harvested_washed),
                num(t.harvested_lost),
                num(t.after_tax_wealth),
                num(t.net_benefit_usd),
                net_bps,
                weighted(t.weighted_tax_alpha_before_costs),
                weighted(t.weighted_tax_alpha_after_costs),
                weighted(t.weighted_turnover),
                weighted(t.weighted_tracking_error),
                break_even,
                wins.to_string(),
                self.households_with_warnings.to_string(),
                num(t.disallowed_all),
                harvest_bps,
                weighted(t.weighted_avg_drift),
                weighted(t.weighted_max_drift),
                num(t.net_new_assets),
                if t.net_new_assets > 0.0 {
                    num(t.ticket_charges / t.net_new_assets)
                } else {
                    String::new()
                },
            ];
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

/// A number in shortest round-trip form (empty when not finite).
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

/// One asset class the generator can hold.
#[derive(Debug, Clone)]
struct GenClass {
    weight: f64,
    /// Drift and volatility of the class (for the lots' bases).
    mu: f64,
    sigma: f64,
    /// (symbol, price, fractional allowed): the primary first.
    symbols: Vec<(String, f64, bool)>,
}

/// A synthetic firm: households drawn from one seed, holding the configuration's
/// securities, on its fee schedule.
///
/// Household `i`:
/// - size: lognormal starting value `exp(13.67 + 1.06·z)` (median ≈ $870k, 5th–95th
///   percentile ≈ $150k–$5M), clamped to $100k–$25M;
/// - one member (40%) or a couple (60%); 1–4 accounts (20/35/30/15%): the first taxable
///   (85%, joint for a couple) or a traditional IRA, the others traditional IRA (35%), Roth
///   IRA (30%), taxable (20%) or 401k (15%), split by lognormal weights;
/// - per account: cash 0.5–5% of its value (half of it kept as minimum cash); each target
///   class held with probability 80%, at the target weight times a lognormal drift, in the
///   class's primary (70%) or an alternate; 1–3 lots per position, acquired 5 days to 15
///   years before the configuration's date (log-uniform), with a basis drawn from the
///   class's return and volatility over the holding period (so recent lots are often at a
///   loss);
/// - cash flows: 35% contribute monthly to the taxable account (2–8% of value a year), 20%
///   withdraw monthly from the largest account (3–5% a year), the rest neither.
#[derive(Debug, Clone)]
pub struct FirmGenerator<'c> {
    config: &'c Scenario,
    seed: u64,
    classes: Vec<GenClass>,
    fee_schedule: String,
}

const GEN_DOMAIN: u64 = 0x4649_524d_5f47_454e; // "FIRM_GEN"

/// The generator's variates: the market model's seeded ChaCha stream and normal draws
/// (portable: `libm` only), under the generator's own seed domain.
struct Draws(Variates);

impl Draws {
    fn new(seed: u64, stream: u64) -> Draws {
        Draws(Variates::new(path_rng(seed ^ GEN_DOMAIN, stream)))
    }

    /// Uniform on [0, 1).
    fn uniform(&mut self) -> f64 {
        self.0.uniform()
    }

    /// Standard normal (the ziggurat of [`Variates::normal`]).
    fn normal(&mut self) -> f64 {
        self.0.normal()
    }

    /// An index drawn with the given probabilities (summing to 1).
    fn pick(&mut self, probs: &[f64]) -> usize {
        let u = self.uniform();
        let mut c = 0.0;
        for (i, p) in probs.iter().enumerate() {
            c += p;
            if u < c {
                return i;
            }
        }
        probs.len().saturating_sub(1)
    }
}

fn cents(x: f64) -> f64 {
    libm::round(x * 100.0) / 100.0
}

impl<'c> FirmGenerator<'c> {
    /// A generator over `config`'s target classes and securities. Errors when the target
    /// implements no class with a known security, or there is no fee schedule.
    pub fn new(config: &'c Scenario, seed: u64) -> Result<FirmGenerator<'c>, FirmError> {
        let fee_schedule = config
            .household
            .accounts
            .first()
            .map(|a| a.fee_schedule.clone())
            .filter(|id| config.fee_schedule(id).is_some())
            .or_else(|| config.fee_schedules.first().map(|f| f.id.clone()))
            .ok_or(FirmError::Generator {
                reason: "the configuration has no fee schedule",
            })?;
        let restricted = &config.target.restrictions.do_not_buy;
        let classes: Vec<GenClass> = config
            .target
            .classes
            .iter()
            .filter(|c| c.weight > 0.0)
            .filter_map(|c| {
                let symbols: Vec<(String, f64, bool)> = std::iter::once(&c.primary)
                    .chain(&c.alternates)
                    .filter(|s| !restricted.contains(s))
                    .filter_map(|s| config.security(s))
                    .filter(|s| s.price > 0.0)
                    .map(|s| (s.symbol.clone(), s.price, s.fractional_allowed))
                    .collect();
                let a = config
                    .market
                    .classes
                    .iter()
                    .find(|a| a.name == c.asset_class);
                (!symbols.is_empty()).then(|| GenClass {
                    weight: c.weight,
                    mu: a.map_or(0.05, |a| a.expected_return),
                    sigma: a.map_or(0.15, |a| a.volatility),
                    symbols,
                })
            })
            .collect();
        if classes.is_empty() {
            return Err(FirmError::Generator {
                reason: "the target model implements no asset class with a known security",
            });
        }
        Ok(FirmGenerator {
            config,
            seed,
            classes,
            fee_schedule,
        })
    }

    /// Household `index` (0-based; its id is `HH-` and `index + 1` on five digits).
    pub fn household(&self, index: u64) -> FirmHousehold {
        let mut d = Draws::new(self.seed, index);
        let id = format!("HH-{:05}", index + 1);
        let as_of = self.config.as_of;
        let value = libm::exp(13.67 + 1.064 * d.normal()).clamp(100_000.0, 25_000_000.0);
        let couple = d.uniform() < 0.6;
        let members: Vec<Member> = (1..=if couple { 2 } else { 1 })
            .map(|k| Member {
                id: format!("m{k}"),
                name: format!("{id} member {k}"),
            })
            .collect();
        let n_accounts = 1 + d.pick(&[0.20, 0.35, 0.30, 0.15]);
        let mut kinds = Vec::with_capacity(n_accounts);
        kinds.push(if d.uniform() < 0.85 {
            AccountKind::Taxable
        } else {
            AccountKind::TraditionalIra
        });
        let others = [
            AccountKind::TraditionalIra,
            AccountKind::RothIra,
            AccountKind::Taxable,
            AccountKind::K401,
        ];
        for _ in 1..n_accounts {
            kinds.push(others[d.pick(&[0.35, 0.30, 0.20, 0.15])]);
        }
        let shares: Vec<f64> = (0..n_accounts)
            .map(|_| libm::exp(0.6 * d.normal()))
            .collect();
        let total: f64 = shares.iter().sum();
        let mut lot_no = 0u32;
        let mut accounts = Vec::with_capacity(n_accounts);
        let mut min_cash = Vec::new();
        for (i, kind) in kinds.iter().copied().enumerate() {
            let account_value = value * shares[i] / total;
            let owner = &members[i % members.len()];
            let acct_id = format!("acct{}", i + 1);
            let cash = cents(account_value * (0.005 + 0.045 * d.uniform()));
            let keep = libm::floor(cash * 0.5 / 100.0) * 100.0;
            if keep >= 100.0 {
                min_cash.push(MinCash {
                    account: acct_id.clone(),
                    amount: keep,
                });
            }
            let invest = account_value - cash;
            let mut held: Vec<(usize, f64)> = Vec::with_capacity(self.classes.len());
            for (k, c) in self.classes.iter().enumerate() {
                if d.uniform() < 0.8 {
                    held.push((k, c.weight * libm::exp(0.35 * d.normal())));
                }
            }
            if held.is_empty() {
                let k = d.pick(
                    &self
                        .classes
                        .iter()
                        .map(|c| c.weight / self.classes.iter().map(|c| c.weight).sum::<f64>())
                        .collect::<Vec<_>>(),
                );
                held.push((k, 1.0));
            }
            let wsum: f64 = held.iter().map(|h| h.1).sum();
            let mut lots = Vec::new();
            for (k, w) in held {
                let class = &self.classes[k];
                let s = if class.symbols.len() == 1 || d.uniform() < 0.7 {
                    0
                } else {
                    1 + (d.uniform() * (class.symbols.len() - 1) as f64) as usize
                };
                let (symbol, price, fractional) = &class.symbols[s.min(class.symbols.len() - 1)];
                let position = invest * w / wsum;
                let n_lots = 1 + d.pick(&[0.4, 0.35, 0.25]);
                let parts: Vec<f64> = (0..n_lots).map(|_| 0.2 + d.uniform()).collect();
                let psum: f64 = parts.iter().sum();
                for part in parts {
                    let dollars = position * part / psum;
                    let raw = dollars / price;
                    let quantity = if *fractional {
                        libm::floor(raw * 1000.0) / 1000.0
                    } else {
                        libm::floor(raw)
                    };
                    // Log-uniform age from 5 days to 15 years.
                    let age = libm::floor(libm::exp(
                        libm::log(5.0) + d.uniform() * (libm::log(5479.0) - libm::log(5.0)),
                    ));
                    let z = d.normal();
                    if quantity <= 0.0 {
                        continue;
                    }
                    let t = age / 365.25;
                    let growth = libm::exp(
                        (class.mu - 0.5 * class.sigma * class.sigma) * t
                            + class.sigma * f64::sqrt(t) * z,
                    );
                    lot_no += 1;
                    lots.push(Lot {
                        id: format!("L{lot_no:04}"),
                        symbol: symbol.clone(),
                        quantity,
                        basis: cents(quantity * price / growth).max(0.01),
                        acquired: as_of.add_days(-(age as i32)),
                    });
                }
            }
            accounts.push(Account {
                id: acct_id,
                name: format!("{} ({})", kind_label(kind), owner.id),
                kind,
                owner: owner.id.clone(),
                joint: couple && i == 0 && kind.is_taxable(),
                cash,
                fee_schedule: self.fee_schedule.clone(),
                lots,
            });
        }
        let mut cash_flows = Vec::new();
        let u = d.uniform();
        let start = first_of_next_month(as_of);
        if u < 0.35 {
            if let Some(a) = accounts.iter().find(|a| a.kind.is_taxable()) {
                let annual = value * (0.02 + 0.06 * d.uniform());
                cash_flows.push(CashFlow {
                    account: a.id.clone(),
                    amount: (libm::round(annual / 12.0 / 50.0) * 50.0).max(50.0),
                    schedule: CashFlowSchedule::Recurring {
                        start,
                        end: None,
                        frequency: Frequency::Monthly,
                    },
                });
            }
        } else if u < 0.55 {
            let largest = accounts.iter().max_by(|a, b| {
                let va = a.value(|s| self.price(s));
                let vb = b.value(|s| self.price(s));
                va.total_cmp(&vb)
            });
            if let Some(a) = largest {
                let annual = value * (0.03 + 0.02 * d.uniform());
                cash_flows.push(CashFlow {
                    account: a.id.clone(),
                    amount: -(libm::round(annual / 12.0 / 50.0) * 50.0).max(50.0),
                    schedule: CashFlowSchedule::Recurring {
                        start,
                        end: None,
                        frequency: Frequency::Monthly,
                    },
                });
            }
        }
        FirmHousehold {
            id,
            household: Household { members, accounts },
            min_cash,
            cash_flows,
        }
    }

    /// Households `0..count`, lazily.
    pub fn households(&self, count: u64) -> impl Iterator<Item = FirmHousehold> + '_ {
        (0..count).map(move |i| self.household(i))
    }

    fn price(&self, symbol: &str) -> f64 {
        self.config.security(symbol).map_or(0.0, |s| s.price)
    }
}

fn kind_label(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Taxable => "Taxable",
        AccountKind::TraditionalIra => "Traditional IRA",
        AccountKind::RothIra => "Roth IRA",
        AccountKind::K401 => "401(k)",
    }
}

fn first_of_next_month(d: Date) -> Date {
    let (y, m, _) = d.ymd();
    let (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    Date::from_ymd(y, m, 1).unwrap_or(d.add_days(30))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::Simulation;

    #[test]
    fn generated_households_validate_and_vary() {
        let config = Scenario::demo();
        let gen = FirmGenerator::new(&config, 7).unwrap();
        let mut kinds = std::collections::BTreeSet::new();
        let mut values = Vec::new();
        let mut losses = 0;
        let mut lots = 0;
        for (i, h) in gen.households(200).enumerate() {
            let s = h
                .scenario(&config, i as u64 + 1)
                .unwrap_or_else(|e| panic!("{e}"));
            values.push(s.household_value());
            assert!((1..=4).contains(&h.household.accounts.len()));
            for a in &h.household.accounts {
                kinds.insert(format!("{:?}", a.kind));
                for l in &a.lots {
                    lots += 1;
                    let price = config.security(&l.symbol).unwrap().price;
                    losses += usize::from(l.basis > l.quantity * price);
                    assert!(l.acquired <= config.as_of);
                }
            }
        }
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        values.sort_by(f64::total_cmp);
        let median = values[100];
        assert!(
            (300_000.0..2_500_000.0).contains(&median),
            "median {median}"
        );
        assert!(values[0] < 300_000.0 && values[199] > 3_000_000.0);
        // Some lots are at a loss, most are not.
        assert!(
            losses * 20 > lots && losses * 2 < lots,
            "{losses} of {lots}"
        );
    }

    #[test]
    fn a_household_is_the_same_whatever_else_is_generated() {
        let config = Scenario::demo();
        let gen = FirmGenerator::new(&config, 7).unwrap();
        let all: Vec<FirmHousehold> = gen.households(5).collect();
        assert_eq!(gen.household(3), all[3]);
        assert_ne!(all[3], all[4]);
        let other = FirmGenerator::new(&config, 8).unwrap();
        assert_ne!(other.household(3), all[3]);
    }

    #[test]
    fn a_bad_line_names_its_line_household_and_field() {
        let config = Scenario::demo();
        let gen = FirmGenerator::new(&config, 7).unwrap();
        let mut v = serde_json::to_value(gen.household(0)).unwrap();
        v["household"]["accounts"][0]["lots"][0]["acquired"] = "2026-13-40".into();
        let e = parse_line(12, &v.to_string()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "line 12 (household `HH-00001`): household.accounts[0].lots[0].acquired:"
            ),
            "{msg}"
        );

        let mut v = serde_json::to_value(gen.household(0)).unwrap();
        v["household"]["accounts"][0]["lots"][0]["symbol"] = "NOPE".into();
        let h = parse_line(3, &v.to_string()).unwrap();
        let msg = h.scenario(&config, 3).unwrap_err().to_string();
        assert!(
            msg.starts_with("line 3 (household `HH-00001`): household.accounts[0].lots[0].symbol"),
            "{msg}"
        );

        let mut v = serde_json::to_value(gen.household(0)).unwrap();
        v["min_cash"] = serde_json::json!([{"account": "nowhere", "amount": 5.0}]);
        let h = parse_line(4, &v.to_string()).unwrap();
        let msg = h.scenario(&config, 4).unwrap_err().to_string();
        assert!(msg.contains("min_cash[0].account"), "{msg}");

        // A misspelled field anywhere in the line refuses it: in a lot, and in a cash
        // flow's schedule (an internally tagged enum).
        let mut v = serde_json::to_value(gen.household(0)).unwrap();
        v["household"]["accounts"][0]["lots"][0]["cost_basis_per_share"] = 1.0.into();
        let msg = parse_line(7, &v.to_string()).unwrap_err().to_string();
        assert_eq!(
            msg,
            "line 7 (household `HH-00001`): household.accounts[0].lots[0].cost_basis_per_share: \
             no household has this field (misspelled?)"
        );
        let mut v = serde_json::to_value(gen.household(0)).unwrap();
        v["cash_flows"] = serde_json::json!([{"account": "joint", "amount": 100.0,
            "schedule": {"kind": "recurring", "start": "2027-01-04", "end_date": "2028-01-03",
                         "frequency": "monthly"}}]);
        let msg = parse_line(8, &v.to_string()).unwrap_err().to_string();
        assert!(
            msg.contains("cash_flows[0].schedule") && msg.contains("end_date"),
            "{msg}"
        );

        let e = parse_line(5, "{\"id\": \"x\", ").unwrap_err();
        assert!(matches!(e, FirmError::Syntax { line: 5, .. }), "{e}");
        let e = parse_line(6, "{\"id\": \"x\"}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 6 (household `x`): household: this field is missing"
        );
    }

    /// The summary row of `name` as (column → cell), the name's cell left out (a quoted
    /// name may hold a comma).
    fn summary_row(csv: &str, name: &str) -> Vec<(String, String)> {
        let header: Vec<&str> = FirmSummary::CSV_HEADER.split(',').skip(1).collect();
        let row = csv
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{},", csv_text(name))))
            .unwrap_or_else(|| panic!("no row for {name}: {csv}"));
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{row}");
        header
            .iter()
            .zip(cells)
            .map(|(h, c)| (h.to_string(), c.to_string()))
            .collect()
    }

    fn cell_text(row: &[(String, String)], column: &str) -> String {
        row.iter()
            .find(|(h, _)| h == column)
            .expect("a column")
            .1
            .clone()
    }

    fn cell(row: &[(String, String)], column: &str) -> f64 {
        let c = &row.iter().find(|(h, _)| h == column).expect("a column").1;
        c.parse().unwrap_or_else(|_| panic!("{column} = `{c}`"))
    }

    fn simulate(h: &FirmHousehold, config: &Scenario, years: u32) -> (Scenario, Report) {
        let s = h.scenario(config, 1).unwrap_or_else(|e| panic!("{e}"));
        let options = SimOptions {
            paths: Some(2),
            years: Some(years),
            ..batch_options()
        };
        let report = Simulation::new(&s, &options).unwrap().run().unwrap();
        (s, report)
    }

    /// Regression: the summary divided its per-year and bp/yr columns by the whole-number
    /// horizon, each household's report by the horizon's span in days ÷ 365.2425, so a
    /// one-household firm showed 12.9032 bp/yr in the summary against 12.8941 on its line.
    #[test]
    fn a_one_household_firm_summary_has_its_lines_bps_a_year() {
        let config = Scenario::demo();
        let h = FirmGenerator::new(&config, 11).unwrap().household(0);
        let (s, report) = simulate(&h, &config, 2);
        let line = HouseholdLine::from_report(&h.id, 1, &s, &report);
        let r = line.result.as_ref().unwrap();
        assert_eq!(r.years_span, report.years_span());
        // Otherwise the test would prove nothing.
        assert!((r.years_span - f64::from(r.horizon_years)).abs() > 1e-3);
        let mut summary = FirmSummary::new(&config);
        summary.add(&line).unwrap();
        let csv = summary.to_csv();
        let mut compared = 0;
        for p in &r.policies {
            let row = summary_row(&csv, &p.name);
            approx::assert_relative_eq!(
                cell(&row, "net_benefit_bps"),
                p.net_benefit_bps.unwrap(),
                max_relative = 1e-12
            );
            approx::assert_relative_eq!(
                cell(&row, "ticket_charges_per_year"),
                p.ticket_charges / r.years_span,
                max_relative = 1e-12
            );
            // The line's other outputs, as the firm adds them up: its own for one household.
            approx::assert_relative_eq!(
                cell(&row, "harvesting_yield_bps"),
                p.harvesting_yield.unwrap(),
                max_relative = 1e-12
            );
            approx::assert_relative_eq!(cell(&row, "disallowed_all"), p.disallowed_all);
            approx::assert_relative_eq!(cell(&row, "avg_drift"), p.avg_drift, max_relative = 1e-12);
            approx::assert_relative_eq!(cell(&row, "max_drift"), p.max_drift, max_relative = 1e-12);
            assert_eq!(cell(&row, "net_new_assets"), p.net_new_assets);
            match p.ticket_charges_to_nna {
                Some(x) => approx::assert_relative_eq!(
                    cell(&row, "ticket_charges_to_nna"),
                    x,
                    max_relative = 1e-12
                ),
                None => assert!(cell_text(&row, "ticket_charges_to_nna").is_empty()),
            }
            compared += usize::from(p.net_benefit_bps != Some(0.0));
        }
        assert!(compared > 0, "no policy has a net benefit: {csv}");
    }

    /// A household that starts with nothing: its line has no net benefit in bps and no
    /// harvesting yield (null, as the report's n/a, where they were written as 0), its
    /// tax alpha (it contributes) is a number; in the summary it counts in the totals and
    /// weighs nothing in the value-weighted averages.
    #[test]
    fn a_household_with_no_starting_value_has_null_ratios_and_no_weight() {
        let config = Scenario::demo();
        let mut household = config.household.clone();
        for a in &mut household.accounts {
            a.lots.clear();
            a.cash = 0.0;
        }
        let h = FirmHousehold {
            id: "new-client".to_string(),
            household,
            min_cash: Vec::new(),
            cash_flows: config.cash_flows.clone(),
        };
        let (s, report) = simulate(&h, &config, 1);
        let line = HouseholdLine::from_report(&h.id, 1, &s, &report);
        let r = line.result.as_ref().unwrap();
        assert_eq!(r.start_value, 0.0);
        let json = serde_json::to_string(&line).unwrap();
        assert!(json.contains(r#""net_benefit_bps":null"#), "{json}");
        for p in &r.policies {
            assert_eq!(
                (p.net_benefit_bps, p.harvesting_yield),
                (None, None),
                "{p:?}"
            );
            assert!(p.tax_alpha_after_costs_bps.is_some(), "{p:?}");
        }
        let back: HouseholdLine = serde_json::from_str(&json).unwrap();
        assert_eq!(back, line);
        let mut summary = FirmSummary::new(&config);
        summary.add(&line).unwrap();
        let csv = summary.to_csv();
        for p in &r.policies {
            let row = summary_row(&csv, &p.name);
            assert_eq!(cell(&row, "households"), 1.0);
            approx::assert_relative_eq!(cell(&row, "ticket_charges"), p.ticket_charges);
            for key in ["tax_alpha_after_costs_bps", "turnover", "net_benefit_bps"] {
                assert!(cell_text(&row, key).is_empty(), "{key}: {row:?}");
            }
        }
    }

    /// Regression: a line left out SPEC outputs the README promises (drift, harvesting
    /// yield, losses disallowed on all sales, ticket charges ÷ net new assets).
    #[test]
    fn a_line_carries_drift_yield_disallowed_losses_and_charges_to_net_new_assets() {
        let config = Scenario::demo();
        let h = FirmHousehold {
            id: "demo".to_string(),
            household: config.household.clone(),
            min_cash: config.target.min_cash.clone(),
            cash_flows: config.cash_flows.clone(),
        };
        let (s, report) = simulate(&h, &config, 1);
        let line = HouseholdLine::from_report(&h.id, 1, &s, &report);
        let lines = &line.result.as_ref().unwrap().policies;
        assert_eq!(lines.len(), report.policies.len());
        let mean = |p: &crate::simulate::PolicyReport, key: &str| p.metric(key).unwrap().mean;
        for (l, p) in lines.iter().zip(&report.policies) {
            assert_eq!(l.avg_drift, mean(p, "avg_drift"));
            assert_eq!(l.max_drift, mean(p, "max_drift"));
            assert_eq!(l.harvesting_yield, Some(mean(p, "harvesting_yield")));
            assert_eq!(l.disallowed_all, mean(p, "disallowed_all"));
            assert_eq!(l.ticket_charges_to_nna, p.ticket_charges_to_nna);
            assert_eq!(l.net_new_assets, p.net_new_assets);
        }
        assert!(lines.iter().any(|l| l.max_drift > 0.0));
        assert!(lines.iter().any(|l| l.ticket_charges_to_nna.is_some()));
        // The firm's ratio: its charges over its net new assets, a one-household firm's its
        // line's; twice the household, twice the net new assets and the same ratio.
        let mut summary = FirmSummary::new(&config);
        summary.add(&line).unwrap();
        let once = summary.to_csv();
        summary.add(&line).unwrap();
        let twice = summary.to_csv();
        for l in lines {
            let (one, two) = (summary_row(&once, &l.name), summary_row(&twice, &l.name));
            assert!(l.net_new_assets > 0.0);
            assert_eq!(cell(&one, "net_new_assets"), l.net_new_assets);
            assert_eq!(cell(&two, "net_new_assets"), 2.0 * l.net_new_assets);
            let ratio = l.ticket_charges_to_nna.expect("net new assets");
            approx::assert_relative_eq!(
                cell(&one, "ticket_charges_to_nna"),
                ratio,
                max_relative = 1e-12
            );
            approx::assert_relative_eq!(
                cell(&two, "ticket_charges_to_nna"),
                ratio,
                max_relative = 1e-12
            );
        }
        // Written under the metrics' own keys.
        let v = serde_json::to_value(&line).unwrap();
        for key in [
            "avg_drift",
            "max_drift",
            "harvesting_yield",
            "disallowed_all",
            "ticket_charges_to_nna",
        ] {
            assert!(v["policies"][0].get(key).is_some(), "{key}");
        }
    }

    /// Regression: a household whose withdrawal exceeded its account, or whose cash flows
    /// fell after the horizon, was an `"ok"` line with nothing to say so.
    #[test]
    fn a_line_carries_the_reports_warnings_and_the_summary_counts_them() {
        let config = Scenario::demo();
        let gen = FirmGenerator::new(&config, 7).unwrap();
        let mut quiet = gen.household(0);
        quiet.cash_flows.clear();
        let mut warned = quiet.clone();
        warned.id = "warned".to_string();
        let account = warned.household.accounts[0].id.clone();
        let flow = |amount: f64, date: Date| CashFlow {
            account: account.clone(),
            amount,
            schedule: CashFlowSchedule::Once { date },
        };
        warned.cash_flows = vec![
            flow(-1e9, config.as_of.add_days(60)),
            flow(1_000.0, config.as_of.add_days(3 * 366)),
        ];
        let mut summary = FirmSummary::new(&config);
        for (i, h) in [&quiet, &warned].into_iter().enumerate() {
            let (s, report) = simulate(h, &config, 1);
            let line = HouseholdLine::from_report(&h.id, i as u64 + 1, &s, &report);
            let r = line.result.as_ref().unwrap();
            assert_eq!(r.warnings, report.warnings());
            // A drained household still has finite returns: the firm's weighted figures
            // stay numbers.
            for p in &r.policies {
                assert!(
                    p.tax_alpha_before_costs_bps.is_some_and(f64::is_finite)
                        && p.tax_alpha_after_costs_bps.is_some_and(f64::is_finite),
                    "{}: {p:?}",
                    h.id
                );
            }
            if h.id == "warned" {
                assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
                assert!(r.warnings[0].starts_with(crate::simulate::report::FLOWS_AFTER_HORIZON));
                assert!(r.warnings[0].contains("cash_flows[1]"), "{}", r.warnings[0]);
                assert!(r.warnings[1].starts_with(crate::simulate::report::WITHDRAWALS_NOT_MET));
            } else {
                assert!(r.warnings.is_empty(), "{:?}", r.warnings);
                // The fixed notes every report carries are not warnings.
                assert!(!report.assumptions.is_empty());
            }
            let v = serde_json::to_value(&line).unwrap();
            assert_eq!(v["warnings"].as_array().unwrap().len(), r.warnings.len());
            summary.add(&line).unwrap();
        }
        assert_eq!(summary.households_with_warnings, 1);
        assert!(FirmSummary::CSV_HEADER.contains(",households_with_warnings,"));
        let csv = summary.to_csv();
        for p in &config.policies {
            assert_eq!(
                cell(&summary_row(&csv, &p.name), "households_with_warnings"),
                1.0
            );
        }
    }

    /// Regression: an invalid household showed its first problem and "(and 2 more
    /// problems)".
    #[test]
    fn an_invalid_household_lists_every_problem() {
        let config = Scenario::demo();
        let gen = FirmGenerator::new(&config, 7).unwrap();
        let mut v = serde_json::to_value(gen.household(0)).unwrap();
        v["household"]["accounts"][0]["lots"][0]["symbol"] = "NOPE".into();
        v["min_cash"] = serde_json::json!([{"account": "nowhere", "amount": 5.0}]);
        v["cash_flows"] = serde_json::json!([{"account": "elsewhere", "amount": 100.0,
            "schedule": {"kind": "once", "date": "2027-01-04"}}]);
        let h = parse_line(3, &v.to_string()).unwrap();
        let e = h.scenario(&config, 3).unwrap_err();
        let FirmError::Invalid { errors, .. } = &e else {
            panic!("{e}")
        };
        assert!(errors.len() >= 3, "{errors:?}");
        let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            e.to_string(),
            format!("line 3 (household `HH-00001`): {}", listed.join("; "))
        );
        for path in [
            "household.accounts[0].lots[0].symbol",
            "min_cash[0].account",
            "cash_flows[0].account",
        ] {
            assert!(e.to_string().contains(path), "{path}: {e}");
        }
    }

    /// Regression: a truncated line read "line 5: not valid JSON (column 0): … at line 2
    /// column 0": the parser's own position (within the line, after its line ending)
    /// followed the batch line's, with a column 0 where columns are 1-based.
    #[test]
    fn a_syntax_error_names_the_batch_line_once_and_a_one_based_column() {
        let e = parse_line(5, "{\"id\": \"x\", \n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 5: not valid JSON (column 12): EOF while parsing a value"
        );
        assert_eq!(e, parse_line(5, "{\"id\": \"x\", \r\n").unwrap_err());
        // Columns count characters, not bytes.
        let e = parse_line(2, "{\"id\": \"Renée\", x}\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: not valid JSON (column 17): key must be a string"
        );
        let e = parse_line(9, "\n").unwrap_err();
        assert!(matches!(e, FirmError::Syntax { column: 1, .. }), "{e}");
    }

    /// Regression: a line of JSON that is no object read `.: invalid type: null, expected
    /// struct FirmHousehold`, and a file saved with a byte-order mark lost its first
    /// household to "not valid JSON (column 1)".
    #[test]
    fn a_line_that_is_no_object_says_so_and_a_byte_order_mark_is_read_past() {
        for (text, found) in [("null", "null"), ("[1,2,3]", "an array"), ("7", "a number")] {
            let e = parse_line(3, text).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("line 3: the line: a household is a JSON object ({{\"id\": …, \"household\": …}}), not {found}")
            );
        }
        let config = Scenario::demo();
        let line = FirmGenerator::new(&config, 1).unwrap().household(0);
        let text = serde_json::to_string(&line).unwrap();
        let with_bom = format!("\u{feff}{text}\r\n");
        assert_eq!(
            parse_line(1, &with_bom).unwrap(),
            parse_line(1, &text).unwrap()
        );
    }

    /// Regression: the batch simulated the scenario as the line gave it, a scenario file is
    /// read as validated (names trimmed), so a household saved to a file and simulated
    /// from it could be another scenario, with another hash.
    #[test]
    fn a_household_scenario_reads_back_from_its_file_as_itself() {
        let config = Scenario::demo();
        let mut h = FirmGenerator::new(&config, 7).unwrap().household(0);
        let name = h.household.members[0].name.clone();
        h.household.members[0].name = format!("  {name} ");
        let s = h.scenario(&config, 1).unwrap();
        assert_eq!(s.household.members[0].name, name);
        let back = Scenario::from_json(&s.to_json_pretty()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.hash_hex(), s.hash_hex());
    }

    #[test]
    fn csv_cells_are_quoted_when_needed() {
        assert_eq!(csv_text("Quarterly calendar"), "Quarterly calendar");
        assert_eq!(csv_text("TLH, daily"), "\"TLH, daily\"");
        assert_eq!(csv_text("the \"engine\""), "\"the \"\"engine\"\"\"");
        assert_eq!(num(f64::NAN), "");
        assert_eq!(num(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn the_summary_adds_households_in_order() {
        let config = Scenario::demo();
        let gen = FirmGenerator::new(&config, 11).unwrap();
        let options = SimOptions {
            paths: Some(2),
            years: Some(1),
            ..batch_options()
        };
        let mut summary = FirmSummary::new(&config);
        let mut lines = Vec::new();
        for (i, h) in gen.households(2).enumerate() {
            let s = h.scenario(&config, i as u64 + 1).unwrap();
            let report = Simulation::new(&s, &options).unwrap().run().unwrap();
            assert!(report.trades.policies.is_empty());
            let line = HouseholdLine::from_report(&h.id, i as u64 + 1, &s, &report);
            let r = line.result.as_ref().unwrap();
            assert!(r
                .policies
                .iter()
                .all(|p| p.tickets.is_finite() && p.turnover.is_finite()));
            // A line reads back as written.
            let text = serde_json::to_string(&line).unwrap();
            assert_eq!(serde_json::from_str::<HouseholdLine>(&text).unwrap(), line);
            summary.add(&line).unwrap();
            lines.push(line);
        }
        let failed = HouseholdLine::failed(None, 3, "line 3: bad".into());
        let text = serde_json::to_string(&failed).unwrap();
        assert_eq!(
            text,
            r#"{"id":"","line":3,"status":"error","error":"line 3: bad"}"#
        );
        assert_eq!(
            serde_json::from_str::<HouseholdLine>(&text).unwrap(),
            failed
        );
        summary.add(&failed).unwrap();
        assert_eq!((summary.households, summary.households_failed), (2, 1));
        for (k, t) in summary.policies.iter().enumerate() {
            let tickets = |i: usize| lines[i].result.as_ref().unwrap().policies[k].tickets;
            assert_eq!(t.tickets, tickets(0) + tickets(1));
        }
        let csv = summary.to_csv();
        assert_eq!(csv.lines().count(), 1 + config.policies.len());
        let cols = FirmSummary::CSV_HEADER.split(',').count();
        assert!(csv.lines().all(|l| l.split(',').count() == cols), "{csv}");
        // A line from another configuration is refused.
        let mut odd = lines[0].clone();
        odd.result.as_mut().unwrap().policies.pop();
        assert!(matches!(
            summary.add(&odd),
            Err(FirmError::PolicyMismatch { .. })
        ));
    }
}
