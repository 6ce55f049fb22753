//! Fee schedules, regulatory fee tables and the cost of a ticket.
//!
//! One fee model serves two masters, so they can never disagree:
//!
//! - the **simulator** asks what a ticket costs: [`FeeSchedule::ticket_cost`] returns a
//!   [`TicketCost`] with every charge itemised and the regulatory rates that applied;
//! - the **optimizer** asks for the terms of its objective: [`FeeSchedule::fixed_cost`]
//!   (the per-ticket charge), [`FeeSchedule::proportional_rate`] (cost per dollar traded)
//!   and [`FeeSchedule::per_share_rate`] (cost per share), or all three at once with
//!   [`FeeSchedule::linear_terms`].
//!
//! ## The cost of a ticket
//!
//! A ticket is one order: (account, security, side, trading day). For a ticket of `q`
//! shares at price `p` (notional `N = q·p`) under the schedule's row for the security
//! type:
//!
//! ```text
//! commission = round¢( clamp(flat + per_share·q + bps/10⁴·N, min, max) ) + fractional surcharge
//! SEC fee    = ceil¢( N · sec_rate / 10⁶ )                 sells of exchange-traded securities
//! TAF        = ceil¢( min(q · taf_rate, taf_cap) )         sells of exchange-traded securities
//! spread     = half_spread_bps/10⁴ · N                       every trade
//! impact     = b · σ · N^{3/2} / V^{1/2}                     exchange-traded, when the schedule and ticket give b, σ, V
//! ```
//!
//! `round¢` rounds to the nearest cent, `ceil¢` rounds up to the cent (after first
//! rounding to 10⁻⁹ dollars, so that float noise never adds a cent: an exact $0.21
//! stays $0.21 and $0.206 becomes $0.21). Spread and impact are economic costs, not
//! billed amounts, and are not rounded. No charge is ever negative.
//!
//! Mutual funds trade at the net asset value: no SEC fee, no TAF, no impact. The spread is
//! charged on every trade, as the security's half-spread says: a fund bought at its net
//! asset value has a half-spread of 0.
//!
//! ## Regulatory fees
//!
//! [`RegulatoryTables`] holds the SEC Section 31 rate (dollars per million dollars of
//! sales) and the FINRA Trading Activity Fee (dollars per share, capped per trade) as
//! dated rows. The rate in force on a trade date is the row with the latest effective
//! date on or before it. A sale dated before the first row of a table is an error
//! ([`FeeError::NoRateInForce`]) rather than a silent zero: the fee of that date is not
//! known to the tables, and a compliance report must not guess it.
//!
//! ## Example
//!
//! A $10,000 ETF sale (100 shares at $100) on 2026-06-01 under the flat $3.10 clearing
//! ticket with a 1 bp half-spread:
//!
//! ```
//! use tollbooth_engine::date::Date;
//! use tollbooth_engine::fees::{FeePreset, FeeSchedule, RegulatoryTables, TicketSpec};
//! use tollbooth_engine::types::{SecurityType, Side};
//!
//! let schedule = FeeSchedule::preset(FeePreset::FlatClearing);
//! let tables = RegulatoryTables::default();
//! let ticket = TicketSpec {
//!     trade_date: Date::from_ymd(2026, 6, 1).unwrap(),
//!     side: Side::Sell,
//!     security_type: SecurityType::Etf,
//!     quantity: 100.0,
//!     price: 100.0,
//!     fractional: false,
//!     half_spread_bps: 1.0,
//!     impact: None,
//! };
//! let cost = schedule.ticket_cost(&ticket, &tables).unwrap();
//! assert_eq!(cost.commission, 3.10);
//! assert_eq!(cost.sec_fee, 0.21); // $10,000 × $20.60 / $1M = $0.206, rounded up
//! assert_eq!(cost.sec_rate_per_million, 20.60);
//! assert_eq!(cost.taf, 0.02); // 100 × $0.000195 = $0.0195, rounded up
//! assert!((cost.spread - 1.00).abs() < 1e-9);
//! assert!((cost.total() - 4.33).abs() < 1e-9);
//!
//! // The optimizer's view of the same sale.
//! let terms = schedule
//!     .linear_terms(SecurityType::Etf, Side::Sell, false, 1.0, ticket.trade_date, &tables)
//!     .unwrap();
//! let approx = terms.fixed + terms.per_dollar * 10_000.0 + terms.per_share * 100.0;
//! assert!((cost.total() - approx).abs() < 0.02);
//! ```
use crate::date::Date;
use crate::num;
use crate::types::{SecurityType, Side};
use serde::{Deserialize, Serialize};

/// Why a fee could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeeError {
    /// A ticket input is NaN or infinite.
    #[error("ticket {field} is not a finite number ({value})")]
    NonFiniteInput {
        /// The input's name.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A ticket input that must be positive is zero or negative.
    #[error("ticket {field} must be positive, got {value}")]
    NotPositive {
        /// The input's name.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A ticket input that must not be negative is negative.
    #[error("ticket {field} must not be negative, got {value}")]
    Negative {
        /// The input's name.
        field: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A fee schedule holds a value that would make a fee negative or undefined.
    #[error("fee schedule `{schedule}`: {field} is invalid ({value}): {reason}")]
    InvalidSchedule {
        /// The schedule's id.
        schedule: String,
        /// The field, e.g. `etf.minimum`.
        field: String,
        /// The offending value.
        value: f64,
        /// What is wrong, in plain English.
        reason: &'static str,
    },
    /// A regulatory table row is invalid (negative or non-finite rate, duplicate date).
    #[error("{table} table, row {row}: {reason}")]
    InvalidTable {
        /// Which table.
        table: RegulatoryFee,
        /// The row's index (0-based).
        row: usize,
        /// What is wrong, in plain English.
        reason: &'static str,
    },
    /// A sale is dated before the first row of a regulatory table.
    #[error("no {table} rate is known for trades on {date}: the table starts on {first}")]
    NoRateInForce {
        /// Which table.
        table: RegulatoryFee,
        /// The trade date.
        date: Date,
        /// The first effective date of the table (`None` when the table is empty).
        first: FirstEffective,
    },
}

/// The first effective date of a table, displayed as a date or "(empty table)".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FirstEffective(pub Option<Date>);

impl std::fmt::Display for FirstEffective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(d) => write!(f, "{d}"),
            None => f.write_str("(empty table: it has no rows)"),
        }
    }
}

/// The two regulatory fees on sales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegulatoryFee {
    /// SEC Section 31 transaction fee (per million dollars of sales).
    Sec,
    /// FINRA Trading Activity Fee (per share sold, capped per trade).
    Taf,
}

impl std::fmt::Display for RegulatoryFee {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RegulatoryFee::Sec => "SEC Section 31",
            RegulatoryFee::Taf => "FINRA TAF",
        })
    }
}

// ---------------------------------------------------------------------------------------
// Rounding
// ---------------------------------------------------------------------------------------

/// Float noise, relative to an amount: the few roundings of `shares × price × rate` put
/// an amount within a few units in the last place of its exact value; 64 of them is
/// far above that and far below any real difference (a billionth of a cent on $1M).
const NOISE: f64 = 64.0 * f64::EPSILON;

/// `cents`, or `to` when `cents` is within float noise of it.
fn snapped(cents: f64, to: f64) -> f64 {
    if (cents - to).abs() <= NOISE * cents.abs() {
        to
    } else {
        cents
    }
}

