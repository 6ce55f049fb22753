//! The scenario: everything the engine needs to compare rebalancing policies for one
//! household — holdings as tax lots, securities, the target model, fee schedules,
//! regulatory tables, the tax profile, market assumptions, cash flows and the policies.
//!
//! ## Overview
//!
//! - [`ScenarioForm`] holds what the user typed (text for every number and date), so a
//!   half-typed form survives a reload; [`ScenarioForm::validate`] turns it into a
//!   [`Scenario`] or a list of [`FieldError`]s, each naming the field by its path (e.g.
//!   `household.accounts[2].lots[5].acquired`) with a plain-English message.
//! - [`Scenario`] is validated data. [`Scenario::from_json`] reads a saved file: it checks
//!   the schema version (a newer one is [`ScenarioError::TooNew`]), migrates older ones,
//!   reports a malformed field by its path, then runs the same validation as the form.
//! - [`Scenario::hash_hex`] identifies a scenario in reports: FNV-1a 64 of its canonical
//!   JSON (compact, fields in declaration order, shortest round-trip floats), identical
//!   natively and in WebAssembly.
//! - [`Scenario::demo`] is the embedded demo household.
//!
//! ## Usage
//!
//! ```
//! use tollbooth_engine::scenario::Scenario;
//! let s = Scenario::demo();
//! let json = s.to_json_pretty();
//! let back = Scenario::from_json(&json).unwrap();
//! assert_eq!(back.hash_hex(), s.hash_hex());
//! let mut form = s.to_form();
//! form.securities[0].price = "-1".into();
//! let errors = form.validate().unwrap_err();
//! assert_eq!(errors[0].path, "securities[0].price");
//! ```

pub mod form;
pub mod import;
pub mod market;
pub mod policy;
pub mod target;
pub mod tax_profile;
pub mod ticket;

pub use form::{FieldError, ScenarioForm};
pub use market::MarketAssumptions;
pub use policy::Policy;
pub use target::TargetModel;
pub use tax_profile::TaxProfile;
pub use ticket::{Order, TicketError};

use crate::date::Date;
use crate::fees::{FeeSchedule, RegulatoryTables};
use crate::types::{AccountKind, SecurityType};
use policy::Frequency;
use serde::{Deserialize, Serialize};

/// The schema version this engine writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// A household member (spouses count together for wash sales).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// A tax lot: shares of one security bought together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lot {
    /// Unique id (across the household).
    pub id: String,
    /// The security.
    pub symbol: String,
    /// Shares (positive; fractional only where the security allows it).
    pub quantity: f64,
    /// Total cost basis, dollars.
    pub basis: f64,
    /// Acquisition date (the holding period starts the next day).
    pub acquired: Date,
}

/// An account of the household.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Unique id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Tax treatment.
    pub kind: AccountKind,
    /// The owning member's id (for a joint account, the first owner).
    pub owner: String,
    /// Joint with the owner's spouse (taxable accounts only).
    pub joint: bool,
    /// Cash, dollars.
    pub cash: f64,
    /// The id of the fee schedule that applies.
    pub fee_schedule: String,
    /// The account's tax lots.
    pub lots: Vec<Lot>,
}

impl Account {
    /// How a sentence names the account: its display name, or its id when it has none.
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.id
        } else {
            &self.name
        }
    }

    /// Market value of the account at the given prices (cash + lots).
    pub fn value(&self, price_of: impl Fn(&str) -> f64) -> f64 {
        self.cash
            + self
                .lots
                .iter()
                .map(|l| l.quantity * price_of(&l.symbol))
                .sum::<f64>()
    }
}

/// The household: members and accounts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Household {
    /// Members (one or two for a couple).
    pub members: Vec<Member>,
    /// Accounts with their lots.
    pub accounts: Vec<Account>,
}

/// A security the household holds or may buy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Security {
    /// Ticker (unique).
    pub symbol: String,
    /// Display name.
    pub name: String,
    /// Its asset class (a name from the market assumptions).
    pub asset_class: String,
    /// Price per share, dollars, on the scenario's date.
    pub price: f64,
    /// ETF, stock or mutual fund.
    pub security_type: SecurityType,
    /// Half the bid-ask spread, basis points.
    pub half_spread_bps: f64,
    /// Expense ratio, annual fraction (0.0003 = 0.03%).
    pub expense_ratio: f64,
    /// Dividend yield, annual fraction.
    pub dividend_yield: f64,
    /// Substantially-identical group: the unit of the wash-sale test.
    pub group: String,
    /// TLH partners: symbols in other groups that track the same asset class.
    pub partners: Vec<String>,
    /// Whether fractional shares may be held and traded.
    pub fractional_allowed: bool,
    /// Average daily dollar volume, the `V` of the market-impact term
    /// `b·σ·|x|^{3/2}/V^{1/2}` (charged when the account's fee schedule models impact);
    /// none: no impact for this security.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_dollar_volume: Option<f64>,
}

