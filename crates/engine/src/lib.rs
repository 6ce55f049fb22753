//! # Tollbooth engine
//!
//! What a rebalancing policy really costs a household: ticket charges, regulatory fees,
//! spreads and taxes, against the tax alpha and risk control it buys.
//!
//! The engine is pure Rust with no web dependency; it builds natively (the `tollbooth`
//! command) and for `wasm32-unknown-unknown` (the browser app). Modules:
//!
//! - [`date`]: calendar dates (civil, proleptic Gregorian) and business days;
//! - [`fees`]: fee schedules and presets, dated SEC Section 31 / FINRA TAF tables, the
//!   itemised cost of a ticket, and the same costs as linear terms for the optimizer;
//! - [`firm`]: firm-wide batches — households read line by line into a shared
//!   configuration, per-household results, the firm summary, and a synthetic firm generator;
//! - [`household`]: the household rebalancing optimizer: trades across every account with
//!   spreads, commissions, flat ticket fees and lot-by-lot taxes in the objective, per-account
//!   budgets, restrictions, whole shares and the wash-sale guard ("today's trades");
//! - [`lots`]: tax lots and the one lot-relief routine (FIFO, LIFO, HIFO, min-tax, specific);
//! - [`ledger`]: the household ledger: sales, household-wide wash sales, holding periods;
//! - [`market`]: capital-market assumptions and the Monte Carlo market (correlated daily
//!   returns, TLH partners, quarterly dividends; seeded, bit-identical in WebAssembly),
//!   replayed return series, Ledoit–Wolf covariance;
//! - [`tax`]: the tax profile, yearly netting of gains and losses, after-tax values;
//! - [`optimize`]: the rebalancing optimizer (factor-form risk, proportional costs, fixed
//!   fees per traded name; exact active-set method, Clarabel reference, branch-and-bound);
//! - [`scenario`]: the inputs — household, lots, securities, target model, fee schedules,
//!   tax profile, market assumptions, cash flows and policies; the typed-in form and its
//!   validation with field paths; JSON load with schema migration; the scenario hash; the
//!   embedded demo household; CSV import of tax lots from custodian exports
//!   ([`scenario::import`]);
//! - [`backtest`]: replay backtests of the calendar and daily-optimisation (SPO) policies
//!   on a stored return history (cvxportfolio's accounting conventions);
//! - [`simulate`]: the multi-period simulation — point-in-time policies (calendar, bands,
//!   opportunistic, cash-flow-first, tax-loss harvesting, tactical overlay, cost-aware
//!   optimizer), the daily simulator with its balancing books, and the side-by-side report;
//! - [`types`]: the shared vocabulary (sides, security and account kinds, lot methods).
#![warn(missing_docs)]

pub mod backtest;
pub mod date;
pub mod fees;
pub mod firm;
pub mod household;
pub mod ledger;
pub mod lots;
pub mod market;
mod num;
pub mod optimize;
pub mod scenario;
pub mod simulate;
pub mod tax;
pub mod types;

/// The engine's version, carried in every report for reproducibility.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A CSV text cell (RFC 4180): quoted, with its quotes doubled, when it holds a comma, a
/// quote or a line break; as is otherwise. Text that a spreadsheet would read as a formula
/// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return: a policy named
/// `=HYPERLINK(…)` in a scenario file) is prefixed with `'`, which spreadsheets show as
/// text. Every CSV the engine and the app write (trade lists, summaries, the firm summary)
/// quotes its text cells with this.
///
/// ```
/// use tollbooth_engine::csv_text;
/// assert_eq!(csv_text("TLH, daily"), "\"TLH, daily\"");
/// assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
/// assert_eq!(csv_text("@SUM(A1)"), "'@SUM(A1)");
/// ```
pub fn csv_text(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let s = if formula {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.into_owned()
    }
}

