//! What the user typed: [`ScenarioForm`], and its validation into a [`Scenario`].
//!
//! Every number and date is kept as the text typed, every choice as an `Option`, and every
//! optional rule as a [`Toggle`] that keeps its fields while switched off, so a half-typed
//! form round-trips through local storage without loss. All form types deserialize with
//! defaults for missing fields.
//!
//! [`ScenarioForm::validate`] checks everything and returns either the [`Scenario`] or
//! every problem found, each a [`FieldError`] whose `path` names the field in the form's
//! (and the scenario JSON's) structure, e.g. `household.accounts[2].lots[5].acquired` or
//! `market.correlation[1][3]`. Checks that concern a list as a whole (weights that do not
//! sum to 1, the number of policies, an inconsistent correlation matrix) name the list.
//!
//! Numbers are parsed strictly: digits, an optional sign, a decimal point and an
//! exponent, plus a `$` and thousands separators as statements print them (`$1,234.56`).
//! A comma that is not a thousands separator is rejected rather than guessed (`1,5` means
//! 1.5 in much of the world): see [`plain_number`]. Rates are fractions: `0.24` means 24%.

use super::market::{
    check_correlation, AssetClassAssumption, CorrelationIssue, DividendTreatment,
    MarketAssumptions, SecurityVol, Shocks,
};
use super::policy::{
    Band, BandKind, CalendarRule, CostAwareRule, Frequency, OpportunisticRule, Policy,
    TacticalOverlay, ThresholdRule, TlhRule, WashSaleGuard,
};
use super::target::{ClassTarget, MinCash, Restrictions, TargetModel};
use super::tax_profile::{Carryforward, FilingStatus, HorizonTreatment, TaxProfile};
use super::{
    Account, CashFlow, CashFlowSchedule, Household, Lot, Member, Scenario, Security, SCHEMA_VERSION,
};
use crate::date::Date;
use crate::fees::{
    ChargedSides, FeeRow, FeeRows, FeeSchedule, ImpactModel, RegulatoryTables, SecRate, TafRate,
};
use crate::types::{AccountKind, LotMethod, SecurityType};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Tolerance on the sum of target weights.
pub const WEIGHT_SUM_TOLERANCE: f64 = 1e-6;
/// Fewest policies a scenario compares.
pub const MIN_POLICIES: usize = 2;
/// Most policies a scenario compares.
pub const MAX_POLICIES: usize = 8;
/// Most securities a scenario may list (the market model's covariance is securities ×
/// securities, and each policy keeps an accounts × securities position table).
pub const MAX_SECURITIES: usize = 1_000;
/// Most accounts a household may have.
pub const MAX_ACCOUNTS: usize = 100;
/// Most asset classes (the cost-aware optimizer solves over classes).
pub const MAX_CLASSES: usize = 50;
/// Most tax lots a household may hold, over all its accounts.
pub const MAX_LOTS: usize = 100_000;
/// Most cash-flow entries a scenario may list.
pub const MAX_CASH_FLOWS: usize = 1_000;
/// Most Monte Carlo paths a scenario may ask for (`market.paths`).
pub const MAX_PATHS: u64 = 1_000_000;
/// Longest horizon a scenario may ask for, in years (`market.horizon_years`).
pub const MAX_HORIZON_YEARS: u32 = 100;
/// Most characters of a typed value a message quotes (the rest is elided).
const QUOTED_CHARS: usize = 24;

/// `typed`, or its first [`QUOTED_CHARS`] characters and `…` when it is longer.
fn quoted(typed: &str) -> String {
    if typed.chars().count() > QUOTED_CHARS {
        let head: String = typed.chars().take(QUOTED_CHARS).collect();
        format!("{head}…")
    } else {
        typed.to_string()
    }
}

/// Largest magnitude a number in the form may have: far above any household's dollars,
/// shares or prices, and small enough that sums and products of them stay finite.
pub const MAX_MAGNITUDE: f64 = 1e15;

/// A problem with one field of the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// Where: the field's path, e.g. `household.accounts[2].lots[5].acquired`.
    pub path: String,
    /// What is wrong, in plain English, to show next to the field.
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// An optional part of the form: its fields are kept while it is switched off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Toggle<T> {
    /// Whether the part is in use.
    pub enabled: bool,
    /// Its fields.
    #[serde(flatten)]
    pub fields: T,
}

impl<T: Default> Toggle<T> {
    fn from_option<U>(o: Option<U>, f: impl FnOnce(U) -> T) -> Toggle<T> {
        match o {
            Some(u) => Toggle {
                enabled: true,
                fields: f(u),
            },
            None => Toggle::default(),
        }
    }
}

/// The whole form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ScenarioForm {
    /// Display name.
    pub name: String,
    /// Date of the holdings and prices (YYYY-MM-DD).
    pub as_of: String,
    /// Members and accounts.
    pub household: HouseholdForm,
    /// Securities.
    pub securities: Vec<SecurityForm>,
    /// Target model.
    pub target: TargetForm,
    /// Fee schedules.
    pub fee_schedules: Vec<FeeScheduleForm>,
    /// Regulatory tables.
    pub regulatory: RegulatoryForm,
    /// Tax profile.
    pub tax: TaxForm,
    /// Market assumptions.
    pub market: MarketForm,
    /// Cash flows.
    pub cash_flows: Vec<CashFlowForm>,
    /// Policies.
    pub policies: Vec<PolicyForm>,
    /// Name of the baseline policy.
    pub baseline: String,
}

/// Members and accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct HouseholdForm {
    /// Members.
    pub members: Vec<MemberForm>,
    /// Accounts.
    pub accounts: Vec<AccountForm>,
}

/// A member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AccountForm {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: Option<AccountKind>,
    /// Owner member id.
    pub owner: String,
    /// Joint with the spouse.
    pub joint: bool,
    /// Cash (dollars).
    pub cash: String,
    /// Fee schedule id.
    pub fee_schedule: String,
    /// Lots.
    pub lots: Vec<LotForm>,
}

/// A tax lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LotForm {
    /// Id.
    pub id: String,
    /// Symbol.
    pub symbol: String,
    /// Shares.
    pub quantity: String,
    /// Total cost basis (dollars).
    pub basis: String,
    /// Acquisition date.
    pub acquired: String,
}

/// A security.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SecurityForm {
    /// Symbol.
    pub symbol: String,
    /// Name.
    pub name: String,
    /// Asset class.
    pub asset_class: String,
    /// Price.
    pub price: String,
    /// Type.
    pub security_type: Option<SecurityType>,
    /// Half-spread (bps).
    pub half_spread_bps: String,
    /// Expense ratio (fraction).
    pub expense_ratio: String,
    /// Dividend yield (fraction).
    pub dividend_yield: String,
    /// Substantially-identical group.
    pub group: String,
    /// TLH partner symbols.
    pub partners: Vec<String>,
    /// Fractional shares allowed.
    pub fractional_allowed: bool,
    /// Average daily dollar volume (empty: no market impact for this security).
    pub daily_dollar_volume: String,
}

/// A band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct BandForm {
    /// Absolute or relative.
    pub kind: Option<BandKind>,
    /// Width (fraction).
    pub width: String,
}

/// The target model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TargetForm {
    /// Asset classes.
    pub classes: Vec<ClassTargetForm>,
    /// Default band.
    pub default_band: BandForm,
    /// Minimum cash per account.
    pub min_cash: Vec<MinCashForm>,
    /// Restrictions.
    pub restrictions: RestrictionsForm,
}

/// One class of the target model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ClassTargetForm {
    /// Asset class.
    pub asset_class: String,
    /// Weight (fraction).
    pub weight: String,
    /// Primary security.
    pub primary: String,
    /// Alternate securities.
    pub alternates: Vec<String>,
    /// Band override.
    pub band: Toggle<BandForm>,
    /// Preferred account kinds.
    pub location: Vec<AccountKind>,
}

/// Minimum cash of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct MinCashForm {
    /// Account id.
    pub account: String,
    /// Dollars.
    pub amount: String,
}

/// Restrictions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RestrictionsForm {
    /// Do-not-buy symbols.
    pub do_not_buy: Vec<String>,
    /// Do-not-sell symbols.
    pub do_not_sell: Vec<String>,
}

/// A fee schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FeeScheduleForm {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Rows by security type.
    pub rows: FeeRowsForm,
    /// Fractional surcharge (dollars).
    pub fractional_surcharge: String,
    /// Charge SEC fee and TAF.
    pub charge_regulatory: bool,
    /// Market impact.
    pub impact: Toggle<ImpactForm>,
    /// Advisory fee (bps per year).
    pub advisory_fee_bps: String,
}

/// Fee rows by security type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FeeRowsForm {
    /// ETFs.
    pub etf: FeeRowForm,
    /// Stocks.
    pub stock: FeeRowForm,
    /// Mutual funds.
    pub mutual_fund: FeeRowForm,
}

/// One fee row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct FeeRowForm {
    /// Flat per ticket.
    pub flat: String,
    /// Per share.
    pub per_share: String,
    /// Bps of notional.
    pub notional_bps: String,
    /// Minimum.
    pub minimum: String,
    /// Maximum (empty: none).
    pub maximum: String,
    /// Sides charged (none: both).
    pub sides: Option<ChargedSides>,
}

