//! The household's tax profile, yearly netting of capital gains, and after-tax values.
//!
//! # Yearly netting (Schedule D order)
//!
//! Given a year's recognized short-term gain `S` and long-term gain `L` (negative for
//! losses, from [`crate::ledger::Ledger::realized_by_year`]) and the loss carried in
//! `(c_S, c_L ≥ 0)`, each keeping its character:
//!
//! 1. `s = S − c_S`, `l = L − c_L`.
//! 2. If one is a gain and the other a loss, the loss offsets the gain: a net gain keeps
//!    the character of the larger side, a net loss keeps the character of the loss side.
//!    After this step `st_net = s'`, `lt_net = l'`, and at most one of them is a gain.
//! 3. If the total is a loss `N = −(min(s',0) + min(l',0)) > 0`, it offsets ordinary
//!    income up to the cap `C` (default $3,000): `ordinary_offset = min(N, C)`, taken from
//!    the short-term loss first, then the long-term loss. The rest carries forward with
//!    its character (`carryforward_out`).
//! 4. The tax (positive owed, negative saving) is
//!
//!    `tax = max(s',0)·(r_ord + r_state + r_niit) + max(l',0)·(r_ltcg + r_state + r_niit)
//!           − ordinary_offset·(r_ord + r_state)`
//!
//!    with `r_niit = 3.8%` when [`TaxProfile::niit`] is on, else 0.
//!
//! The profile's rates are marginal rates applied flat: no brackets, and enough ordinary
//! income is assumed to absorb the offset.
//!
//! # After-tax value
//!
//! - Taxable account: [`HorizonTreatment::Liquidate`] sells everything at the horizon and
//!   nets the unrealized gains as one more year (carry-in included);
//!   [`HorizonTreatment::Hold`] leaves unrealized gains untaxed (step-up in basis).
//! - Traditional IRA and 401k: the value is taxed as ordinary income at
//!   `r_ord + r_state` under either treatment (no step-up for retirement accounts).
//! - Roth IRA: untaxed.

use crate::ledger::Realized;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The net investment income tax rate (3.8%).
pub const NIIT_RATE: f64 = 0.038;

/// The cap on net capital losses deducted from ordinary income each year (IRC §1211(b)):
/// the default, and the most a profile may set (a lower cap models a household that
/// cannot use all of it).
pub const DEFAULT_ORDINARY_OFFSET_CAP: f64 = 3000.0;

/// Federal filing status. Rates are entered directly; the status bounds the ordinary
/// offset (married filing separately: at most $1,500, checked when a scenario is
/// validated). Serialized in snake case (`"married_filing_jointly"`, …), as in scenario
/// files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FilingStatus {
    /// Single.
    Single,
    /// Married filing jointly (the default: the household's spouses file together).
    #[default]
    MarriedFilingJointly,
    /// Married filing separately (the ordinary offset cap is then at most $1,500:
    /// [`TaxProfile::ordinary_offset_cap`]).
    MarriedFilingSeparately,
    /// Head of household.
    HeadOfHousehold,
}

/// The most a married person filing separately may offset against ordinary income a
/// year (IRC §1211(b)).
pub const SEPARATE_OFFSET_CAP: f64 = 1_500.0;

/// How holdings are valued at the horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HorizonTreatment {
    /// Sell everything at the end and pay (or save) the tax (the default).
    #[default]
    Liquidate,
    /// Hold: unrealized gains are never taxed (step-up in basis).
    Hold,
}

/// Capital losses carried between years, by character (amounts `≥ 0`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Carryforward {
    /// Short-term loss carried (`≥ 0`).
    pub short_term: f64,
    /// Long-term loss carried (`≥ 0`).
    pub long_term: f64,
}

impl Carryforward {
    /// Total loss carried.
    pub fn total(&self) -> f64 {
        self.short_term + self.long_term
    }
}

