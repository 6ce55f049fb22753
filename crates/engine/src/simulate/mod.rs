//! The multi-period simulation: what a rebalancing policy costs a household over many
//! market paths, and what it buys.
//!
//! # Problem
//!
//! For each policy `π` of a scenario and each Monte Carlo path `ω`, run the household's
//! books day by day over the horizon and measure the after-tax terminal wealth
//! `W_T(π, ω)` and the costs that got it there. Policies are compared on the *same* paths:
//! the net benefit of `π` is `W_T(π, ω) − W_T(baseline, ω)`, averaged and spread over `ω`.
//!
//! # Overview
//!
//! Every business day of a path (all policies move in lockstep on one market path):
//!
//! 1. **Prices** move by the day's simple returns, net of each fund's expense ratio
//!    (`P_t = P_{t−1}·(1 + R_t)·(1 − ER/A)`); cash earns the scenario's cash yield.
//! 2. **Dividends** (quarterly, from the market model) are reinvested — a purchase booked in
//!    the ledger, which can wash a loss — or paid in cash (scenario setting). Under a
//!    wash-sale guard a dividend of a blocked group is paid in cash.
//! 3. **Taxes** of the previous year are settled once all its wash-sale windows have closed
//!    (on the first business day after January 30): the year's realized gains are netted
//!    with [`crate::tax::net_year`] (carry-forwards, $3,000 ordinary offset) and the tax is
//!    debited from (a saving credited to) the first taxable account's cash. Advisory fees
//!    (the schedule's bps on AUM) are charged quarterly from each account's cash.
//! 4. **Cash flows** of the day are credited or debited (a withdrawal is capped at the
//!    account's value).
//! 5. The **policy** decides, stage by stage ([`policy`]), seeing only the past and today's
//!    close; orders execute at today's close through the ledger with the account's fee
//!    schedule: one ticket per (account, security, side, day) — a second order of the same
//!    key the same day is billed as the increase of that ticket's cost — with the
//!    half-spread paid on every trade and the cash debited. An account whose cash would be
//!    negative sells holdings to get back to its minimum cash.
//! 6. At the horizon the last year's realized gains are taxed, taxable accounts are
//!    liquidated (or held, per the tax profile), traditional IRA / 401k balances are taxed
//!    at the ordinary rate and Roth balances are untaxed: [`report::PolicyPath::after_tax`].
//!    Tax years still open at the horizon (a horizon on or before January 30) are settled from
//!    cash first, so the terminal value is net of them.
//!
//! At every month-end close the same wind-up is priced without touching the books — the
//! **after-tax household value** `A_t = V_t − T_open − L_t − D_t`
//! ([`report::AFTER_TAX_VALUE_DEFINITION`]): `V_t` the household value; `T_open` the tax
//! still due on realized results (each year not yet settled, then the year so far, netted
//! in order from the carry-forward with [`crate::tax::net_year`]); `L_t` the extra tax of
//! the year if every taxable lot were also sold at that close (its unrealized gains by
//! holding period added to the year's realized results and netted once more; 0 when the
//! profile holds to the horizon); `D_t` the traditional IRA / 401k balances at the
//! profile's deferred rate. The horizon is a month-end, so the last `A_t` is
//! [`report::PolicyPath::after_tax`]; the fan of `A_t` over paths is
//! [`report::PolicySeries::after_tax_p50`] and its 5th/95th percentiles.
//!
//! The books balance by construction:
//! `V_T = V_0 + price gains + dividends + interest + flows − commissions − regulatory fees
//! − spread − impact − taxes paid in cash − advisory fees`, and shares and cash never go
//! negative; the tests check both on every path.
//!
//! ## The tactical signal
//!
//! The tactical overlay trades on a [`SignalFeed`]: per class, `s = IC·z + √(1−IC²)·ε`
//! with `ε` independent standard normal noise and `z` the class's *next* business day's
//! return standardised by its volatility. The feed is the simulator's stand-in for a data
//! vendor with a stated skill: the policy sees only the feed's number, never the return.
//! With the default `IC = 0` the signal is pure noise and uses no market data at all — the
//! "sentiment engine" of the seed story. A positive IC is a *hypothetical* forecaster; it is
//! the one place any information about the future enters, and only in the amount stated.
//!
//! ## Reproducibility and splitting
//!
//! Path `p` of seed `s` is the same wherever it runs (see [`crate::market`]); signal noise
//! is drawn from a SplitMix64 stream keyed by (seed, path, policy). [`Simulation::run_path`]
//! returns a [`report::PathOutcome`], which an [`report::Accumulator`] reduces at once into
//! per-policy aggregates; aggregates from any split of the paths merge in any order. Means
//! come from exact sums (correctly rounded once, [`stats::ExactSum`]) and percentiles from
//! distributions that depend only on the multiset of values ([`stats::Distribution`]), so
//! the report — and [`report::Report::hash_hex`] — is bit-identical however the paths were
//! split between threads or Web Workers and in whatever order the parts were merged.
//!
//! ## What is not modelled
//!
//! Taxes on dividends and interest (they depend little on the policy), unscheduled
//! exchange closures and early closes, intraday prices (trades execute at the close), and
//! market impact unless the fee schedule models it. The report's break-even ticket fee is a
//! first-order estimate (see [`report::PolicyReport::break_even_ticket_fee`]): net benefit
//! is linear in a flat fee added to every ticket while the trades do not change. But they
//! do: the cost-aware optimizer weighs the fee, and every policy sizes its buys to the cash
//! left after the ticket and skips a sale smaller than its ticket. [`confirm`] finds the
//! crossing by re-simulation (`tollbooth break-even`).
//!
//! # Usage
//!
//! ```
//! use tollbooth_engine::scenario::Scenario;
//! use tollbooth_engine::simulate::{simulate, SimOptions};
//!
//! let scenario = Scenario::demo();
//! let report = simulate(&scenario, &SimOptions { paths: Some(2), years: Some(1), ..SimOptions::default() })?;
//! assert_eq!(report.policies.len(), scenario.policies.len());
//! let quarterly = report.policy("Quarterly calendar").unwrap();
//! assert!(quarterly.metric("tickets").unwrap().mean > 0.0);
//! # Ok::<(), tollbooth_engine::simulate::SimError>(())
//! ```
//!
//! # Performance
//!
//! See `benches/simulate.rs` and `tollbooth bench` (the default scenario,
//! [`six_policies`], 500 paths × 10 years). The whole household (all policies) moves
//! together on one generated path; no step allocates except to book trades and dividend
//! reinvestments in the ledger (and, at month-ends, the after-tax valuation's small map of
//! realized results by year), and the optimizer runs only on its check days, re-using
//! one solver (its factor decomposition is computed once per path) behind an exact screen
//! that skips the solve when even a perfect rebalance could not pay one ticket. Paths are
//! independent: [`Simulation::chunks`] splits them for threads (`tollbooth simulate
//! --threads`) or Web Workers, and the merged report is bit-identical for any split.
//!
//! Memory does not grow with the path count: an [`Accumulator`] reduces each path as it
//! arrives. Per policy it holds exact sums (a few partials each) for the 21 metrics, the
//! break-even inputs and the two cumulative month-end series, and a distribution for each
//! metric and each month-end of the two value series: the values themselves up to
//! [`stats::EXACT_CAP`] paths (percentiles exact; at most `8·P·(20 + 2·M)` KB — P policies,
//! M month-ends: 12.5 MB for six policies over 10 years), then a logarithmic-bucket sketch
//! of at most [`stats::SKETCH_MAX_BUCKETS`] (1,024) buckets of 8 bytes — the same bound,
//! whatever the number of paths and the spread of the values. Value-like distributions fit
//! at full accuracy ([`stats::SKETCH_ALPHA`], 0.05 %); wide ones centred near zero (net
//! benefit, taxes) coarsen their buckets deterministically (a function of the values
//! gathered, not of their order or grouping), and the report states the worst accuracy
//! kept ([`Accumulator::worst_relative_error`]). Only the recorded path keeps its trade
//! list.

