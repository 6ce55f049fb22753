//! The rebalancing policies a scenario compares: each a named mix of rules.

use crate::types::LotMethod;
use serde::{Deserialize, Serialize};

/// How often a rule looks at the portfolio (on business days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// Every business day.
    Daily,
    /// The first business day of each week.
    Weekly,
    /// Every second week.
    Biweekly,
    /// The first business day of each month.
    Monthly,
    /// The first business day of each quarter.
    Quarterly,
    /// The first business day of each half-year.
    SemiAnnual,
    /// The first business day of each year.
    Annual,
}

impl Frequency {
    /// All frequencies, most frequent first.
    pub const ALL: [Frequency; 7] = [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Biweekly,
        Frequency::Monthly,
        Frequency::Quarterly,
        Frequency::SemiAnnual,
        Frequency::Annual,
    ];

    /// Nominal occurrences per year (252 business days, 52 weeks).
    pub fn per_year(self) -> f64 {
        match self {
            Frequency::Daily => 252.0,
            Frequency::Weekly => 52.0,
            Frequency::Biweekly => 26.0,
            Frequency::Monthly => 12.0,
            Frequency::Quarterly => 4.0,
            Frequency::SemiAnnual => 2.0,
            Frequency::Annual => 1.0,
        }
    }
}

/// Whether a band's width is in weight points or a fraction of the target weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BandKind {
    /// Absolute: a class breaches when |weight − target| > width (0.05 = 5 points).
    #[default]
    Absolute,
    /// Relative: a class breaches when |weight − target| > width × target (0.20 = 20%).
    Relative,
}

/// A tolerance band around a target weight.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Band {
    /// Absolute or relative.
    pub kind: BandKind,
    /// The band's half-width (a fraction, ≥ 0).
    pub width: f64,
}

impl Band {
    /// The band's half-width in weight points for a class with target weight `target`.
    pub fn half_width(&self, target: f64) -> f64 {
        match self.kind {
            BandKind::Absolute => self.width,
            BandKind::Relative => self.width * target,
        }
    }
}

/// Calendar rebalancing: back to target at a fixed frequency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalendarRule {
    /// How often.
    pub frequency: Frequency,
}

/// Threshold rebalancing: trade when a class leaves its band, checked at a frequency.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRule {
    /// The policy's own band for every class; `None` (the default) uses the target
    /// model's bands (each class's own, else the model's default band).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub band: Option<Band>,
    /// How often the bands are checked.
    pub check: Frequency,
    /// Where to trade back to, as a fraction of the band's half-width from target: 0 =
    /// back to target (default), 0.5 = to half the band.
    pub trade_to: f64,
}

/// Opportunistic rebalancing (Daryanani 2008): look every two weeks, a 20% relative band,
/// trade back to half the band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OpportunisticRule {
    /// How often to look (default every two weeks).
    pub check: Frequency,
    /// The relative band width (default 0.20).
    pub relative_band: f64,
    /// Where to trade back to, as a fraction of the band (default 0.5: half the band).
    pub trade_to: f64,
}

impl Default for OpportunisticRule {
    fn default() -> Self {
        OpportunisticRule {
            check: Frequency::Biweekly,
            relative_band: 0.20,
            trade_to: 0.5,
        }
    }
}

/// Which purchases a loss harvest avoids so as not to wash its loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WashSaleGuard {
    /// No guard: harvest regardless of purchases in the window.
    None,
    /// Avoid substantially identical purchases in the same account.
    Account,
    /// Avoid them in every household account, IRAs and spouse included (the rule's reach).
    #[default]
    Household,
}

/// Tax-loss harvesting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TlhRule {
    /// How often lots are scanned for losses.
    pub check: Frequency,
    /// Minimum loss as a fraction of the lot's basis (e.g. 0.05).
    pub loss_threshold_pct: f64,
    /// Minimum loss in dollars (e.g. 500).
    pub loss_threshold_usd: f64,
    /// Buy a TLH partner (another group, same asset class) with the proceeds.
    pub partner_swaps: bool,
    /// The wash-sale guard.
    pub wash_sale_guard: WashSaleGuard,
}

/// A signal-driven tactical overlay: daily tilts from a noisy signal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TacticalOverlay {
    /// Correlation of the signal with next-period class returns, in [−1, 1] (default 0:
    /// the signal is noise).
    pub information_coefficient: f64,
    /// Largest tilt the signal asks of one class, `max_tilt · clamp(s/2, −1, 1)` (a
    /// fraction, default 0.05). The tilts are then centred to sum to zero, weights kept at
    /// or above zero and renormalised, so a class can end up to `2(k−1)/k · max_tilt` from
    /// its target with `k` classes (the others all tilted the other way).
    pub max_tilt: f64,
    /// How often the tilt is refreshed (default daily).
    pub frequency: Frequency,
}

impl Default for TacticalOverlay {
    fn default() -> Self {
        TacticalOverlay {
            information_coefficient: 0.0,
            max_tilt: 0.05,
            frequency: Frequency::Daily,
        }
    }
}

/// Cost-aware optimization: trades only when the benefit beats ticket costs and taxes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CostAwareRule {
    /// How often the optimizer runs.
    pub check: Frequency,
    /// Smallest trade worth a ticket, dollars.
    pub min_trade_usd: f64,
    /// Whether fixed ticket costs enter the objective.
    pub tickets_in_objective: bool,
    /// Whether taxes enter the objective.
    pub taxes_in_objective: bool,
}

/// A named policy: any mix of rules (none at all is buy-and-hold) and a lot method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Unique display name.
    pub name: String,
    /// Calendar rebalancing, when used.
    pub calendar: Option<CalendarRule>,
    /// Threshold rebalancing, when used.
    pub threshold: Option<ThresholdRule>,
    /// Opportunistic rebalancing, when used.
    pub opportunistic: Option<OpportunisticRule>,
    /// Use contributions and withdrawals to rebalance before trading.
    pub cash_flow_first: bool,
    /// Tax-loss harvesting, when used.
    pub tlh: Option<TlhRule>,
    /// Tactical overlay, when used.
    pub tactical: Option<TacticalOverlay>,
    /// Cost-aware optimizer, when used.
    pub optimizer: Option<CostAwareRule>,
    /// How sales relieve lots.
    pub lot_method: LotMethod,
}

impl Policy {
    /// A policy with no rules (buy and hold) and FIFO lots.
    pub fn buy_and_hold(name: &str) -> Policy {
        Policy {
            name: name.to_string(),
            calendar: None,
            threshold: None,
            opportunistic: None,
            cash_flow_first: false,
            tlh: None,
            tactical: None,
            optimizer: None,
            lot_method: LotMethod::Fifo,
        }
    }
}