/// Rounds a non-negative dollar amount up to the next cent. An amount within float noise
/// of a whole cent is that cent, so `0.1 + 0.2` stays `0.30`, while `0.206` and
/// `0.20000000007` (a real excess, however small) become `0.21`.
pub fn ceil_to_cent(dollars: f64) -> f64 {
    let cents = dollars * 100.0;
    snapped(cents, num::round(cents)).ceil() / 100.0
}

/// Rounds a non-negative dollar amount to the nearest cent, half a cent up; an amount
/// within float noise of a half cent (`0.525` is stored as 0.52499…) is a half cent.
pub fn round_to_cent(dollars: f64) -> f64 {
    let cents = dollars * 100.0;
    num::round(snapped(cents, cents.floor() + 0.5)) / 100.0
}

// ---------------------------------------------------------------------------------------
// Regulatory tables
// ---------------------------------------------------------------------------------------

/// One row of the SEC Section 31 table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SecRate {
    /// First trade date the rate applies to.
    pub effective: Date,
    /// Dollars per million dollars of sales.
    pub per_million: f64,
}

/// One row of the FINRA TAF table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TafRate {
    /// First trade date the rate applies to.
    pub effective: Date,
    /// Dollars per share sold.
    pub per_share: f64,
    /// Maximum charge per trade, in dollars.
    pub max_per_trade: f64,
}

/// The dated regulatory fee tables. Editable by the user; [`Default`] holds the rates
/// published by the SEC and FINRA (see the specification).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegulatoryTables {
    /// SEC Section 31 rates by effective date.
    pub sec: Vec<SecRate>,
    /// FINRA TAF rates by effective date.
    pub taf: Vec<TafRate>,
}

fn ymd(y: i32, m: u32, d: u32) -> Date {
    // Only called with literal, valid dates below.
    Date::from_ymd(y, m, d).unwrap_or(Date::from_days(0))
}

impl Default for RegulatoryTables {
    /// SEC Section 31: $8.00 per $1M from 2023-02-27, $27.80 from 2024-05-22, $0.00 from
    /// 2025-05-14, $20.60 from 2026-04-04. FINRA TAF: $0.000166/share capped at $8.30
    /// from 2024-01-01; $0.000195 capped at $9.79 from 2026-01-01; $0.00 for trades
    /// 2026-10-01 to 2026-12-31; $0.000195 capped at $9.79 again from 2027-01-01.
    fn default() -> Self {
        RegulatoryTables {
            sec: vec![
                SecRate {
                    effective: ymd(2023, 2, 27),
                    per_million: 8.00,
                },
                SecRate {
                    effective: ymd(2024, 5, 22),
                    per_million: 27.80,
                },
                SecRate {
                    effective: ymd(2025, 5, 14),
                    per_million: 0.00,
                },
                SecRate {
                    effective: ymd(2026, 4, 4),
                    per_million: 20.60,
                },
            ],
            taf: vec![
                TafRate {
                    effective: ymd(2024, 1, 1),
                    per_share: 0.000166,
                    max_per_trade: 8.30,
                },
                TafRate {
                    effective: ymd(2026, 1, 1),
                    per_share: 0.000195,
                    max_per_trade: 9.79,
                },
                TafRate {
                    effective: ymd(2026, 10, 1),
                    per_share: 0.0,
                    max_per_trade: 0.0,
                },
                TafRate {
                    effective: ymd(2027, 1, 1),
                    per_share: 0.000195,
                    max_per_trade: 9.79,
                },
            ],
        }
    }
}

/// Index of the row in force on `date`: the latest effective date on or before it (ties:
/// the later row in the list).
fn in_force<T>(rows: &[T], date: Date, eff: impl Fn(&T) -> Date) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, r) in rows.iter().enumerate() {
        if eff(r) <= date && best.is_none_or(|b| eff(&rows[b]) <= eff(r)) {
            best = Some(i);
        }
    }
    best
}

impl RegulatoryTables {
    /// Checks every row: rates finite and non-negative, no two rows of a table with the
    /// same effective date.
    pub fn validate(&self) -> Result<(), FeeError> {
        let bad = |table, row, reason| Err(FeeError::InvalidTable { table, row, reason });
        for (i, r) in self.sec.iter().enumerate() {
            if !r.per_million.is_finite() || r.per_million < 0.0 {
                return bad(
                    RegulatoryFee::Sec,
                    i,
                    "the rate must be a non-negative number",
                );
            }
            if self.sec[..i].iter().any(|o| o.effective == r.effective) {
                return bad(
                    RegulatoryFee::Sec,
                    i,
                    "two rows have the same effective date",
                );
            }
        }
        for (i, r) in self.taf.iter().enumerate() {
            if !r.per_share.is_finite() || r.per_share < 0.0 {
                return bad(
                    RegulatoryFee::Taf,
                    i,
                    "the rate must be a non-negative number",
                );
            }
            if !r.max_per_trade.is_finite() || r.max_per_trade < 0.0 {
                return bad(
                    RegulatoryFee::Taf,
                    i,
                    "the cap must be a non-negative number",
                );
            }
            if self.taf[..i].iter().any(|o| o.effective == r.effective) {
                return bad(
                    RegulatoryFee::Taf,
                    i,
                    "two rows have the same effective date",
                );
            }
        }
        Ok(())
    }

    /// The SEC Section 31 row in force on `date`.
    pub fn sec_rate(&self, date: Date) -> Result<SecRate, FeeError> {
        in_force(&self.sec, date, |r| r.effective)
            .map(|i| self.sec[i])
            .ok_or(FeeError::NoRateInForce {
                table: RegulatoryFee::Sec,
                date,
                first: FirstEffective(self.sec.iter().map(|r| r.effective).min()),
            })
    }

    /// The FINRA TAF row in force on `date`.
    pub fn taf_rate(&self, date: Date) -> Result<TafRate, FeeError> {
        in_force(&self.taf, date, |r| r.effective)
            .map(|i| self.taf[i])
            .ok_or(FeeError::NoRateInForce {
                table: RegulatoryFee::Taf,
                date,
                first: FirstEffective(self.taf.iter().map(|r| r.effective).min()),
            })
    }

    /// The SEC fee on `proceeds` dollars of sales on `date`, rounded up to the cent, with
    /// the row applied.
    pub fn sec_fee(&self, date: Date, proceeds: f64) -> Result<(f64, SecRate), FeeError> {
        let r = self.sec_rate(date)?;
        Ok((
            ceil_to_cent(num::max(proceeds * r.per_million / 1e6, 0.0)),
            r,
        ))
    }

    /// The FINRA TAF on `shares` shares sold on `date`, capped and rounded up to the
    /// cent, with the row applied.
    pub fn taf_fee(&self, date: Date, shares: f64) -> Result<(f64, TafRate), FeeError> {
        let r = self.taf_rate(date)?;
        let raw = num::max(num::min(shares * r.per_share, r.max_per_trade), 0.0);
        Ok((ceil_to_cent(raw), r))
    }
}

// ---------------------------------------------------------------------------------------
// Fee schedules
// ---------------------------------------------------------------------------------------

/// Which sides of a trade a row's commission applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ChargedSides {
    /// Buys and sells.
    #[default]
    Both,
    /// Purchases only (e.g. transaction-fee mutual funds: the fee is charged on buys).
    BuysOnly,
    /// Sales only.
    SellsOnly,
}