/// Market-impact term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ImpactForm {
    /// Coefficient b.
    pub coefficient: String,
}

/// Regulatory tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RegulatoryForm {
    /// SEC rows.
    pub sec: Vec<SecRateForm>,
    /// TAF rows.
    pub taf: Vec<TafRateForm>,
}

/// A SEC row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SecRateForm {
    /// Effective date.
    pub effective: String,
    /// Dollars per million.
    pub per_million: String,
}

/// A TAF row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TafRateForm {
    /// Effective date.
    pub effective: String,
    /// Dollars per share.
    pub per_share: String,
    /// Cap per trade.
    pub max_per_trade: String,
}

/// The tax profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TaxForm {
    /// Filing status.
    pub filing_status: Option<FilingStatus>,
    /// Ordinary rate.
    pub ordinary_rate: String,
    /// LTCG rate.
    pub ltcg_rate: String,
    /// NIIT applies.
    pub niit: bool,
    /// State rate.
    pub state_rate: String,
    /// Short-term carry-forward in.
    pub carryforward_in_st: String,
    /// Long-term carry-forward in.
    pub carryforward_in_lt: String,
    /// Ordinary offset cap.
    pub ordinary_offset_cap: String,
    /// Horizon treatment.
    pub horizon: Option<HorizonTreatment>,
}

/// Market assumptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct MarketForm {
    /// Asset classes.
    pub classes: Vec<ClassAssumptionForm>,
    /// Correlation matrix.
    pub correlation: Vec<Vec<String>>,
    /// Source of the correlations.
    pub correlation_source: String,
    /// Idiosyncratic vol per security.
    pub idiosyncratic_vol: Vec<SecurityVolForm>,
    /// Default idiosyncratic vol.
    pub default_idiosyncratic_vol: String,
    /// Partner correlation.
    pub partner_correlation: String,
    /// Cash yield.
    pub cash_yield: String,
    /// Horizon (years).
    pub horizon_years: String,
    /// Paths.
    pub paths: String,
    /// Seed.
    pub seed: String,
    /// Shocks.
    pub shocks: ShocksForm,
    /// Dividend treatment.
    pub dividends: Option<DividendTreatment>,
}

/// One asset class's assumptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ClassAssumptionForm {
    /// Name.
    pub name: String,
    /// Expected return.
    pub expected_return: String,
    /// Volatility.
    pub volatility: String,
    /// Dividend yield.
    pub dividend_yield: String,
    /// Source.
    pub source: String,
    /// Source date.
    pub as_of: String,
}

/// A security's idiosyncratic vol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SecurityVolForm {
    /// Symbol.
    pub symbol: String,
    /// Vol.
    pub vol: String,
}

/// The kind of shocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShockKind {
    /// Gaussian.
    Normal,
    /// Student-t.
    StudentT,
}

/// Shocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ShocksForm {
    /// Kind.
    pub kind: Option<ShockKind>,
    /// Degrees of freedom (Student-t).
    pub dof: String,
}

/// The kind of a cash-flow schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleKind {
    /// Once.
    Once,
    /// Recurring.
    Recurring,
}

/// A cash flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CashFlowForm {
    /// Account id.
    pub account: String,
    /// Dollars (negative: withdrawal).
    pub amount: String,
    /// When.
    pub schedule: ScheduleForm,
}

/// A cash-flow schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ScheduleForm {
    /// Once or recurring.
    pub kind: Option<ScheduleKind>,
    /// Date (once).
    pub date: String,
    /// Start (recurring).
    pub start: String,
    /// End (recurring; empty: horizon end).
    pub end: String,
    /// Frequency (recurring).
    pub frequency: Option<Frequency>,
}

/// A policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct PolicyForm {
    /// Name.
    pub name: String,
    /// Calendar rule.
    pub calendar: Toggle<CalendarForm>,
    /// Threshold rule.
    pub threshold: Toggle<ThresholdForm>,
    /// Opportunistic rule.
    pub opportunistic: Toggle<OpportunisticForm>,
    /// Cash flows first.
    pub cash_flow_first: bool,
    /// Tax-loss harvesting.
    pub tlh: Toggle<TlhForm>,
    /// Tactical overlay.
    pub tactical: Toggle<TacticalForm>,
    /// Cost-aware optimizer.
    pub optimizer: Toggle<CostAwareForm>,
    /// Lot method.
    pub lot_method: Option<LotMethod>,
}

/// Calendar rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CalendarForm {
    /// Frequency.
    pub frequency: Option<Frequency>,
}

/// Threshold rule (defaults: checked daily, back to target, on the target model's bands;
/// switching on its own band starts from a 5-point absolute band).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ThresholdForm {
    /// The policy's own band (disabled: the target model's bands). A form saved before the
    /// switch existed (no `enabled`) had its band in force: it loads switched on.
    #[serde(deserialize_with = "own_band")]
    pub band: Toggle<BandForm>,
    /// Check frequency.
    pub check: Option<Frequency>,
    /// Trade back to (fraction of band).
    pub trade_to: String,
}

/// A threshold rule's band switch; without `enabled` (a form saved when every threshold
/// rule had its own band) it is on.
fn own_band<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Toggle<BandForm>, D::Error> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Saved {
        enabled: Option<bool>,
        #[serde(flatten)]
        fields: BandForm,
    }
    let saved = Saved::deserialize(d)?;
    Ok(Toggle {
        enabled: saved.enabled.unwrap_or(true),
        fields: saved.fields,
    })
}

/// Opportunistic rule (defaults: Daryanani's two weeks, 20%, half band).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OpportunisticForm {
    /// Check frequency.
    pub check: Option<Frequency>,
    /// Relative band.
    pub relative_band: String,
    /// Trade back to (fraction of band).
    pub trade_to: String,
}

impl Default for ThresholdForm {
    fn default() -> Self {
        ThresholdForm {
            band: Toggle {
                enabled: false,
                fields: BandForm {
                    kind: Some(BandKind::Absolute),
                    width: "0.05".into(),
                },
            },
            check: Some(Frequency::Daily),
            trade_to: "0".into(),
        }
    }
}

impl Default for OpportunisticForm {
    fn default() -> Self {
        let d = OpportunisticRule::default();
        OpportunisticForm {
            check: Some(d.check),
            relative_band: fmt_f(d.relative_band),
            trade_to: fmt_f(d.trade_to),
        }
    }
}

/// Tax-loss harvesting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct TlhForm {
    /// Check frequency.
    pub check: Option<Frequency>,
    /// Loss threshold (fraction of basis).
    pub loss_threshold_pct: String,
    /// Loss threshold (dollars).
    pub loss_threshold_usd: String,
    /// Partner swaps.
    pub partner_swaps: bool,
    /// Wash-sale guard.
    pub wash_sale_guard: Option<WashSaleGuard>,
}

/// Tactical overlay (defaults: IC 0, max tilt 0.05, daily).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TacticalForm {
    /// Information coefficient.
    pub information_coefficient: String,
    /// Max tilt.
    pub max_tilt: String,
    /// Frequency.
    pub frequency: Option<Frequency>,
}

impl Default for TacticalForm {
    fn default() -> Self {
        let d = TacticalOverlay::default();
        TacticalForm {
            information_coefficient: fmt_f(d.information_coefficient),
            max_tilt: fmt_f(d.max_tilt),
            frequency: Some(d.frequency),
        }
    }
}

/// Cost-aware optimizer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CostAwareForm {
    /// Check frequency.
    pub check: Option<Frequency>,
    /// Minimum trade (dollars).
    pub min_trade_usd: String,
    /// Tickets in objective.
    pub tickets_in_objective: bool,
    /// Taxes in objective.
    pub taxes_in_objective: bool,
}

// ---------------------------------------------------------------------------------------
// Parsing helpers
// ---------------------------------------------------------------------------------------

/// Formats a number so that parsing it gives the same `f64` back.
fn fmt_f(v: f64) -> String {
    format!("{v}")
}

#[derive(Clone, Copy)]
enum R {
    /// Any finite number.
    Finite,
    /// ≥ 0.
    NonNeg,
    /// > 0.
    Pos,
    /// In [0, 1].
    Unit,
    /// In [−1, 1].
    Signed,
    /// Between `lo` and `hi`, each end included when its flag says so.
    Range {
        lo: f64,
        lo_incl: bool,
        hi: f64,
        hi_incl: bool,
    },
}

/// The largest expense ratio taken as typed (exclusive): 5 % a year, above any fund's.
const MAX_EXPENSE_RATIO: f64 = 0.05;

/// `[0, hi]`: a non-negative amount under a ceiling no real schedule or market reaches.
const fn up_to(hi: f64) -> R {
    R::Range {
        lo: 0.0,
        lo_incl: true,
        hi,
        hi_incl: true,
    }
}