// Index loops mirror the books' formulas (several arrays per account and security).
#![allow(clippy::needless_range_loop)]

mod book;
pub mod confirm;
pub mod policy;
pub mod report;
pub mod stats;
mod world;

pub use policy::{Order, Reason};
pub use report::{
    break_even, AccumulateError, Accumulator, BreakEvenSide, MetricDef, PathOutcome, PathPart,
    PolicyPath, PolicyReport, RecordedTrades, Report, Shape, Stat, TradeRow, FRICTION_TRADE_DAYS,
};

use crate::date::Date;
use crate::fees::FeeError;
use crate::ledger::LedgerError;
use crate::market::{MarketError, MarketPath, STEPS_PER_YEAR};
use crate::scenario::policy::{
    Band, BandKind, CalendarRule, Frequency, OpportunisticRule, Policy, TacticalOverlay,
    ThresholdRule, TlhRule, WashSaleGuard,
};
use crate::scenario::Scenario;
use crate::types::LotMethod;
use book::Book;
use policy::{Stage, View};
use report::{CORRELATION_REPAIRED, FLOWS_AFTER_HORIZON, NO_START_VALUE};
use world::World;

/// Why a simulation could not run. Every variant names what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    /// Zero paths were asked for.
    #[error("the number of paths must be at least 1 (got 0)")]
    NoPaths,
    /// A zero-year horizon.
    #[error("the horizon must be at least 1 year (got 0)")]
    NoYears,
    /// The horizon runs past the last date the calendar has.
    #[error(
        "the horizon ends after {}: the scenario date ({as_of}) plus {years} years leaves the calendar",
        crate::date::Date::MAX_YEAR
    )]
    PastCalendar {
        /// The scenario date.
        as_of: crate::date::Date,
        /// The horizon in years.
        years: u32,
    },
    /// The scenario has no policy.
    #[error("the scenario has no policy to simulate")]
    NoPolicies,
    /// The baseline names no policy.
    #[error("the baseline `{name}` is not one of the scenario's policies")]
    UnknownBaseline {
        /// The baseline's name.
        name: String,
    },
    /// A break-even search was asked for a name that is not one of the scenario's
    /// policies, or for the baseline itself.
    #[error("`{name}` is not one of the scenario's policies other than the baseline")]
    NotAPolicy {
        /// The name asked for.
        name: String,
    },
    /// A security named somewhere is not in the scenario.
    #[error("{field}: unknown security `{symbol}`")]
    UnknownSecurity {
        /// Where it is named.
        field: String,
        /// The symbol.
        symbol: String,
    },
    /// An account named somewhere is not in the household.
    #[error("{field}: unknown account `{account}`")]
    UnknownAccount {
        /// Where it is named.
        field: String,
        /// The account id.
        account: String,
    },
    /// An account's fee schedule does not exist.
    #[error("account `{account}` uses fee schedule `{schedule}`, which does not exist")]
    UnknownFeeSchedule {
        /// The account.
        account: String,
        /// The schedule id.
        schedule: String,
    },
    /// A security's asset class has no market assumptions.
    #[error(
        "security `{symbol}` is in asset class `{asset_class}`, which has no market assumptions"
    )]
    UnknownAssetClass {
        /// The security.
        symbol: String,
        /// Its asset class.
        asset_class: String,
    },
    /// The market model rejected the assumptions.
    #[error("market: {0}")]
    Market(#[from] MarketError),
    /// A path could not be added to the accumulator.
    #[error("accumulating paths: {0}")]
    Accumulate(#[from] AccumulateError),
    /// The ledger refused a trade.
    #[error("ledger, account `{account}`, {symbol} on {date}: {source}")]
    Ledger {
        /// Account id.
        account: String,
        /// Symbol.
        symbol: String,
        /// Trade date.
        date: Date,
        /// The ledger's error.
        source: LedgerError,
    },
    /// The fee model could not price a ticket.
    #[error("fees, account `{account}`, {symbol} on {date}: {source}")]
    Fee {
        /// Account id.
        account: String,
        /// Symbol.
        symbol: String,
        /// Trade date.
        date: Date,
        /// The fee model's error.
        source: FeeError,
    },
    /// An account's fee schedule does not validate ([`crate::fees::FeeSchedule::validate`]).
    #[error("fee schedule of account `{account}`: {source}")]
    InvalidFeeSchedule {
        /// Account id.
        account: String,
        /// The fee model's error.
        source: FeeError,
    },
    /// The tax profile is invalid.
    #[error("tax profile: {0}")]
    Tax(#[from] crate::tax::TaxError),
    /// The household's opening lots could not be booked.
    #[error("opening lots: {source}")]
    Opening {
        /// The ledger's error.
        source: LedgerError,
    },
    /// Parts of a path ([`Simulation::run_path_part`]) that do not make one path.
    #[error("path {path}: {reason}")]
    BadPart {
        /// The path.
        path: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// A policy's day failed: which policy, on which path (0-based, as `--trades-csv` and
    /// the recorded path count), and why.
    #[error("policy `{policy}`, path {path}: {source}")]
    InPolicy {
        /// The policy's name.
        policy: String,
        /// The path.
        path: u64,
        /// What failed.
        source: Box<SimError>,
    },
    /// A consistency check of the simulator failed (a bug, reported rather than panicking).
    #[error("internal error: {what}")]
    Internal {
        /// What failed.
        what: &'static str,
    },
}

impl From<LedgerError> for SimError {
    fn from(source: LedgerError) -> Self {
        SimError::Opening { source }
    }
}

impl SimError {
    /// This error, said of `policy` on `path`.
    fn in_policy(self, policy: &str, path: u64) -> SimError {
        SimError::InPolicy {
            policy: policy.to_string(),
            path,
            source: Box::new(self),
        }
    }

    pub(crate) fn ledger(
        w: &World<'_>,
        a: usize,
        s: usize,
        date: Date,
        e: LedgerError,
    ) -> SimError {
        SimError::Ledger {
            account: w.accounts[a].id.clone(),
            symbol: w.secs[s].symbol.clone(),
            date,
            source: e,
        }
    }
}

/// Run settings that override the scenario's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimOptions {
    /// Paths (default: the scenario's `market.paths`).
    pub paths: Option<u64>,
    /// Seed (default: the scenario's `market.seed`).
    pub seed: Option<u64>,
    /// Horizon in years (default: the scenario's `market.horizon_years`).
    pub years: Option<u32>,
    /// The path whose trades are listed (default 0).
    pub record_path: Option<u64>,
}

/// The tactical overlay's signal source (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct SignalFeed {
    state: u64,
    spare: Option<f64>,
    ic: f64,
}

impl SignalFeed {
    /// The feed of policy `policy` on path `path` of `seed`, with information coefficient
    /// `ic` (clamped to [−1, 1]).
    pub fn new(seed: u64, path: u64, policy: u64, ic: f64) -> SignalFeed {
        let mut state = seed ^ 0x5349_474e_414c_5f31;
        state = splitmix(&mut state) ^ path.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        state = splitmix(&mut state) ^ policy.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        SignalFeed {
            state,
            spare: None,
            ic: if ic.is_finite() {
                ic.clamp(-1.0, 1.0)
            } else {
                0.0
            },
        }
    }

    fn uniform(&mut self) -> f64 {
        // 53 random bits in (0, 1).
        ((splitmix(&mut self.state) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal draw (Marsaglia polar method, `libm` for the logarithm).
    pub fn normal(&mut self) -> f64 {
        if let Some(x) = self.spare.take() {
            return x;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let f = f64::sqrt(-2.0 * libm::log(s) / s);
                self.spare = Some(v * f);
                return u * f;
            }
        }
    }

    /// Today's signal per class into `out`, from the standardised next-day class returns
    /// `z` (`None` on the last day: noise only).
    pub fn next(&mut self, z: Option<&[f64]>, out: &mut [f64]) {
        let noise = f64::sqrt((1.0 - self.ic * self.ic).max(0.0));
        for (k, o) in out.iter_mut().enumerate() {
            let e = self.normal();
            let zk = z.and_then(|z| z.get(k)).copied().unwrap_or(0.0);
            *o = if z.is_some() {
                self.ic * zk + noise * e
            } else {
                e
            };
        }
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A prepared simulation: the scenario compiled once, then any paths run.
pub struct Simulation<'s> {
    world: World<'s>,
    seed: u64,
    paths: u64,
    years: u32,
    record_path: u64,
    baseline: usize,
    month_ends: Vec<usize>,
}

/// Per policy, per path running measures (no allocation per step).
#[derive(Debug, Clone, Default)]
struct Track {
    prev_value: f64,
    value_sum: f64,
    days: f64,
    te_mean: f64,
    te_m2: f64,
    drift_sum: f64,
    drift_max: f64,
    min_cash: f64,
    min_shares: f64,
    flows_today: f64,
    taxes_today: f64,
    /// Advisory fees charged today (added back to the day's return, like taxes).
    advisory_today: f64,
    last_fee_date: Option<Date>,
    /// Tomorrow's price gain on today's closing holdings, summed by today's measures
    /// (tomorrow's prices are known a day ahead): tomorrow's mark needs no pass of its own.
    gain_next: f64,
}

impl<'s> Simulation<'s> {
    /// Compiles `scenario` with `options`. Errors on zero paths, a zero horizon, no
    /// policies, an unknown baseline, or scenario references that do not resolve.
    pub fn new(scenario: &'s Scenario, options: &SimOptions) -> Result<Simulation<'s>, SimError> {
        let paths = options.paths.unwrap_or(u64::from(scenario.market.paths));
        let years = options.years.unwrap_or(scenario.market.horizon_years);
        if paths == 0 {
            return Err(SimError::NoPaths);
        }
        if years == 0 {
            return Err(SimError::NoYears);
        }
        if !scenario.as_of.horizon_fits(years) {
            return Err(SimError::PastCalendar {
                as_of: scenario.as_of,
                years,
            });
        }
        if scenario.policies.is_empty() {
            return Err(SimError::NoPolicies);
        }
        let baseline = scenario
            .policies
            .iter()
            .position(|p| p.name == scenario.baseline)
            .ok_or_else(|| SimError::UnknownBaseline {
                name: scenario.baseline.clone(),
            })?;
        let world = World::new(scenario, years)?;
        let d = &world.dates;
        let month_ends = (0..d.len())
            .filter(|&i| i + 1 == d.len() || d[i + 1].ymd().1 != d[i].ymd().1)
            .collect();
        Ok(Simulation {
            seed: options.seed.unwrap_or(scenario.market.seed),
            paths,
            years,
            record_path: options.record_path.unwrap_or(0),
            baseline,
            month_ends,
            world,
        })
    }

    /// Number of paths the report covers.
    pub fn paths(&self) -> u64 {
        self.paths
    }

    /// The paths `0..paths()` split into `parts` contiguous ranges of near-equal length
    /// (at most `paths()` ranges, none empty): the work units for threads or Web Workers.
    /// Any split gives the same report (see the [module documentation](self)).
    pub fn chunks(&self, parts: u64) -> Vec<std::ops::Range<u64>> {
        let parts = parts.clamp(1, self.paths);
        let (base, extra) = (self.paths / parts, self.paths % parts);
        let mut out = Vec::with_capacity(parts as usize);
        let mut start = 0;
        for i in 0..parts {
            let len = base + u64::from(i < extra);
            out.push(start..start + len);
            start += len;
        }
        out
    }

    /// The run's shape (policies, baseline, horizon, month-ends) for an [`Accumulator`].
    pub fn shape(&self) -> Shape {
        Shape::new(
            self.world.scenario.policies.len(),
            self.baseline,
            self.world.years,
            self.month_ends.len(),
        )
    }

    /// An empty accumulator for this run's paths.
    pub fn accumulator(&self) -> Accumulator {
        Accumulator::with_shape(self.shape())
    }

    /// Runs paths `range` into a fresh accumulator (each path reduced as it completes).
    pub fn run_range(&self, range: std::ops::Range<u64>) -> Result<Accumulator, SimError> {
        let mut acc = self.accumulator();
        for p in range {
            acc.push(self.run_path(p)?)?;
        }
        Ok(acc)
    }

    /// Runs every path and builds the report.
    pub fn run(&self) -> Result<Report, SimError> {
        let acc = self.run_range(0..self.paths)?;
        Ok(self.report(&acc))
    }

    /// Builds the report from the paths gathered (in any order, from any split), which
    /// must come from this run (same [`Simulation::shape`]).
    pub fn report(&self, acc: &Accumulator) -> Report {
        self.build_report(acc, true)
    }

    /// The report without its month-end series (the chart data): every metric, the
    /// break-even fee, the flags and the recorded trades, at a fraction of the cost. For
    /// partial results while paths are still coming in.
    pub fn summary(&self, acc: &Accumulator) -> Report {
        self.build_report(acc, false)
    }

    fn build_report(&self, acc: &Accumulator, with_series: bool) -> Report {
        let w = &self.world;
        let s = w.scenario;
        let head = Report {
            engine_version: crate::VERSION.to_string(),
            scenario_hash: s.hash_hex(),
            scenario_name: s.name.clone(),
            seed: self.seed,
            paths: acc.len(),
            horizon_years: self.years,
            start: w.start,
            end: w.dates.last().copied().unwrap_or(w.start),
            baseline: s.baseline.clone(),
            assumptions: self.assumptions(acc),
            definitions: Vec::new(),
            policies: Vec::new(),
            series: report::Series {
                dates: Vec::new(),
                policies: Vec::new(),
            },
            trades: report::TradeList {
                path: self.record_path,
                policies: Vec::new(),
            },
            undefined: self.undefined_metrics(),
        };
        let inputs = report::ReportInputs {
            names: s.policies.iter().map(|p| p.name.clone()).collect(),
            baseline: self.baseline,
            month_dates: self.month_ends.iter().map(|&i| w.dates[i]).collect(),
            head,
            with_series,
            years_span: w.years,
            requested_flows: w.flows.iter().fold(0.0, |a, f| a + f.2),
            _p: std::marker::PhantomData,
        };
        report::build(inputs, acc)
    }

    /// The metrics a household starting with no value cannot define: the ratios to the
    /// starting value, and tax alpha too when no cash flow goes in or out.
    fn undefined_metrics(&self) -> Vec<String> {
        let s = self.world.scenario;
        if s.household_value() > 0.0 {
            return Vec::new();
        }
        let mut keys = vec!["harvesting_yield", "net_benefit_bps"];
        // Tax alpha is a money-weighted return: defined once money goes in.
        if !self.contributes() {
            keys.extend(["tax_alpha_before_costs", "tax_alpha_after_costs"]);
        }
        keys.into_iter().map(str::to_string).collect()
    }

    /// Whether a contribution is paid within the horizon.
    fn contributes(&self) -> bool {
        self.world.flows.iter().any(|f| f.2 > 0.0)
    }

    fn assumptions(&self, acc: &Accumulator) -> Vec<String> {
        let w = &self.world;
        let s = w.scenario;
        let mut v = vec![
            format!(
                "{} paths of {} business days from {} (seed {}), {} shocks; {}.",
                // The paths the report aggregates (a partial report's are fewer than the
                // run's).
                acc.len(),
                w.dates.len(),
                w.start,
                self.seed,
                match s.market.shocks {
                    crate::scenario::market::Shocks::Normal => "normal".to_string(),
                    crate::scenario::market::Shocks::StudentT { dof } =>
                        format!("Student-t ({dof} d.o.f.)"),
                },
                partner_correlations(w)
            ),
            format!("Capital-market assumptions: {}.", s.market.correlation_source),
            "Trades execute at the day's close; every trade pays its security's half-spread; one ticket per (account, security, side, day).".to_string(),
            if w.tax_account.is_some() {
                "Taxes: realized gains netted per calendar year with carry-forwards and the ordinary-income offset, paid from the taxable account once the year's wash-sale windows have closed; dividends and interest are not taxed in the model.".to_string()
            } else {
                "Taxes: no taxable account, so no gains are realized; a loss carry-forward's ordinary-income offset saves tax outside the portfolio and is not counted.".to_string()
            },
            format!(
                "Horizon: {}; traditional IRA / 401k taxed at {:.1}% on exit; Roth untaxed.",
                match w.tax.horizon {
                    crate::tax::HorizonTreatment::Liquidate => "taxable accounts liquidated",
                    crate::tax::HorizonTreatment::Hold => "taxable accounts held (step-up)",
                },
                100.0 * w.tax.deferred_rate()
            ),
            format!(
                "Dividends {}; cash earns {:.2}% a year; expense ratios reduce prices daily.",
                if w.reinvest { "reinvested (a purchase for wash sales)" } else { "paid in cash" },
                100.0 * s.market.cash_yield
            ),
            "Tax alpha: annualised after-tax money-weighted return (cash flows are not return) minus the baseline's on the same paths. Harvesting yield is the vendors' figure (harvested losses ÷ starting value per year), not a return.".to_string(),
            tax_profile_note(&w.tax),
            stats::percentile_note(
                acc.worst_relative_error(),
                acc.shape().map_or(stats::SKETCH_MAX_BUCKETS, |s| s.max_buckets),
            ),
            format!(
                "Break-even ticket fee: a first-order estimate, with the trades held at today's fees; each extra ticket's fee counted after its tax deduction and grown at the target model's expected return ({:.2}% a year) to the horizon. Trades react to the fee (the cost-aware optimizer weighs it; every policy sizes its buys to the cash left after the ticket and skips a sale smaller than its ticket), so far from today's fee the crossing can differ: the page's \"Confirm a break-even fee\" and `tollbooth break-even` find it by re-simulation.",
                100.0 * w.expected_growth
            ),
        ];
        if s.household_value() <= 0.0 {
            v.push(if !self.contributes() {
                format!("{NO_START_VALUE}: tax alpha, harvesting yield and the net benefit in bps a year (ratios to the starting value) are not defined (n/a).")
            } else {
                format!("{NO_START_VALUE}: harvesting yield and the net benefit in bps a year (ratios to the starting value) are not defined (n/a); tax alpha is the money-weighted return of the contributions.")
            });
        }
        if !w.flows_beyond.is_empty() {
            let named: Vec<String> = w
                .flows_beyond
                .iter()
                .map(|&i| {
                    let cf = &s.cash_flows[i];
                    let first = match cf.schedule {
                        crate::scenario::CashFlowSchedule::Once { date } => date,
                        crate::scenario::CashFlowSchedule::Recurring { start, .. } => start,
                    };
                    format!("cash_flows[{i}] ({}, {first})", cf.account)
                })
                .collect();
            v.push(format!(
                "{FLOWS_AFTER_HORIZON} ({}): {}.",
                w.dates.last().copied().unwrap_or(w.start),
                named.join(", ")
            ));
        }
        if let Some(r) = w.model.repair() {
            v.push(format!(
                "{CORRELATION_REPAIRED} to the nearest valid one: {r:?}."
            ));
        }
        let specific: Vec<&str> = s
            .policies
            .iter()
            .filter(|p| p.lot_method == LotMethod::SpecificLot)
            .map(|p| p.name.as_str())
            .collect();
        if !specific.is_empty() {
            v.push(format!(
                "Specific-lot identification ({}): in the simulation the policy names the lots itself, by the minimum-tax order (short-term losses, long-term losses, long-term gains, then short-term gains).",
                specific.join(", ")
            ));
        }
        // Harvesting without the household guard: the rule still applies, so the losses
        // its own repurchases wash are disallowed; say so next to the figures.
        let unguarded: Vec<String> = s
            .policies
            .iter()
            .filter_map(|p| {
                let reach = match p.tlh?.wash_sale_guard {
                    WashSaleGuard::Household => return None,
                    WashSaleGuard::Account => "same account only",
                    WashSaleGuard::None => "no guard",
                };
                Some(format!("{}: {reach}", p.name))
            })
            .collect();
        if !unguarded.is_empty() {
            v.push(format!(
                "Harvesting without the household wash-sale guard ({}): a purchase of the same or a substantially identical security within 30 days of a harvest — by the policy, a dividend reinvestment or another account, IRAs included — still washes the harvested loss; the ledger disallows it (Harvested losses washed / lost for good), and a harvest can swap back and forth between partners.",
                unguarded.join("; ")
            ));
        }
        v
    }

    /// Runs one path for every policy.
    pub fn run_path(&self, path: u64) -> Result<PathOutcome, SimError> {
        let all: Vec<usize> = (0..self.world.scenario.policies.len()).collect();
        let (policies, trades) = self.run_policies(path, &all)?;
        Ok(PathOutcome {
            path,
            policies,
            trades,
        })
    }

    /// Simulates path `path` for the policies `policies` only (indices into the
    /// scenario's, each at most once): each policy's outcome is exactly its outcome in
    /// [`Simulation::run_path`] — the policies share the path's market and nothing else —
    /// so the parts of a path can run on different threads or workers and be put
    /// together with [`Simulation::join_parts`] (see [`policy_parts`] for a split).
    pub fn run_path_part(&self, path: u64, policies: &[usize]) -> Result<PathPart, SimError> {
        let np = self.world.scenario.policies.len();
        for (i, &p) in policies.iter().enumerate() {
            if p >= np || policies[..i].contains(&p) {
                return Err(SimError::BadPart {
                    path,
                    reason: "a policy index is out of range or repeated",
                });
            }
        }
        let (outcomes, trades) = self.run_policies(path, policies)?;
        Ok(PathPart {
            path,
            policies: policies.to_vec(),
            outcomes,
            trades,
        })
    }

    /// Puts the parts of one path ([`Simulation::run_path_part`]) together into the
    /// outcome [`Simulation::run_path`] gives: every policy exactly once, all of the same
    /// path.
    pub fn join_parts(&self, parts: Vec<PathPart>) -> Result<PathOutcome, SimError> {
        let np = self.world.scenario.policies.len();
        let path = parts.first().map_or(0, |p| p.path);
        let bad = |reason| SimError::BadPart { path, reason };
        let mut slots: Vec<Option<(PolicyPath, Vec<report::TradeRow>)>> = vec![None; np];
        let mut recorded = None;
        for part in parts {
            if part.path != path {
                return Err(bad("the parts are of different paths"));
            }
            let has_trades = part.trades.is_some();
            if *recorded.get_or_insert(has_trades) != has_trades {
                return Err(bad("only some parts carry the recorded path's trades"));
            }
            let n = part.policies.len();
            let trades = part.trades.unwrap_or_else(|| vec![Vec::new(); n]);
            if part.outcomes.len() != n || trades.len() != n {
                return Err(bad("a part's outcomes do not match its policies"));
            }
            for ((&p, outcome), t) in part.policies.iter().zip(part.outcomes).zip(trades) {
                let slot = slots
                    .get_mut(p)
                    .ok_or_else(|| bad("a policy index is out of range"))?;
                if slot.replace((outcome, t)).is_some() {
                    return Err(bad("a policy is in two parts"));
                }
            }
        }
        let joined: Vec<(PolicyPath, Vec<report::TradeRow>)> = slots
            .into_iter()
            .collect::<Option<_>>()
            .ok_or_else(|| bad("a policy is missing"))?;
        let (policies, trades): (Vec<_>, Vec<_>) = joined.into_iter().unzip();
        Ok(PathOutcome {
            path,
            policies,
            trades: (recorded == Some(true)).then_some(trades),
        })
    }

    /// The path loop for the policies `sel` (scenario indices, in this order).
    #[allow(clippy::type_complexity)]
    fn run_policies(
        &self,
        path: u64,
        sel: &[usize],
    ) -> Result<(Vec<PolicyPath>, Option<Vec<Vec<report::TradeRow>>>), SimError> {
        let w = &self.world;
        let s = w.scenario;
        let (n, m, k) = (w.n(), w.accounts.len(), w.classes.len());
        let np = sel.len();
        let record = path == self.record_path;
        let mut books = Vec::with_capacity(np);
        for &pi in sel {
            books.push(Book::new(w, s.policies[pi].lot_method, record)?);
        }
        let mut states: Vec<policy::PolicyState> = sel
            .iter()
            .map(|&pi| policy::PolicyState::new(&s.policies[pi]))
            .collect();
        // A tactical feed is seeded by the policy's index in the scenario.
        let mut feeds: Vec<Option<SignalFeed>> = sel
            .iter()
            .map(|&pi| {
                s.policies[pi]
                    .tactical
                    .map(|t| SignalFeed::new(self.seed, path, pi as u64, t.information_coefficient))
            })
            .collect();
        let guards: Vec<WashSaleGuard> = sel
            .iter()
            .map(|&pi| policy::guard_of(&s.policies[pi]))
            .collect();
        let mut prices: Vec<f64> = w.secs.iter().map(|x| x.price0).collect();
        let mut prev_prices = prices.clone();
        let start_value = books.first().map_or(0.0, |b| b.value(w, &prices));
        let mut tracks: Vec<Track> = (0..np)
            .map(|_| Track {
                prev_value: start_value,
                min_cash: f64::INFINITY,
                min_shares: f64::INFINITY,
                ..Track::default()
            })
            .collect();
        let months = self.month_ends.len();
        let mut monthly: Vec<[Vec<f64>; 4]> = (0..np)
            .map(|_| std::array::from_fn(|_| Vec::with_capacity(months)))
            .collect();
        let mut signal = vec![0.0; k];
        let mut z = vec![0.0; k];
        let mut inflow = vec![false; m];
        let mut orders: Vec<Order> = Vec::new();
        let mut class_val = vec![0.0; k];
        let (mut cur_r, mut cur_d) = (vec![0.0; n], vec![0.0; n]);
        let (mut next_r, mut next_d) = (vec![0.0; n], vec![0.0; n]);
        // Tomorrow's price move `P_{t+1} − P_t`, computed as tomorrow's update computes it.
        let mut dp_next = vec![0.0; n];
        let (mut px_ranked, mut dp_ranked) = (vec![0.0; n], vec![0.0; n]);
        let mut mpath = w.model.path(self.seed, path);
        match mpath.next_step() {
            Some(st) => {
                cur_r.copy_from_slice(st.returns);
                cur_d.copy_from_slice(st.dividends);
            }
            None => return Err(SimError::NoYears),
        }
        // The accounts' minimum cash, summed (in account order, as the day's value is).
        let min_cash_total: f64 = w.accounts.iter().map(|a| a.min_cash).sum();
        let mut flow_i = 0usize;
        let mut month_i = 0usize;
        // Each policy's cash flows as paid, `(years after the start, amount)`, for its
        // money-weighted return.
        let mut paid: Vec<Vec<(f64, f64)>> = vec![Vec::new(); np];
        let n_steps = w.dates.len();
        for i in 0..n_steps {
            let has_next = match mpath.next_step() {
                Some(st) => {
                    next_r.copy_from_slice(st.returns);
                    next_d.copy_from_slice(st.dividends);
                    true
                }
                None => false,
            };
            let date = w.dates[i];
            let year = w.year[i];
            prev_prices.copy_from_slice(&prices);
            for j in 0..n {
                prices[j] *= (1.0 + cur_r[j]) * w.secs[j].er_factor;
            }
            if has_next {
                for j in 0..n {
                    dp_next[j] = prices[j] * ((1.0 + next_r[j]) * w.secs[j].er_factor) - prices[j];
                }
            }
            // The same, in the order of the classes' securities, for the measures.
            for (r, &j) in w.class_secs.iter().enumerate() {
                px_ranked[r] = prices[j];
                dp_ranked[r] = dp_next[j];
            }
            let mut bench = 0.0;
            for c in &w.classes {
                if let Some(b) = c.bench {
                    bench += c.weight * (prices[b] / prev_prices[b] - 1.0 + cur_d[b]);
                }
            }
            if has_next {
                for (c, cl) in w.classes.iter().enumerate() {
                    z[c] = match cl.bench {
                        Some(b) if cl.daily_vol > 0.0 => next_r[b] / cl.daily_vol,
                        _ => 0.0,
                    };
                }
            }
            let flow_end = w.flows[flow_i..]
                .iter()
                .position(|f| f.0 != i)
                .map_or(w.flows.len(), |x| flow_i + x);
            let todays_flows = &w.flows[flow_i..flow_end];
            flow_i = flow_end;
            let month_end = month_i < months && self.month_ends[month_i] == i;
            // Most days pay no dividend: skip the books' dividend pass then.
            let dividend_day = cur_d.iter().any(|&d| d > 0.0);
            for (pi, pol) in sel.iter().map(|&i| &s.policies[i]).enumerate() {
                let book = &mut books[pi];
                let tr = &mut tracks[pi];
                book.begin_day(date);
                if i == 0 {
                    book.mark(w, &prev_prices, &prices);
                } else {
                    book.mark_gain(w, tr.gain_next);
                }
                inflow.iter_mut().for_each(|x| *x = false);
                if dividend_day {
                    book.dividends(
                        w,
                        date,
                        &prev_prices,
                        &prices,
                        &cur_d,
                        guards[pi],
                        &mut inflow,
                    )
                    .map_err(|e| e.in_policy(&s.policies[pi].name, path))?;
                }
                // Taxes of last year, once its wash-sale windows have closed.
                let taxes_before = book.totals.taxes_cash;
                while book.settled + 1 < year {
                    let y = book.settled + 1;
                    let closes = Date::from_ymd(y + 1, 1, 30).unwrap_or(date);
                    if date > closes || book.settled + 2 < year {
                        book.settle_year(w, y);
                    } else {
                        break;
                    }
                }
                tr.taxes_today = book.totals.taxes_cash - taxes_before;
                // Advisory fees, quarterly.
                tr.advisory_today = 0.0;
                if w.due[i] & policy::due_bit(Frequency::Quarterly) != 0 || i + 1 == n_steps {
                    let since = tr.last_fee_date.unwrap_or(w.start);
                    let days = date.days_since(since).max(0) as u32;
                    for a in 0..m {
                        let sched = w.schedules[w.accounts[a].schedule];
                        if sched.advisory_fee_bps > 0.0 {
                            let mut value = book.cash[a];
                            for j in 0..n {
                                value += book.qty[a * n + j] * prices[j];
                            }
                            let fee = sched.advisory_fee(value.max(0.0), days);
                            book.cash[a] -= fee;
                            book.totals.advisory += fee;
                            tr.advisory_today += fee;
                        }
                    }
                    tr.last_fee_date = Some(date);
                }
                // Cash flows.
                tr.flows_today = 0.0;
                for &(_, a, amount) in todays_flows {
                    let actual = if amount >= 0.0 {
                        inflow[a] = true;
                        amount
                    } else {
                        let mut value = book.cash[a];
                        for j in 0..n {
                            value += book.qty[a * n + j] * prices[j];
                        }
                        -(-amount).min(value.max(0.0))
                    };
                    book.cash[a] += actual;
                    book.totals.flows += actual;
                    tr.flows_today += actual;
                }
                if !todays_flows.is_empty() && tr.flows_today != 0.0 {
                    paid[pi].push((report::years_span(s.as_of, date), tr.flows_today));
                }
                // The policy's stages.
                let sig: &[f64] = if let (Some(t), Some(feed)) = (pol.tactical, feeds[pi].as_mut())
                {
                    if w.due[i] & policy::due_bit(t.frequency) != 0 {
                        feed.next(has_next.then_some(&z[..]), &mut signal);
                    }
                    &signal
                } else {
                    &[]
                };
                let day = Day {
                    w,
                    date,
                    prices: &prices,
                    inflow: &inflow,
                    signal: sig,
                    due_mask: w.due[i],
                };
                policy_day(
                    &day,
                    book,
                    pol,
                    &mut states[pi],
                    tr.taxes_today != 0.0,
                    &mut orders,
                )
                .map_err(|e| e.in_policy(&pol.name, path))?;
                // Measures.
                let (px, dp) = (&px_ranked[..], &dp_ranked[..]);
                debug_assert!(
                    book.held
                        .iter()
                        .copied()
                        .eq((0..m * n).filter(|&i| book.qty[i] != 0.0)),
                    "the held positions are out of step with the shares"
                );
                debug_assert!(
                    (0..n).all(
                        |j| book.sec_qty[j] == (0..m).fold(0.0, |t, a| t + book.qty[a * n + j])
                    ),
                    "the shares by security are out of step with the positions"
                );
                // The smallest position of the day changes only with the shares.
                if std::mem::take(&mut book.shares_changed) {
                    for &idx in &book.held {
                        tr.min_shares = crate::num::min(tr.min_shares, book.qty[idx]);
                    }
                }
                let DayValue {
                    value,
                    gain_next,
                    min_cash,
                } = measure_day(w, book, px, dp, &mut class_val);
                tr.min_cash = crate::num::min(tr.min_cash, min_cash);
                tr.gain_next = gain_next;
                let investable = value - min_cash_total;
                let mut drift = 0.0f64;
                if investable > 0.0 {
                    for (c, cl) in w.classes.iter().enumerate() {
                        drift =
                            crate::num::max(drift, (class_val[c] / investable - cl.weight).abs());
                    }
                }
                tr.drift_sum += drift;
                tr.drift_max = crate::num::max(tr.drift_max, drift);
                if tr.prev_value > 0.0 {
                    let r = (value + tr.taxes_today + tr.advisory_today - tr.flows_today)
                        / tr.prev_value
                        - 1.0;
                    let d = r - bench;
                    tr.days += 1.0;
                    let delta = d - tr.te_mean;
                    tr.te_mean += delta / tr.days;
                    tr.te_m2 += delta * (d - tr.te_mean);
                }
                tr.prev_value = value;
                tr.value_sum += value;
                if month_end {
                    let wind = book.wind_up(w, date, &prices);
                    let t = &book.totals;
                    monthly[pi][0].push(value);
                    monthly[pi][1].push(t.tickets);
                    monthly[pi][2].push(t.commission + t.regulatory);
                    monthly[pi][3].push(value - wind.total());
                }
            }
            if month_end {
                month_i += 1;
            }
            std::mem::swap(&mut cur_r, &mut next_r);
            std::mem::swap(&mut cur_d, &mut next_d);
        }
        // The horizon.
        let end = w.dates.last().copied().unwrap_or(w.start);
        let mut out = Vec::with_capacity(np);
        let mut trades = record.then(Vec::new);
        for (pi, mut book) in books.into_iter().enumerate() {
            let tr = &tracks[pi];
            // Years still open at the horizon are settled (paid from cash) first, so the
            // terminal value is net of every settled year's tax.
            book.settle_before(w, end);
            let value = book.value(w, &prices);
            let wind = book.horizon_taxes(w, end, &prices);
            let (mut gross, mut washed, mut lost) = (0.0, 0.0, 0.0);
            let sales = book.ledger.sales();
            let disallowed_all = sales.iter().fold(0.0, |a, r| a + r.disallowed);
            for &si in &book.harvest_sales {
                if let Some(rec) = sales.get(si) {
                    for leg in &rec.lots {
                        gross += (-leg.economic_gain()).max(0.0);
                        washed += leg.disallowed - leg.permanently_disallowed;
                        lost += leg.permanently_disallowed;
                    }
                }
            }
            let t = book.totals;
            let te = if tr.days > 1.0 {
                f64::sqrt(tr.te_m2 / (tr.days - 1.0) * STEPS_PER_YEAR)
            } else {
                0.0
            };
            let [mv, mt, mf, ma] = std::mem::take(&mut monthly[pi]);
            let after_tax = value - wind.total();
            let annual =
                |w_t: f64| report::money_weighted_return(start_value, &paid[pi], w_t, w.years);
            out.push(report::PolicyPath {
                tickets: t.tickets,
                trades: t.trades,
                trade_days: t.trade_days,
                policy_trade_days: t.policy_trade_days,
                flat_slope: t.flat_slope,
                flat_offset: t.flat_offset,
                commission: t.commission,
                regulatory: t.regulatory,
                spread: t.spread,
                impact: t.impact,
                notional: t.notional,
                taxes_cash: t.taxes_cash,
                taxes_paid: t.taxes_cash + wind.this_year,
                dividends: t.dividends,
                interest: t.interest,
                price_gain: t.price_gain,
                flows: t.flows,
                advisory: t.advisory,
                harvest_gross: gross,
                harvest_washed: washed,
                harvest_lost: lost,
                disallowed_all,
                start_value,
                terminal_pretax: value,
                after_tax,
                last_year_tax: wind.this_year,
                liquidation_tax: wind.liquidation,
                deferred_tax: wind.deferred,
                avg_value: if n_steps > 0 {
                    tr.value_sum / n_steps as f64
                } else {
                    value
                },
                tracking_error: te,
                avg_drift: if n_steps > 0 {
                    tr.drift_sum / n_steps as f64
                } else {
                    0.0
                },
                max_drift: tr.drift_max,
                min_cash: tr.min_cash,
                min_shares: if tr.min_shares.is_finite() {
                    tr.min_shares
                } else {
                    0.0
                },
                annual_return: annual(after_tax),
                annual_return_before_costs: annual(after_tax + t.costs_at_horizon),
                monthly_value: mv,
                monthly_tickets: mt,
                monthly_fees: mf,
                monthly_after_tax: ma,
            });
            if let Some(tl) = &mut trades {
                tl.push(book.take_rows());
            }
        }
        Ok((out, trades))
    }
}

/// The tax profile in one sentence for the assumptions: filing status, the rates as
/// applied, the yearly limit on offsetting ordinary income and the loss carried in.
fn tax_profile_note(t: &crate::tax::TaxProfile) -> String {
    use crate::tax::FilingStatus;
    let status = match t.filing_status {
        FilingStatus::Single => "single",
        FilingStatus::MarriedFilingJointly => "married filing jointly",
        FilingStatus::MarriedFilingSeparately => "married filing separately",
        FilingStatus::HeadOfHousehold => "head of household",
    };
    let pct = |x: f64| format!("{:.1}%", 100.0 * x);
    let carried = if t.carryforward_in.total() > 0.0 {
        format!(
            "a loss carried in of {} short-term and {} long-term",
            crate::household::money(t.carryforward_in.short_term),
            crate::household::money(t.carryforward_in.long_term)
        )
    } else {
        "no loss carried in".to_string()
    };
    format!(
        "Tax profile: {status}; short-term gains taxed at {}, long-term at {} (federal, state{}), losses offset ordinary income at {} up to {} a year; {carried}.",
        pct(t.short_term_rate()),
        pct(t.long_term_rate()),
        if t.niit { " and the 3.8% NIIT" } else { "" },
        pct(t.offset_rate()),
        crate::household::money(t.ordinary_offset_cap),
    )
}

/// A day's valuation of one book (see [`measure_day`]).
struct DayValue {
    /// Cash plus positions at today's prices, summed account by account.
    value: f64,
    /// Tomorrow's price gain on today's shares.
    gain_next: f64,
    /// The smallest account cash today.
    min_cash: f64,
}

/// Values `book` at today's prices: its total, each class's value into `class_val` and
/// tomorrow's gain `Σ q·dp`. Each security is visited once, with its shares over all
/// accounts ([`Book::sec_qty`]), class by class: `px` and `dp` are today's prices and
/// tomorrow's moves in the order of [`World::class_secs`]. The total is the accounts'
/// cash (in account order) plus the classes' values (in class order). Kept out of line:
/// inlined into the day loop, its sums were spilled to the stack.
#[inline(never)]
fn measure_day(
    w: &World<'_>,
    book: &Book,
    px: &[f64],
    dp: &[f64],
    class_val: &mut [f64],
) -> DayValue {
    let (mut value, mut gain_next) = (0.0, 0.0);
    let mut min_cash = f64::INFINITY;
    for &c in &book.cash {
        value += c;
        min_cash = crate::num::min(min_cash, c);
    }
    // One pass in rank order; a class's sum is closed where the next class starts.
    let n = px.len();
    let (q, d) = (&book.sec_qty[..n], &dp[..n]);
    let ends = &w.class_end[..class_val.len()];
    let (mut c, mut sum) = (0, 0.0);
    for r in 0..=n {
        while c < ends.len() && ends[c] == r {
            class_val[c] = sum;
            value += sum;
            sum = 0.0;
            c += 1;
        }
        if r < n {
            sum += q[r] * px[r];
            gain_next += q[r] * d[r];
        }
    }
    DayValue {
        value,
        gain_next,
        min_cash,
    }
}

/// The correlations of the TLH partner pairs as the market model achieves them (the
/// classes can tie two partners tighter than requested, and two alternates of one
/// benchmark share only part of their noise), next to the requested one.
fn partner_correlations(w: &World<'_>) -> String {
    let requested = w.scenario.market.partner_correlation;
    let cov = w.model.covariance();
    let index = |sym: &str| w.secs.iter().position(|x| x.symbol == sym);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, x) in w.secs.iter().enumerate() {
        let Some(sec) = w.scenario.securities.iter().find(|s| s.symbol == x.symbol) else {
            continue;
        };
        for j in sec.partners.iter().filter_map(|p| index(p)) {
            let d = cov[i][i] * cov[j][j];
            if d > 0.0 {
                let r = cov[i][j] / f64::sqrt(d);
                lo = lo.min(r);
                hi = hi.max(r);
            }
        }
    }
    if lo > hi {
        format!("TLH partners would correlate at {requested} (no partners are listed)")
    } else if hi - lo < 5e-5 {
        format!("TLH partners correlate at {lo:.4} (requested {requested})")
    } else {
        format!("TLH partners correlate at {lo:.4}–{hi:.4} (requested {requested}; the classes tie some tighter, and two alternates of one benchmark share only part of their noise)")
    }
}

/// A policy's own rules applied once, on `date` at the scenario's prices, to the
/// scenario's household: the simulator's day with every rule due (calendar and band rules
/// are checked today, harvesting looks for losses today, the cost-aware rule solves
/// today), so these are the trades its first period would start with. The tactical
/// overlay is left out: its signal is simulated, and no signal is known for today.
///
/// Rows come in execution order (a ticket may hold several rows); realized gains and
/// disallowed losses are as the ledger has them after the day.
pub fn rule_trades(
    scenario: &Scenario,
    policy: &crate::scenario::Policy,
    date: Date,
) -> Result<Vec<report::TradeRow>, SimError> {
    let mut pol = policy.clone();
    pol.tactical = None;
    // A one-policy scenario, so the opening ledger is built for this policy's lot method.
    let mut one = scenario.clone();
    one.policies = vec![pol.clone()];
    let w = World::new(&one, 1)?;
    let mut book = Book::new(&w, pol.lot_method, true)?;
    let prices: Vec<f64> = w.secs.iter().map(|x| x.price0).collect();
    book.begin_day(date);
    let inflow = vec![false; w.accounts.len()];
    let day = Day {
        w: &w,
        date,
        prices: &prices,
        inflow: &inflow,
        signal: &[],
        due_mask: u8::MAX,
    };
    let mut state = policy::PolicyState::new(&pol);
    policy_day(&day, &mut book, &pol, &mut state, false, &mut Vec::new())?;
    Ok(book.take_rows())
}

/// What a policy sees of one day besides its book: the date, prices, the accounts that
/// received cash, the tactical signal and which rule frequencies are due.
struct Day<'a, 'w> {
    w: &'a World<'w>,
    date: Date,
    prices: &'a [f64],
    inflow: &'a [bool],
    signal: &'a [f64],
    due_mask: u8,
}

impl<'a, 'w> Day<'a, 'w> {
    fn view<'b>(&'b self, book: &'b Book) -> View<'b, 'w> {
        View {
            w: self.w,
            date: self.date,
            prices: self.prices,
            book,
            inflow: self.inflow,
            signal: self.signal,
            due_mask: self.due_mask,
        }
    }
}

/// One policy's trading of one day, the simulator's and today's trades' alike: its stages
/// in order (cash flows, harvest, rebalance), each executed before the next decides, then
/// cash raised in any account left below zero (`tax_day`: by that day's tax bill).
fn policy_day(
    day: &Day<'_, '_>,
    book: &mut Book,
    pol: &crate::scenario::Policy,
    state: &mut policy::PolicyState,
    tax_day: bool,
    orders: &mut Vec<Order>,
) -> Result<(), SimError> {
    let (w, date, prices) = (day.w, day.date, day.prices);
    for stage in [Stage::CashFlow, Stage::Harvest, Stage::Rebalance] {
        if !state.acts(pol, stage, day.due_mask) {
            continue;
        }
        orders.clear();
        book.deciding();
        policy::decide(pol, state, stage, &day.view(book), orders);
        for o in orders.iter() {
            book.execute(w, date, prices, o)?;
        }
    }
    // No account may keep negative cash.
    for a in 0..w.accounts.len() {
        if book.cash[a] < 0.0 {
            orders.clear();
            let reason = if tax_day {
                Reason::TaxPayment
            } else {
                Reason::CashFlow
            };
            book.deciding();
            policy::raise_cash(&day.view(book), pol, a, reason, orders);
            for o in orders.iter() {
                book.execute(w, date, prices, o)?;
            }
        }
    }
    Ok(())
}

/// The scenario's policies split into at most `parts` groups of about equal work, for
/// [`Simulation::run_path_part`]: by an estimate of each policy's cost on a path (a
/// cost-aware optimizer weighs most, daily harvesting next, any other rule set least), the
/// heaviest first into the lightest group. Every policy is in exactly one group; no group
/// is empty.
pub fn policy_parts(scenario: &Scenario, parts: usize) -> Vec<Vec<usize>> {
    let policies = &scenario.policies;
    let weight = |p: &Policy| {
        if p.optimizer.is_some() {
            6
        } else if p.tlh.is_some() {
            2
        } else {
            1
        }
    };
    let mut order: Vec<usize> = (0..policies.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(weight(&policies[i])));
    let groups = parts.clamp(1, policies.len().max(1));
    let mut out: Vec<(u32, Vec<usize>)> = vec![(0, Vec::new()); groups];
    for i in order {
        if let Some(g) = out.iter_mut().min_by_key(|g| g.0) {
            g.0 += weight(&policies[i]);
            g.1.push(i);
        }
    }
    out.into_iter()
        .map(|(_, mut g)| {
            g.sort_unstable();
            g
        })
        .filter(|g| !g.is_empty())
        .collect()
}

/// Simulates a scenario's policies over its paths and returns the report.
pub fn simulate(scenario: &Scenario, options: &SimOptions) -> Result<Report, SimError> {
    Simulation::new(scenario, options)?.run()
}

/// A preset scenario (also offered by the app).
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Stable identifier.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// What it shows.
    pub description: &'static str,
    /// The scenario.
    pub scenario: Scenario,
}

/// The number of client households of the seed story's firm.
pub const SEED_FIRM_HOUSEHOLDS: u32 = 1_800;

/// The seed story as a scenario: one representative household of the firm (the demo
/// household on the flat $3.10 clearing ticket), comparing quarterly rebalancing (the
/// baseline) with the "sentiment engine": daily tax-loss harvesting of small losses (0.5%
/// and $25 thresholds, partner swaps, a per-account wash-sale guard) plus daily tactical
/// tilts from a signal with an information coefficient of 0.
///
/// Why one household rather than 1,800 accounts: the firm's accounts are independent
/// copies of the same decision rule under the same market, so the firm's clearing bill is
/// the household's ticket charges × [`SEED_FIRM_HOUSEHOLDS`] (the market paths are shared,
/// so the firm total's spread over paths is the household's scaled, not narrower). A
/// 1,800-account scenario would cost 1,800× the computing to say the same thing.
pub fn seed_firm() -> Scenario {
    let mut s = Scenario::demo();
    s.name = "Seed firm: one of 1,800 households, sentiment engine vs quarterly".to_string();
    let quarterly = Policy {
        calendar: Some(CalendarRule {
            frequency: Frequency::Quarterly,
        }),
        cash_flow_first: true,
        lot_method: LotMethod::Hifo,
        ..Policy::buy_and_hold("Quarterly calendar")
    };
    let engine = Policy {
        cash_flow_first: true,
        tlh: Some(TlhRule {
            check: Frequency::Daily,
            loss_threshold_pct: 0.005,
            loss_threshold_usd: 25.0,
            partner_swaps: true,
            wash_sale_guard: WashSaleGuard::Account,
        }),
        tactical: Some(TacticalOverlay {
            information_coefficient: 0.0,
            max_tilt: 0.02,
            frequency: Frequency::Daily,
        }),
        lot_method: LotMethod::MinTax,
        ..Policy::buy_and_hold("Sentiment engine (daily TLH + tilts)")
    };
    s.baseline = quarterly.name.clone();
    s.policies = vec![quarterly, engine];
    s
}

/// The default scenario of the performance target (and of `tollbooth bench`): the demo
/// household (3 accounts, 21 ETFs, 10 years of business days, 500 paths) comparing six
/// policies an advisor would put side by side:
///
/// 1. quarterly calendar (the baseline), 2. daily TLH under the household wash-sale guard
///    (quarterly calendar underneath), 3. the weekly cost-aware optimizer — the demo's three;
/// 4. annual calendar; 5. 5-point absolute bands checked daily, traded back to target;
/// 6. Daryanani's opportunistic rule (every two weeks, 20% relative bands, back to half
///    the band).
pub fn six_policies() -> Scenario {
    let mut s = Scenario::demo();
    s.name = "Rivera household, six policies".to_string();
    let annual = Policy {
        calendar: Some(CalendarRule {
            frequency: Frequency::Annual,
        }),
        cash_flow_first: true,
        lot_method: LotMethod::Hifo,
        ..Policy::buy_and_hold("Annual calendar")
    };
    let bands = Policy {
        threshold: Some(ThresholdRule {
            band: Some(Band {
                kind: BandKind::Absolute,
                width: 0.05,
            }),
            check: Frequency::Daily,
            trade_to: 0.0,
        }),
        cash_flow_first: true,
        lot_method: LotMethod::Hifo,
        ..Policy::buy_and_hold("5-point bands (daily check)")
    };
    let daryanani = Policy {
        opportunistic: Some(OpportunisticRule::default()),
        cash_flow_first: true,
        lot_method: LotMethod::Hifo,
        ..Policy::buy_and_hold("Opportunistic (Daryanani)")
    };
    s.policies.extend([annual, bands, daryanani]);
    s
}

/// The preset scenarios: "Household" (the demo), "Zero-fee custodian", "Seed firm", "Six
/// policies" (the performance target's default scenario).
pub fn presets() -> Vec<Preset> {
    vec![
        Preset {
            id: "household",
            name: "Household",
            description: "The Rivera household: taxable joint account, traditional IRA and Roth, 21 ETFs with TLH partners, a flat $3.10 clearing ticket; quarterly rebalancing vs daily harvesting vs a cost-aware optimizer.",
            scenario: Scenario::demo(),
        },
        Preset {
            id: "zero_fee",
            name: "Zero-fee custodian",
            description: "The same household at a $0 commission custodian: spreads, regulatory fees and taxes remain.",
            scenario: Scenario::demo_zero_fee(),
        },
        Preset {
            id: "seed_firm",
            name: "Seed firm",
            description: "The 42,000-trades story: one representative household of a 1,800-account firm on a $3.10 ticket, a daily sentiment-driven TLH engine vs quarterly rebalancing. Multiply tickets and charges by 1,800 for the firm.",
            scenario: seed_firm(),
        },
        Preset {
            id: "six_policies",
            name: "Six policies",
            description: "The Rivera household under six policies side by side: quarterly and annual calendar, daily TLH with the household wash-sale guard, the weekly cost-aware optimizer, 5-point bands checked daily, and Daryanani's opportunistic bands.",
            scenario: six_policies(),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The day's valuation by security (shares over all accounts, class by class) agrees
    /// with the books' position-by-position value and the planner's class totals, empty
    /// classes included (each closed at zero where the next one starts).
    #[test]
    fn the_daily_valuation_by_security_matches_the_positions() {
        let s = Scenario::demo();
        let mut w = World::new(&s, 1).unwrap();
        let n = w.n();
        // Every security once, grouped by class in class order.
        let mut seen = w.class_secs.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        assert_eq!(w.class_end.last().copied(), Some(n));
        for (c, r) in w.class_end.iter().zip(0..) {
            let begin = if r == 0 { 0 } else { w.class_end[r - 1] };
            assert!(w.class_secs[begin..*c].iter().all(|&j| w.sec_class[j] == r));
        }
        // An empty class first and one last (a target class no security belongs to).
        let empty = w.classes[0].clone();
        w.classes.insert(0, empty.clone());
        w.classes.push(empty);
        w.class_end.insert(0, 0);
        w.class_end.push(n);
        for c in &mut w.sec_class {
            *c += 1;
        }
        let book = Book::new(&w, s.policies[0].lot_method, false).unwrap();
        let prices: Vec<f64> = w.secs.iter().map(|x| x.price0 * 1.01).collect();
        let moves: Vec<f64> = prices.iter().map(|p| 0.02 * p).collect();
        let ranked = |x: &[f64]| -> Vec<f64> { w.class_secs.iter().map(|&j| x[j]).collect() };
        let mut class_val = vec![f64::NAN; w.classes.len()];
        let day = measure_day(&w, &book, &ranked(&prices), &ranked(&moves), &mut class_val);
        let value = book.value(&w, &prices);
        assert!(
            (day.value - value).abs() <= 1e-9 * value,
            "{} vs {value}",
            day.value
        );
        let gain: f64 = (0..n).map(|j| book.sec_qty[w.sec_rank[j]] * moves[j]).sum();
        assert!((day.gain_next - gain).abs() <= 1e-9 * gain.abs());
        assert_eq!(class_val[0], 0.0);
        assert_eq!(class_val[w.classes.len() - 1], 0.0);
        for c in 0..w.classes.len() {
            let direct: f64 = (0..w.accounts.len() * n)
                .filter(|&i| w.sec_class[i % n] == c)
                .map(|i| book.qty[i] * prices[i % n])
                .sum();
            assert!((class_val[c] - direct).abs() <= 1e-9 * value, "class {c}");
        }
        let cash = book.cash.iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(day.min_cash, cash);
    }
}