impl ChargedSides {
    /// True when a trade on `side` pays the row's commission.
    pub fn covers(self, side: Side) -> bool {
        match self {
            ChargedSides::Both => true,
            ChargedSides::BuysOnly => side == Side::Buy,
            ChargedSides::SellsOnly => side == Side::Sell,
        }
    }
}

/// The commission terms for one security type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeeRow {
    /// Flat charge per ticket, dollars.
    pub flat: f64,
    /// Commission per share, dollars.
    pub per_share: f64,
    /// Commission as a share of notional, basis points.
    pub notional_bps: f64,
    /// Minimum commission per ticket, dollars.
    pub minimum: f64,
    /// Maximum commission per ticket, dollars (`None`: no maximum).
    pub maximum: Option<f64>,
    /// Which sides pay this commission (default both).
    #[serde(default)]
    pub sides: ChargedSides,
}

impl FeeRow {
    /// A row that charges nothing.
    pub const ZERO: FeeRow = FeeRow {
        flat: 0.0,
        per_share: 0.0,
        notional_bps: 0.0,
        minimum: 0.0,
        maximum: None,
        sides: ChargedSides::Both,
    };

    /// A flat charge per ticket and nothing else.
    pub const fn flat(dollars: f64) -> FeeRow {
        FeeRow {
            flat: dollars,
            ..FeeRow::ZERO
        }
    }

    /// The commission of a ticket of `shares` shares and `notional` dollars on `side`,
    /// clamped to the minimum and maximum and rounded to the nearest cent (before any
    /// fractional surcharge).
    pub fn commission(&self, side: Side, shares: f64, notional: f64) -> f64 {
        if !self.sides.covers(side) {
            return 0.0;
        }
        let raw = self.flat + self.per_share * shares + self.notional_bps / 1e4 * notional;
        // (`num` comparisons: every simulated ticket is priced here.)
        let mut c = num::max(raw, self.minimum);
        if let Some(max) = self.maximum {
            c = num::min(c, max);
        }
        round_to_cent(num::max(c, 0.0))
    }

    /// How a ticket's commission moves with the row's flat fee: `Some(f)` when, at any
    /// flat fee `F ≥ f`, the commission is `F − f` dollars more than at `f` (the maximum
    /// aside) — `f` is the flat fee, or where the minimum binds the flat fee at which the
    /// commission would leave the minimum; `None` when it does not move (the row does not
    /// charge `side`, or the maximum binds). Rounding to the cent is ignored.
    pub fn flat_kink(&self, side: Side, shares: f64, notional: f64) -> Option<f64> {
        if !self.sides.covers(side) {
            return None;
        }
        let variable = self.per_share * shares + self.notional_bps / 1e4 * notional;
        if self.maximum.is_some_and(|max| self.flat + variable >= max) {
            return None;
        }
        Some(self.flat.max(self.minimum - variable))
    }
}

/// Commission rows by security type.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FeeRows {
    /// Exchange-traded funds.
    pub etf: FeeRow,
    /// Listed stocks.
    pub stock: FeeRow,
    /// Open-end mutual funds.
    pub mutual_fund: FeeRow,
}

impl FeeRows {
    /// The row of a security type.
    pub fn get(&self, t: SecurityType) -> &FeeRow {
        match t {
            SecurityType::Etf => &self.etf,
            SecurityType::Stock => &self.stock,
            SecurityType::MutualFund => &self.mutual_fund,
        }
    }

    /// The row of a security type, mutably.
    pub fn get_mut(&mut self, t: SecurityType) -> &mut FeeRow {
        match t {
            SecurityType::Etf => &mut self.etf,
            SecurityType::Stock => &mut self.stock,
            SecurityType::MutualFund => &mut self.mutual_fund,
        }
    }
}

/// The market-impact term `b·σ·|x|^{3/2}/V^{1/2}` (x: dollars traded, σ: the security's
/// daily volatility, V: its daily dollar volume).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImpactModel {
    /// The coefficient `b` (dimensionless; of order 0.1–1 in the literature).
    pub coefficient: f64,
}

/// The per-trade inputs of the market-impact term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ImpactInputs {
    /// Daily volatility of the security's return (e.g. 0.01 for 1%).
    pub daily_vol: f64,
    /// Average daily dollar volume of the security.
    pub daily_dollar_volume: f64,
}

/// A fee schedule: what a custodian or broker charges, by security type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeeSchedule {
    /// Identifier referenced by accounts.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Commission rows by security type.
    pub rows: FeeRows,
    /// Extra charge per ticket when the quantity is fractional, dollars.
    pub fractional_surcharge: f64,
    /// Whether sales pay the SEC Section 31 fee and FINRA TAF (passed through by the
    /// custodian; true for every preset).
    pub charge_regulatory: bool,
    /// Optional market-impact term.
    pub impact: Option<ImpactModel>,
    /// Advisory fee, basis points of assets under management per year (charged by the
    /// simulator on account value, not per ticket).
    pub advisory_fee_bps: f64,
}

/// The preset fee schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeePreset {
    /// "$0 commission custodian": $0 on ETFs and stocks; transaction-fee mutual funds
    /// pay $49.95 per purchase, sales free (the common online-custodian schedule; edit the
    /// row to $0 for no-transaction-fee funds). No fractional surcharge.
    ZeroCommission,
    /// "flat $3.10 clearing ticket": $3.10 per ETF or stock ticket, either side (the
    /// ticket charge of the story); mutual fund orders $15.00 per ticket (clearing firms
    /// bill fund orders at a higher, illustrative rate).
    FlatClearing,
    /// "$25 + $0.05/share broker-assisted": $25 per ETF or stock ticket plus $0.05 per
    /// share, no cap; mutual funds $25 per ticket (no per-share term on funds bought at
    /// NAV).
    BrokerAssisted,
    /// "$45 trade-away": $45 per ETF or stock ticket executed away from the custodian;
    /// mutual funds cannot be traded away and are bought and sold at NAV at the
    /// custodian with no transaction fee ($0).
    TradeAway,
}

impl FeePreset {
    /// All presets in display order.
    pub const ALL: [FeePreset; 4] = [
        FeePreset::ZeroCommission,
        FeePreset::FlatClearing,
        FeePreset::BrokerAssisted,
        FeePreset::TradeAway,
    ];

    /// The preset's display name.
    pub fn name(self) -> &'static str {
        match self {
            FeePreset::ZeroCommission => "$0 commission custodian",
            FeePreset::FlatClearing => "flat $3.10 clearing ticket",
            FeePreset::BrokerAssisted => "$25 + $0.05/share broker-assisted",
            FeePreset::TradeAway => "$45 trade-away",
        }
    }

    /// The preset's id (a schedule id accounts can reference).
    pub fn id(self) -> &'static str {
        match self {
            FeePreset::ZeroCommission => "zero_commission",
            FeePreset::FlatClearing => "flat_clearing",
            FeePreset::BrokerAssisted => "broker_assisted",
            FeePreset::TradeAway => "trade_away",
        }
    }
}

/// One ticket's description: what the fee model needs to price it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TicketSpec {
    /// The trading day (selects the regulatory rates).
    pub trade_date: Date,
    /// Buy or sell.
    pub side: Side,
    /// The security type (selects the schedule's row).
    pub security_type: SecurityType,
    /// Shares traded (positive; fractional where allowed).
    pub quantity: f64,
    /// Price per share, dollars (positive).
    pub price: f64,
    /// True when the order is for a fractional quantity (pays the fractional surcharge).
    pub fractional: bool,
    /// The security's half-spread, basis points.
    pub half_spread_bps: f64,
    /// Market-impact inputs, when known (without them the impact term is zero).
    pub impact: Option<ImpactInputs>,
}

