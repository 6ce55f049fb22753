//! Ledger cases: the JSON vector format of `testdata/ledger` (and `tollbooth ledger`).
//!
//! A case holds `accounts`, `securities`, opening `lots`, `trades` and a `lot_method`; its
//! optional `name`, `source` and `expect` are carried but not used by [`LedgerCase::replay`],
//! which replays the trades and returns a [`LedgerReport`] shaped like `expect`. Errors
//! name the place in the file (`trades[3]: sells 120 XYZ in account T but only 100 are
//! held`).
//!
//! Lot ids (for `lot_method: "specific_lot"` with a trade's `lots`): opening lots are
//! numbered 0, 1, … in file order; each buy's lot takes the next number; a lot split by a
//! wash-sale adjustment gives the replaced piece a new number at that point.

use super::{Account, Ledger, LedgerError, OpeningLot, Security, Trade};
use crate::date::Date;
use crate::lots::LotId;
use crate::types::{AccountKind, LotMethod};
use serde::{Deserialize, Serialize};

/// An account as a case file writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseAccount {
    /// Unique id.
    pub id: String,
    /// `taxable`, `traditional_ira`, `roth_ira` or `401k`.
    pub kind: AccountKind,
    /// Owner (informational).
    #[serde(default)]
    pub owner: String,
}

/// An opening lot as a case file writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseLot {
    /// Account id.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Shares.
    pub quantity: f64,
    /// Total cost basis.
    pub basis: f64,
    /// Purchase date.
    pub acquired: Date,
    /// Optional tacked holding-period start (defaults to `acquired`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holding_start: Option<Date>,
}

/// A ledger case file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerCase {
    /// Case name (not used by the replay).
    #[serde(default)]
    pub name: Option<String>,
    /// Where the case comes from and how it was worked (not used by the replay).
    #[serde(default)]
    pub source: Option<String>,
    /// Relief method for every sell (default FIFO).
    #[serde(default)]
    pub lot_method: LotMethod,
    /// The household's accounts.
    pub accounts: Vec<CaseAccount>,
    /// Securities and their substantially-identical groups.
    pub securities: Vec<Security>,
    /// Lots held before the first trade.
    #[serde(default)]
    pub lots: Vec<CaseLot>,
    /// Trades in order (same-day trades apply in file order).
    #[serde(default)]
    pub trades: Vec<Trade>,
    /// The expected report (not used by the replay).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<serde_json::Value>,
}

/// One taxable sale in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleSummary {
    /// Index of the sell in `trades`.
    pub trade: usize,
    /// Net proceeds.
    pub proceeds: f64,
    /// Basis relieved (earlier wash adjustments included).
    pub basis: f64,
    /// Loss disallowed (≥ 0).
    pub disallowed: f64,
    /// Recognized short-term gain.
    pub short_term: f64,
    /// Recognized long-term gain.
    pub long_term: f64,
}

/// One open lot in a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LotSummary {
    /// Account id.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Shares.
    pub quantity: f64,
    /// Total basis.
    pub basis: f64,
    /// Holding-period start.
    pub holding_start: Date,
}

/// The result of replaying a case: the shape of a case's `expect`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerReport {
    /// One entry per sell in a taxable account, in trade order.
    pub sales: Vec<SaleSummary>,
    /// Every open lot at the end.
    pub lots: Vec<LotSummary>,
    /// Total loss lost for good (replacement in a retirement account).
    pub permanently_disallowed: f64,
}

impl LedgerReport {
    /// The report of a ledger's current state.
    pub fn of(ledger: &Ledger) -> LedgerReport {
        // Money and quantities rounded to 1e-9 (far below a cent) for readable output;
        // `-0` printed as `0`.
        let clean = |x: f64| {
            let r = (x * 1e9).round() / 1e9;
            if r == 0.0 {
                0.0
            } else {
                r
            }
        };
        LedgerReport {
            sales: ledger
                .sales()
                .iter()
                .map(|s| SaleSummary {
                    trade: s.trade,
                    proceeds: clean(s.proceeds),
                    basis: clean(s.basis),
                    disallowed: clean(s.disallowed),
                    short_term: clean(s.short_term),
                    long_term: clean(s.long_term),
                })
                .collect(),
            lots: sorted_lots(ledger)
                .into_iter()
                .map(|l| LotSummary {
                    account: l.account.to_string(),
                    symbol: l.symbol.to_string(),
                    quantity: clean(l.quantity),
                    basis: clean(l.basis),
                    holding_start: l.holding_start,
                })
                .collect(),
            permanently_disallowed: clean(ledger.permanently_disallowed()),
        }
    }
}