/// A half-spread in bps: `[0, 1000]` (10 % of the price each way; wider is no market).
const HALF_SPREAD_BPS: R = up_to(1_000.0);
/// An advisory fee in bps a year: `[0, 500]` (5 %, above any advisor's).
const ADVISORY_BPS: R = up_to(500.0);
/// A commission in bps of notional: `[0, 1000]` (10 %).
const NOTIONAL_BPS: R = up_to(1_000.0);
/// A charge per ticket in dollars (flat fee, minimum, fractional surcharge): `[0, 1000]`.
const TICKET_USD: R = up_to(1_000.0);
/// A commission per share in dollars: `[0, 10]`.
const PER_SHARE_USD: R = up_to(10.0);
/// A fraction in `[0, 1)`: a yield or expense ratio of 100 % would leave nothing.
const BELOW_ONE: R = R::Range {
    lo: 0.0,
    lo_incl: true,
    hi: 1.0,
    hi_incl: false,
};
/// An annual volatility the market model accepts: `[0, 5]` (500 %).
const VOLATILITY: R = R::Range {
    lo: 0.0,
    lo_incl: true,
    hi: 5.0,
    hi_incl: true,
};

#[derive(Default)]
struct V {
    errs: Vec<FieldError>,
}

impl V {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errs.push(FieldError {
            path: path.into(),
            message: message.into(),
        });
    }

    fn parse(&mut self, path: &str, s: &str) -> Option<f64> {
        let typed = s.trim();
        if typed.is_empty() {
            self.err(path, "required: enter a number");
            return None;
        }
        // As statements print it: a `$` and thousands separators are accepted.
        let plain = plain_number(typed);
        let t = plain.as_deref().unwrap_or(typed);
        let ok_chars = plain.is_some()
            && t.bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
        match t.parse::<f64>() {
            Ok(v) if ok_chars && v.abs() > MAX_MAGNITUDE => {
                // (A number loaded from a file is written out in full: 1e300 has 301 digits.)
                let shown = if typed.chars().count() > QUOTED_CHARS {
                    format!("{v:e}")
                } else {
                    typed.to_string()
                };
                self.err(
                    path,
                    format!(
                        "`{shown}` is too large: numbers here must be within ±1,000,000,000,000,000"
                    ),
                );
                None
            }
            Ok(v) if ok_chars && v.is_finite() => Some(v),
            _ => {
                self.err(
                    path,
                    format!("`{}` is not a number: use digits and a decimal point, e.g. 1234.56 or $1,234.56", quoted(typed)),
                );
                None
            }
        }
    }

    fn check(&mut self, path: &str, v: f64, r: R) -> bool {
        let msg = match r {
            R::Finite => return true,
            R::NonNeg if v < 0.0 => "must be 0 or more".to_string(),
            R::Pos if v <= 0.0 => "must be greater than 0".to_string(),
            R::Unit if !(0.0..=1.0).contains(&v) => {
                "must be between 0 and 1 (a fraction: 0.24 means 24%)".to_string()
            }
            R::Signed if !(-1.0..=1.0).contains(&v) => "must be between -1 and 1".to_string(),
            R::Range {
                lo,
                lo_incl,
                hi,
                hi_incl,
            } if (if lo_incl { v < lo } else { v <= lo })
                || (if hi_incl { v > hi } else { v >= hi }) =>
            {
                format!(
                    "must be {} {lo} and {} {hi}",
                    if lo_incl { "at least" } else { "above" },
                    if hi_incl { "at most" } else { "below" }
                )
            }
            _ => return true,
        };
        self.err(path, msg);
        false
    }

    /// A required number; 0 on error (the error is recorded).
    fn num(&mut self, path: &str, s: &str, r: R) -> f64 {
        match self.parse(path, s) {
            Some(v) if self.check(path, v, r) => v,
            _ => 0.0,
        }
    }

    /// An optional number: empty text is `None`.
    fn opt_num(&mut self, path: &str, s: &str, r: R) -> Option<f64> {
        if s.trim().is_empty() {
            None
        } else {
            Some(self.num(path, s, r))
        }
    }

    fn whole(&mut self, path: &str, s: &str, min: u64, max: u64) -> u64 {
        let t = s.trim();
        if t.is_empty() {
            self.err(path, "required: enter a whole number");
            return min;
        }
        match t.parse::<u64>() {
            Ok(v) if (min..=max).contains(&v) => v,
            Ok(_) => {
                self.err(path, format!("must be between {min} and {max}"));
                min
            }
            // All digits, but past the largest whole number a field can hold.
            Err(_) if t.bytes().all(|b| b.is_ascii_digit()) => {
                self.err(path, format!("must be between {min} and {max}"));
                min
            }
            Err(_) => {
                self.err(path, format!("`{}` is not a whole number", quoted(t)));
                min
            }
        }
    }

    fn date(&mut self, path: &str, s: &str) -> Date {
        if s.trim().is_empty() {
            self.err(path, "required: enter a complete, real date as YYYY-MM-DD (a date picker leaves an impossible date such as month 13 empty)");
            return Date::from_days(0);
        }
        match s.parse::<Date>() {
            Ok(d) => d,
            Err(e) => {
                self.err(path, e.to_string());
                Date::from_days(0)
            }
        }
    }

    fn opt_date(&mut self, path: &str, s: &str) -> Option<Date> {
        if s.trim().is_empty() {
            None
        } else {
            Some(self.date(path, s))
        }
    }

    fn pick<T: Copy>(&mut self, path: &str, o: Option<T>, fallback: T) -> T {
        match o {
            Some(v) => v,
            None => {
                self.err(path, "required: choose one");
                fallback
            }
        }
    }

    fn text(&mut self, path: &str, s: &str) -> String {
        let t = s.trim();
        if t.is_empty() {
            self.err(path, "required");
        }
        t.to_string()
    }

    /// Records duplicates among `(path, key)` pairs (empty keys are skipped).
    fn unique<'a>(&mut self, items: impl IntoIterator<Item = (String, &'a str)>, what: &str) {
        let mut seen: BTreeMap<&str, String> = BTreeMap::new();
        for (path, key) in items {
            if key.is_empty() {
                continue;
            }
            if let Some(first) = seen.get(key) {
                let msg = format!("duplicate {what} `{key}` (already used at {first})");
                self.err(path, msg);
            } else {
                seen.insert(key, path);
            }
        }
    }
}

fn band(v: &mut V, path: &str, f: &BandForm) -> Band {
    Band {
        kind: v.pick(&format!("{path}.kind"), f.kind, BandKind::Absolute),
        width: v.num(&format!("{path}.width"), &f.width, R::NonNeg),
    }
}