impl TicketSpec {
    /// Dollars traded: quantity × price.
    pub fn notional(&self) -> f64 {
        self.quantity * self.price
    }
}

/// The itemised cost of one ticket (the default: nothing charged, no rate applied).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TicketCost {
    /// Commission: flat + per-share + % of notional clamped to min/max, plus the
    /// fractional surcharge.
    pub commission: f64,
    /// SEC Section 31 fee (sales of exchange-traded securities).
    pub sec_fee: f64,
    /// SEC rate applied, dollars per million (0 when no fee applied).
    pub sec_rate_per_million: f64,
    /// Effective date of the SEC row applied (`None` when no fee applied).
    pub sec_rate_effective: Option<Date>,
    /// FINRA Trading Activity Fee.
    pub taf: f64,
    /// TAF rate applied, dollars per share (0 when no fee applied).
    pub taf_rate_per_share: f64,
    /// TAF cap per trade applied, dollars (0 when no fee applied).
    pub taf_cap: f64,
    /// Effective date of the TAF row applied (`None` when no fee applied).
    pub taf_rate_effective: Option<Date>,
    /// Half-spread cost: half-spread × notional.
    pub spread: f64,
    /// Market-impact cost.
    pub impact: f64,
}

impl TicketCost {
    /// What the custodian bills for the ticket itself (the commission).
    pub fn ticket_charges(&self) -> f64 {
        self.commission
    }

    /// Regulatory fees: SEC fee + TAF.
    pub fn regulatory(&self) -> f64 {
        self.sec_fee + self.taf
    }

    /// Explicit (billed) costs: commission + regulatory fees.
    pub fn explicit_total(&self) -> f64 {
        self.ticket_charges() + self.regulatory()
    }

    /// All costs: explicit costs + spread + impact.
    pub fn total(&self) -> f64 {
        self.explicit_total() + self.spread + self.impact
    }

    /// The regulatory rates applied, in words (empty when none applied: a buy, a mutual
    /// fund, or regulatory fees switched off).
    ///
    /// ```
    /// use tollbooth_engine::fees::{FeePreset, FeeSchedule, RegulatoryTables, TicketSpec};
    /// use tollbooth_engine::types::{SecurityType, Side};
    /// let spec = TicketSpec {
    ///     trade_date: "2027-01-04".parse().unwrap(),
    ///     side: Side::Sell,
    ///     security_type: SecurityType::Etf,
    ///     quantity: 100.0,
    ///     price: 50.0,
    ///     fractional: false,
    ///     half_spread_bps: 1.0,
    ///     impact: None,
    /// };
    /// let cost = FeeSchedule::preset(FeePreset::ZeroCommission)
    ///     .ticket_cost(&spec, &RegulatoryTables::default())
    ///     .unwrap();
    /// assert_eq!(
    ///     cost.rates_applied(),
    ///     "SEC $20.60 per $1M (from 2026-04-04); TAF $0.000195/share, cap $9.79 (from 2027-01-01)"
    /// );
    /// ```
    pub fn rates_applied(&self) -> String {
        let mut parts = Vec::new();
        if let Some(d) = self.sec_rate_effective {
            parts.push(format!(
                "SEC ${} per $1M (from {d})",
                rate_text(self.sec_rate_per_million, 2)
            ));
        }
        if let Some(d) = self.taf_rate_effective {
            parts.push(format!(
                "TAF ${}/share, cap ${} (from {d})",
                rate_text(self.taf_rate_per_share, 6),
                rate_text(self.taf_cap, 2)
            ));
        }
        parts.join("; ")
    }
}

/// A rate or cap as its table holds it: at least `min_decimals` decimals, and as many more
/// as the value needs to be read back exactly (the shortest text that does), so that the
/// fee charged can be recomputed from the rate shown (`$22.125`, not `$22.12`).
///
/// ```
/// use tollbooth_engine::fees::rate_text;
/// assert_eq!(rate_text(20.6, 2), "20.60");
/// assert_eq!(rate_text(22.125, 2), "22.125");
/// assert_eq!(rate_text(0.000195, 6), "0.000195");
/// assert_eq!(rate_text(0.0001955, 6), "0.0001955");
/// assert_eq!(rate_text(0.0, 2), "0.00");
/// ```
pub fn rate_text(x: f64, min_decimals: usize) -> String {
    // `Display` gives the shortest decimal that reads back as `x`, never in exponent form.
    let shortest = format!("{}", x + 0.0);
    let decimals = shortest.split_once('.').map_or(0, |(_, d)| d.len());
    if decimals < min_decimals {
        format!("{:.*}", min_decimals, x + 0.0)
    } else {
        shortest
    }
}

/// The optimizer's linear view of a schedule for one (security type, side, date):
/// `cost ≈ fixed·[trade ≠ 0] + per_dollar·|x| + per_share·|q|`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearCostTerms {
    /// Cost per ticket, dollars ([`FeeSchedule::fixed_cost`]).
    pub fixed: f64,
    /// Cost per dollar traded ([`FeeSchedule::proportional_rate`]).
    pub per_dollar: f64,
    /// Cost per share traded ([`FeeSchedule::per_share_rate`]).
    pub per_share: f64,
}

fn check_finite(field: &'static str, value: f64) -> Result<f64, FeeError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(FeeError::NonFiniteInput { field, value })
    }
}

/// A ticket's own fields checked: its quantity, price and half-spread (returned) and any
/// market-impact inputs.
fn check_ticket(t: &TicketSpec) -> Result<(f64, f64, f64), FeeError> {
    let q = check_positive("quantity", t.quantity)?;
    let p = check_positive("price", t.price)?;
    let hs = check_non_negative("half_spread_bps", t.half_spread_bps)?;
    if let Some(i) = t.impact {
        check_non_negative("impact.daily_vol", i.daily_vol)?;
        check_positive("impact.daily_dollar_volume", i.daily_dollar_volume)?;
    }
    Ok((q, p, hs))
}

fn check_positive(field: &'static str, value: f64) -> Result<f64, FeeError> {
    check_finite(field, value)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(FeeError::NotPositive { field, value })
    }
}

fn check_non_negative(field: &'static str, value: f64) -> Result<f64, FeeError> {
    check_finite(field, value)?;
    if value >= 0.0 {
        Ok(value)
    } else {
        Err(FeeError::Negative { field, value })
    }
}

fn type_key(t: SecurityType) -> &'static str {
    match t {
        SecurityType::Etf => "etf",
        SecurityType::Stock => "stock",
        SecurityType::MutualFund => "mutual_fund",
    }
}

impl FeeSchedule {
    /// A preset schedule (regulatory fees on, no impact term, no advisory fee).
    pub fn preset(p: FeePreset) -> FeeSchedule {
        let (etf, mutual_fund) = match p {
            FeePreset::ZeroCommission => (
                FeeRow::ZERO,
                FeeRow {
                    sides: ChargedSides::BuysOnly,
                    ..FeeRow::flat(49.95)
                },
            ),
            FeePreset::FlatClearing => (FeeRow::flat(3.10), FeeRow::flat(15.00)),
            FeePreset::BrokerAssisted => (
                FeeRow {
                    per_share: 0.05,
                    ..FeeRow::flat(25.00)
                },
                FeeRow::flat(25.00),
            ),
            FeePreset::TradeAway => (FeeRow::flat(45.00), FeeRow::ZERO),
        };
        FeeSchedule {
            id: p.id().to_string(),
            name: p.name().to_string(),
            rows: FeeRows {
                etf,
                stock: etf,
                mutual_fund,
            },
            fractional_surcharge: 0.0,
            charge_regulatory: true,
            impact: None,
            advisory_fee_bps: 0.0,
        }
    }

