//! The target model: asset-class weights, the securities that implement them, bands,
//! asset location, minimum cash and trading restrictions.

use super::policy::Band;
use crate::types::AccountKind;
use serde::{Deserialize, Serialize};

/// One asset class of the target model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassTarget {
    /// The asset class (a name from the market assumptions).
    pub asset_class: String,
    /// Target weight in the household (a fraction; all weights sum to 1).
    pub weight: f64,
    /// The security bought for this class by default.
    pub primary: String,
    /// Alternates (e.g. TLH partners) that also implement the class, in order of use.
    pub alternates: Vec<String>,
    /// A band for this class, overriding the model's default band.
    pub band: Option<Band>,
    /// Preferred account kinds for this class, most preferred first (asset location;
    /// empty: no preference).
    pub location: Vec<AccountKind>,
}

/// Minimum cash an account keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinCash {
    /// The account's id.
    pub account: String,
    /// Dollars.
    pub amount: f64,
}

/// Trading restrictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Restrictions {
    /// Symbols never bought.
    pub do_not_buy: Vec<String>,
    /// Symbols never sold.
    pub do_not_sell: Vec<String>,
}

/// The target model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetModel {
    /// Asset classes with weights and implementing securities.
    pub classes: Vec<ClassTarget>,
    /// The band of classes without their own.
    pub default_band: Band,
    /// Minimum cash per account (accounts not listed: 0).
    pub min_cash: Vec<MinCash>,
    /// Do-not-buy and do-not-sell lists.
    pub restrictions: Restrictions,
}

impl TargetModel {
    /// The band in force for a class (its own or the default).
    pub fn band_of(&self, asset_class: &str) -> Band {
        self.classes
            .iter()
            .find(|c| c.asset_class == asset_class)
            .and_then(|c| c.band)
            .unwrap_or(self.default_band)
    }

    /// The target weight of a class (0 when absent).
    pub fn weight_of(&self, asset_class: &str) -> f64 {
        self.classes
            .iter()
            .find(|c| c.asset_class == asset_class)
            .map_or(0.0, |c| c.weight)
    }

    /// The minimum cash of an account (0 when not listed).
    pub fn min_cash_of(&self, account: &str) -> f64 {
        self.min_cash
            .iter()
            .find(|m| m.account == account)
            .map_or(0.0, |m| m.amount)
    }
}