fn band_form(b: Band) -> BandForm {
    BandForm {
        kind: Some(b.kind),
        width: fmt_f(b.width),
    }
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

impl ScenarioForm {
    /// Checks every field and cross-reference; returns the scenario or every problem.
    pub fn validate(&self) -> Result<Scenario, Vec<FieldError>> {
        // A form beyond the engine's limits is refused before its entries are checked: the
        // checks' cross-references would be slow and their errors countless.
        let too_many = self.sizes_();
        if !too_many.is_empty() {
            return Err(too_many);
        }
        let mut v = V::default();
        let before = v.errs.len();
        let as_of = v.date("as_of", &self.as_of);
        // Lots are checked against the date only when it is valid.
        let as_of_ok = v.errs.len() == before;

        // Market first: securities and the target refer to its asset classes.
        let market = self.market_(&mut v);
        if as_of_ok && !as_of.horizon_fits(market.horizon_years) {
            v.err(
                "market.horizon_years",
                format!(
                    "the horizon would end after {}: shorten it or move the scenario date",
                    Date::MAX_YEAR
                ),
            );
        }
        let class_names: Vec<&str> = market.classes.iter().map(|c| c.name.as_str()).collect();

        let fee_schedules = self.fee_schedules_(&mut v);
        let securities = self.securities_(&mut v, &class_names);
        let household = self.household_(
            &mut v,
            as_of_ok.then_some(as_of),
            &securities,
            &fee_schedules,
        );
        let account_ids: Vec<&str> = household.accounts.iter().map(|a| a.id.as_str()).collect();
        let target = self.target_(&mut v, &class_names, &securities, &account_ids);
        let regulatory = self.regulatory_(&mut v);
        if as_of_ok
            && fee_schedules.iter().any(|f| f.charge_regulatory)
            && securities
                .iter()
                .any(|s| s.security_type.is_exchange_traded())
        {
            // The simulation sells from the scenario date on: each table needs a rate then.
            let tables = [
                (
                    "regulatory.sec",
                    "SEC Section 31",
                    regulatory.sec.iter().map(|r| r.effective).min(),
                ),
                (
                    "regulatory.taf",
                    "FINRA TAF",
                    regulatory.taf.iter().map(|r| r.effective).min(),
                ),
            ];
            for (path, name, first) in tables {
                match first {
                    Some(d) if d <= as_of => {}
                    Some(d) => v.err(
                        path,
                        format!(
                            "the {name} table starts on {d}, after the scenario date {as_of}: add a row in force on {as_of}"
                        ),
                    ),
                    None => v.err(
                        path,
                        format!("the {name} table is empty: add the rate in force on {as_of}"),
                    ),
                }
            }
        }
        let tax = self.tax_(&mut v);
        let cash_flows = self.cash_flows_(&mut v, &account_ids, as_of_ok.then_some(as_of));
        let policies = self.policies_(&mut v);
        let baseline = v.text("baseline", &self.baseline);
        if !baseline.is_empty() && !policies.iter().any(|p| p.name == baseline) {
            v.err(
                "baseline",
                format!("no policy is named `{baseline}`: choose one of the policies"),
            );
        }
        for (i, id) in market.idiosyncratic_vol.iter().enumerate() {
            if !id.symbol.is_empty() && !securities.iter().any(|s| s.symbol == id.symbol) {
                v.err(
                    format!("market.idiosyncratic_vol[{i}].symbol"),
                    unknown_security(&id.symbol),
                );
            }
        }

        if !v.errs.is_empty() {
            return Err(v.errs);
        }
        Ok(Scenario {
            schema_version: SCHEMA_VERSION,
            name: self.name.trim().to_string(),
            as_of,
            household,
            securities,
            target,
            fee_schedules,
            regulatory,
            tax,
            market,
            cash_flows,
            policies,
            baseline,
        })
    }

    /// The counts the engine is built for ([`MAX_SECURITIES`], [`MAX_ACCOUNTS`],
    /// [`MAX_CLASSES`], [`MAX_LOTS`], [`MAX_CASH_FLOWS`]): one error per list over its limit.
    fn sizes_(&self) -> Vec<FieldError> {
        let lots: usize = self.household.accounts.iter().map(|a| a.lots.len()).sum();
        [
            (
                "securities",
                "securities",
                self.securities.len(),
                MAX_SECURITIES,
            ),
            (
                "household.accounts",
                "accounts",
                self.household.accounts.len(),
                MAX_ACCOUNTS,
            ),
            (
                "market.classes",
                "asset classes",
                self.market.classes.len(),
                MAX_CLASSES,
            ),
            ("household.accounts", "tax lots", lots, MAX_LOTS),
            (
                "cash_flows",
                "cash flows",
                self.cash_flows.len(),
                MAX_CASH_FLOWS,
            ),
        ]
        .into_iter()
        .filter(|&(_, _, n, max)| n > max)
        .map(|(path, what, n, max)| FieldError {
            path: path.to_string(),
            message: format!("too many {what}: {n}; Tollbooth models at most {max}"),
        })
        .collect()
    }

    fn market_(&self, v: &mut V) -> MarketAssumptions {
        let m = &self.market;
        if m.classes.is_empty() {
            v.err("market.classes", "add at least one asset class");
        }
        let classes: Vec<AssetClassAssumption> = m
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = format!("market.classes[{i}]");
                AssetClassAssumption {
                    name: v.text(&format!("{p}.name"), &c.name),
                    expected_return: v.num(
                        &format!("{p}.expected_return"),
                        &c.expected_return,
                        R::Range {
                            lo: -1.0,
                            lo_incl: false,
                            hi: 1.0,
                            hi_incl: true,
                        },
                    ),
                    volatility: v.num(&format!("{p}.volatility"), &c.volatility, VOLATILITY),
                    dividend_yield: v.num(
                        &format!("{p}.dividend_yield"),
                        &c.dividend_yield,
                        BELOW_ONE,
                    ),
                    source: c.source.trim().to_string(),
                    as_of: c.as_of.trim().to_string(),
                }
            })
            .collect();
        v.unique(
            classes
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("market.classes[{i}].name"), c.name.as_str())),
            "asset class",
        );

        // Correlations: entries first, then the matrix as a whole.
        let n = classes.len();
        let mut entries_ok = true;
        let correlation: Vec<Vec<f64>> = m
            .correlation
            .iter()
            .enumerate()
            .map(|(i, row)| {
                row.iter()
                    .enumerate()
                    .map(|(j, s)| {
                        let before = v.errs.len();
                        let x = v.num(&format!("market.correlation[{i}][{j}]"), s, R::Signed);
                        entries_ok &= v.errs.len() == before;
                        x
                    })
                    .collect()
            })
            .collect();
        if entries_ok {
            match check_correlation(&correlation, n) {
                Ok(()) => {}
                Err(e) => {
                    let path = match e {
                        CorrelationIssue::WrongRowCount { .. }
                        | CorrelationIssue::NotPsd { .. } => "market.correlation".to_string(),
                        CorrelationIssue::WrongRowLength { row, .. } => {
                            format!("market.correlation[{row}]")
                        }
                        CorrelationIssue::OutOfRange { i, j, .. }
                        | CorrelationIssue::Asymmetric { i, j, .. } => {
                            format!("market.correlation[{i}][{j}]")
                        }
                        CorrelationIssue::Diagonal { i, .. } => {
                            format!("market.correlation[{i}][{i}]")
                        }
                    };
                    v.err(path, e.to_string());
                }
            }
        }

        let idiosyncratic_vol: Vec<SecurityVol> = m
            .idiosyncratic_vol
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = format!("market.idiosyncratic_vol[{i}]");
                SecurityVol {
                    symbol: v.text(&format!("{p}.symbol"), &s.symbol),
                    vol: v.num(&format!("{p}.vol"), &s.vol, VOLATILITY),
                }
            })
            .collect();
        // A security listed twice would have one of its two figures ignored.
        v.unique(
            idiosyncratic_vol.iter().enumerate().map(|(i, s)| {
                (
                    format!("market.idiosyncratic_vol[{i}].symbol"),
                    s.symbol.as_str(),
                )
            }),
            "security",
        );
        let shocks = match v.pick("market.shocks.kind", m.shocks.kind, ShockKind::Normal) {
            ShockKind::Normal => Shocks::Normal,
            ShockKind::StudentT => Shocks::StudentT {
                dof: v.num(
                    "market.shocks.dof",
                    &m.shocks.dof,
                    R::Range {
                        lo: crate::market::MIN_STUDENT_T_DOF,
                        lo_incl: true,
                        hi: 1e6,
                        hi_incl: true,
                    },
                ),
            },
        };
        MarketAssumptions {
            classes,
            correlation,
            correlation_source: m.correlation_source.trim().to_string(),
            idiosyncratic_vol,
            default_idiosyncratic_vol: v.num(
                "market.default_idiosyncratic_vol",
                &m.default_idiosyncratic_vol,
                VOLATILITY,
            ),
            partner_correlation: v.num(
                "market.partner_correlation",
                &m.partner_correlation,
                R::Unit,
            ),
            cash_yield: v.num(
                "market.cash_yield",
                &m.cash_yield,
                R::Range {
                    lo: -1.0,
                    lo_incl: false,
                    hi: 1.0,
                    hi_incl: true,
                },
            ),
            horizon_years: v.whole(
                "market.horizon_years",
                &m.horizon_years,
                1,
                MAX_HORIZON_YEARS.into(),
            ) as u32,
            paths: v.whole("market.paths", &m.paths, 1, MAX_PATHS) as u32,
            seed: v.whole("market.seed", &m.seed, 0, u64::MAX),
            shocks,
            dividends: v.pick("market.dividends", m.dividends, DividendTreatment::Reinvest),
        }
    }

    fn fee_schedules_(&self, v: &mut V) -> Vec<FeeSchedule> {
        let out: Vec<FeeSchedule> = self
            .fee_schedules
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let p = format!("fee_schedules[{i}]");
                let row = |v: &mut V, key: &str, r: &FeeRowForm| {
                    let q = format!("{p}.rows.{key}");
                    let minimum = v.num(&format!("{q}.minimum"), &r.minimum, TICKET_USD);
                    let maximum = v.opt_num(&format!("{q}.maximum"), &r.maximum, R::NonNeg);
                    if let Some(max) = maximum {
                        if max < minimum {
                            v.err(
                                format!("{q}.maximum"),
                                format!("the maximum ({max}) is below the minimum ({minimum})"),
                            );
                        }
                    }
                    FeeRow {
                        flat: v.num(&format!("{q}.flat"), &r.flat, TICKET_USD),
                        per_share: v.num(&format!("{q}.per_share"), &r.per_share, PER_SHARE_USD),
                        notional_bps: v.num(
                            &format!("{q}.notional_bps"),
                            &r.notional_bps,
                            NOTIONAL_BPS,
                        ),
                        minimum,
                        maximum,
                        sides: r.sides.unwrap_or_default(),
                    }
                };
                let rows = FeeRows {
                    etf: row(v, "etf", &f.rows.etf),
                    stock: row(v, "stock", &f.rows.stock),
                    mutual_fund: row(v, "mutual_fund", &f.rows.mutual_fund),
                };
                let impact = if f.impact.enabled {
                    Some(ImpactModel {
                        coefficient: v.num(
                            &format!("{p}.impact.coefficient"),
                            &f.impact.fields.coefficient,
                            R::NonNeg,
                        ),
                    })
                } else {
                    None
                };
                FeeSchedule {
                    id: v.text(&format!("{p}.id"), &f.id),
                    name: f.name.trim().to_string(),
                    rows,
                    fractional_surcharge: v.num(
                        &format!("{p}.fractional_surcharge"),
                        &f.fractional_surcharge,
                        TICKET_USD,
                    ),
                    charge_regulatory: f.charge_regulatory,
                    impact,
                    advisory_fee_bps: v.num(
                        &format!("{p}.advisory_fee_bps"),
                        &f.advisory_fee_bps,
                        ADVISORY_BPS,
                    ),
                }
            })
            .collect();
        v.unique(
            out.iter()
                .enumerate()
                .map(|(i, f)| (format!("fee_schedules[{i}].id"), f.id.as_str())),
            "fee schedule id",
        );
        out
    }

    fn securities_(&self, v: &mut V, classes: &[&str]) -> Vec<Security> {
        let out: Vec<Security> = self
            .securities
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = format!("securities[{i}]");
                let asset_class = v.text(&format!("{p}.asset_class"), &s.asset_class);
                if !asset_class.is_empty() && !classes.contains(&asset_class.as_str()) {
                    v.err(
                        format!("{p}.asset_class"),
                        format!(
                            "unknown asset class `{asset_class}`: add it under market assumptions"
                        ),
                    );
                }
                Security {
                    symbol: v.text(&format!("{p}.symbol"), &s.symbol),
                    name: s.name.trim().to_string(),
                    asset_class,
                    price: v.num(&format!("{p}.price"), &s.price, R::Pos),
                    security_type: v.pick(
                        &format!("{p}.security_type"),
                        s.security_type,
                        SecurityType::Etf,
                    ),
                    half_spread_bps: v.num(
                        &format!("{p}.half_spread_bps"),
                        &s.half_spread_bps,
                        HALF_SPREAD_BPS,
                    ),
                    expense_ratio: v.num(
                        &format!("{p}.expense_ratio"),
                        &s.expense_ratio,
                        BELOW_ONE,
                    ),
                    dividend_yield: v.num(
                        &format!("{p}.dividend_yield"),
                        &s.dividend_yield,
                        BELOW_ONE,
                    ),
                    group: v.text(&format!("{p}.group"), &s.group),
                    partners: s.partners.iter().map(|x| x.trim().to_string()).collect(),
                    fractional_allowed: s.fractional_allowed,
                    daily_dollar_volume: v.opt_num(
                        &format!("{p}.daily_dollar_volume"),
                        &s.daily_dollar_volume,
                        R::Pos,
                    ),
                }
            })
            .collect();
        v.unique(
            out.iter()
                .enumerate()
                .map(|(i, s)| (format!("securities[{i}].symbol"), s.symbol.as_str())),
            "symbol",
        );
        for (i, s) in out.iter().enumerate() {
            // No fund charges 5 % a year: a larger figure is a percentage typed as a
            // fraction (0.9 for 0.9 %), which would drain the fund by 90 % a year.
            if s.expense_ratio >= MAX_EXPENSE_RATIO {
                v.err(
                    format!("securities[{i}].expense_ratio"),
                    format!(
                        "{} would charge {}% a year: enter a fraction (0.0003 for 0.03%); an \
                         expense ratio is below {MAX_EXPENSE_RATIO}",
                        s.expense_ratio,
                        100.0 * s.expense_ratio
                    ),
                );
            }
            for (k, partner) in s.partners.iter().enumerate() {
                let path = format!("securities[{i}].partners[{k}]");
                if s.partners[..k].contains(partner) {
                    v.err(path, format!("{partner} is listed twice"));
                    continue;
                }
                match out.iter().find(|o| &o.symbol == partner) {
                    None => v.err(path, unknown_security(partner)),
                    Some(o) if o.symbol == s.symbol => {
                        v.err(path, "a security cannot be its own partner")
                    }
                    Some(o) if o.group == s.group => v.err(
                        path,
                        format!(
                            "{partner} is in the same substantially-identical group (`{}`): a \
                             TLH partner must be in another group",
                            s.group
                        ),
                    ),
                    Some(o)
                        if o.asset_class != s.asset_class
                            && classes.contains(&o.asset_class.as_str())
                            && classes.contains(&s.asset_class.as_str()) =>
                    {
                        v.err(
                            path,
                            format!(
                            "{partner} tracks `{}`, not `{}`: a TLH partner must track the same \
                             asset class",
                            o.asset_class, s.asset_class
                        ),
                        )
                    }
                    Some(_) => {}
                }
            }
        }
        out
    }

    fn household_(
        &self,
        v: &mut V,
        as_of: Option<Date>,
        securities: &[Security],
        schedules: &[FeeSchedule],
    ) -> Household {
        let h = &self.household;
        if h.members.is_empty() {
            v.err("household.members", "add at least one household member");
        }
        let members: Vec<Member> = h
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| Member {
                id: v.text(&format!("household.members[{i}].id"), &m.id),
                name: m.name.trim().to_string(),
            })
            .collect();
        v.unique(
            members
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("household.members[{i}].id"), m.id.as_str())),
            "member id",
        );
        if h.accounts.is_empty() {
            v.err("household.accounts", "add at least one account");
        }
        let accounts: Vec<Account> = h
            .accounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let p = format!("household.accounts[{i}]");
                let kind = v.pick(&format!("{p}.kind"), a.kind, AccountKind::Taxable);
                let owner = v.text(&format!("{p}.owner"), &a.owner);
                if !owner.is_empty() && !members.iter().any(|m| m.id == owner) {
                    v.err(
                        format!("{p}.owner"),
                        format!("unknown member `{owner}`: add the member first"),
                    );
                }
                if a.joint && !kind.is_taxable() {
                    v.err(
                        format!("{p}.joint"),
                        format!("only taxable accounts can be joint, not a {kind}"),
                    );
                } else if a.joint && members.len() < 2 {
                    v.err(
                        format!("{p}.joint"),
                        "a joint account needs a second household member",
                    );
                }
                let fee_schedule = v.text(&format!("{p}.fee_schedule"), &a.fee_schedule);
                if !fee_schedule.is_empty() && !schedules.iter().any(|f| f.id == fee_schedule) {
                    v.err(
                        format!("{p}.fee_schedule"),
                        format!("unknown fee schedule `{fee_schedule}`"),
                    );
                }
                let lots = a
                    .lots
                    .iter()
                    .enumerate()
                    .map(|(k, l)| lot(v, &format!("{p}.lots[{k}]"), l, as_of, securities))
                    .collect();
                Account {
                    id: v.text(&format!("{p}.id"), &a.id),
                    name: a.name.trim().to_string(),
                    kind,
                    owner,
                    joint: a.joint,
                    cash: v.num(&format!("{p}.cash"), &a.cash, R::NonNeg),
                    fee_schedule,
                    lots,
                }
            })
            .collect();
        v.unique(
            accounts
                .iter()
                .enumerate()
                .map(|(i, a)| (format!("household.accounts[{i}].id"), a.id.as_str())),
            "account id",
        );
        v.unique(
            accounts.iter().enumerate().flat_map(|(i, a)| {
                a.lots.iter().enumerate().map(move |(k, l)| {
                    (
                        format!("household.accounts[{i}].lots[{k}].id"),
                        l.id.as_str(),
                    )
                })
            }),
            "lot id",
        );
        Household { members, accounts }
    }

    fn target_(
        &self,
        v: &mut V,
        classes: &[&str],
        securities: &[Security],
        accounts: &[&str],
    ) -> TargetModel {
        let t = &self.target;
        if t.classes.is_empty() {
            v.err(
                "target.classes",
                "add at least one asset class to the target",
            );
        }
        let implement = |v: &mut V, path: String, sym: &str, class: &str| {
            match securities.iter().find(|s| s.symbol == sym) {
                None => v.err(path, unknown_security(sym)),
                // A security or class with an unknown asset class is reported there.
                Some(s)
                    if s.asset_class != class
                        && classes.contains(&s.asset_class.as_str())
                        && classes.contains(&class) =>
                {
                    v.err(
                        path,
                        format!("{sym} is in asset class `{}`, not `{class}`", s.asset_class),
                    )
                }
                Some(_) => {}
            }
        };
        let mut weights_ok = true;
        let class_targets: Vec<ClassTarget> = t
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = format!("target.classes[{i}]");
                let asset_class = v.text(&format!("{p}.asset_class"), &c.asset_class);
                if !asset_class.is_empty() && !classes.contains(&asset_class.as_str()) {
                    v.err(
                        format!("{p}.asset_class"),
                        format!(
                            "unknown asset class `{asset_class}`: add it under market assumptions"
                        ),
                    );
                }
                let primary = v.text(&format!("{p}.primary"), &c.primary);
                if !primary.is_empty() {
                    implement(v, format!("{p}.primary"), &primary, &asset_class);
                }
                let alternates: Vec<String> =
                    c.alternates.iter().map(|s| s.trim().to_string()).collect();
                for (k, a) in alternates.iter().enumerate() {
                    let path = format!("{p}.alternates[{k}]");
                    if !a.is_empty() && *a == primary {
                        v.err(
                            path,
                            format!("{a} is the class's primary, not an alternate"),
                        );
                    } else if alternates[..k].contains(a) {
                        v.err(path, format!("{a} is listed twice"));
                    } else {
                        implement(v, path, a, &asset_class);
                    }
                }
                let before = v.errs.len();
                let weight = v.num(&format!("{p}.weight"), &c.weight, R::Unit);
                weights_ok &= v.errs.len() == before;
                ClassTarget {
                    weight,
                    asset_class,
                    primary,
                    alternates,
                    band: c
                        .band
                        .enabled
                        .then(|| band(v, &format!("{p}.band"), &c.band.fields)),
                    location: c.location.clone(),
                }
            })
            .collect();
        v.unique(
            class_targets.iter().enumerate().map(|(i, c)| {
                (
                    format!("target.classes[{i}].asset_class"),
                    c.asset_class.as_str(),
                )
            }),
            "asset class",
        );
        if !class_targets.is_empty() && weights_ok {
            let sum: f64 = class_targets.iter().map(|c| c.weight).sum();
            if (sum - 1.0).abs() > WEIGHT_SUM_TOLERANCE {
                v.err(
                    "target.classes",
                    format!(
                        "the weights add up to {} ({}%); they must add up to 1 (100%)",
                        round_sig(sum, 10),
                        round_sig(sum * 100.0, 10)
                    ),
                );
            }
        }
        let default_band = band(v, "target.default_band", &t.default_band);
        let min_cash = t
            .min_cash
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let p = format!("target.min_cash[{i}]");
                let account = v.text(&format!("{p}.account"), &m.account);
                if !account.is_empty() && !accounts.contains(&account.as_str()) {
                    v.err(format!("{p}.account"), unknown_account(&account));
                }
                MinCash {
                    account,
                    amount: v.num(&format!("{p}.amount"), &m.amount, R::NonNeg),
                }
            })
            .collect::<Vec<_>>();
        // An account listed twice would have one of its two minimums ignored.
        v.unique(
            min_cash
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("target.min_cash[{i}].account"), m.account.as_str())),
            "account",
        );
        let mut list = |name: &str, syms: &[String]| -> Vec<String> {
            syms.iter()
                .enumerate()
                .map(|(i, s)| {
                    let s = s.trim().to_string();
                    if !securities.iter().any(|x| x.symbol == s) {
                        v.err(
                            format!("target.restrictions.{name}[{i}]"),
                            unknown_security(&s),
                        );
                    }
                    s
                })
                .collect()
        };
        let restrictions = Restrictions {
            do_not_buy: list("do_not_buy", &t.restrictions.do_not_buy),
            do_not_sell: list("do_not_sell", &t.restrictions.do_not_sell),
        };
        TargetModel {
            classes: class_targets,
            default_band,
            min_cash,
            restrictions,
        }
    }

    fn regulatory_(&self, v: &mut V) -> RegulatoryTables {
        let r = &self.regulatory;
        let sec: Vec<SecRate> = r
            .sec
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = format!("regulatory.sec[{i}]");
                SecRate {
                    effective: v.date(&format!("{p}.effective"), &s.effective),
                    per_million: v.num(&format!("{p}.per_million"), &s.per_million, R::NonNeg),
                }
            })
            .collect();
        let taf: Vec<TafRate> = r
            .taf
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let p = format!("regulatory.taf[{i}]");
                TafRate {
                    effective: v.date(&format!("{p}.effective"), &s.effective),
                    per_share: v.num(&format!("{p}.per_share"), &s.per_share, R::NonNeg),
                    max_per_trade: v.num(
                        &format!("{p}.max_per_trade"),
                        &s.max_per_trade,
                        R::NonNeg,
                    ),
                }
            })
            .collect();
        let sec_dates: Vec<String> = sec.iter().map(|s| s.effective.to_string()).collect();
        let taf_dates: Vec<String> = taf.iter().map(|s| s.effective.to_string()).collect();
        v.unique(
            sec_dates
                .iter()
                .enumerate()
                .map(|(i, d)| (format!("regulatory.sec[{i}].effective"), d.as_str())),
            "effective date",
        );
        v.unique(
            taf_dates
                .iter()
                .enumerate()
                .map(|(i, d)| (format!("regulatory.taf[{i}].effective"), d.as_str())),
            "effective date",
        );
        RegulatoryTables { sec, taf }
    }

    fn tax_(&self, v: &mut V) -> TaxProfile {
        let t = &self.tax;
        let errors_before = v.errs.len();
        let profile = TaxProfile {
            filing_status: v.pick(
                "tax.filing_status",
                t.filing_status,
                FilingStatus::MarriedFilingJointly,
            ),
            ordinary_rate: v.num("tax.ordinary_rate", &t.ordinary_rate, R::Unit),
            ltcg_rate: {
                let before = v.errs.len();
                let r = v.num("tax.ltcg_rate", &t.ltcg_rate, R::Unit);
                if v.errs.len() == before && ![0.0, 0.15, 0.20].contains(&r) {
                    v.err(
                        "tax.ltcg_rate",
                        "the federal long-term gains rate is 0, 0.15 or 0.20: state tax goes in \
                         the state rate, and the 3.8% NIIT has its own switch",
                    );
                }
                r
            },
            niit: t.niit,
            state_rate: v.num("tax.state_rate", &t.state_rate, R::Unit),
            carryforward_in: Carryforward {
                short_term: v.num("tax.carryforward_in_st", &t.carryforward_in_st, R::NonNeg),
                long_term: v.num("tax.carryforward_in_lt", &t.carryforward_in_lt, R::NonNeg),
            },
            ordinary_offset_cap: v.num(
                "tax.ordinary_offset_cap",
                &t.ordinary_offset_cap,
                R::NonNeg,
            ),
            horizon: v.pick("tax.horizon", t.horizon, HorizonTreatment::Liquidate),
        };
        // The ordinary offset is at most $3,000 a year, $1,500 married filing separately
        // (IRC §1211(b)).
        let limit = TaxProfile::offset_cap_of(profile.filing_status);
        if profile.ordinary_offset_cap > limit {
            let who = if profile.filing_status == FilingStatus::MarriedFilingSeparately {
                " when married filing separately"
            } else {
                ""
            };
            v.err(
                "tax.ordinary_offset_cap",
                format!(
                    "at most {limit} a year{who}: the most net capital losses may offset \
                     ordinary income (IRC §1211(b))"
                ),
            );
        }
        // The tax module's own checks (rates below 1, combined rates below 1), reported
        // only when the fields passed their individual checks.
        if v.errs.len() == errors_before {
            if let Err(e) = profile.validate() {
                let (field, message) = match e {
                    crate::tax::TaxError::Rate { field, .. } => (
                        field,
                        "must be below 1, and the combined rate (ordinary + state + NIIT) too"
                            .to_string(),
                    ),
                    crate::tax::TaxError::Amount { field, .. } => {
                        (field, "must be a finite amount of 0 or more".to_string())
                    }
                    // (Reported above, with the field's own check.)
                    crate::tax::TaxError::SeparateOffset(_)
                    | crate::tax::TaxError::OffsetAboveLimit(_) => (
                        "ordinary_offset_cap",
                        format!("at most {limit} a year (IRC §1211(b))"),
                    ),
                };
                let path = match field {
                    "carryforward_in.short_term" => "carryforward_in_st",
                    "carryforward_in.long_term" => "carryforward_in_lt",
                    f => f,
                };
                v.err(format!("tax.{path}"), message);
            }
        }
        profile
    }

    /// The cash flows; a one-time flow must come after the scenario date `as_of` (when that
    /// date is valid): the simulation starts the day after it.
    fn cash_flows_(&self, v: &mut V, accounts: &[&str], as_of: Option<Date>) -> Vec<CashFlow> {
        self.cash_flows
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = format!("cash_flows[{i}]");
                let account = v.text(&format!("{p}.account"), &c.account);
                if !account.is_empty() && !accounts.contains(&account.as_str()) {
                    v.err(format!("{p}.account"), unknown_account(&account));
                }
                let s = &c.schedule;
                let q = format!("{p}.schedule");
                let schedule = match v.pick(&format!("{q}.kind"), s.kind, ScheduleKind::Once) {
                    ScheduleKind::Once => {
                        let path = format!("{q}.date");
                        let before = v.errs.len();
                        let date = v.date(&path, &s.date);
                        if let Some(as_of) = as_of.filter(|d| v.errs.len() == before && date <= *d) {
                            v.err(
                                path,
                                format!(
                                    "is on or before the scenario date {as_of}: the simulation starts after it, so this flow would never happen"
                                ),
                            );
                        }
                        CashFlowSchedule::Once { date }
                    }
                    ScheduleKind::Recurring => {
                        let start = v.date(&format!("{q}.start"), &s.start);
                        let end = v.opt_date(&format!("{q}.end"), &s.end);
                        if end.is_some_and(|e| e < start) {
                            v.err(format!("{q}.end"), "the end is before the start");
                        }
                        CashFlowSchedule::Recurring {
                            start,
                            end,
                            frequency: v.pick(
                                &format!("{q}.frequency"),
                                s.frequency,
                                Frequency::Monthly,
                            ),
                        }
                    }
                };
                CashFlow {
                    account,
                    amount: v.num(&format!("{p}.amount"), &c.amount, R::Finite),
                    schedule,
                }
            })
            .collect()
    }

    fn policies_(&self, v: &mut V) -> Vec<Policy> {
        let n = self.policies.len();
        if !(MIN_POLICIES..=MAX_POLICIES).contains(&n) {
            v.err(
                "policies",
                format!("compare {MIN_POLICIES} to {MAX_POLICIES} policies; there are {n}"),
            );
        }
        let out: Vec<Policy> = self
            .policies
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let p = format!("policies[{i}]");
                let freq = |v: &mut V, path: String, o: Option<Frequency>| {
                    v.pick(&path, o, Frequency::Quarterly)
                };
                let calendar = f.calendar.enabled.then(|| CalendarRule {
                    frequency: freq(
                        v,
                        format!("{p}.calendar.frequency"),
                        f.calendar.fields.frequency,
                    ),
                });
                let threshold = f.threshold.enabled.then(|| {
                    let t = &f.threshold.fields;
                    ThresholdRule {
                        band: t
                            .band
                            .enabled
                            .then(|| band(v, &format!("{p}.threshold.band"), &t.band.fields)),
                        check: freq(v, format!("{p}.threshold.check"), t.check),
                        trade_to: v.num(&format!("{p}.threshold.trade_to"), &t.trade_to, R::Unit),
                    }
                });
                let opportunistic = f.opportunistic.enabled.then(|| {
                    let t = &f.opportunistic.fields;
                    OpportunisticRule {
                        check: freq(v, format!("{p}.opportunistic.check"), t.check),
                        relative_band: v.num(
                            &format!("{p}.opportunistic.relative_band"),
                            &t.relative_band,
                            R::NonNeg,
                        ),
                        trade_to: v.num(
                            &format!("{p}.opportunistic.trade_to"),
                            &t.trade_to,
                            R::Unit,
                        ),
                    }
                });
                let tlh = f.tlh.enabled.then(|| {
                    let t = &f.tlh.fields;
                    TlhRule {
                        check: freq(v, format!("{p}.tlh.check"), t.check),
                        loss_threshold_pct: v.num(
                            &format!("{p}.tlh.loss_threshold_pct"),
                            &t.loss_threshold_pct,
                            R::Unit,
                        ),
                        loss_threshold_usd: v.num(
                            &format!("{p}.tlh.loss_threshold_usd"),
                            &t.loss_threshold_usd,
                            R::NonNeg,
                        ),
                        partner_swaps: t.partner_swaps,
                        wash_sale_guard: v.pick(
                            &format!("{p}.tlh.wash_sale_guard"),
                            t.wash_sale_guard,
                            WashSaleGuard::Household,
                        ),
                    }
                });
                let tactical = f.tactical.enabled.then(|| {
                    let t = &f.tactical.fields;
                    TacticalOverlay {
                        information_coefficient: v.num(
                            &format!("{p}.tactical.information_coefficient"),
                            &t.information_coefficient,
                            R::Signed,
                        ),
                        max_tilt: v.num(&format!("{p}.tactical.max_tilt"), &t.max_tilt, R::Unit),
                        frequency: freq(v, format!("{p}.tactical.frequency"), t.frequency),
                    }
                });
                let optimizer = f.optimizer.enabled.then(|| {
                    let t = &f.optimizer.fields;
                    CostAwareRule {
                        check: freq(v, format!("{p}.optimizer.check"), t.check),
                        min_trade_usd: v.num(
                            &format!("{p}.optimizer.min_trade_usd"),
                            &t.min_trade_usd,
                            R::NonNeg,
                        ),
                        tickets_in_objective: t.tickets_in_objective,
                        taxes_in_objective: t.taxes_in_objective,
                    }
                });
                Policy {
                    name: v.text(&format!("{p}.name"), &f.name),
                    calendar,
                    threshold,
                    opportunistic,
                    cash_flow_first: f.cash_flow_first,
                    tlh,
                    tactical,
                    optimizer,
                    lot_method: v.pick(&format!("{p}.lot_method"), f.lot_method, LotMethod::Fifo),
                }
            })
            .collect();
        v.unique(
            out.iter()
                .enumerate()
                .map(|(i, p)| (format!("policies[{i}].name"), p.name.as_str())),
            "policy name",
        );
        out
    }
}