/// When a cash flow happens. (An internally tagged enum is read from a buffer that
/// `serde_ignored` does not see into, so it refuses unknown fields itself.)
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CashFlowSchedule {
    /// Once, on a date.
    Once {
        /// The date.
        date: Date,
    },
    /// Repeatedly from `start` (inclusive) to `end` (inclusive; none: the horizon's end).
    Recurring {
        /// First date.
        start: Date,
        /// Last date, if any.
        end: Option<Date>,
        /// How often.
        frequency: Frequency,
    },
}

/// A contribution (positive) or withdrawal (negative) to an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CashFlow {
    /// The account's id.
    pub account: String,
    /// Dollars: positive in, negative out.
    pub amount: f64,
    /// When.
    pub schedule: CashFlowSchedule,
}

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The schema version ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// Display name.
    pub name: String,
    /// The date of the holdings and prices; the simulation starts the next business day.
    pub as_of: Date,
    /// Members and accounts.
    pub household: Household,
    /// Securities.
    pub securities: Vec<Security>,
    /// Target model.
    pub target: TargetModel,
    /// Fee schedules (accounts reference them by id).
    pub fee_schedules: Vec<FeeSchedule>,
    /// Regulatory fee tables.
    pub regulatory: RegulatoryTables,
    /// Tax profile.
    pub tax: TaxProfile,
    /// Market assumptions and Monte Carlo settings.
    pub market: MarketAssumptions,
    /// Contributions and withdrawals.
    pub cash_flows: Vec<CashFlow>,
    /// The policies compared (2 to 8, unique names).
    pub policies: Vec<Policy>,
    /// The name of the baseline policy that tax alpha is measured against.
    pub baseline: String,
}

/// Why a scenario file could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not JSON.
    #[error("the file is not valid JSON (line {line}, column {column}): {message}")]
    Syntax {
        /// Line of the error (1-based).
        line: usize,
        /// Column of the error (1-based).
        column: usize,
        /// What the parser found.
        message: String,
    },
    /// The document is not an object with a `schema_version`.
    #[error("this is not a Tollbooth scenario: {reason}")]
    NotAScenario {
        /// What is missing.
        reason: &'static str,
    },
    /// Written by a newer version of Tollbooth.
    #[error(
        "this file was written by a newer Tollbooth (schema {found}); this version reads up to \
         {supported}"
    )]
    TooNew {
        /// The file's schema version.
        found: u32,
        /// The newest version this engine reads.
        supported: u32,
    },
    /// Migrating an older schema failed.
    #[error("cannot upgrade this file from schema {from}: {reason}")]
    Migration {
        /// The version being migrated from.
        from: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// A field is missing or has the wrong type.
    #[error("{path}: {message}")]
    Field {
        /// The field's path, e.g. `household.accounts[0].lots[1].acquired`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The values are well-formed but invalid (same checks as the form).
    #[error("{}", problems_text(.0))]
    Invalid(Vec<FieldError>),
}

/// Most problems [`ScenarioError::Invalid`]'s message lists (the rest are counted).
const PROBLEMS_LISTED: usize = 10;

/// "the scenario has N problem(s): path: message; …" with the first [`PROBLEMS_LISTED`].
fn problems_text(errs: &[FieldError]) -> String {
    let listed: Vec<String> = errs
        .iter()
        .take(PROBLEMS_LISTED)
        .map(ToString::to_string)
        .collect();
    let more = errs.len().saturating_sub(PROBLEMS_LISTED);
    format!(
        "the scenario has {} problem(s): {}{}",
        errs.len(),
        listed.join("; "),
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    )
}

/// A migration from schema `n` to `n + 1`, editing the JSON in place.
type Migration = fn(&mut serde_json::Value) -> Result<(), ScenarioError>;

/// `MIGRATIONS[n]` upgrades schema `n` to `n + 1`.
const MIGRATIONS: [Migration; SCHEMA_VERSION as usize] = [migrate_v0_to_v1];

/// Schema 0 was the pre-release draft format: the baseline was named `baseline_policy`
/// and the market had no `partner_correlation` (it was fixed at 0.99).
fn migrate_v0_to_v1(v: &mut serde_json::Value) -> Result<(), ScenarioError> {
    let obj = v.as_object_mut().ok_or(ScenarioError::Migration {
        from: 0,
        reason: "the document is not a JSON object",
    })?;
    if let Some(b) = obj.remove("baseline_policy") {
        obj.entry("baseline").or_insert(b);
    }
    if let Some(m) = obj.get_mut("market").and_then(|m| m.as_object_mut()) {
        m.entry("partner_correlation")
            .or_insert(serde_json::json!(0.99));
    }
    Ok(())
}

/// Upgrades a scenario document of any older schema to the current one, in place.
pub fn migrate(v: &mut serde_json::Value) -> Result<(), ScenarioError> {
    let version = schema_version_of(v)?;
    if version > SCHEMA_VERSION {
        return Err(ScenarioError::TooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    for step in &MIGRATIONS[version as usize..] {
        step(v)?;
    }
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "schema_version".to_string(),
            serde_json::json!(SCHEMA_VERSION),
        );
    }
    Ok(())
}

fn schema_version_of(v: &serde_json::Value) -> Result<u32, ScenarioError> {
    let obj = v.as_object().ok_or(ScenarioError::NotAScenario {
        reason: "the document is not a JSON object",
    })?;
    let ver = obj
        .get("schema_version")
        .ok_or(ScenarioError::NotAScenario {
            reason: "it has no `schema_version`",
        })?;
    ver.as_u64()
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        .ok_or(ScenarioError::NotAScenario {
            reason: "`schema_version` is not a whole number",
        })
}

fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> ScenarioError {
    let mut path = e.path().to_string();
    let message = e.inner().to_string();
    // serde names the struct that lacks a field; name the field itself.
    if let Some(rest) = message.strip_prefix("missing field `") {
        if let Some(field) = rest.strip_suffix('`') {
            path = if path == "." || path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            };
            return ScenarioError::Field {
                path,
                message: "this field is missing".to_string(),
            };
        }
    }
    ScenarioError::Field { path, message }
}