/// The household's tax profile. Rates are fractions (0.24 for 24%).
///
/// This is the one tax profile of the engine: the scenario's `tax` field
/// ([`crate::scenario::Scenario::tax`]) is this type.
///
/// # Serialized form
///
/// Flat, as in scenario files: the carry-in is written as two fields
/// `carryforward_in_st` and `carryforward_in_lt`. Every field has a serde default, given
/// in its description, so a missing field takes its default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(from = "TaxProfileRepr", into = "TaxProfileRepr")]
pub struct TaxProfile {
    /// Filing status (default: married filing jointly).
    pub filing_status: FilingStatus,
    /// Federal ordinary marginal rate, also on short-term gains (default: 0.24).
    pub ordinary_rate: f64,
    /// Federal long-term capital gains rate: 0, 0.15 or 0.20 (default: 0.15).
    pub ltcg_rate: f64,
    /// Net investment income tax (3.8%) on capital gains (default: false).
    pub niit: bool,
    /// State rate on gains and ordinary income (default: 0).
    pub state_rate: f64,
    /// Capital loss carried into the first year, by character (default: none).
    pub carryforward_in: Carryforward,
    /// Net capital loss deductible from ordinary income per year (default: 3000; 1,500
    /// when married filing separately).
    pub ordinary_offset_cap: f64,
    /// Horizon treatment (default: liquidate).
    pub horizon: HorizonTreatment,
}

/// The serialized form of [`TaxProfile`] (flat carry-in fields, field order of the
/// scenario files, which the scenario hash depends on).
#[derive(Serialize, Deserialize)]
#[serde(default)]
struct TaxProfileRepr {
    filing_status: FilingStatus,
    ordinary_rate: f64,
    ltcg_rate: f64,
    niit: bool,
    state_rate: f64,
    carryforward_in_st: f64,
    carryforward_in_lt: f64,
    /// Absent: the filing status's cap ([`TaxProfile::offset_cap_of`]).
    #[serde(default)]
    ordinary_offset_cap: Option<f64>,
    horizon: HorizonTreatment,
}

impl Default for TaxProfileRepr {
    fn default() -> Self {
        TaxProfile::default().into()
    }
}

impl From<TaxProfile> for TaxProfileRepr {
    fn from(t: TaxProfile) -> Self {
        TaxProfileRepr {
            filing_status: t.filing_status,
            ordinary_rate: t.ordinary_rate,
            ltcg_rate: t.ltcg_rate,
            niit: t.niit,
            state_rate: t.state_rate,
            carryforward_in_st: t.carryforward_in.short_term,
            carryforward_in_lt: t.carryforward_in.long_term,
            ordinary_offset_cap: Some(t.ordinary_offset_cap),
            horizon: t.horizon,
        }
    }
}

impl From<TaxProfileRepr> for TaxProfile {
    fn from(r: TaxProfileRepr) -> Self {
        TaxProfile {
            filing_status: r.filing_status,
            ordinary_rate: r.ordinary_rate,
            ltcg_rate: r.ltcg_rate,
            niit: r.niit,
            state_rate: r.state_rate,
            carryforward_in: Carryforward {
                short_term: r.carryforward_in_st,
                long_term: r.carryforward_in_lt,
            },
            ordinary_offset_cap: r
                .ordinary_offset_cap
                .unwrap_or_else(|| TaxProfile::offset_cap_of(r.filing_status)),
            horizon: r.horizon,
        }
    }
}

impl Default for TaxProfile {
    fn default() -> Self {
        TaxProfile {
            filing_status: FilingStatus::default(),
            ordinary_rate: 0.24,
            ltcg_rate: 0.15,
            niit: false,
            state_rate: 0.0,
            carryforward_in: Carryforward::default(),
            ordinary_offset_cap: DEFAULT_ORDINARY_OFFSET_CAP,
            horizon: HorizonTreatment::default(),
        }
    }
}

/// Why a tax profile is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaxError {
    /// A rate is outside `[0, 1)` or not finite.
    #[error("{field}: rate {value} must be a number in [0, 1)")]
    Rate {
        /// The field (`ordinary_rate`, …).
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// An amount is negative or not finite.
    #[error("{field}: {value} must be a finite amount ≥ 0")]
    Amount {
        /// The field (`ordinary_offset_cap`, …).
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// An ordinary offset above $3,000, the most the law allows (IRC §1211(b)).
    #[error(
        "ordinary_offset_cap: {0} is above $3,000, the most net capital losses may offset \
         ordinary income a year (IRC §1211(b))"
    )]
    OffsetAboveLimit(f64),
    /// Married filing separately with an ordinary offset above $1,500 (IRC §1211(b)).
    #[error(
        "ordinary_offset_cap: {0} is above $1,500, the most a married person filing \
         separately may offset (IRC §1211(b))"
    )]
    SeparateOffset(f64),
}