fn unknown_security(s: &str) -> String {
    format!("unknown security `{s}`: add it under securities first")
}

fn unknown_account(s: &str) -> String {
    format!("unknown account `{s}`")
}

fn lot(v: &mut V, p: &str, l: &LotForm, as_of: Option<Date>, securities: &[Security]) -> Lot {
    let symbol = v.text(&format!("{p}.symbol"), &l.symbol);
    let sec = securities.iter().find(|s| s.symbol == symbol);
    if sec.is_none() && !symbol.is_empty() {
        v.err(format!("{p}.symbol"), unknown_security(&symbol));
    }
    let quantity = v.num(&format!("{p}.quantity"), &l.quantity, R::Pos);
    // The ledger counts fewer shares than this as none.
    if quantity > 0.0 && quantity < crate::lots::QTY_EPS {
        v.err(
            format!("{p}.quantity"),
            "is below the smallest quantity the ledger books (0.000000001 shares)",
        );
    }
    if let Some(s) = sec {
        if !s.fractional_allowed && quantity.fract() != 0.0 {
            v.err(
                format!("{p}.quantity"),
                format!("{symbol} does not allow fractional shares: enter a whole number"),
            );
        }
    }
    let before = v.errs.len();
    let acquired = v.date(&format!("{p}.acquired"), &l.acquired);
    if let Some(as_of) = as_of.filter(|&d| acquired > d && v.errs.len() == before) {
        v.err(
            format!("{p}.acquired"),
            format!("acquired after the scenario date ({as_of})"),
        );
    }
    Lot {
        id: v.text(&format!("{p}.id"), &l.id),
        symbol,
        quantity,
        basis: v.num(&format!("{p}.basis"), &l.basis, R::NonNeg),
        acquired,
    }
}

