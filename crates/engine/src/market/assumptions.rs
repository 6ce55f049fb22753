//! Capital-market assumptions: asset classes, their correlations, securities, shocks.

use crate::date::Date;

/// One asset class's capital-market assumptions (annual, decimal: 0.07 is 7 %).
#[derive(Debug, Clone, PartialEq)]
pub struct AssetClass {
    /// Display name, e.g. "US large cap".
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
pub const DEFAULT_SOURCE: &str = "J.P. Morgan Asset Management, 2025 Long-Term Capital Market Assumptions (29th edition, USD); illustrative rounded values";

/// The as-of date of the embedded defaults' source.
pub const DEFAULT_AS_OF: &str = "2024-09-30";

impl Assumptions {
    /// Default partner correlation.
    pub const DEFAULT_PARTNER_CORRELATION: f64 = 0.99;

    /// The embedded default asset classes, in this order: US large cap, US small cap,
    /// developed ex-US equity, emerging-market equity, US aggregate bonds, municipal
    /// bonds, TIPS, REITs.
    ///
    /// The numbers are **illustrative**: rounded values in the range of a public long-term
    /// capital-market-assumptions publication ([`DEFAULT_SOURCE`], as of
    /// [`DEFAULT_AS_OF`]), converted to arithmetic returns, with dividend (or income)
    /// yields typical of broad index funds. They are not a forecast and not a quotation of
    /// the publication; every value is meant to be edited by the user.
    pub fn default_classes() -> Vec<AssetClass> {
        // (name, expected arithmetic return, volatility, dividend yield)
        const TABLE: [(&str, f64, f64, f64); 8] = [
            ("US large cap", 0.080, 0.160, 0.013),
            ("US small cap", 0.090, 0.205, 0.014),
            ("Developed ex-US equity", 0.095, 0.170, 0.030),
            ("Emerging-market equity", 0.095, 0.210, 0.028),
            ("US aggregate bonds", 0.050, 0.045, 0.040),
            ("Municipal bonds", 0.040, 0.045, 0.032),
            ("TIPS", 0.045, 0.055, 0.030),
            ("REITs", 0.090, 0.200, 0.038),
        ];
        TABLE
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
    /// (illustrative, rounded; positive definite).
    pub fn default_correlation() -> Vec<Vec<f64>> {
        const R: [[f64; 8]; 8] = [
            [1.00, 0.88, 0.82, 0.72, 0.10, 0.15, 0.20, 0.72],
            [0.88, 1.00, 0.75, 0.68, 0.05, 0.10, 0.15, 0.75],
            [0.82, 0.75, 1.00, 0.82, 0.15, 0.15, 0.25, 0.62],
            [0.72, 0.68, 0.82, 1.00, 0.20, 0.18, 0.30, 0.58],
            [0.10, 0.05, 0.15, 0.20, 1.00, 0.80, 0.75, 0.30],
            [0.15, 0.10, 0.15, 0.18, 0.80, 1.00, 0.60, 0.30],
            [0.20, 0.15, 0.25, 0.30, 0.75, 0.60, 1.00, 0.35],
            [0.72, 0.75, 0.62, 0.58, 0.30, 0.30, 0.35, 1.00],
        ];
        R.iter().map(|row| row.to_vec()).collect()
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