impl TaxProfile {
    /// The ordinary offset cap of a filing status (IRC §1211(b)): $1,500 when married
    /// filing separately, else $3,000. A scenario file that leaves the cap out gets it.
    pub fn offset_cap_of(status: FilingStatus) -> f64 {
        match status {
            FilingStatus::MarriedFilingSeparately => SEPARATE_OFFSET_CAP,
            _ => DEFAULT_ORDINARY_OFFSET_CAP,
        }
    }

    /// Checks rates (in `[0, 1)`, and their sums on short- and on long-term gains below 1),
    /// amounts (finite, `≥ 0`) and the ordinary offset (at most $3,000; $1,500 for a
    /// married person filing separately).
    pub fn validate(&self) -> Result<(), TaxError> {
        for (field, value) in [
            ("ordinary_rate", self.ordinary_rate),
            ("ltcg_rate", self.ltcg_rate),
            ("state_rate", self.state_rate),
        ] {
            if !(value.is_finite() && (0.0..1.0).contains(&value)) {
                return Err(TaxError::Rate { field, value });
            }
        }
        if self.short_term_rate() >= 1.0 {
            return Err(TaxError::Rate {
                field: "ordinary_rate",
                value: self.ordinary_rate,
            });
        }
        if self.long_term_rate() >= 1.0 {
            return Err(TaxError::Rate {
                field: "ltcg_rate",
                value: self.ltcg_rate,
            });
        }
        for (field, value) in [
            (
                "carryforward_in.short_term",
                self.carryforward_in.short_term,
            ),
            ("carryforward_in.long_term", self.carryforward_in.long_term),
            ("ordinary_offset_cap", self.ordinary_offset_cap),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(TaxError::Amount { field, value });
            }
        }
        let cap = self.ordinary_offset_cap;
        if cap > Self::offset_cap_of(self.filing_status) {
            return Err(match self.filing_status {
                FilingStatus::MarriedFilingSeparately => TaxError::SeparateOffset(cap),
                _ => TaxError::OffsetAboveLimit(cap),
            });
        }
        Ok(())
    }

    /// The NIIT rate when it applies (3.8%), else 0.
    pub fn niit_rate(&self) -> f64 {
        if self.niit {
            NIIT_RATE
        } else {
            0.0
        }
    }

    /// Rate on net short-term gains: ordinary + state + NIIT.
    pub fn short_term_rate(&self) -> f64 {
        self.ordinary_rate + self.state_rate + self.niit_rate()
    }

    /// Rate on net long-term gains: LTCG + state + NIIT.
    pub fn long_term_rate(&self) -> f64 {
        self.ltcg_rate + self.state_rate + self.niit_rate()
    }

    /// Rate saved per dollar of loss offset against ordinary income: ordinary + state.
    pub fn offset_rate(&self) -> f64 {
        self.ordinary_rate + self.state_rate
    }

    /// The combined rate on ordinary income: ordinary + state (the same as
    /// [`TaxProfile::offset_rate`]).
    pub fn ordinary_income_rate(&self) -> f64 {
        self.ordinary_rate + self.state_rate
    }

    /// Rate on traditional IRA and 401k value when valued after tax: ordinary + state.
    pub fn deferred_rate(&self) -> f64 {
        self.ordinary_rate + self.state_rate
    }
}

/// One tax year after netting (see the [module documentation](self) for the formula).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct YearTax {
    /// Net short-term result after carry-in and cross-netting (a gain is taxable; a loss
    /// is before the ordinary offset).
    pub st_net: f64,
    /// Net long-term result after carry-in and cross-netting.
    pub lt_net: f64,
    /// Net loss deducted from ordinary income (`0 ≤ offset ≤ cap`).
    pub ordinary_offset: f64,
    /// Loss carried to the next year, by character.
    pub carryforward_out: Carryforward,
    /// Tax owed (positive) or saved (negative).
    pub tax: f64,
}