// ---------------------------------------------------------------------------------------
// Scenario → form
// ---------------------------------------------------------------------------------------

impl Scenario {
    /// The form that edits this scenario (validating it gives this scenario back).
    pub fn to_form(&self) -> ScenarioForm {
        let s = self;
        ScenarioForm {
            name: s.name.clone(),
            as_of: s.as_of.to_string(),
            household: HouseholdForm {
                members: s
                    .household
                    .members
                    .iter()
                    .map(|m| MemberForm {
                        id: m.id.clone(),
                        name: m.name.clone(),
                    })
                    .collect(),
                accounts: s
                    .household
                    .accounts
                    .iter()
                    .map(|a| AccountForm {
                        id: a.id.clone(),
                        name: a.name.clone(),
                        kind: Some(a.kind),
                        owner: a.owner.clone(),
                        joint: a.joint,
                        cash: fmt_f(a.cash),
                        fee_schedule: a.fee_schedule.clone(),
                        lots: a
                            .lots
                            .iter()
                            .map(|l| LotForm {
                                id: l.id.clone(),
                                symbol: l.symbol.clone(),
                                quantity: fmt_f(l.quantity),
                                basis: fmt_f(l.basis),
                                acquired: l.acquired.to_string(),
                            })
                            .collect(),
                    })
                    .collect(),
            },
            securities: s
                .securities
                .iter()
                .map(|x| SecurityForm {
                    symbol: x.symbol.clone(),
                    name: x.name.clone(),
                    asset_class: x.asset_class.clone(),
                    price: fmt_f(x.price),
                    security_type: Some(x.security_type),
                    half_spread_bps: fmt_f(x.half_spread_bps),
                    expense_ratio: fmt_f(x.expense_ratio),
                    dividend_yield: fmt_f(x.dividend_yield),
                    group: x.group.clone(),
                    partners: x.partners.clone(),
                    fractional_allowed: x.fractional_allowed,
                    daily_dollar_volume: x.daily_dollar_volume.map(fmt_f).unwrap_or_default(),
                })
                .collect(),
            target: TargetForm {
                classes: s
                    .target
                    .classes
                    .iter()
                    .map(|c| ClassTargetForm {
                        asset_class: c.asset_class.clone(),
                        weight: fmt_f(c.weight),
                        primary: c.primary.clone(),
                        alternates: c.alternates.clone(),
                        band: Toggle::from_option(c.band, band_form),
                        location: c.location.clone(),
                    })
                    .collect(),
                default_band: band_form(s.target.default_band),
                min_cash: s
                    .target
                    .min_cash
                    .iter()
                    .map(|m| MinCashForm {
                        account: m.account.clone(),
                        amount: fmt_f(m.amount),
                    })
                    .collect(),
                restrictions: RestrictionsForm {
                    do_not_buy: s.target.restrictions.do_not_buy.clone(),
                    do_not_sell: s.target.restrictions.do_not_sell.clone(),
                },
            },
            fee_schedules: s.fee_schedules.iter().map(fee_schedule_form).collect(),
            regulatory: RegulatoryForm {
                sec: s
                    .regulatory
                    .sec
                    .iter()
                    .map(|r| SecRateForm {
                        effective: r.effective.to_string(),
                        per_million: fmt_f(r.per_million),
                    })
                    .collect(),
                taf: s
                    .regulatory
                    .taf
                    .iter()
                    .map(|r| TafRateForm {
                        effective: r.effective.to_string(),
                        per_share: fmt_f(r.per_share),
                        max_per_trade: fmt_f(r.max_per_trade),
                    })
                    .collect(),
            },
            tax: tax_form(&s.tax),
            market: market_form(&s.market),
            cash_flows: s
                .cash_flows
                .iter()
                .map(|c| CashFlowForm {
                    account: c.account.clone(),
                    amount: fmt_f(c.amount),
                    schedule: match c.schedule {
                        CashFlowSchedule::Once { date } => ScheduleForm {
                            kind: Some(ScheduleKind::Once),
                            date: date.to_string(),
                            ..ScheduleForm::default()
                        },
                        CashFlowSchedule::Recurring {
                            start,
                            end,
                            frequency,
                        } => ScheduleForm {
                            kind: Some(ScheduleKind::Recurring),
                            start: start.to_string(),
                            end: end.map(|d| d.to_string()).unwrap_or_default(),
                            frequency: Some(frequency),
                            ..ScheduleForm::default()
                        },
                    },
                })
                .collect(),
            policies: s.policies.iter().map(policy_form).collect(),
            baseline: s.baseline.clone(),
        }
    }
}