    /// Checks that every field is a finite, non-negative number and that no maximum is
    /// below its minimum.
    pub fn validate(&self) -> Result<(), FeeError> {
        let bad = |field: String, value: f64, reason| {
            Err(FeeError::InvalidSchedule {
                schedule: self.id.clone(),
                field,
                value,
                reason,
            })
        };
        let nonneg = "must be a non-negative number";
        for t in SecurityType::ALL {
            let r = self.rows.get(t);
            let k = type_key(t);
            for (name, v) in [
                ("flat", r.flat),
                ("per_share", r.per_share),
                ("notional_bps", r.notional_bps),
                ("minimum", r.minimum),
            ] {
                if !v.is_finite() || v < 0.0 {
                    return bad(format!("rows.{k}.{name}"), v, nonneg);
                }
            }
            if let Some(m) = r.maximum {
                if !m.is_finite() || m < 0.0 {
                    return bad(format!("rows.{k}.maximum"), m, nonneg);
                }
                if m < r.minimum {
                    return bad(
                        format!("rows.{k}.maximum"),
                        m,
                        "the maximum is below the minimum",
                    );
                }
            }
        }
        for (name, v) in [
            ("fractional_surcharge", self.fractional_surcharge),
            ("advisory_fee_bps", self.advisory_fee_bps),
        ] {
            if !v.is_finite() || v < 0.0 {
                return bad(name.to_string(), v, nonneg);
            }
        }
        if let Some(i) = self.impact {
            if !i.coefficient.is_finite() || i.coefficient < 0.0 {
                return bad("impact.coefficient".to_string(), i.coefficient, nonneg);
            }
        }
        Ok(())
    }

    /// The itemised cost of a ticket. Errors on non-finite or out-of-range inputs, an
    /// invalid schedule, or (for sales of exchange-traded securities when regulatory fees
    /// are charged) a trade date before the first row of a regulatory table.
    pub fn ticket_cost(
        &self,
        t: &TicketSpec,
        reg: &RegulatoryTables,
    ) -> Result<TicketCost, FeeError> {
        let checked = check_ticket(t)?;
        self.validate()?;
        self.price_checked(t, checked, reg)
    }

    /// [`FeeSchedule::ticket_cost`] for a schedule already validated
    /// ([`FeeSchedule::validate`]), as the simulator's are once per run: the ticket's own
    /// fields are still checked. The simulator prices every trade and every planned
    /// ticket with it.
    pub(crate) fn ticket_cost_valid(
        &self,
        t: &TicketSpec,
        reg: &RegulatoryTables,
    ) -> Result<TicketCost, FeeError> {
        let checked = check_ticket(t)?;
        self.price_checked(t, checked, reg)
    }

    /// The ticket's cost once the schedule and the ticket ([`check_ticket`]: its quantity,
    /// price and half-spread) are checked.
    fn price_checked(
        &self,
        t: &TicketSpec,
        (q, p, hs): (f64, f64, f64),
        reg: &RegulatoryTables,
    ) -> Result<TicketCost, FeeError> {
        let notional = q * p;
        let row = self.rows.get(t.security_type);
        let mut commission = row.commission(t.side, q, notional);
        if t.fractional && self.fractional_surcharge > 0.0 {
            // (A surcharge may be entered in fractions of a cent; the bill is in cents.)
            commission = round_to_cent(commission + self.fractional_surcharge);
        }
        let mut cost = TicketCost {
            commission,
            ..TicketCost::default()
        };
        let exchange = t.security_type.is_exchange_traded();
        if exchange && t.side == Side::Sell && self.charge_regulatory {
            let (sec, sr) = reg.sec_fee(t.trade_date, notional)?;
            let (taf, tr) = reg.taf_fee(t.trade_date, q)?;
            cost.sec_fee = sec;
            cost.sec_rate_per_million = sr.per_million;
            cost.sec_rate_effective = Some(sr.effective);
            cost.taf = taf;
            cost.taf_rate_per_share = tr.per_share;
            cost.taf_cap = tr.max_per_trade;
            cost.taf_rate_effective = Some(tr.effective);
        }
        cost.spread = hs / 1e4 * notional;
        if exchange {
            if let (Some(m), Some(i)) = (self.impact, t.impact) {
                cost.impact = impact_cost(m.coefficient, i, notional);
            }
        }
        Ok(cost)
    }

    /// Optimizer face: what a ticket costs before its size — when the row applies to
    /// `side`, its flat charge or, when larger, its minimum (within its maximum); plus the
    /// fractional surcharge for a `fractional` order.
    ///
    /// Approximations, all made explicit so the optimizer and the simulator can be
    /// reconciled: with the linear terms ([`FeeSchedule::proportional_rate`],
    /// [`FeeSchedule::per_share_rate`]) added on top, a ticket is priced exactly when no
    /// clamp binds; when the minimum binds for small tickets, larger ones are overstated
    /// by at most the minimum less the flat charge (the optimizer errs towards not
    /// trading); the maximum is otherwise ignored, as is rounding to the cent.
    pub fn fixed_cost(&self, security_type: SecurityType, side: Side, fractional: bool) -> f64 {
        let row = self.rows.get(security_type);
        let mut cost = 0.0;
        if row.sides.covers(side) {
            cost = row.flat.max(row.minimum);
            if let Some(max) = row.maximum {
                cost = cost.min(max);
            }
        }
        if fractional {
            cost += self.fractional_surcharge;
        }
        cost
    }

    /// Optimizer face: the cost per dollar traded that is linear in the notional — the
    /// half-spread, the % of notional commission, and on sales of
    /// exchange-traded securities the SEC Section 31 rate in force on `date`.
    ///
    /// Approximations: the SEC fee's rounding up to the cent (at most one cent per
    /// ticket) and commission clamps are ignored; the TAF is per share, see
    /// [`FeeSchedule::per_share_rate`]; market impact (superlinear) is not included.
    pub fn proportional_rate(
        &self,
        security_type: SecurityType,
        side: Side,
        half_spread_bps: f64,
        date: Date,
        reg: &RegulatoryTables,
    ) -> Result<f64, FeeError> {
        let hs = check_non_negative("half_spread_bps", half_spread_bps)?;
        let row = self.rows.get(security_type);
        let exchange = security_type.is_exchange_traded();
        let mut rate = hs / 1e4;
        if row.sides.covers(side) {
            rate += row.notional_bps / 1e4;
        }
        if exchange && side == Side::Sell && self.charge_regulatory {
            rate += reg.sec_rate(date)?.per_million / 1e6;
        }
        Ok(rate)
    }

    /// Optimizer face: the cost per share traded — the per-share commission and, on sales
    /// of exchange-traded securities, the FINRA TAF rate in force on `date`.
    ///
    /// Approximations: the TAF cap (binds above about 50,000 shares per ticket) and the
    /// TAF's rounding up to the cent (at most one cent) are ignored.
    pub fn per_share_rate(
        &self,
        security_type: SecurityType,
        side: Side,
        date: Date,
        reg: &RegulatoryTables,
    ) -> Result<f64, FeeError> {
        let row = self.rows.get(security_type);
        let mut rate = 0.0;
        if row.sides.covers(side) {
            rate += row.per_share;
        }
        if security_type.is_exchange_traded() && side == Side::Sell && self.charge_regulatory {
            rate += reg.taf_rate(date)?.per_share;
        }
        Ok(rate)
    }