/// A field path in the form's notation: `household.accounts[0].lots[0].qty`.
/// `v` read as a `T` (a type error names its field's path), with the path of the first
/// field `T` does not have, if any: files refuse such a field (a misspelling) by name.
pub(crate) fn from_value_strict<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
) -> Result<(T, Option<String>), serde_path_to_error::Error<serde_json::Error>> {
    let mut unknown: Option<String> = None;
    let mut note = |p: serde_ignored::Path<'_>| {
        unknown.get_or_insert_with(|| ignored_path(&p));
    };
    let t = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(v, &mut note))?;
    Ok((t, unknown))
}

fn ignored_path(p: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match p {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let head = ignored_path(parent);
            if head.is_empty() {
                key.clone()
            } else {
                format!("{head}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// FNV-1a 64-bit hash.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const DEMO_JSON: &str = include_str!("../../testdata/scenarios/household.json");
const ZERO_FEE_JSON: &str = include_str!("../../testdata/scenarios/zero_fee.json");

impl Scenario {
    /// The market-impact inputs of a ticket in `security`: its daily volatility (from its
    /// asset class's and its own idiosyncratic annual volatility, over
    /// [`STEPS_PER_YEAR`](crate::market::STEPS_PER_YEAR) business days) and its average
    /// daily dollar volume. `None` without a volume or a known asset class: no impact.
    pub fn impact_inputs(&self, security: &Security) -> Option<crate::fees::ImpactInputs> {
        let volume = security.daily_dollar_volume.filter(|v| *v > 0.0)?;
        let class = self
            .market
            .classes
            .iter()
            .find(|c| c.name == security.asset_class)?;
        let idio = self.market.idiosyncratic_vol_of(&security.symbol);
        let annual_var = class.volatility * class.volatility + idio * idio;
        Some(crate::fees::ImpactInputs {
            daily_vol: f64::sqrt(annual_var / crate::market::STEPS_PER_YEAR),
            daily_dollar_volume: volume,
        })
    }

    /// Reads a scenario file: schema check and migration, field paths for malformed
    /// fields, then the same validation as the form.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        // A byte-order mark (files saved by some Windows editors) is not content.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ScenarioError::Syntax {
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            })?;
        migrate(&mut v)?;
        // A field the scenario does not have (a misspelling such as `qty` for `quantity`)
        // refuses the file: loading it without the field would be another scenario.
        let (s, unknown): (Scenario, _) = from_value_strict(v).map_err(field_error)?;
        if let Some(path) = unknown {
            return Err(ScenarioError::Field {
                path,
                message: "no scenario has this field (misspelled?)".to_string(),
            });
        }
        // The validated scenario, not the file's: validation trims names and symbols, so a
        // restriction on " VTI" means VTI here as it does in the page.
        s.to_form().validate().map_err(ScenarioError::Invalid)
    }

    /// Pretty JSON for saving (same content as the canonical JSON).
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The canonical JSON the hash is computed over: compact, fields in declaration
    /// order, floats in shortest round-trip form.
    pub fn canonical_json(&self) -> String {
        // Serializing these types cannot fail: every map key is a string and validated
        // numbers are finite.
        serde_json::to_string(self).unwrap_or_else(|e| format!("unserializable: {e}"))
    }

    /// FNV-1a 64 of [`Scenario::canonical_json`], as 16 lowercase hex digits.
    pub fn hash_hex(&self) -> String {
        format!("{:016x}", fnv1a64(self.canonical_json().as_bytes()))
    }

    /// Runs the form's checks on this scenario.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        self.to_form().validate().map(|_| ())
    }

    /// The embedded demo household (taxable joint account, traditional IRA, Roth IRA; 21
    /// ETFs with TLH partners; flat $3.10 clearing ticket; three policies).
    pub fn demo() -> Scenario {
        // The embedded file is checked by the tests (`demo_loads_and_validates`).
        Scenario::from_json(DEMO_JSON).expect("the embedded demo scenario is valid")
    }

    /// The demo household at $0 commission.
    pub fn demo_zero_fee() -> Scenario {
        Scenario::from_json(ZERO_FEE_JSON).expect("the embedded zero-fee scenario is valid")
    }

    /// The demo with only its first `n` securities: TLH partners, class alternates and
    /// target classes that name a dropped security are dropped, and the remaining class
    /// weights renormalised to sum to 1. The household's lots are left as they are.
    pub fn demo_with_securities(n: usize) -> Scenario {
        let mut s = Scenario::demo();
        s.securities.truncate(n);
        let syms: Vec<String> = s.securities.iter().map(|x| x.symbol.clone()).collect();
        for x in &mut s.securities {
            x.partners.retain(|p| syms.contains(p));
        }
        for c in &mut s.target.classes {
            c.alternates.retain(|a| syms.contains(a));
        }
        s.target.classes.retain(|c| syms.contains(&c.primary));
        let total: f64 = s.target.classes.iter().map(|c| c.weight).sum();
        for c in &mut s.target.classes {
            c.weight /= total;
        }
        s
    }

    /// The household optimizer's reference household (its benchmark and its gap tests):
    /// the demo's first 20 securities and fees, and 300 seeded lots spread over the
    /// taxable account, the traditional IRA and the Roth (costs ±30 % around today's
    /// price, acquired 31 days to six years ago, so the wash-sale guard does not close
    /// them wholesale).
    pub fn demo_300_lots() -> Scenario {
        let mut s = Scenario::demo_with_securities(20);
        let mut state: u64 = 20_261_120;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let as_of = s.as_of;
        for a in &mut s.household.accounts {
            a.lots.clear();
        }
        let accounts = s.household.accounts.len().max(1);
        for n in 0..300 {
            let acct = n % accounts;
            let sec = (next() * 20.0) as usize % s.securities.len();
            let price = s.securities[sec].price;
            let quantity = (5.0 + next() * 195.0).round();
            let cost = price * (0.7 + 0.6 * next());
            let acquired = as_of.add_days(-31 - (next() * 2190.0) as i32);
            let symbol = s.securities[sec].symbol.clone();
            if let Some(a) = s.household.accounts.get_mut(acct) {
                a.lots.push(Lot {
                    id: format!("B{n:03}"),
                    symbol,
                    quantity,
                    basis: (quantity * cost * 100.0).round() / 100.0,
                    acquired,
                });
            }
        }
        s
    }

    /// A security by symbol.
    pub fn security(&self, symbol: &str) -> Option<&Security> {
        self.securities.iter().find(|s| s.symbol == symbol)
    }

    /// An account by id.
    pub fn account(&self, id: &str) -> Option<&Account> {
        self.household.accounts.iter().find(|a| a.id == id)
    }

    /// A fee schedule by id.
    pub fn fee_schedule(&self, id: &str) -> Option<&FeeSchedule> {
        self.fee_schedules.iter().find(|f| f.id == id)
    }

    /// The fee schedule of an account.
    pub fn fee_schedule_of(&self, account: &str) -> Option<&FeeSchedule> {
        self.account(account)
            .and_then(|a| self.fee_schedule(&a.fee_schedule))
    }

    /// A policy by name.
    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The baseline policy.
    pub fn baseline_policy(&self) -> Option<&Policy> {
        self.policy(&self.baseline)
    }

    /// Every lot with its account, in account order then lot order.
    pub fn lots(&self) -> impl Iterator<Item = (&Account, &Lot)> {
        self.household
            .accounts
            .iter()
            .flat_map(|a| a.lots.iter().map(move |l| (a, l)))
    }

    /// Household market value at the scenario's prices.
    pub fn household_value(&self) -> f64 {
        let price = |s: &str| self.security(s).map_or(0.0, |s| s.price);
        self.household.accounts.iter().map(|a| a.value(price)).sum()
    }
}

#[cfg(test)]
mod tests;
