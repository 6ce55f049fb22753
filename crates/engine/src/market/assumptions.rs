//! Capital-market assumptions: asset classes, their correlations, securities, shocks.

use crate::date::Date;

/// One asset class's capital-market assumptions (annual, decimal: 0.07 is 7 %).
#[derive(Debug, Clone, PartialEq)]
pub struct AssetClass {
    /// Name or id, e.g. "us_equity".
    pub name: String,
    /// Expected annual arithmetic total return (price plus dividends), e.g. 0.08.
    pub expected_return: f64,
    /// Annual volatility of returns, e.g. 0.16.
    pub volatility: f64,
    /// Annual dividend (or bond income) yield, e.g. 0.013. Informational for the class;
    /// each [`SecuritySpec`] carries the yield actually paid.
    pub dividend_yield: f64,
    /// Where the numbers come from (publication and edition).
    pub source: String,
    /// The publication's as-of date or edition date, as printed next to results.
    pub as_of: String,
}

/// One security of the market.
#[derive(Debug, Clone, PartialEq)]
pub struct SecuritySpec {
    /// Ticker or identifier.
    pub symbol: String,
    /// Index into [`Assumptions::classes`].
    pub asset_class: usize,
    /// Annual volatility of the security's return against its asset class (0 for a
    /// security that is the class).
    pub idiosyncratic_vol: f64,
    /// The security this one tracks as a tax-loss-harvesting partner (an index into the
    /// security list; that security must not itself have a partner).
    pub partner_of: Option<usize>,
    /// Annual dividend yield, paid quarterly in cash.
    pub dividend_yield: f64,
}

impl SecuritySpec {
    /// A security without a partner.
    pub fn new(
        symbol: impl Into<String>,
        asset_class: usize,
        idiosyncratic_vol: f64,
        dividend_yield: f64,
    ) -> SecuritySpec {
        SecuritySpec {
            symbol: symbol.into(),
            asset_class,
            idiosyncratic_vol,
            partner_of: None,
            dividend_yield,
        }
    }

    /// The same security, tracking security `partner` (its TLH partner).
    pub fn partner_of(mut self, partner: usize) -> SecuritySpec {
        self.partner_of = Some(partner);
        self
    }
}

/// The distribution of the daily class shocks (always scaled to unit variance).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shocks {
    /// Standard normal shocks.
    Normal,
    /// Multivariate Student-t with `dof > 2` degrees of freedom, scaled to unit variance:
    /// fatter tails, the same correlations.
    StudentT {
        /// Degrees of freedom (> 2; 4–6 is typical for daily equity returns).
        dof: f64,
    },
}

/// Everything the Monte Carlo market needs besides the securities.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumptions {
    /// The asset classes.
    pub classes: Vec<AssetClass>,
    /// Correlation between the classes' returns (rows of a symmetric matrix, unit diagonal).
    /// A matrix that is not positive semidefinite is repaired (see
    /// [`validate_correlation`](super::validate_correlation)).
    pub correlation: Vec<Vec<f64>>,
    /// Correlation of the daily returns of TLH partners. Default 0.99.
    pub partner_correlation: f64,
    /// Shock distribution. Default [`Shocks::Normal`].
    pub shocks: Shocks,
    /// The valuation date before the first step; steps start on the next business day.
    pub start: Date,
    /// Horizon in whole years: the last step is the last business day on or before
    /// `start` plus this many years.
    pub horizon_years: u32,
}

/// The source printed next to the embedded defaults.
pub const DEFAULT_SOURCE: &str =
    "Illustrative defaults, rounded, in the range of J.P. Morgan Asset \
Management, 2025 Long-Term Capital Market Assumptions (29th ed., 10-15 year horizon, USD); \
not a transcription: check the current edition before relying on them";

/// The publication date of [`DEFAULT_SOURCE`].
pub const DEFAULT_AS_OF: &str = "2024-10";

