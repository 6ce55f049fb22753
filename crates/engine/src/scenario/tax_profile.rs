//! The household's tax profile: marginal rates, carry-forwards and the horizon treatment.
//!
//! Self-contained on purpose: the tax module may later own this type and this file become
//! a re-export.

use serde::{Deserialize, Serialize};

/// Federal filing status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FilingStatus {
    /// Single.
    Single,
    /// Married filing jointly (the default: the household's spouses file together).
    #[default]
    MarriedFilingJointly,
    /// Married filing separately (the ordinary-income offset is $1,500 per spouse).
    MarriedFilingSeparately,
    /// Head of household.
    HeadOfHousehold,
}

/// What happens to unrealized gains at the end of the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HorizonTreatment {
    /// Liquidate the taxable account at the end: unrealized gains are taxed (the default,
    /// the conservative view of deferred gains).
    #[default]
    Liquidate,
    /// Hold: unrealized gains stay untaxed (step-up in basis at death).
    Hold,
}

/// The net investment income tax rate (IRC §1411), applied to gains when `niit` is on.
pub const NIIT_RATE: f64 = 0.038;

/// A household's tax profile. Rates are fractions (0.24 for 24%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TaxProfile {
    /// Filing status (default married filing jointly).
    pub filing_status: FilingStatus,
    /// Federal marginal rate on ordinary income and short-term gains (default 0.24).
    pub ordinary_rate: f64,
    /// Federal long-term capital-gains rate: 0, 0.15 or 0.20 (default 0.15).
    pub ltcg_rate: f64,
    /// Whether the 3.8% net investment income tax applies (default false).
    pub niit: bool,
    /// State marginal rate on all gains and ordinary income (default 0.05).
    pub state_rate: f64,
    /// Short-term capital-loss carry-forward into the first year, dollars (default 0).
    pub carryforward_in_st: f64,
    /// Long-term capital-loss carry-forward into the first year, dollars (default 0).
    pub carryforward_in_lt: f64,
    /// Net capital losses that may offset ordinary income each year, dollars (default
    /// 3,000; 1,500 when married filing separately).
    #[serde(default = "default_offset_cap")]
    pub ordinary_offset_cap: f64,
    /// Liquidate or hold at the end of the horizon (default liquidate).
    pub horizon: HorizonTreatment,
}

fn default_offset_cap() -> f64 {
    3000.0
}

impl Default for TaxProfile {
    fn default() -> Self {
        TaxProfile {
            filing_status: FilingStatus::MarriedFilingJointly,
            ordinary_rate: 0.24,
            ltcg_rate: 0.15,
            niit: false,
            state_rate: 0.05,
            carryforward_in_st: 0.0,
            carryforward_in_lt: 0.0,
            ordinary_offset_cap: default_offset_cap(),
            horizon: HorizonTreatment::Liquidate,
        }
    }
}

impl TaxProfile {
    /// The combined rate on short-term gains: ordinary + state (+ NIIT).
    pub fn short_term_rate(&self) -> f64 {
        self.ordinary_rate + self.state_rate + self.niit_rate()
    }

    /// The combined rate on long-term gains: LTCG + state (+ NIIT).
    pub fn long_term_rate(&self) -> f64 {
        self.ltcg_rate + self.state_rate + self.niit_rate()
    }

    /// The combined rate on ordinary income offset by losses: ordinary + state.
    pub fn ordinary_income_rate(&self) -> f64 {
        self.ordinary_rate + self.state_rate
    }

    /// The NIIT rate when it applies, else 0.
    pub fn niit_rate(&self) -> f64 {
        if self.niit {
            NIIT_RATE
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_rates() {
        let mut t = TaxProfile::default();
        assert!((t.short_term_rate() - 0.29).abs() < 1e-12);
        assert!((t.long_term_rate() - 0.20).abs() < 1e-12);
        t.niit = true;
        assert!((t.long_term_rate() - 0.238).abs() < 1e-12);
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("\"married_filing_jointly\""), "{json}");
        assert_eq!(serde_json::from_str::<TaxProfile>(&json).unwrap(), t);
    }
}