impl ScenarioForm {
    /// A new, empty scenario with every default filled in: the regulatory tables, the
    /// default tax profile, the default market assumptions (with their sources), the four
    /// preset fee schedules and the default band (5 points absolute). The date,
    /// household, securities, target classes and policies are left for the user.
    pub fn with_defaults() -> ScenarioForm {
        use crate::fees::FeePreset;
        let tax = TaxProfile::default();
        let reg = RegulatoryTables::default();
        ScenarioForm {
            fee_schedules: FeePreset::ALL
                .iter()
                .map(|&p| fee_schedule_form(&FeeSchedule::preset(p)))
                .collect(),
            regulatory: RegulatoryForm {
                sec: reg
                    .sec
                    .iter()
                    .map(|r| SecRateForm {
                        effective: r.effective.to_string(),
                        per_million: fmt_f(r.per_million),
                    })
                    .collect(),
                taf: reg
                    .taf
                    .iter()
                    .map(|r| TafRateForm {
                        effective: r.effective.to_string(),
                        per_share: fmt_f(r.per_share),
                        max_per_trade: fmt_f(r.max_per_trade),
                    })
                    .collect(),
            },
            tax: tax_form(&tax),
            market: market_form(&MarketAssumptions::default()),
            target: TargetForm {
                default_band: band_form(Band {
                    kind: BandKind::Absolute,
                    width: 0.05,
                }),
                ..TargetForm::default()
            },
            ..ScenarioForm::default()
        }
    }
}