/// Open lots by account, symbol, holding-period start, purchase date and id.
fn sorted_lots(ledger: &Ledger) -> Vec<&crate::lots::Lot> {
    let mut lots: Vec<_> = ledger.lots().collect();
    lots.sort_by(|a, b| {
        (&a.account, &a.symbol, a.holding_start, a.acquired, a.id).cmp(&(
            &b.account,
            &b.symbol,
            b.holding_start,
            b.acquired,
            b.id,
        ))
    });
    lots
}

/// Why a case cannot be replayed; the message names the place in the file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CaseError {
    /// Two accounts share an id.
    #[error("accounts[{index}].id: duplicate account id `{id}`")]
    DuplicateAccount {
        /// Index of the second one.
        index: usize,
        /// The id.
        id: String,
    },
    /// Two securities share a symbol.
    #[error("securities[{index}].symbol: duplicate symbol `{symbol}`")]
    DuplicateSecurity {
        /// Index of the second one.
        index: usize,
        /// The symbol.
        symbol: String,
    },
    /// An id or symbol is empty.
    #[error("{path}: must not be empty")]
    Empty {
        /// Where (`accounts[0].id`, …).
        path: String,
    },
    /// An opening lot is invalid.
    #[error("lots[{index}]: {error}")]
    Lot {
        /// Index in `lots`.
        index: usize,
        /// The cause.
        error: LedgerError,
    },
    /// An opening lot was acquired after a trade of its security group (opening lots
    /// describe holdings before the trades).
    #[error("lots[{lot}].acquired: {acquired} is after trades[{trade}] on {date}, which trades the same security group; opening lots must predate the trades")]
    LotAfterTrade {
        /// Index in `lots`.
        lot: usize,
        /// Its purchase date.
        acquired: Date,
        /// Index in `trades`.
        trade: usize,
        /// The trade's date.
        date: Date,
    },
    /// A trade is invalid or cannot be applied.
    #[error("trades[{index}]: {error}")]
    Trade {
        /// Index in `trades`.
        index: usize,
        /// The cause.
        error: LedgerError,
    },
}

impl LedgerCase {
    /// Builds the ledger, books the opening lots and applies every trade.
    pub fn ledger(&self) -> Result<Ledger, CaseError> {
        for (i, a) in self.accounts.iter().enumerate() {
            if a.id.is_empty() {
                return Err(CaseError::Empty {
                    path: format!("accounts[{i}].id"),
                });
            }
            if self.accounts[..i].iter().any(|b| b.id == a.id) {
                return Err(CaseError::DuplicateAccount {
                    index: i,
                    id: a.id.clone(),
                });
            }
        }
        for (i, s) in self.securities.iter().enumerate() {
            if s.symbol.is_empty() {
                return Err(CaseError::Empty {
                    path: format!("securities[{i}].symbol"),
                });
            }
            if s.group.is_empty() {
                return Err(CaseError::Empty {
                    path: format!("securities[{i}].group"),
                });
            }
            if self.securities[..i].iter().any(|b| b.symbol == s.symbol) {
                return Err(CaseError::DuplicateSecurity {
                    index: i,
                    symbol: s.symbol.clone(),
                });
            }
        }
        let accounts = self.accounts.iter().map(|a| Account {
            id: a.id.clone(),
            kind: a.kind,
            owner: a.owner.clone(),
        });
        // Duplicates were ruled out above, so `new` cannot fail; map defensively anyway.
        let mut ledger = Ledger::new(accounts, self.securities.iter().cloned(), self.lot_method)
            .map_err(|error| CaseError::Lot { index: 0, error })?;
        let mut ids: Vec<LotId> = Vec::with_capacity(self.lots.len());
        for (index, l) in self.lots.iter().enumerate() {
            let id = ledger
                .open_lot(OpeningLot {
                    account: l.account.clone(),
                    symbol: l.symbol.clone(),
                    quantity: l.quantity,
                    basis: l.basis,
                    acquired: l.acquired,
                    holding_start: l.holding_start,
                })
                .map_err(|error| CaseError::Lot { index, error })?;
            ids.push(id);
        }
        for (index, t) in self.trades.iter().enumerate() {
            ledger.apply(t).map_err(|error| match error {
                LedgerError::OpeningLotAfterTrade {
                    lot,
                    acquired,
                    date,
                } => match ids.iter().position(|&id| id == lot) {
                    Some(lot) => CaseError::LotAfterTrade {
                        lot,
                        acquired,
                        trade: index,
                        date,
                    },
                    None => CaseError::Trade {
                        index,
                        error: LedgerError::OpeningLotAfterTrade {
                            lot,
                            acquired,
                            date,
                        },
                    },
                },
                error => CaseError::Trade { index, error },
            })?;
        }
        Ok(ledger)
    }

    /// Replays the case and reports the sales, the open lots and the loss lost for good.
    pub fn replay(&self) -> Result<LedgerReport, CaseError> {
        Ok(LedgerReport::of(&self.ledger()?))
    }
}