/// The embedded default asset classes — the one table behind both this module's
/// [`Assumptions::default_classes`] and the scenario's default market — as (class id,
/// expected annual arithmetic return, volatility, dividend yield): US equity, US small
/// cap, developed ex-US equity, emerging-market equity, US bonds, municipal bonds, REITs,
/// TIPS.
///
/// The numbers are **illustrative**: rounded values in the range of a public long-term
/// capital-market-assumptions publication ([`DEFAULT_SOURCE`], as of [`DEFAULT_AS_OF`]),
/// with dividend (or income) yields typical of broad index funds. They are not a forecast
/// and not a quotation of the publication; every value is meant to be edited by the user.
pub const DEFAULT_TABLE: [(&str, f64, f64, f64); 8] = [
    ("us_equity", 0.067, 0.16, 0.013),
    ("us_small_cap", 0.071, 0.205, 0.015),
    ("intl_developed", 0.080, 0.175, 0.030),
    ("emerging", 0.073, 0.21, 0.028),
    ("us_bonds", 0.046, 0.05, 0.038),
    ("munis", 0.034, 0.045, 0.029),
    ("reits", 0.078, 0.195, 0.038),
    ("tips", 0.044, 0.055, 0.030),
];

/// The embedded default correlations between the classes of [`DEFAULT_TABLE`], in its
/// order (illustrative, rounded, same source and date; positive definite, checked by a
/// test).
pub const DEFAULT_CORRELATION: [[f64; 8]; 8] = [
    [1.00, 0.88, 0.82, 0.72, 0.10, 0.10, 0.72, 0.15],
    [0.88, 1.00, 0.75, 0.68, 0.05, 0.05, 0.75, 0.10],
    [0.82, 0.75, 1.00, 0.82, 0.12, 0.10, 0.65, 0.18],
    [0.72, 0.68, 0.82, 1.00, 0.10, 0.10, 0.58, 0.20],
    [0.10, 0.05, 0.12, 0.10, 1.00, 0.75, 0.25, 0.75],
    [0.10, 0.05, 0.10, 0.10, 0.75, 1.00, 0.25, 0.55],
    [0.72, 0.75, 0.65, 0.58, 0.25, 0.25, 1.00, 0.30],
    [0.15, 0.10, 0.18, 0.20, 0.75, 0.55, 0.30, 1.00],
];

impl Assumptions {
    /// Default partner correlation.
    pub const DEFAULT_PARTNER_CORRELATION: f64 = 0.99;

    /// The embedded default asset classes ([`DEFAULT_TABLE`]), each carrying
    /// [`DEFAULT_SOURCE`] and [`DEFAULT_AS_OF`].
    pub fn default_classes() -> Vec<AssetClass> {
        DEFAULT_TABLE
            .iter()
            .map(|&(name, mu, vol, dy)| AssetClass {
                name: name.to_string(),
                expected_return: mu,
                volatility: vol,
                dividend_yield: dy,
                source: DEFAULT_SOURCE.to_string(),
                as_of: DEFAULT_AS_OF.to_string(),
            })
            .collect()
    }

    /// The embedded default correlation matrix between [`Assumptions::default_classes`]
    /// ([`DEFAULT_CORRELATION`]).
    pub fn default_correlation() -> Vec<Vec<f64>> {
        DEFAULT_CORRELATION.iter().map(|row| row.to_vec()).collect()
    }

    /// The default classes and correlations, partner correlation 0.99, normal shocks.
    pub fn with_defaults(start: Date, horizon_years: u32) -> Assumptions {
        Assumptions {
            classes: Assumptions::default_classes(),
            correlation: Assumptions::default_correlation(),
            partner_correlation: Assumptions::DEFAULT_PARTNER_CORRELATION,
            shocks: Shocks::Normal,
            start,
            horizon_years,
        }
    }

    /// The index of the class called `name`, if any.
    pub fn class_index(&self, name: &str) -> Option<usize> {
        self.classes.iter().position(|c| c.name == name)
    }
}