    /// All three optimizer terms at once (`fractional`: whether the order will be in
    /// fractions of a share, see [`FeeSchedule::fixed_cost`]).
    pub fn linear_terms(
        &self,
        security_type: SecurityType,
        side: Side,
        fractional: bool,
        half_spread_bps: f64,
        date: Date,
        reg: &RegulatoryTables,
    ) -> Result<LinearCostTerms, FeeError> {
        Ok(LinearCostTerms {
            fixed: self.fixed_cost(security_type, side, fractional),
            per_dollar: self.proportional_rate(security_type, side, half_spread_bps, date, reg)?,
            per_share: self.per_share_rate(security_type, side, date, reg)?,
        })
    }

    /// The advisory fee for `days` calendar days on `aum` dollars (simple accrual on an
    /// actual/365 basis).
    pub fn advisory_fee(&self, aum: f64, days: u32) -> f64 {
        (aum * self.advisory_fee_bps / 1e4 * f64::from(days) / 365.0).max(0.0)
    }
}

/// The market-impact cost `b·σ·x^{3/2}/V^{1/2}` of `notional` dollars (uses `libm` and the
/// correctly rounded square root, so the result is bit-identical natively and in
/// WebAssembly).
pub fn impact_cost(coefficient: f64, inputs: ImpactInputs, notional: f64) -> f64 {
    if inputs.daily_dollar_volume <= 0.0 || notional <= 0.0 {
        return 0.0;
    }
    let x = notional.abs();
    (coefficient * inputs.daily_vol * libm::pow(x, 1.5) / f64::sqrt(inputs.daily_dollar_volume))
        .max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn sell(date: &str, t: SecurityType, q: f64, p: f64) -> TicketSpec {
        TicketSpec {
            trade_date: d(date),
            side: Side::Sell,
            security_type: t,
            quantity: q,
            price: p,
            fractional: false,
            half_spread_bps: 0.0,
            impact: None,
        }
    }

    fn zero() -> FeeSchedule {
        FeeSchedule::preset(FeePreset::ZeroCommission)
    }

    /// The rates shown reproduce the fee charged: an edited table's $22.125 per $1M and
    /// $9.795 cap are shown as such, not rounded to $22.12 and $9.79.
    #[test]
    fn the_rates_shown_are_the_rates_charged() {
        let mut reg = RegulatoryTables::default();
        reg.sec.push(SecRate {
            effective: d("2026-05-01"),
            per_million: 22.125,
        });
        reg.taf.push(TafRate {
            effective: d("2026-05-01"),
            per_share: 0.0001955,
            max_per_trade: 9.795,
        });
        let cost = zero()
            .ticket_cost(
                &sell("2026-06-01", SecurityType::Stock, 60_000.0, 50.0),
                &reg,
            )
            .unwrap();
        // 3,000,000 × 22.125 / 1e6 = 66.375 → 66.38; 60,000 × 0.0001955 = 11.73 → cap 9.795 → 9.80.
        assert_eq!((cost.sec_fee, cost.taf), (66.38, 9.80));
        assert_eq!(
            cost.rates_applied(),
            "SEC $22.125 per $1M (from 2026-05-01); TAF $0.0001955/share, cap $9.795 (from 2026-05-01)"
        );
    }

    #[test]
    fn cent_rounding_is_exact_at_cent_boundaries() {
        assert_eq!(ceil_to_cent(10_000.0 * 20.60 / 1e6), 0.21);
        assert_eq!(ceil_to_cent(0.21), 0.21);
        assert_eq!(ceil_to_cent(0.1 + 0.2), 0.3);
        assert_eq!(ceil_to_cent(0.0), 0.0);
        assert_eq!(ceil_to_cent(0.000_000_01), 0.01);
        assert_eq!(round_to_cent(0.525), 0.53);
        assert_eq!(round_to_cent(0.524), 0.52);
        // A real excess over a cent, however small, is rounded up; noise is not.
        assert_eq!(ceil_to_cent(0.200_000_000_07), 0.21);
        assert_eq!(ceil_to_cent(217_855.41 * 20.61 / 1e6), 4.50);
        assert_eq!(ceil_to_cent(1_000_000.0 * 20.60 / 1e6), 20.60);
        assert_eq!(round_to_cent(0.004_999_999_99), 0.0);
        assert_eq!(round_to_cent(1.005), 1.01);
    }

    #[test]
    fn sec_fee_on_a_10k_etf_sale_in_june_2026() {
        let c = zero()
            .ticket_cost(
                &sell("2026-06-01", SecurityType::Etf, 100.0, 100.0),
                &RegulatoryTables::default(),
            )
            .unwrap();
        assert_eq!(c.sec_fee, 0.21);
        assert_eq!(c.sec_rate_per_million, 20.60);
        assert_eq!(c.sec_rate_effective, Some(d("2026-04-04")));
    }

    #[test]
    fn sec_rate_follows_the_table() {
        let reg = RegulatoryTables::default();
        let fee = |date| reg.sec_fee(d(date), 1_000_000.0).unwrap().0;
        assert_eq!(fee("2023-02-27"), 8.00);
        assert_eq!(fee("2024-05-21"), 8.00);
        assert_eq!(fee("2024-05-22"), 27.80);
        assert_eq!(fee("2025-05-14"), 0.00);
        assert_eq!(fee("2026-04-03"), 0.00);
        assert_eq!(fee("2026-04-04"), 20.60);
        assert!(matches!(
            reg.sec_fee(d("2023-02-26"), 1.0),
            Err(FeeError::NoRateInForce {
                table: RegulatoryFee::Sec,
                ..
            })
        ));
    }

    #[test]
    fn taf_on_100_shares_in_june_2026_rounds_up() {
        let c = zero()
            .ticket_cost(
                &sell("2026-06-15", SecurityType::Etf, 100.0, 50.0),
                &RegulatoryTables::default(),
            )
            .unwrap();
        assert_eq!(c.taf, 0.02); // 0.0195 rounded up
        assert_eq!(c.taf_rate_per_share, 0.000195);
        assert_eq!(c.taf_rate_effective, Some(d("2026-01-01")));
    }

    #[test]
    fn taf_cap_binds_on_a_million_shares() {
        let reg = RegulatoryTables::default();
        let c = zero()
            .ticket_cost(&sell("2026-06-15", SecurityType::Stock, 1e6, 10.0), &reg)
            .unwrap();
        assert_eq!(c.taf, 9.79);
        assert_eq!(reg.taf_fee(d("2025-06-15"), 1e6).unwrap().0, 8.30);
        assert_eq!(reg.taf_fee(d("2024-01-02"), 100.0).unwrap().0, 0.02); // 0.0166
    }

    #[test]
    fn taf_is_zero_in_q4_2026_and_back_in_2027() {
        let reg = RegulatoryTables::default();
        let c = zero()
            .ticket_cost(&sell("2026-10-15", SecurityType::Etf, 1e6, 10.0), &reg)
            .unwrap();
        assert_eq!(c.taf, 0.0);
        assert_eq!(c.taf_rate_effective, Some(d("2026-10-01")));
        assert_eq!(reg.taf_fee(d("2026-12-31"), 1e6).unwrap().0, 0.0);
        assert_eq!(reg.taf_fee(d("2027-01-01"), 1e6).unwrap().0, 9.79);
        assert_eq!(reg.taf_fee(d("2026-09-30"), 1e6).unwrap().0, 9.79);
    }

    #[test]
    fn buys_and_mutual_funds_pay_no_regulatory_fee() {
        let reg = RegulatoryTables::default();
        let mut buy = sell("2026-06-01", SecurityType::Etf, 1000.0, 100.0);
        buy.side = Side::Buy;
        let c = zero().ticket_cost(&buy, &reg).unwrap();
        assert_eq!((c.sec_fee, c.taf), (0.0, 0.0));
        assert_eq!(c.sec_rate_effective, None);
        // A fund pays no regulatory fee; its half-spread, when one is entered, is charged
        // like any other security's (half-spread × notional on every trade).
        let mut mf = sell("2026-06-01", SecurityType::MutualFund, 1000.0, 100.0);
        mf.half_spread_bps = 5.0;
        let c = zero().ticket_cost(&mf, &reg).unwrap();
        assert_eq!(
            (c.sec_fee, c.taf, c.spread, c.commission),
            (0.0, 0.0, 50.0, 0.0)
        );
        let rate = zero()
            .proportional_rate(
                SecurityType::MutualFund,
                Side::Sell,
                5.0,
                mf.trade_date,
                &reg,
            )
            .unwrap();
        assert!((rate - 5e-4).abs() < 1e-15);
        // A buy dated before every table row needs no rate.
        buy.trade_date = d("2000-01-03");
        assert!(zero().ticket_cost(&buy, &reg).is_ok());
    }

    #[test]
    fn regulatory_fees_can_be_switched_off() {
        let mut s = zero();
        s.charge_regulatory = false;
        let c = s
            .ticket_cost(
                &sell("2026-06-01", SecurityType::Etf, 100.0, 100.0),
                &RegulatoryTables::default(),
            )
            .unwrap();
        assert_eq!(c.regulatory(), 0.0);
    }

    #[test]
    fn broker_assisted_300_shares_is_40_dollars() {
        let s = FeeSchedule::preset(FeePreset::BrokerAssisted);
        let mut t = sell("2026-06-01", SecurityType::Etf, 300.0, 80.0);
        t.side = Side::Buy;
        let c = s.ticket_cost(&t, &RegulatoryTables::default()).unwrap();
        assert_eq!(c.commission, 40.0);
        assert_eq!(c.explicit_total(), 40.0);
        // Sold: + SEC ceil(24,000 × 20.60/1e6 = 0.4944) = 0.50, TAF ceil(0.0585) = 0.06.
        t.side = Side::Sell;
        let c = s.ticket_cost(&t, &RegulatoryTables::default()).unwrap();
        assert_eq!((c.commission, c.sec_fee, c.taf), (40.0, 0.50, 0.06));
        assert!((c.explicit_total() - 40.56).abs() < 1e-9);
    }

    #[test]
    fn minimum_and_maximum_clamp_the_commission() {
        let mut s = zero();
        s.rows.etf = FeeRow {
            flat: 0.0,
            per_share: 0.0,
            notional_bps: 10.0,
            minimum: 5.0,
            maximum: Some(50.0),
            sides: ChargedSides::Both,
        };
        let reg = RegulatoryTables::default();
        let mut t = sell("2026-06-01", SecurityType::Etf, 10.0, 100.0);
        t.side = Side::Buy;
        // 10 bps of $1,000 = $1 → minimum $5.
        assert_eq!(s.ticket_cost(&t, &reg).unwrap().commission, 5.0);
        // 10 bps of $20,000 = $20: no clamp.
        t.quantity = 200.0;
        assert_eq!(s.ticket_cost(&t, &reg).unwrap().commission, 20.0);
        // 10 bps of $1,000,000 = $1,000 → maximum $50.
        t.quantity = 10_000.0;
        assert_eq!(s.ticket_cost(&t, &reg).unwrap().commission, 50.0);
        s.rows.etf.maximum = Some(1.0);
        assert!(matches!(
            s.ticket_cost(&t, &reg),
            Err(FeeError::InvalidSchedule { field, .. }) if field == "rows.etf.maximum"
        ));
    }

    #[test]
    fn fractional_surcharge_is_added_after_the_clamp() {
        let mut s = FeeSchedule::preset(FeePreset::FlatClearing);
        s.fractional_surcharge = 1.0;
        s.rows.etf.maximum = Some(3.10);
        let mut t = sell("2026-06-01", SecurityType::Etf, 2.5, 100.0);
        t.side = Side::Buy;
        t.fractional = true;
        let c = s.ticket_cost(&t, &RegulatoryTables::default()).unwrap();
        assert!((c.commission - 4.10).abs() < 1e-12);
        t.fractional = false;
        let c = s.ticket_cost(&t, &RegulatoryTables::default()).unwrap();
        assert_eq!(c.commission, 3.10);
    }

    #[test]
    fn the_flat_kink_is_where_the_commission_starts_moving_with_the_flat_fee() {
        let mut row = FeeSchedule::preset(FeePreset::FlatClearing).rows.etf;
        row.flat = 3.10;
        assert_eq!(row.flat_kink(Side::Buy, 100.0, 10_000.0), Some(3.10));
        // A $5 minimum over $0.02/share: 100 shares pay the minimum until the flat fee
        // passes $3; 1,000 shares ($20 variable) are above it already.
        row.flat = 0.0;
        row.per_share = 0.02;
        row.minimum = 5.0;
        assert_eq!(row.flat_kink(Side::Buy, 100.0, 10_000.0), Some(3.0));
        assert_eq!(row.flat_kink(Side::Buy, 1_000.0, 100_000.0), Some(0.0));
        // At the maximum it does not move; a side the row does not charge never does.
        row.maximum = Some(10.0);
        assert_eq!(row.flat_kink(Side::Buy, 1_000.0, 100_000.0), None);
        row.maximum = None;
        row.sides = ChargedSides::SellsOnly;
        assert_eq!(row.flat_kink(Side::Buy, 100.0, 10_000.0), None);
        assert_eq!(row.flat_kink(Side::Sell, 100.0, 10_000.0), Some(3.0));
    }

    #[test]
    fn a_commission_with_a_sub_cent_surcharge_is_billed_in_cents() {
        let mut s = FeeSchedule::preset(FeePreset::ZeroCommission);
        s.rows.etf.per_share = 0.005;
        s.fractional_surcharge = 0.005;
        let mut t = sell("2026-06-01", SecurityType::Etf, 1.5, 100.0);
        t.fractional = true;
        // 1.5 × $0.005 = $0.0075 → $0.01; plus $0.005 → $0.015 → $0.02.
        let c = s.ticket_cost(&t, &RegulatoryTables::default()).unwrap();
        assert_eq!(c.commission, 0.02);
    }

    #[test]
    fn a_regulatory_fee_a_hair_over_a_cent_is_rounded_up() {
        // 1,025.641026 shares × $0.000195 = $0.20000000007: the next cent.
        let reg = RegulatoryTables::default();
        let (taf, _) = reg.taf_fee(d("2026-06-01"), 1_025.641_026).unwrap();
        assert_eq!(taf, 0.21);
    }

    #[test]
    fn each_preset_prices_a_buy_and_a_sell() {
        let reg = RegulatoryTables::default();
        // (preset, ETF buy of 300 sh, mutual fund buy, mutual fund sell)
        let expect = [
            (FeePreset::ZeroCommission, 0.0, 49.95, 0.0),
            (FeePreset::FlatClearing, 3.10, 15.0, 15.0),
            (FeePreset::BrokerAssisted, 40.0, 25.0, 25.0),
            (FeePreset::TradeAway, 45.0, 0.0, 0.0),
        ];
        for (p, etf, mf_buy, mf_sell) in expect {
            let s = FeeSchedule::preset(p);
            s.validate().unwrap();
            assert_eq!(s.id, p.id());
            let mut t = sell("2026-06-01", SecurityType::Etf, 300.0, 80.0);
            t.side = Side::Buy;
            assert_eq!(s.ticket_cost(&t, &reg).unwrap().commission, etf, "{p:?}");
            // Stocks price like ETFs in every preset.
            t.security_type = SecurityType::Stock;
            assert_eq!(s.ticket_cost(&t, &reg).unwrap().commission, etf, "{p:?}");
            t.security_type = SecurityType::MutualFund;
            assert_eq!(s.ticket_cost(&t, &reg).unwrap().commission, mf_buy, "{p:?}");
            t.side = Side::Sell;
            let c = s.ticket_cost(&t, &reg).unwrap();
            assert_eq!(c.commission, mf_sell, "{p:?}");
            assert_eq!(c.regulatory(), 0.0);
        }
    }

    #[test]
    fn spread_and_impact() {
        let mut s = zero();
        s.impact = Some(ImpactModel { coefficient: 0.5 });
        let mut t = sell("2026-06-01", SecurityType::Etf, 1000.0, 100.0);
        t.side = Side::Buy;
        t.half_spread_bps = 2.0;
        t.impact = Some(ImpactInputs {
            daily_vol: 0.01,
            daily_dollar_volume: 1e8,
        });
        let c = s.ticket_cost(&t, &RegulatoryTables::default()).unwrap();
        assert!((c.spread - 20.0).abs() < 1e-9);
        // 0.5 × 0.01 × 100,000^1.5 / 10,000 = 15.811...
        assert!((c.impact - 0.5 * 0.01 * 1e5f64.powf(1.5) / 1e4).abs() < 1e-9);
        assert!((c.total() - (20.0 + c.impact)).abs() < 1e-12);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let reg = RegulatoryTables::default();
        let s = zero();
        let base = sell("2026-06-01", SecurityType::Etf, 10.0, 10.0);
        let cases: [(TicketSpec, &str); 5] = [
            (
                TicketSpec {
                    quantity: -1.0,
                    ..base
                },
                "quantity",
            ),
            (
                TicketSpec {
                    quantity: 0.0,
                    ..base
                },
                "quantity",
            ),
            (
                TicketSpec {
                    price: f64::NAN,
                    ..base
                },
                "price",
            ),
            (
                TicketSpec {
                    price: f64::INFINITY,
                    ..base
                },
                "price",
            ),
            (
                TicketSpec {
                    half_spread_bps: -1.0,
                    ..base
                },
                "half_spread_bps",
            ),
        ];
        for (t, want) in cases {
            match s.ticket_cost(&t, &reg) {
                Err(
                    FeeError::NotPositive { field, .. }
                    | FeeError::NonFiniteInput { field, .. }
                    | FeeError::Negative { field, .. },
                ) => assert_eq!(field, want),
                other => panic!("{want}: {other:?}"),
            }
        }
        let mut bad = zero();
        bad.rows.stock.flat = -1.0;
        assert!(bad.validate().is_err());
        let mut tables = RegulatoryTables::default();
        tables.sec.push(tables.sec[0]);
        assert_eq!(
            tables.validate(),
            Err(FeeError::InvalidTable {
                table: RegulatoryFee::Sec,
                row: 4,
                reason: "two rows have the same effective date"
            })
        );
        let empty = RegulatoryTables {
            sec: vec![],
            taf: vec![],
        };
        let e = s.ticket_cost(&base, &empty).unwrap_err();
        assert!(e.to_string().contains("empty table"), "{e}");
    }

    #[test]
    fn default_tables_are_valid_and_round_trip_json() {
        let t = RegulatoryTables::default();
        t.validate().unwrap();
        let back: RegulatoryTables =
            serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        let s = FeeSchedule::preset(FeePreset::BrokerAssisted);
        let back: FeeSchedule = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Where the clamps and the TAF cap do not bind, the optimizer's linear terms
        /// reproduce the simulator's ticket cost up to cent rounding: commission rounding
        /// (±½¢) and rounding the SEC fee and TAF up (< 1¢ each).
        #[test]
        fn optimizer_terms_match_ticket_cost(
            q in 1.0f64..40_000.0,
            p in 1.0f64..1_000.0,
            hs in 0.0f64..20.0,
            sell_side in any::<bool>(),
            preset in 0usize..4,
            bps in 0.0f64..30.0,
            day in 0i32..900,
        ) {
            let mut s = FeeSchedule::preset(FeePreset::ALL[preset]);
            s.rows.etf.notional_bps = bps;
            let side = if sell_side { Side::Sell } else { Side::Buy };
            let date = d("2026-01-01").add_days(day);
            let reg = RegulatoryTables::default();
            let t = TicketSpec {
                trade_date: date,
                side,
                security_type: SecurityType::Etf,
                quantity: q,
                price: p,
                fractional: false,
                half_spread_bps: hs,
                impact: None,
            };
            let exact = s.ticket_cost(&t, &reg).unwrap().total();
            let lin = s.linear_terms(SecurityType::Etf, side, false, hs, date, &reg).unwrap();
            let approx = lin.fixed + lin.per_dollar * q * p + lin.per_share * q;
            let diff = exact - approx;
            prop_assert!((-0.005 - 1e-9..=0.025 + 1e-9).contains(&diff), "diff {diff}");
        }

        /// Every component of every ticket is non-negative and finite, for every preset,
        /// security type, side and date, fractional or not, with or without impact.
        #[test]
        fn fees_are_never_negative(
            q in 0.001f64..2_000_000.0,
            p in 0.01f64..5_000.0,
            hs in 0.0f64..50.0,
            sell_side in any::<bool>(),
            preset in 0usize..4,
            ty in 0usize..3,
            fractional in any::<bool>(),
            day in 0i32..1_500,
            impact in proptest::option::of((0.001f64..0.1, 1e5f64..1e10)),
        ) {
            let s = FeeSchedule::preset(FeePreset::ALL[preset]);
            let t = TicketSpec {
                trade_date: d("2025-06-01").add_days(day),
                side: if sell_side { Side::Sell } else { Side::Buy },
                security_type: SecurityType::ALL[ty],
                quantity: q,
                price: p,
                fractional,
                half_spread_bps: hs,
                impact: impact.map(|(daily_vol, daily_dollar_volume)| ImpactInputs {
                    daily_vol,
                    daily_dollar_volume,
                }),
            };
            let c = s.ticket_cost(&t, &RegulatoryTables::default()).unwrap();
            for (name, v) in [
                ("commission", c.commission),
                ("sec_fee", c.sec_fee),
                ("taf", c.taf),
                ("spread", c.spread),
                ("impact", c.impact),
            ] {
                prop_assert!(v.is_finite() && v >= 0.0, "{name} = {v}");
            }
            prop_assert!(c.total() >= c.explicit_total() - 1e-12);
        }
    }
}
