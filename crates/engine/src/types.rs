//! Small vocabulary types shared by every module: trade sides, security types, account
//! kinds and lot-relief methods.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The side of a trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// A purchase: creates a lot.
    Buy,
    /// A sale: relieves lots and may realize a gain or loss.
    Sell,
}

/// The kind of security, which selects the fee schedule's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityType {
    /// An exchange-traded fund (a covered equity for FINRA's TAF).
    Etf,
    /// A listed stock (a covered equity for FINRA's TAF).
    Stock,
    /// An open-end mutual fund: no SEC Section 31 fee or TAF, no market impact (its
    /// half-spread, usually 0 at net asset value, is charged as entered).
    MutualFund,
}

impl SecurityType {
    /// All security types, in display order.
    pub const ALL: [SecurityType; 3] = [
        SecurityType::Etf,
        SecurityType::Stock,
        SecurityType::MutualFund,
    ];

    /// True for exchange-traded securities, which pay the SEC fee and FINRA TAF on sales.
    pub fn is_exchange_traded(self) -> bool {
        matches!(self, SecurityType::Etf | SecurityType::Stock)
    }
}

/// The tax treatment of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// A taxable brokerage account (individual or joint).
    Taxable,
    /// A traditional IRA: tax-deferred, withdrawals taxed as ordinary income.
    TraditionalIra,
    /// A Roth IRA: tax-free.
    RothIra,
    /// A 401(k) plan account: tax-deferred.
    #[serde(rename = "401k")]
    K401,
}

impl AccountKind {
    /// True for the taxable kind, where gains and losses are recognized.
    pub fn is_taxable(self) -> bool {
        matches!(self, AccountKind::Taxable)
    }
}

impl fmt::Display for AccountKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AccountKind::Taxable => "taxable",
            AccountKind::TraditionalIra => "traditional IRA",
            AccountKind::RothIra => "Roth IRA",
            AccountKind::K401 => "401(k)",
        })
    }
}

/// The order in which a sale relieves lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LotMethod {
    /// First in, first out (the IRS default).
    #[default]
    Fifo,
    /// Last in, first out.
    Lifo,
    /// Highest cost per share first.
    Hifo,
    /// The lots that minimize tax first: short-term losses, long-term losses, long-term
    /// gains, then short-term gains, each ordered by size.
    MinTax,
    /// Lots named by the trade (specific identification).
    SpecificLot,
}