fn tax_form(t: &TaxProfile) -> TaxForm {
    TaxForm {
        filing_status: Some(t.filing_status),
        ordinary_rate: fmt_f(t.ordinary_rate),
        ltcg_rate: fmt_f(t.ltcg_rate),
        niit: t.niit,
        state_rate: fmt_f(t.state_rate),
        carryforward_in_st: fmt_f(t.carryforward_in.short_term),
        carryforward_in_lt: fmt_f(t.carryforward_in.long_term),
        ordinary_offset_cap: fmt_f(t.ordinary_offset_cap),
        horizon: Some(t.horizon),
    }
}

/// The form of a fee schedule.
pub fn fee_schedule_form(f: &FeeSchedule) -> FeeScheduleForm {
    let row = |r: &FeeRow| FeeRowForm {
        flat: fmt_f(r.flat),
        per_share: fmt_f(r.per_share),
        notional_bps: fmt_f(r.notional_bps),
        minimum: fmt_f(r.minimum),
        maximum: r.maximum.map(fmt_f).unwrap_or_default(),
        sides: Some(r.sides),
    };
    FeeScheduleForm {
        id: f.id.clone(),
        name: f.name.clone(),
        rows: FeeRowsForm {
            etf: row(&f.rows.etf),
            stock: row(&f.rows.stock),
            mutual_fund: row(&f.rows.mutual_fund),
        },
        fractional_surcharge: fmt_f(f.fractional_surcharge),
        charge_regulatory: f.charge_regulatory,
        impact: Toggle::from_option(f.impact, |i| ImpactForm {
            coefficient: fmt_f(i.coefficient),
        }),
        advisory_fee_bps: fmt_f(f.advisory_fee_bps),
    }
}

fn market_form(m: &MarketAssumptions) -> MarketForm {
    MarketForm {
        classes: m
            .classes
            .iter()
            .map(|c| ClassAssumptionForm {
                name: c.name.clone(),
                expected_return: fmt_f(c.expected_return),
                volatility: fmt_f(c.volatility),
                dividend_yield: fmt_f(c.dividend_yield),
                source: c.source.clone(),
                as_of: c.as_of.clone(),
            })
            .collect(),
        correlation: m
            .correlation
            .iter()
            .map(|r| r.iter().map(|&x| fmt_f(x)).collect())
            .collect(),
        correlation_source: m.correlation_source.clone(),
        idiosyncratic_vol: m
            .idiosyncratic_vol
            .iter()
            .map(|s| SecurityVolForm {
                symbol: s.symbol.clone(),
                vol: fmt_f(s.vol),
            })
            .collect(),
        default_idiosyncratic_vol: fmt_f(m.default_idiosyncratic_vol),
        partner_correlation: fmt_f(m.partner_correlation),
        cash_yield: fmt_f(m.cash_yield),
        horizon_years: m.horizon_years.to_string(),
        paths: m.paths.to_string(),
        seed: m.seed.to_string(),
        shocks: match m.shocks {
            Shocks::Normal => ShocksForm {
                kind: Some(ShockKind::Normal),
                dof: String::new(),
            },
            Shocks::StudentT { dof } => ShocksForm {
                kind: Some(ShockKind::StudentT),
                dof: fmt_f(dof),
            },
        },
        dividends: Some(m.dividends),
    }
}

/// The form of a policy.
pub fn policy_form(p: &Policy) -> PolicyForm {
    PolicyForm {
        name: p.name.clone(),
        calendar: Toggle::from_option(p.calendar, |c| CalendarForm {
            frequency: Some(c.frequency),
        }),
        threshold: Toggle::from_option(p.threshold, |t| ThresholdForm {
            band: Toggle::from_option(t.band, band_form),
            check: Some(t.check),
            trade_to: fmt_f(t.trade_to),
        }),
        opportunistic: Toggle::from_option(p.opportunistic, |o| OpportunisticForm {
            check: Some(o.check),
            relative_band: fmt_f(o.relative_band),
            trade_to: fmt_f(o.trade_to),
        }),
        cash_flow_first: p.cash_flow_first,
        tlh: Toggle::from_option(p.tlh, |t| TlhForm {
            check: Some(t.check),
            loss_threshold_pct: fmt_f(t.loss_threshold_pct),
            loss_threshold_usd: fmt_f(t.loss_threshold_usd),
            partner_swaps: t.partner_swaps,
            wash_sale_guard: Some(t.wash_sale_guard),
        }),
        tactical: Toggle::from_option(p.tactical, |t| TacticalForm {
            information_coefficient: fmt_f(t.information_coefficient),
            max_tilt: fmt_f(t.max_tilt),
            frequency: Some(t.frequency),
        }),
        optimizer: Toggle::from_option(p.optimizer, |o| CostAwareForm {
            check: Some(o.check),
            min_trade_usd: fmt_f(o.min_trade_usd),
            tickets_in_objective: o.tickets_in_objective,
            taxes_in_objective: o.taxes_in_objective,
        }),
        lot_method: Some(p.lot_method),
    }
}

/// A number as typed, without its `$` and thousands separators (`-$1,234.5` → `-1234.5`);
/// `None` when a comma is not a thousands separator (`1,5`, `12,34`), which would otherwise
/// be read as another number.
///
/// A thousands separator is a comma between groups of digits before the decimal point: one
/// to three digits, then groups of exactly three (`1,250`, `12,000,000`). Anything else
/// left in the text (letters, a second point) is kept for the caller's own parse to refuse.
/// This is the one rule for every number typed into Tollbooth, in the scenario form and in
/// the page's other inputs.
///
/// ```
/// use tollbooth_engine::scenario::form::plain_number;
/// assert_eq!(plain_number("1,250").as_deref(), Some("1250"));
/// assert_eq!(plain_number("$1,234.5").as_deref(), Some("1234.5"));
/// assert_eq!(plain_number("12,5"), None);
/// ```
pub fn plain_number(t: &str) -> Option<String> {
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", t.strip_prefix('+').unwrap_or(t)),
    };
    let rest = rest.strip_prefix('$').unwrap_or(rest);
    let split = rest.find(['.', 'e', 'E']).unwrap_or(rest.len());
    let (int, tail) = rest.split_at(split);
    if tail.contains(',') {
        return None;
    }
    let int = if int.contains(',') {
        let groups: Vec<&str> = int.split(',').collect();
        let ok = groups.first().is_some_and(|g| (1..=3).contains(&g.len()))
            && groups[1..].iter().all(|g| g.len() == 3)
            && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            return None;
        }
        groups.concat()
    } else {
        int.to_string()
    };
    Some(format!("{sign}{int}{tail}"))
}

/// `x` to `digits` significant digits, printed in shortest form (no binary noise such as
/// `1.4500000000000002` in a message).
fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

#[cfg(test)]
mod number_tests {
    use super::plain_number;

    #[test]
    fn dollars_and_thousands_separators_are_read_as_statements_print_them() {
        assert_eq!(plain_number("8,000").as_deref(), Some("8000"));
        assert_eq!(plain_number("$1,234.56").as_deref(), Some("1234.56"));
        assert_eq!(plain_number("-$50").as_deref(), Some("-50"));
        assert_eq!(plain_number("1e-5").as_deref(), Some("1e-5"));
        assert_eq!(plain_number("0.05").as_deref(), Some("0.05"));
        // A decimal comma or a stray one is not guessed at.
        assert_eq!(plain_number("1,5"), None);
        assert_eq!(plain_number("12,34"), None);
        assert_eq!(plain_number("1,234,5"), None);
        assert_eq!(plain_number("1.234,5"), None);
    }
}