/// Nets one year's recognized gains with the loss carried in, per the profile.
pub fn net_year(profile: &TaxProfile, realized: Realized, carry_in: Carryforward) -> YearTax {
    let mut s = realized.short_term - carry_in.short_term;
    let mut l = realized.long_term - carry_in.long_term;
    if s < 0.0 && l > 0.0 {
        let net = l + s;
        if net >= 0.0 {
            (s, l) = (0.0, net);
        } else {
            (s, l) = (net, 0.0);
        }
    } else if s > 0.0 && l < 0.0 {
        let net = s + l;
        if net >= 0.0 {
            (s, l) = (net, 0.0);
        } else {
            (s, l) = (0.0, net);
        }
    }
    let st_loss = if s < 0.0 { -s } else { 0.0 };
    let lt_loss = if l < 0.0 { -l } else { 0.0 };
    let offset = (st_loss + lt_loss).min(profile.ordinary_offset_cap.max(0.0));
    let st_used = st_loss.min(offset);
    let lt_used = offset - st_used;
    let tax = s.max(0.0) * profile.short_term_rate() + l.max(0.0) * profile.long_term_rate()
        - offset * profile.offset_rate();
    YearTax {
        st_net: s,
        lt_net: l,
        ordinary_offset: offset,
        carryforward_out: Carryforward {
            short_term: st_loss - st_used,
            long_term: lt_loss - lt_used,
        },
        tax,
    }
}