/// What an export was computed from: the engine version, the scenario's hash and the seed
/// (the SPEC's provenance of a report), written as the first line of every CSV the engine
/// and the app export ([`Provenance::csv_line`]).
///
/// A simulation's export also names its paths, years and report hash
/// ([`crate::simulate::report::Report::provenance`]); an export worked out from the
/// scenario alone (today's trades) has no `run` ([`Provenance::of_scenario`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// The scenario's name.
    pub scenario_name: String,
    /// The scenario's hash ([`scenario::Scenario::hash_hex`]).
    pub scenario_hash: String,
    /// The random seed (the scenario's `market.seed` unless a run chose another).
    pub seed: u64,
    /// A simulation's paths, years and report hash; `None` for an export of the scenario
    /// alone.
    pub run: Option<RunProvenance>,
    /// The engine's version ([`VERSION`]).
    pub engine_version: String,
}

/// The part of a [`Provenance`] that only a simulation has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunProvenance {
    /// Paths simulated.
    pub paths: u64,
    /// Horizon in years.
    pub years: u32,
    /// The report's hash ([`simulate::report::Report::hash_hex`]); none for a firm's
    /// summary, whose households each have their own.
    pub report_hash: Option<String>,
}

impl Provenance {
    /// The provenance of an export worked out from `scenario` alone by this engine: its
    /// name, hash and seed, and [`VERSION`].
    pub fn of_scenario(scenario: &scenario::Scenario) -> Provenance {
        Provenance {
            scenario_name: scenario.name.clone(),
            scenario_hash: scenario.hash_hex(),
            seed: scenario.market.seed,
            run: None,
            engine_version: VERSION.to_string(),
        }
    }

    /// The CSV comment line that opens an export, newline included: `# ` then `key,value`
    /// pairs — `scenario`, `hash`, `seed`, then for a simulation `paths`, `years`, then
    /// `engine`, then for a simulation with one report `report` (the scenario's name quoted by
    /// [`csv_text`]). A reader skips the line as a comment or reads the pairs.
    ///
    /// ```
    /// use tollbooth_engine::{Provenance, RunProvenance};
    /// let mut p = Provenance {
    ///     scenario_name: "Rivera, 2026".into(),
    ///     scenario_hash: "0123456789abcdef".into(),
    ///     seed: 42,
    ///     run: None,
    ///     engine_version: "1.2.3".into(),
    /// };
    /// assert_eq!(
    ///     p.csv_line(),
    ///     "# scenario,\"Rivera, 2026\",hash,0123456789abcdef,seed,42,engine,1.2.3\n"
    /// );
    /// p.run = Some(RunProvenance { paths: 500, years: 10, report_hash: Some("fedcba9876543210".into()) });
    /// assert_eq!(
    ///     p.csv_line(),
    ///     "# scenario,\"Rivera, 2026\",hash,0123456789abcdef,seed,42,paths,500,years,10,engine,1.2.3,report,fedcba9876543210\n"
    /// );
    /// ```
    pub fn csv_line(&self) -> String {
        let mut out = format!(
            "# scenario,{},hash,{},seed,{}",
            csv_text(&self.scenario_name),
            self.scenario_hash,
            self.seed
        );
        if let Some(r) = &self.run {
            out.push_str(&format!(",paths,{},years,{}", r.paths, r.years));
        }
        out.push_str(&format!(",engine,{}", self.engine_version));
        if let Some(h) = self.run.as_ref().and_then(|r| r.report_hash.as_ref()) {
            out.push_str(&format!(",report,{h}"));
        }
        out.push('\n');
        out
    }
}

/// A CSV number cell with `places` decimals: a value that rounds to zero is written
/// unsigned (`0.00`, never `-0.00`, which a residual of −3e-14 from adding up a fully
/// washed sale would otherwise print); a non-finite value is an empty cell.
///
/// ```
/// use tollbooth_engine::csv_fixed;
/// assert_eq!(csv_fixed(-3e-14, 2), "0.00");
/// assert_eq!(csv_fixed(-0.004, 2), "0.00");
/// assert_eq!(csv_fixed(-0.005001, 2), "-0.01");
/// assert_eq!(csv_fixed(1234.5678, 4), "1234.5678");
/// assert_eq!(csv_fixed(f64::NAN, 2), "");
/// ```
pub fn csv_fixed(x: f64, places: usize) -> String {
    if !x.is_finite() {
        return String::new();
    }
    let s = format!("{x:.places$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => s,
    }
}