/// Nets every year from the first to the last year of `by_year` (years without sales
/// included: the carried loss still offsets ordinary income), starting from the profile's
/// carry-in. Returns each year's result in year order.
pub fn net_years(profile: &TaxProfile, by_year: &BTreeMap<i32, Realized>) -> Vec<(i32, YearTax)> {
    let (Some((&first, _)), Some((&last, _))) =
        (by_year.first_key_value(), by_year.last_key_value())
    else {
        return Vec::new();
    };
    let mut carry = profile.carryforward_in;
    let mut out = Vec::with_capacity((last - first + 1).max(0) as usize);
    for year in first..=last {
        let r = by_year.get(&year).copied().unwrap_or_default();
        let y = net_year(profile, r, carry);
        carry = y.carryforward_out;
        out.push((year, y));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    fn profile() -> TaxProfile {
        TaxProfile {
            ordinary_rate: 0.32,
            ltcg_rate: 0.15,
            niit: true,
            state_rate: 0.05,
            ..TaxProfile::default()
        }
    }

    fn r(short_term: f64, long_term: f64) -> Realized {
        Realized {
            short_term,
            long_term,
        }
    }

    #[test]
    fn gains_taxed_by_character() {
        let p = profile();
        let y = net_year(&p, r(1000.0, 2000.0), Carryforward::default());
        assert_abs_diff_eq!(y.tax, 1000.0 * 0.408 + 2000.0 * 0.238, epsilon = 1e-9);
        assert_eq!(y.ordinary_offset, 0.0);
    }

    #[test]
    fn short_loss_offsets_long_gain() {
        let y = net_year(&profile(), r(-500.0, 2000.0), Carryforward::default());
        assert_eq!((y.st_net, y.lt_net), (0.0, 1500.0));
        assert_abs_diff_eq!(y.tax, 1500.0 * 0.238, epsilon = 1e-9);
        // A larger short-term loss leaves a short-term net loss.
        let y = net_year(&profile(), r(-2500.0, 2000.0), Carryforward::default());
        assert_eq!((y.st_net, y.lt_net), (-500.0, 0.0));
        assert_eq!(y.ordinary_offset, 500.0);
        assert_abs_diff_eq!(y.tax, -500.0 * 0.37, epsilon = 1e-9);
    }

    #[test]
    fn long_loss_offsets_short_gain() {
        let y = net_year(&profile(), r(800.0, -3000.0), Carryforward::default());
        assert_eq!((y.st_net, y.lt_net), (0.0, -2200.0));
        assert_eq!(y.ordinary_offset, 2200.0);
        assert_eq!(y.carryforward_out, Carryforward::default());
    }

    #[test]
    fn cap_and_carryforward_keep_character() {
        let p = profile();
        let y = net_year(&p, r(-2000.0, -5000.0), Carryforward::default());
        assert_eq!(y.ordinary_offset, 3000.0);
        // Short-term loss used first.
        assert_eq!(y.carryforward_out.short_term, 0.0);
        assert_eq!(y.carryforward_out.long_term, 4000.0);
        assert_abs_diff_eq!(y.tax, -3000.0 * 0.37, epsilon = 1e-9);
        // Next year the long-term carry offsets a long-term gain.
        let y2 = net_year(&p, r(0.0, 5000.0), y.carryforward_out);
        assert_eq!((y2.st_net, y2.lt_net), (0.0, 1000.0));
        assert_abs_diff_eq!(y2.tax, 1000.0 * 0.238, epsilon = 1e-9);
    }

    #[test]
    fn net_years_fills_gaps() {
        let p = TaxProfile::default();
        let mut by_year = BTreeMap::new();
        by_year.insert(2026, r(-10_000.0, 0.0));
        by_year.insert(2028, r(0.0, 0.0));
        let ys = net_years(&p, &by_year);
        assert_eq!(ys.len(), 3);
        assert_eq!(ys[1].0, 2027);
        assert_eq!(ys[1].1.ordinary_offset, 3000.0);
        assert_eq!(ys[2].1.carryforward_out.short_term, 1000.0);
    }

    #[test]
    fn profile_validation_and_serde_defaults() {
        let p: TaxProfile = serde_json::from_str(r#"{"ordinary_rate": 0.35}"#).unwrap();
        assert_eq!(p.ordinary_offset_cap, 3000.0);
        assert_eq!(p.horizon, HorizonTreatment::Liquidate);
        assert!(p.validate().is_ok());
        let bad = TaxProfile {
            state_rate: -0.1,
            ..TaxProfile::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(TaxError::Rate {
                field: "state_rate",
                ..
            })
        ));
    }

    #[test]
    fn filing_separately_offsets_at_most_1500() {
        let mut p = TaxProfile {
            filing_status: FilingStatus::MarriedFilingSeparately,
            ..TaxProfile::default()
        };
        assert_eq!(p.validate(), Err(TaxError::SeparateOffset(3000.0)));
        p.ordinary_offset_cap = 1500.0;
        assert_eq!(p.validate(), Ok(()));
    }

    /// No filing status offsets more than $3,000 a year; a lower cap is allowed.
    #[test]
    fn no_profile_offsets_more_than_3000() {
        for status in [
            FilingStatus::Single,
            FilingStatus::MarriedFilingJointly,
            FilingStatus::HeadOfHousehold,
        ] {
            let mut p = TaxProfile {
                filing_status: status,
                ordinary_offset_cap: 50_000.0,
                ..TaxProfile::default()
            };
            assert_eq!(p.validate(), Err(TaxError::OffsetAboveLimit(50_000.0)));
            p.ordinary_offset_cap = 3000.0;
            assert_eq!(p.validate(), Ok(()));
            p.ordinary_offset_cap = 0.0;
            assert_eq!(p.validate(), Ok(()));
        }
    }

    /// The rates on long-term gains (federal, NIIT, state) must sum below 1, as those on
    /// short-term gains must.
    #[test]
    fn long_term_rates_sum_below_one() {
        let p = TaxProfile {
            ordinary_rate: 0.0,
            ltcg_rate: 0.20,
            state_rate: 0.80,
            niit: true,
            ..TaxProfile::default()
        };
        assert!(matches!(
            p.validate(),
            Err(TaxError::Rate {
                field: "ltcg_rate",
                ..
            })
        ));
    }

    /// A file that leaves the cap out gets its filing status's: $1,500 filing separately.
    #[test]
    fn a_missing_cap_follows_the_filing_status() {
        let read = |json: &str| -> TaxProfile { serde_json::from_str(json).unwrap() };
        let separate = read(r#"{"filing_status": "married_filing_separately"}"#);
        assert_eq!(separate.ordinary_offset_cap, 1500.0);
        assert_eq!(separate.validate(), Ok(()));
        let joint = read(r#"{"filing_status": "married_filing_jointly"}"#);
        assert_eq!(joint.ordinary_offset_cap, 3000.0);
        let set = read(r#"{"filing_status": "single", "ordinary_offset_cap": 1000}"#);
        assert_eq!(set.ordinary_offset_cap, 1000.0);
    }

    #[test]
    fn serialized_form_is_flat_and_round_trips() {
        let t = TaxProfile {
            carryforward_in: Carryforward {
                short_term: 1200.0,
                long_term: 800.0,
            },
            ..profile()
        };
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains("\"married_filing_jointly\""), "{json}");
        assert!(json.contains("\"carryforward_in_st\":1200.0"), "{json}");
        assert!(json.contains("\"carryforward_in_lt\":800.0"), "{json}");
        assert_eq!(serde_json::from_str::<TaxProfile>(&json).unwrap(), t);
        let mut d = TaxProfile::default();
        assert!((d.short_term_rate() - 0.24).abs() < 1e-12);
        d.niit = true;
        d.state_rate = 0.05;
        assert!((d.long_term_rate() - 0.238).abs() < 1e-12);
        assert!((d.ordinary_income_rate() - 0.29).abs() < 1e-12);
    }
}
