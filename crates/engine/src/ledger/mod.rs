//! The household ledger: lots across every account, sales, wash sales and holding periods.
//!
//! A [`Ledger`] applies buys and sells in date order across all the accounts of one
//! household (taxable, traditional IRA, Roth IRA, 401k; spouses together: every account is
//! "the taxpayer" for the wash-sale rule). Buys create [`Lot`]s; sells relieve them with
//! the one relief routine of [`crate::lots`]. Every sale in a taxable account produces a
//! [`SaleRecord`].
//!
//! # Wash sales (IRC §1091, Reg. §1.1091-1/-2, Pub. 550, Rev. Rul. 2008-5)
//!
//! A loss on a sale in a taxable account is disallowed to the extent that substantially
//! identical securities (the same [`Security::group`]) are acquired within 30 days before
//! or after the sale (a 61-day window, calendar days, both ends included), in any account
//! of the household. Details, as implemented:
//!
//! - **Per share.** Each relieved lot is a leg of the sale with its own loss per share.
//!   Losses are matched in order of disposition (sales in trade order; the legs of one
//!   sale, disposed of at once, in the order their shares were acquired — purchase date,
//!   then booking order — whatever order the lot method relieved them in, Reg.
//!   §1.1091-1(b)) against replacement shares in order of acquisition (purchase date, then
//!   booking order); each replacement share absorbs a loss once
//!   ([`Lot::replacement_used`]).
//! - **Before and after.** When a loss sale is booked it is matched against open lots
//!   acquired in the 30 days before it (including earlier the same day). The unmatched
//!   rest stays *pending* for 30 days: each later buy in the group is matched against the
//!   pending sales first, and the earlier sale's record is adjusted retroactively. So a
//!   sale's record is final only once a trade dated more than 30 days after it has been
//!   applied ([`Ledger::is_final`]).
//! - **Acquired, not held.** Shares bought in the 30 days before the sale and sold again
//!   before it still replace it (the rule asks whether identical shares were acquired in
//!   the window): in a retirement account the loss is then lost for good; in a taxable
//!   one the disallowed loss is added to those shares' basis in the sale that relieved
//!   them (the replaced shares become a leg of their own, with the tacked holding period),
//!   so that earlier sale's record changes retroactively.
//! - **Not its own replacement.** Lots the sale draws from (including the rest of a partly
//!   sold lot, held or sold before: the same purchase) do not replace it.
//! - **Taxable replacement.** The disallowed loss is added to the replacement shares'
//!   basis ([`Lot::wash_adjustment`]) and the sold lot's holding period is tacked on:
//!   `holding_start = purchase date − (sale date − sold lot's holding_start)`. A
//!   replacement that covers only part of a lot splits it: the replaced shares become a
//!   new lot (new id). A basis-adjusted lot can wash again when it is sold at a loss.
//! - **Retirement replacement** (traditional IRA, Roth IRA, 401k): the loss is disallowed
//!   and lost for good ([`SaleLeg::permanently_disallowed`]); the retirement lot keeps its
//!   cost and purchase date.
//! - **Gains never wash**; sales in retirement accounts recognize nothing and do not wash.
//! - Dividend reinvestment is a purchase: book it with [`Ledger::reinvest`] (a buy).
//!
//! Holding period: long-term when `sale date > holding_start + 1 year` (see
//! [`crate::lots::is_long_term`]).
//!
//! Fees: a trade's optional `fee` reduces a sale's proceeds and increases a buy's basis.
//!
//! # Example: Pub. 550, wash sales, example 1
//!
//! ```
//! use tollbooth_engine::ledger::{Account, Ledger, OpeningLot, Security, Trade};
//! use tollbooth_engine::types::{AccountKind, LotMethod};
//!
//! let d = |s: &str| s.parse().unwrap();
//! let account = Account { id: "T".into(), kind: AccountKind::Taxable, owner: "A".into() };
//! let xyz = Security { symbol: "XYZ".into(), group: "XYZ".into() };
//! let mut ledger = Ledger::new([account], [xyz], LotMethod::Fifo)?;
//! ledger.open_lot(OpeningLot {
//!     account: "T".into(), symbol: "XYZ".into(), quantity: 100.0, basis: 1000.0,
//!     acquired: d("2026-01-05"), holding_start: None,
//! })?;
//! ledger.apply(&Trade::sell(d("2026-03-02"), "T", "XYZ", 100.0, 7.5))?;
//! assert_eq!(ledger.sales()[0].short_term, -250.0); // for now
//! ledger.apply(&Trade::buy(d("2026-03-20"), "T", "XYZ", 100.0, 8.0))?;
//! let sale = &ledger.sales()[0];
//! assert_eq!((sale.disallowed, sale.short_term), (250.0, 0.0)); // washed retroactively
//! let lot = &ledger.position("T", "XYZ")[0];
//! assert_eq!((lot.basis, lot.holding_start), (1050.0, d("2026-01-23")));
//! # Ok::<(), tollbooth_engine::ledger::LedgerError>(())
//! ```

mod case;

pub use case::{
    CaseAccount, CaseError, CaseLot, LedgerCase, LedgerReport, LotSummary, SaleSummary,
};

use crate::date::Date;
use crate::lots::{
    is_long_term, is_zero, relieve, select_lots, Lot, LotError, LotId, LotSelection, Relieved,
    QTY_EPS,
};
use crate::types::{AccountKind, LotMethod, Side};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The wash-sale window: days before and after a loss sale.
pub const WASH_WINDOW_DAYS: i32 = 30;

/// Losses smaller than this (in dollars, per leg) are treated as no loss.
pub const MONEY_EPS: f64 = 1e-9;

/// An account of the household.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Unique id.
    pub id: String,
    /// Tax treatment.
    pub kind: AccountKind,
    /// The member who owns it (informational: the whole household is one taxpayer).
    #[serde(default)]
    pub owner: String,
}

/// A security and its substantially-identical group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// Unique symbol.
    pub symbol: String,
    /// The substantially-identical group (the unit of the wash-sale test).
    pub group: String,
}

/// A lot held before the first trade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpeningLot {
    /// Account id.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Shares (`> 0`).
    pub quantity: f64,
    /// Total cost basis (`≥ 0`).
    pub basis: f64,
    /// Purchase date.
    pub acquired: Date,
    /// Holding-period start when it differs from `acquired` (a lot that was itself a
    /// wash-sale replacement); defaults to `acquired`.
    #[serde(default)]
    pub holding_start: Option<Date>,
}

/// A buy or a sell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trade {
    /// Trade date.
    pub date: Date,
    /// Account id.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Buy or sell.
    pub side: Side,
    /// Shares (`> 0`, fractional allowed).
    pub quantity: f64,
    /// Price per share (`> 0`).
    pub price: f64,
    /// Fees and commissions in dollars (`≥ 0`, default 0): subtracted from a sale's
    /// proceeds, added to a buy's basis.
    #[serde(default)]
    pub fee: f64,
    /// Relief method for this sale; defaults to the ledger's method.
    #[serde(default)]
    pub method: Option<LotMethod>,
    /// Lots named for [`LotMethod::SpecificLot`], in relief order.
    #[serde(default)]
    pub lots: Vec<LotId>,
}

impl Trade {
    /// A buy without fee.
    pub fn buy(date: Date, account: &str, symbol: &str, quantity: f64, price: f64) -> Trade {
        Trade {
            date,
            account: account.into(),
            symbol: symbol.into(),
            side: Side::Buy,
            quantity,
            price,
            fee: 0.0,
            method: None,
            lots: Vec::new(),
        }
    }

    /// A sell without fee, relieved by the ledger's method.
    pub fn sell(date: Date, account: &str, symbol: &str, quantity: f64, price: f64) -> Trade {
        Trade {
            side: Side::Sell,
            ..Trade::buy(date, account, symbol, quantity, price)
        }
    }
}

/// One relieved lot of a taxable sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleLeg {
    /// The relieved lot.
    pub lot_id: LotId,
    /// Shares relieved.
    pub quantity: f64,
    /// The lot's purchase date.
    pub acquired: Date,
    /// The lot's holding-period start.
    pub holding_start: Date,
    /// True when held more than one year at the sale.
    pub long_term: bool,
    /// This leg's share of the net proceeds (pro rata by shares).
    pub proceeds: f64,
    /// Basis relieved, earlier wash adjustments included.
    pub basis: f64,
    /// The part of `basis` that came from earlier wash sales.
    pub wash_adjustment: f64,
    /// Loss disallowed by the wash-sale rule (`≥ 0`), including the part lost for good.
    pub disallowed: f64,
    /// Loss disallowed because the replacement was bought in a retirement account.
    pub permanently_disallowed: f64,
    /// Shares of this leg already matched with replacement shares.
    pub replaced: f64,
}

impl SaleLeg {
    /// Economic gain `proceeds − basis` (negative for a loss).
    pub fn economic_gain(&self) -> f64 {
        self.proceeds - self.basis
    }

    /// Recognized gain: `proceeds − basis + disallowed`.
    pub fn recognized(&self) -> f64 {
        self.proceeds - self.basis + self.disallowed
    }

    /// Loss per share (`> 0` for a loss leg, else 0).
    fn loss_per_share(&self) -> f64 {
        let g = self.economic_gain();
        if g < -MONEY_EPS && !is_zero(self.quantity) {
            -g / self.quantity
        } else {
            0.0
        }
    }

    fn unreplaced_loss_shares(&self) -> f64 {
        if self.loss_per_share() > 0.0 {
            (self.quantity - self.replaced).max(0.0)
        } else {
            0.0
        }
    }
}

/// The tax record of one sale in a taxable account (a 1099-B line, with its wash-sale
/// adjustment). `proceeds − basis + disallowed = short_term + long_term`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleRecord {
    /// Index of the trade in the ledger's trade sequence (0-based).
    pub trade: usize,
    /// Sale date.
    pub date: Date,
    /// Account id.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// Shares sold.
    pub quantity: f64,
    /// Net proceeds (`quantity × price − fee`).
    pub proceeds: f64,
    /// Basis relieved, earlier wash adjustments included.
    pub basis: f64,
    /// Loss disallowed (`≥ 0`), deferred into replacement lots or lost for good.
    pub disallowed: f64,
    /// Recognized short-term gain (negative for a loss).
    pub short_term: f64,
    /// Recognized long-term gain (negative for a loss).
    pub long_term: f64,
    /// The part of `disallowed` lost for good (replacement in a retirement account).
    pub permanently_disallowed: f64,
    /// The lots relieved, one leg each, in the order their shares were acquired (the
    /// order the wash-sale rule counts them disposed of; [`TradeOutcome::relieved`] lists
    /// them as the lot method relieved them).
    pub lots: Vec<SaleLeg>,
}

impl SaleRecord {
    fn recompute(&mut self) {
        let mut r = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for leg in &self.lots {
            r.0 += leg.proceeds;
            r.1 += leg.basis;
            r.2 += leg.disallowed;
            r.3 += leg.permanently_disallowed;
            if leg.long_term {
                r.5 += leg.recognized();
            } else {
                r.4 += leg.recognized();
            }
        }
        (
            self.proceeds,
            self.basis,
            self.disallowed,
            self.permanently_disallowed,
            self.short_term,
            self.long_term,
        ) = r;
    }
}

/// One wash-sale match: shares of a loss leg matched with replacement shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WashMatch {
    /// Index of the sale in [`Ledger::sales`].
    pub sale: usize,
    /// Index of the leg in the sale's `lots`.
    pub leg: usize,
    /// The replacement lot (after any split: the lot holding the replaced shares).
    pub replacement_lot: LotId,
    /// The replacement lot's account.
    pub account: String,
    /// The replacement lot's symbol.
    pub symbol: String,
    /// The replacement shares' purchase date (within 30 days of the sale).
    pub acquired: Date,
    /// Shares matched.
    pub quantity: f64,
    /// Loss disallowed by this match.
    pub disallowed: f64,
    /// True when the replacement is in a retirement account (loss lost for good).
    pub permanent: bool,
}

/// Realized (or unrealized) gains split by character.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Realized {
    /// Short-term gain (negative for a loss).
    pub short_term: f64,
    /// Long-term gain (negative for a loss).
    pub long_term: f64,
}

/// What applying one trade did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TradeOutcome {
    /// The trade's index.
    pub trade: usize,
    /// The lot a buy created (after wash splits, the id of its unreplaced rest if any).
    pub created: Option<LotId>,
    /// The lots a sell relieved (in any account), in the order the lot method relieved them.
    pub relieved: Vec<Relieved>,
    /// Index in [`Ledger::sales`] of the record a taxable sale produced.
    pub sale: Option<usize>,
    /// Indices in [`Ledger::washes`] of the matches this trade made.
    pub washes: std::ops::Range<usize>,
}

/// Why the ledger refuses an input. Nothing is changed when an error is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LedgerError {
    /// Two accounts share an id.
    #[error("duplicate account id `{id}`")]
    DuplicateAccount {
        /// The id.
        id: String,
    },
    /// Two securities share a symbol.
    #[error("duplicate symbol `{symbol}`")]
    DuplicateSecurity {
        /// The symbol.
        symbol: String,
    },
    /// The account id is not one of the household's.
    #[error("unknown account `{account}`")]
    UnknownAccount {
        /// The id.
        account: String,
    },
    /// The symbol is not a known security.
    #[error("unknown symbol `{symbol}`")]
    UnknownSymbol {
        /// The symbol.
        symbol: String,
    },
    /// A quantity is not a number of shares from 10⁻⁹ to 10¹⁵.
    #[error(
        "quantity {} is not a number of shares from 0.000000001 to 1e15",
        crate::num::shown(.quantity)
    )]
    InvalidQuantity {
        /// The value.
        quantity: f64,
    },
    /// A price is not a positive number of at most 10¹⁵.
    #[error("price {} is not a positive number of at most 1e15", crate::num::shown(.price))]
    InvalidPrice {
        /// The value.
        price: f64,
    },
    /// A fee is negative or not finite.
    #[error("fee {} is not an amount from 0 to 1e15", crate::num::shown(.fee))]
    InvalidFee {
        /// The value.
        fee: f64,
    },
    /// A trade's amount (shares × price, plus the fee) is too large to represent.
    #[error("{quantity:e} shares at {price:e} (with the fee): the amount is too large to book")]
    AmountTooLarge {
        /// The shares.
        quantity: f64,
        /// The price.
        price: f64,
        /// The fee.
        fee: f64,
    },
    /// An opening lot's basis is negative or not finite.
    #[error("basis {} is not an amount from 0 to 1e15", crate::num::shown(.basis))]
    InvalidBasis {
        /// The value.
        basis: f64,
    },
    /// A trade is dated before the previous one.
    #[error("dated {date}, before the previous trade ({previous}): trades must be in date order")]
    OutOfOrder {
        /// The trade's date.
        date: Date,
        /// The previous trade's date.
        previous: Date,
    },
    /// An opening lot was added after trades were applied.
    #[error("opening lots must be added before the first trade")]
    OpeningAfterTrades,
    /// An opening lot's holding period starts after its purchase date.
    #[error("holding_start {holding_start} is after the purchase date {acquired}")]
    HoldingStartAfterPurchase {
        /// The holding start given.
        holding_start: Date,
        /// The purchase date.
        acquired: Date,
    },
    /// A trade is dated before the purchase of an opening lot of the same group.
    #[error("dated {date}, before opening lot {lot} of the same security group was acquired ({acquired})")]
    OpeningLotAfterTrade {
        /// The opening lot's id.
        lot: LotId,
        /// Its purchase date.
        acquired: Date,
        /// The trade's date.
        date: Date,
    },
    /// A sale asks for more shares than the position holds.
    #[error(
        "sells {} {symbol} in account {account} but only {} are held",
        crate::num::shown(.requested),
        crate::num::shown(.available)
    )]
    Shortfall {
        /// Account id.
        account: String,
        /// Symbol.
        symbol: String,
        /// Shares asked for.
        requested: f64,
        /// Shares held (or held in the named lots).
        available: f64,
    },
    /// Lot relief failed for another reason (a named lot that is not open, …).
    #[error("sells {symbol} in account {account}: {error}")]
    Relief {
        /// Account id.
        account: String,
        /// Symbol.
        symbol: String,
        /// The cause.
        error: LotError,
    },
    /// A price needed for a valuation is missing or not positive.
    #[error("no usable price for `{symbol}`")]
    MissingPrice {
        /// The symbol.
        symbol: String,
    },
}

/// The household ledger. See the [module documentation](self) for the rules.
#[derive(Debug, Clone)]
pub struct Ledger {
    accounts: BTreeMap<String, Account>,
    securities: BTreeMap<String, Security>,
    method: LotMethod,
    /// Account ids in order: an account's index (shared with the account's lots).
    account_ids: Vec<Arc<str>>,
    /// Whether each account (by index) is taxable.
    account_taxable: Vec<bool>,
    /// Symbols in order: a security's index (shared with the security's lots).
    symbols: Vec<Arc<str>>,
    /// Each security's group index (groups numbered in name order).
    symbol_group: Vec<usize>,
    /// Each group's securities (indices, in symbol order).
    group_members: Vec<Vec<usize>>,
    /// Open lots by position, `account index × securities + security index`, each in
    /// booking order: iteration order is that of `(account id, symbol)`.
    positions: Vec<Vec<Lot>>,
    /// The purchase each piece split off a lot by a wash came from (`piece → purchase`;
    /// a lot not listed is its own purchase): shares of one purchase are not their own
    /// replacement, whatever their ids.
    purchase_of: BTreeMap<LotId, LotId>,
    /// The lot each piece was split off (`piece → lot`): a sale that names a lot decided
    /// before a wash split it still means the piece ([`Ledger::named_with_pieces`]).
    split_from: BTreeMap<LotId, LotId>,
    next_id: LotId,
    trades: usize,
    last_date: Option<Date>,
    /// Latest-acquired opening lot per group index: (acquired, id).
    opening_latest: Vec<Option<(Date, LotId)>>,
    sales: Vec<SaleRecord>,
    pending: Vec<usize>,
    /// Shares bought in the last 30 days and relieved since: still acquisitions for the
    /// wash-sale test of a later loss sale (see [`Closed`]).
    closed: Vec<Closed>,
    washes: Vec<WashMatch>,
    permanently_disallowed: f64,
}

/// Shares that were bought and then sold (or otherwise relieved) again. A loss sale up to
/// 30 days after their purchase is washed by them all the same: the rule asks whether
/// substantially identical shares were *acquired* in the window, not whether they are
/// still held.
#[derive(Debug, Clone)]
struct Closed {
    /// The purchase date.
    acquired: Date,
    /// The lot the shares came from.
    lot_id: LotId,
    /// Their substantially-identical group.
    group: usize,
    /// The position they were held in (`account index × securities + security index`).
    position: usize,
    /// Shares that can still absorb a loss.
    capacity: f64,
    /// The taxable sale that relieved them: `(sale index, leg index)`; `None` in a
    /// retirement account.
    sale: Option<(usize, usize)>,
}

/// Where a replacement share is: an open lot's position, or a closed piece.
#[derive(Debug, Clone, Copy)]
enum Replacement {
    Open(usize),
    Closed(usize),
}

/// Largest quantity, price, basis or fee the ledger books: far above any household's, and
/// small enough that its sums and products stay finite
/// ([`crate::scenario::form::MAX_MAGNITUDE`], as a scenario's numbers).
const MAX_AMOUNT: f64 = crate::scenario::form::MAX_MAGNITUDE;

fn check_positive(x: f64) -> bool {
    x.is_finite() && x > 0.0 && x <= MAX_AMOUNT
}

fn check_amount(x: f64) -> bool {
    (0.0..=MAX_AMOUNT).contains(&x)
}

impl Ledger {
    /// A ledger for a household's accounts and securities; `method` relieves lots for every
    /// sale that does not name its own.
    pub fn new(
        accounts: impl IntoIterator<Item = Account>,
        securities: impl IntoIterator<Item = Security>,
        method: LotMethod,
    ) -> Result<Ledger, LedgerError> {
        let mut acc = BTreeMap::new();
        for a in accounts {
            if acc.contains_key(&a.id) {
                return Err(LedgerError::DuplicateAccount { id: a.id });
            }
            acc.insert(a.id.clone(), a);
        }
        let mut secs = BTreeMap::new();
        let mut groups: BTreeSet<String> = BTreeSet::new();
        for s in securities {
            if secs.contains_key(&s.symbol) {
                return Err(LedgerError::DuplicateSecurity { symbol: s.symbol });
            }
            groups.insert(s.group.clone());
            secs.insert(s.symbol.clone(), s);
        }
        let account_ids: Vec<Arc<str>> = acc.keys().map(|k| Arc::from(k.as_str())).collect();
        let account_taxable = acc
            .values()
            .map(|a: &Account| a.kind.is_taxable())
            .collect();
        let symbols: Vec<Arc<str>> = secs.keys().map(|k| Arc::from(k.as_str())).collect();
        let group_index = |g: &str| groups.iter().position(|x| x == g).unwrap_or(0);
        let symbol_group: Vec<usize> = secs
            .values()
            .map(|x: &Security| group_index(&x.group))
            .collect();
        let mut group_members = vec![Vec::new(); groups.len()];
        for (i, &g) in symbol_group.iter().enumerate() {
            group_members[g].push(i);
        }
        Ok(Ledger {
            positions: vec![Vec::new(); account_ids.len() * symbols.len()],
            opening_latest: vec![None; groups.len()],
            accounts: acc,
            securities: secs,
            method,
            account_ids,
            account_taxable,
            symbols,
            symbol_group,
            group_members,
            purchase_of: BTreeMap::new(),
            split_from: BTreeMap::new(),
            next_id: 0,
            trades: 0,
            last_date: None,
            sales: Vec::new(),
            pending: Vec::new(),
            closed: Vec::new(),
            washes: Vec::new(),
            permanently_disallowed: 0.0,
        })
    }

    fn account_index(&self, id: &str) -> Result<usize, LedgerError> {
        self.account_ids
            .binary_search_by(|x| (**x).cmp(id))
            .map_err(|_| LedgerError::UnknownAccount { account: id.into() })
    }

    fn symbol_index(&self, symbol: &str) -> Result<usize, LedgerError> {
        self.symbols
            .binary_search_by(|x| (**x).cmp(symbol))
            .map_err(|_| LedgerError::UnknownSymbol {
                symbol: symbol.into(),
            })
    }

    /// The index of the position `(account, symbol)` (see [`Ledger::position_at`]), or
    /// `None` when either is not the ledger's.
    pub(crate) fn position_index(&self, account: &str, symbol: &str) -> Option<usize> {
        let a = self.account_index(account).ok()?;
        let s = self.symbol_index(symbol).ok()?;
        Some(a * self.symbols.len() + s)
    }

    /// The open lots of the position with index `index` ([`Ledger::position_index`]), in
    /// booking order; empty for an index out of range.
    pub(crate) fn position_at(&self, index: usize) -> &[Lot] {
        self.positions.get(index).map_or(&[], Vec::as_slice)
    }

    /// The id the ledger's next lot will get: lots with ids from here on are booked (or
    /// split off) after this call.
    pub(crate) fn next_lot_id(&self) -> LotId {
        self.next_id
    }

    /// The lots `named` in position `index`, with the pieces split off them by washes
    /// since lot id `since` ([`Ledger::next_lot_id`] when the sale was decided), into `out`:
    /// the named lots in order, then their pieces in the position's order. A sale decided on the
    /// day's lots and carried out after an earlier sale of the day washed part of a named
    /// lot sells that lot's shares, as a broker's lot would be sold, not only the part that
    /// kept its id.
    pub(crate) fn named_with_pieces(
        &self,
        index: usize,
        named: &[LotId],
        since: LotId,
        out: &mut Vec<LotId>,
    ) {
        out.clear();
        out.extend_from_slice(named);
        if self.next_id <= since {
            return;
        }
        // A piece comes after the lot it was split off in the position (it is inserted right
        // after it), and its id is larger: one pass finds pieces of pieces too.
        for l in self.position_at(index) {
            if l.id >= since && !out.contains(&l.id) {
                if let Some(parent) = self.split_from.get(&l.id) {
                    if out.contains(parent) {
                        out.push(l.id);
                    }
                }
            }
        }
    }

    /// The purchase lot `id`'s shares came from (itself, unless split off by a wash).
    pub(crate) fn purchase(&self, id: LotId) -> LotId {
        self.purchase_of.get(&id).copied().unwrap_or(id)
    }

    fn new_id(&mut self) -> LotId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Adds a lot held before the first trade and returns its id (opening lots are
    /// numbered 0, 1, … in the order added; each buy's lot takes the next number).
    pub fn open_lot(&mut self, lot: OpeningLot) -> Result<LotId, LedgerError> {
        if self.trades > 0 {
            return Err(LedgerError::OpeningAfterTrades);
        }
        let a = self.account_index(&lot.account)?;
        let x = self.symbol_index(&lot.symbol)?;
        let group = self.symbol_group[x];
        if !check_positive(lot.quantity) || is_zero(lot.quantity) {
            return Err(LedgerError::InvalidQuantity {
                quantity: lot.quantity,
            });
        }
        if !check_amount(lot.basis) {
            return Err(LedgerError::InvalidBasis { basis: lot.basis });
        }
        let holding_start = lot.holding_start.unwrap_or(lot.acquired);
        if holding_start > lot.acquired {
            return Err(LedgerError::HoldingStartAfterPurchase {
                holding_start,
                acquired: lot.acquired,
            });
        }
        let id = self.new_id();
        let latest = self.opening_latest[group].get_or_insert((lot.acquired, id));
        if lot.acquired > latest.0 {
            *latest = (lot.acquired, id);
        }
        let pi = a * self.symbols.len() + x;
        self.positions[pi].push(Lot {
            id,
            account: self.account_ids[a].clone(),
            symbol: self.symbols[x].clone(),
            quantity: lot.quantity,
            basis: lot.basis,
            acquired: lot.acquired,
            holding_start,
            wash_adjustment: 0.0,
            // A lot whose holding period starts before its purchase was itself a
            // replacement: each of its shares has absorbed a loss already (Reg.
            // §1.1091-1(e)), so it replaces no other.
            replacement_used: if holding_start < lot.acquired {
                lot.quantity
            } else {
                0.0
            },
        });
        Ok(id)
    }

    /// Books a dividend reinvestment: a purchase like any other (it can replace a washed
    /// loss).
    pub fn reinvest(
        &mut self,
        date: Date,
        account: &str,
        symbol: &str,
        quantity: f64,
        price: f64,
    ) -> Result<TradeOutcome, LedgerError> {
        self.apply(&Trade::buy(date, account, symbol, quantity, price))
    }

    /// Applies one trade. Trades must come in date order; same-day trades apply in the
    /// order given. On error nothing changes.
    pub fn apply(&mut self, trade: &Trade) -> Result<TradeOutcome, LedgerError> {
        let a = self.account_index(&trade.account)?;
        let x = self.symbol_index(&trade.symbol)?;
        self.apply_at(trade, a * self.symbols.len() + x)
    }

    /// [`Ledger::apply`] for a trade whose position index ([`Ledger::position_index`] of
    /// its account and symbol) the caller already has: the same checks and booking,
    /// without looking the ids up again.
    pub(crate) fn apply_at(
        &mut self,
        trade: &Trade,
        pi: usize,
    ) -> Result<TradeOutcome, LedgerError> {
        debug_assert_eq!(
            self.position_index(&trade.account, &trade.symbol),
            Some(pi),
            "the position index is not the trade's"
        );
        if pi >= self.positions.len() {
            return Err(LedgerError::UnknownSymbol {
                symbol: trade.symbol.clone(),
            });
        }
        let group = self.symbol_group[pi % self.symbols.len()];
        if !check_positive(trade.quantity) || is_zero(trade.quantity) {
            return Err(LedgerError::InvalidQuantity {
                quantity: trade.quantity,
            });
        }
        if !check_positive(trade.price) {
            return Err(LedgerError::InvalidPrice { price: trade.price });
        }
        if !check_amount(trade.fee) {
            return Err(LedgerError::InvalidFee { fee: trade.fee });
        }
        if !(trade.quantity * trade.price + trade.fee).is_finite() {
            return Err(LedgerError::AmountTooLarge {
                quantity: trade.quantity,
                price: trade.price,
                fee: trade.fee,
            });
        }
        if let Some(previous) = self.last_date {
            if trade.date < previous {
                return Err(LedgerError::OutOfOrder {
                    date: trade.date,
                    previous,
                });
            }
        }
        if let Some((acquired, lot)) = self.opening_latest[group] {
            if acquired > trade.date {
                return Err(LedgerError::OpeningLotAfterTrade {
                    lot,
                    acquired,
                    date: trade.date,
                });
            }
        }
        let washes_before = self.washes.len();
        let mut outcome = match trade.side {
            Side::Buy => self.apply_buy(trade, pi, group),
            Side::Sell => self.apply_sell(trade, pi, group)?,
        };
        outcome.trade = self.trades;
        outcome.washes = washes_before..self.washes.len();
        self.trades += 1;
        self.last_date = Some(trade.date);
        Ok(outcome)
    }

    fn apply_buy(&mut self, trade: &Trade, pi: usize, group: usize) -> TradeOutcome {
        let id = self.new_id();
        self.positions[pi].push(Lot {
            id,
            account: self.account_ids[pi / self.symbols.len()].clone(),
            symbol: self.symbols[pi % self.symbols.len()].clone(),
            quantity: trade.quantity,
            basis: trade.quantity * trade.price + trade.fee,
            acquired: trade.date,
            holding_start: trade.date,
            wash_adjustment: 0.0,
            replacement_used: 0.0,
        });
        // Pending loss sales of the group, oldest first, within the window.
        let earliest = trade.date.add_days(-WASH_WINDOW_DAYS);
        let sales = &self.sales;
        self.pending.retain(|&s| {
            sales[s].date >= earliest
                && sales[s]
                    .lots
                    .iter()
                    .any(|l| l.unreplaced_loss_shares() > QTY_EPS)
        });
        // Most buys follow no pending loss sale: clone nothing then.
        if !self.pending.is_empty() {
            let pending = self.pending.clone();
            for s in pending {
                let sold = self.symbol_index(&self.sales[s].symbol).ok();
                if sold.map(|x| self.symbol_group[x]) != Some(group) {
                    continue;
                }
                for leg in 0..self.sales[s].lots.len() {
                    self.wash_into(s, leg, pi, id);
                    let open = self
                        .find_lot(pi, id)
                        .map(|l| l.replacement_capacity() > QTY_EPS)
                        .unwrap_or(false);
                    if !open {
                        break;
                    }
                }
            }
        }
        TradeOutcome {
            created: self.positions[pi]
                .iter()
                .rev()
                .find(|l| l.id == id)
                .map(|l| l.id),
            ..TradeOutcome::default()
        }
    }

    fn apply_sell(
        &mut self,
        trade: &Trade,
        pi: usize,
        group: usize,
    ) -> Result<TradeOutcome, LedgerError> {
        let taxable = self.account_taxable[pi / self.symbols.len()];
        let selection = LotSelection {
            method: trade.method.unwrap_or(self.method),
            specific: trade.lots.clone(),
        };
        let picks = select_lots(
            &self.positions[pi],
            trade.quantity,
            &selection,
            trade.date,
            trade.price,
        )
        .map_err(|e| match e {
            LotError::Shortfall {
                requested,
                available,
            } => LedgerError::Shortfall {
                account: trade.account.clone(),
                symbol: trade.symbol.clone(),
                requested,
                available,
            },
            error => LedgerError::Relief {
                account: trade.account.clone(),
                symbol: trade.symbol.clone(),
                error,
            },
        })?;
        let picked = relieve(&mut self.positions[pi], &picks);
        // The legs of one sale are disposed of at once: for the wash-sale rule they count
        // as disposed of in the order the shares were acquired (Reg. §1.1091-1(b)), not in
        // the order the lot method relieved them. (The outcome lists the lots as relieved.)
        let mut relieved = picked.clone();
        relieved.sort_by(|a, b| a.acquired.cmp(&b.acquired).then(a.lot_id.cmp(&b.lot_id)));
        let mut outcome = TradeOutcome {
            relieved: picked,
            ..TradeOutcome::default()
        };
        if !taxable {
            self.record_closed(&relieved, trade.date, pi, group, None);
            return Ok(outcome);
        }
        let sold_q = relieved.iter().fold(0.0, |a, r| a + r.quantity);
        let proceeds = trade.quantity * trade.price - trade.fee;
        let legs: Vec<SaleLeg> = relieved
            .iter()
            .map(|r| SaleLeg {
                lot_id: r.lot_id,
                quantity: r.quantity,
                acquired: r.acquired,
                holding_start: r.holding_start,
                long_term: is_long_term(r.holding_start, trade.date),
                proceeds: if sold_q > 0.0 {
                    proceeds * r.quantity / sold_q
                } else {
                    0.0
                },
                basis: r.basis,
                wash_adjustment: r.wash_adjustment,
                disallowed: 0.0,
                permanently_disallowed: 0.0,
                replaced: 0.0,
            })
            .collect();
        let mut record = SaleRecord {
            trade: self.trades,
            date: trade.date,
            account: trade.account.clone(),
            symbol: trade.symbol.clone(),
            quantity: sold_q,
            proceeds: 0.0,
            basis: 0.0,
            disallowed: 0.0,
            short_term: 0.0,
            long_term: 0.0,
            permanently_disallowed: 0.0,
            lots: legs,
        };
        record.recompute();
        let s = self.sales.len();
        self.sales.push(record);
        outcome.sale = Some(s);
        if self.sales[s].lots.iter().all(|l| l.loss_per_share() <= 0.0) {
            self.record_closed(&relieved, trade.date, pi, group, Some(s));
            return Ok(outcome);
        }
        // Replacement shares acquired in the 30 days before, in order of acquisition: open
        // lots of the group (the rest of a lot this sale draws on among them), and shares
        // bought in the window and sold again since. Each leg is matched with those of
        // other purchases only: shares are not their own replacement, but the rest of a
        // recent purchase replaces the other legs of a sale that drew on part of it, as it
        // would if the legs had been sold one order at a time.
        let earliest = trade.date.add_days(-WASH_WINDOW_DAYS);
        let mut candidates: Vec<(Date, LotId, Replacement)> = Vec::new();
        let ns = self.symbols.len();
        for &x in &self.group_members[group] {
            for a in 0..self.account_ids.len() {
                for l in &self.positions[a * ns + x] {
                    if l.acquired >= earliest
                        && l.acquired <= trade.date
                        && l.replacement_capacity() > QTY_EPS
                    {
                        candidates.push((l.acquired, l.id, Replacement::Open(a * ns + x)));
                    }
                }
            }
        }
        for (ci, c) in self.closed.iter().enumerate() {
            if c.group == group
                && c.acquired >= earliest
                && c.acquired <= trade.date
                && c.capacity > QTY_EPS
            {
                candidates.push((c.acquired, c.lot_id, Replacement::Closed(ci)));
            }
        }
        candidates.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        for leg in 0..self.sales[s].lots.len() {
            let own = self.purchase(self.sales[s].lots[leg].lot_id);
            for (_, id, source) in &candidates {
                if self.sales[s].lots[leg].unreplaced_loss_shares() <= QTY_EPS {
                    break;
                }
                if self.purchase(*id) == own {
                    continue;
                }
                match *source {
                    Replacement::Open(pkey) => self.wash_into(s, leg, pkey, *id),
                    Replacement::Closed(ci) => self.wash_into_closed(s, leg, ci),
                };
            }
        }
        if self.sales[s]
            .lots
            .iter()
            .any(|l| l.unreplaced_loss_shares() > QTY_EPS)
        {
            self.pending.push(s);
        }
        self.record_closed(&relieved, trade.date, pi, group, Some(s));
        Ok(outcome)
    }

    /// Keeps the shares a sale relieved that were bought in the last 30 days (they can
    /// still wash a later loss sale), and forgets those bought earlier. `sale`: the
    /// taxable sale's record (its legs are the relieved lots, in order).
    fn record_closed(
        &mut self,
        relieved: &[Relieved],
        date: Date,
        position: usize,
        group: usize,
        sale: Option<usize>,
    ) {
        let earliest = date.add_days(-WASH_WINDOW_DAYS);
        self.closed
            .retain(|c| c.acquired >= earliest && c.capacity > QTY_EPS);
        for (i, r) in relieved.iter().enumerate() {
            let capacity = r.quantity - r.replacement_used;
            if r.acquired >= earliest && capacity > QTY_EPS {
                self.closed.push(Closed {
                    acquired: r.acquired,
                    lot_id: r.lot_id,
                    group,
                    position,
                    capacity,
                    sale: sale.map(|s| (s, i)),
                });
            }
        }
    }

    /// Matches unreplaced loss shares of leg `leg` of sale `s` with the shares of closed
    /// piece `ci` (bought in the window, sold since); returns the shares matched. In a
    /// retirement account the loss is lost for good; in a taxable one the disallowed loss
    /// goes into the basis of those shares in the sale that relieved them (the replaced
    /// shares become a leg of their own, with the sold lot's holding period tacked on), so
    /// that sale's gain falls, or its loss grows, by as much.
    fn wash_into_closed(&mut self, s: usize, leg: usize, ci: usize) -> f64 {
        let Some(c) = self.closed.get(ci).cloned() else {
            return 0.0;
        };
        let Some((q, disallowed, tacked)) = self.match_terms(s, leg, c.capacity, c.acquired) else {
            return 0.0;
        };
        self.closed[ci].capacity = if q == c.capacity { 0.0 } else { c.capacity - q };
        let ns = self.symbols.len();
        let permanent = !self.account_taxable[c.position / ns];
        // A sale whose leg this turns into a loss (or leaves with loss shares unmatched)
        // waits, as any loss sale, for purchases in the 30 days after it.
        let mut now_pending = None;
        if let (false, Some((rs, rl))) = (permanent, c.sale) {
            if let Some(rec) = self.sales.get_mut(rs) {
                let target = match rec.lots.get_mut(rl) {
                    Some(base) if base.quantity - q < QTY_EPS => Some(rl),
                    Some(base) => {
                        let share = q / base.quantity;
                        let piece = SaleLeg {
                            quantity: q,
                            proceeds: base.proceeds * share,
                            basis: base.basis * share,
                            wash_adjustment: base.wash_adjustment * share,
                            disallowed: base.disallowed * share,
                            permanently_disallowed: base.permanently_disallowed * share,
                            replaced: base.replaced * share,
                            ..base.clone()
                        };
                        base.quantity -= q;
                        base.proceeds -= piece.proceeds;
                        base.basis -= piece.basis;
                        base.wash_adjustment -= piece.wash_adjustment;
                        base.disallowed -= piece.disallowed;
                        base.permanently_disallowed -= piece.permanently_disallowed;
                        base.replaced -= piece.replaced;
                        rec.lots.push(piece);
                        Some(rec.lots.len() - 1)
                    }
                    None => None,
                };
                if let Some(t) = target {
                    let date = rec.date;
                    let l = &mut rec.lots[t];
                    l.basis += disallowed;
                    l.wash_adjustment += disallowed;
                    l.holding_start = tacked;
                    l.long_term = is_long_term(tacked, date);
                    if l.unreplaced_loss_shares() > QTY_EPS {
                        now_pending = Some(rs);
                    }
                    rec.recompute();
                }
            }
        }
        // (`pending` is in sale order, oldest first.)
        if let Some(rs) = now_pending {
            if let Err(at) = self.pending.binary_search(&rs) {
                self.pending.insert(at, rs);
            }
        }
        self.book_match(
            s,
            leg,
            q,
            disallowed,
            permanent,
            (c.lot_id, c.position, c.acquired),
        );
        q
    }

    /// Books a match of `q` loss shares of leg `leg` of sale `s` with replacement shares
    /// (`(lot, position, purchase date)`): the leg's replaced shares and disallowed loss,
    /// the record, and the [`WashMatch`].
    fn book_match(
        &mut self,
        s: usize,
        leg: usize,
        q: f64,
        disallowed: f64,
        permanent: bool,
        (replacement_lot, position, acquired): (LotId, usize, Date),
    ) {
        let ns = self.symbols.len();
        let sale = &mut self.sales[s];
        let l = &mut sale.lots[leg];
        l.replaced += q;
        l.disallowed += disallowed;
        if permanent {
            l.permanently_disallowed += disallowed;
            self.permanently_disallowed += disallowed;
        }
        sale.recompute();
        self.washes.push(WashMatch {
            sale: s,
            leg,
            replacement_lot,
            account: self.account_ids[position / ns].to_string(),
            symbol: self.symbols[position % ns].to_string(),
            acquired,
            quantity: q,
            disallowed,
            permanent,
        });
    }

    fn find_lot(&self, pi: usize, id: LotId) -> Option<&Lot> {
        self.positions.get(pi)?.iter().find(|l| l.id == id)
    }

    /// What leg `leg` of sale `s` matches with `capacity` replacement shares bought on
    /// `acquired`: the shares matched (all of the capacity when within rounding of it),
    /// the loss they disallow, and the replacement's holding start with the sold lot's
    /// holding period tacked on; `None` when the leg has no unreplaced loss or nothing
    /// matches.
    fn match_terms(
        &self,
        s: usize,
        leg: usize,
        capacity: f64,
        acquired: Date,
    ) -> Option<(f64, f64, Date)> {
        let sale = &self.sales[s];
        let l = &sale.lots[leg];
        let (loss_ps, unreplaced) = (l.loss_per_share(), l.unreplaced_loss_shares());
        if loss_ps <= 0.0 || unreplaced <= QTY_EPS {
            return None;
        }
        let mut q = unreplaced.min(capacity);
        if q <= QTY_EPS {
            return None;
        }
        if capacity - q < QTY_EPS {
            q = capacity;
        }
        let tacked = acquired.add_days(-sale.date.days_since(l.holding_start));
        Some((q, q * loss_ps, tacked))
    }

    /// Matches unreplaced loss shares of leg `leg` of sale `s` with the replacement
    /// capacity of lot `id`; returns the shares matched.
    fn wash_into(&mut self, s: usize, leg: usize, pi: usize, id: LotId) -> f64 {
        let Some(pos) = self
            .positions
            .get(pi)
            .and_then(|lots| lots.iter().position(|l| l.id == id))
        else {
            return 0.0;
        };
        let (cap, acquired) = {
            let l = &self.positions[pi][pos];
            (l.replacement_capacity(), l.acquired)
        };
        let Some((q, disallowed, tacked)) = self.match_terms(s, leg, cap, acquired) else {
            return 0.0;
        };
        let ns = self.symbols.len();
        let permanent = !self.account_taxable[pi / ns];
        let piece_id = self.next_id;
        let purchase = self.purchase(id);
        let lots = &mut self.positions[pi];
        let replacement_lot;
        if permanent {
            lots[pos].replacement_used = (lots[pos].replacement_used + q).min(lots[pos].quantity);
            replacement_lot = id;
        } else {
            let lot = &mut lots[pos];
            if lot.quantity - q < QTY_EPS {
                lot.basis += disallowed;
                lot.wash_adjustment += disallowed;
                lot.holding_start = tacked;
                lot.replacement_used = lot.quantity;
                replacement_lot = id;
            } else {
                let share = q / lot.quantity;
                let basis = lot.basis * share;
                let wash = lot.wash_adjustment * share;
                lot.quantity -= q;
                lot.basis -= basis;
                lot.wash_adjustment -= wash;
                lot.replacement_used = lot.replacement_used.min(lot.quantity);
                let piece = Lot {
                    id: piece_id,
                    account: lot.account.clone(),
                    symbol: lot.symbol.clone(),
                    quantity: q,
                    basis: basis + disallowed,
                    acquired: lot.acquired,
                    holding_start: tacked,
                    wash_adjustment: wash + disallowed,
                    replacement_used: q,
                };
                lots.insert(pos + 1, piece);
                self.next_id += 1;
                self.purchase_of.insert(piece_id, purchase);
                self.split_from.insert(piece_id, id);
                replacement_lot = piece_id;
            }
        }
        self.book_match(
            s,
            leg,
            q,
            disallowed,
            permanent,
            (replacement_lot, pi, acquired),
        );
        q
    }

    /// The substantially-identical group of a symbol.
    pub fn group_of(&self, symbol: &str) -> Option<&str> {
        self.securities.get(symbol).map(|s| s.group.as_str())
    }

    /// The default relief method.
    pub fn method(&self) -> LotMethod {
        self.method
    }

    /// The household's accounts, by id.
    pub fn accounts(&self) -> impl Iterator<Item = &Account> {
        self.accounts.values()
    }

    /// The open lots of one position, in booking order.
    pub fn position(&self, account: &str, symbol: &str) -> &[Lot] {
        self.position_index(account, symbol)
            .map_or(&[], |i| self.position_at(i))
    }

    /// Shares held in one position.
    pub fn held(&self, account: &str, symbol: &str) -> f64 {
        self.position(account, symbol)
            .iter()
            .fold(0.0, |a, l| a + l.quantity)
    }

    /// Every open lot, by account id, then symbol, then booking order.
    pub fn lots(&self) -> impl Iterator<Item = &Lot> {
        self.positions.iter().flatten()
    }

    /// Every taxable sale's record, in trade order (records may still change while a
    /// later buy can wash them: see [`Ledger::is_final`]).
    pub fn sales(&self) -> &[SaleRecord] {
        &self.sales
    }

    /// Every wash-sale match, in the order made.
    pub fn washes(&self) -> &[WashMatch] {
        &self.washes
    }

    /// Total loss lost for good (replacements in retirement accounts).
    pub fn permanently_disallowed(&self) -> f64 {
        self.permanently_disallowed
    }

    /// Trades applied so far.
    pub fn trade_count(&self) -> usize {
        self.trades
    }

    /// True when sale `sale` can no longer change as of `as_of`: its 30-day window has
    /// passed (`as_of > sale date + 30 days`) or it has no unreplaced loss, and every lot
    /// it relieved was bought more than 30 days before `as_of` (until then those shares
    /// can replace a later loss sale, which adds the disallowed loss to their basis).
    pub fn is_final(&self, sale: usize, as_of: Date) -> bool {
        self.sales.get(sale).is_none_or(|s| {
            // Its loss can be washed by a purchase up to 30 days after it, and its shares
            // can replace a later loss sale up to 30 days after they were bought.
            (as_of > s.date.add_days(WASH_WINDOW_DAYS)
                || s.lots.iter().all(|l| l.unreplaced_loss_shares() <= QTY_EPS))
                && s.lots
                    .iter()
                    .all(|l| as_of > l.acquired.add_days(WASH_WINDOW_DAYS))
        })
    }

    /// Shares of `group` that would replace a loss sold on `date` (for a wash-sale guard):
    /// shares in any account acquired in the 30 days up to `date` with replacement
    /// capacity left, held or sold since. Lots the sale itself would draw on are counted
    /// too: subtract them when they are the shares to be sold.
    pub fn replacement_shares_before(&self, group: &str, date: Date) -> f64 {
        let earliest = date.add_days(-WASH_WINDOW_DAYS);
        let in_window = |d: Date| d >= earliest && d <= date;
        let open = self
            .lots()
            .filter(|l| self.group_of(&l.symbol) == Some(group))
            .filter(|l| in_window(l.acquired))
            .fold(0.0, |a, l| a + l.replacement_capacity());
        let gi = self
            .symbols
            .iter()
            .position(|x| self.group_of(x) == Some(group));
        let g = gi.map(|x| self.symbol_group[x]);
        self.closed
            .iter()
            .filter(|c| Some(c.group) == g && in_window(c.acquired))
            .fold(open, |a, c| a + c.capacity)
    }

    /// Whether shares were acquired from `since` to `until` (both included) in any of
    /// `positions` ([`Ledger::position_index`]), held or sold since, other than those of
    /// the lots `except` (shares a sale would draw on: not their own replacement).
    pub(crate) fn acquired_in(
        &self,
        positions: &[usize],
        since: Date,
        until: Date,
        except: &[LotId],
    ) -> bool {
        let window = |d: Date| d >= since && d <= until;
        positions.iter().any(|&p| {
            self.position_at(p)
                .iter()
                .any(|l| window(l.acquired) && !except.contains(&l.id))
        }) || self.closed.iter().any(|c| {
            positions.contains(&c.position) && window(c.acquired) && !except.contains(&c.lot_id)
        })
    }

    /// Loss shares of `group` sold in taxable accounts in the 30 days up to `date` that a
    /// purchase on `date` would wash (for a wash-sale guard), with the loss per share of
    /// each, oldest first: `(sale index, shares, loss per share)`.
    pub fn pending_losses(&self, group: &str, date: Date) -> Vec<(usize, f64, f64)> {
        let earliest = date.add_days(-WASH_WINDOW_DAYS);
        let mut out = Vec::new();
        for &s in &self.pending {
            let sale = &self.sales[s];
            if sale.date < earliest || sale.date > date {
                continue;
            }
            if self.group_of(&sale.symbol) != Some(group) {
                continue;
            }
            for leg in &sale.lots {
                let q = leg.unreplaced_loss_shares();
                if q > QTY_EPS {
                    out.push((s, q, leg.loss_per_share()));
                }
            }
        }
        out
    }

    /// Recognized gains by tax year (the sale date's calendar year).
    pub fn realized_by_year(&self) -> BTreeMap<i32, Realized> {
        let mut out: BTreeMap<i32, Realized> = BTreeMap::new();
        for s in &self.sales {
            let r = out.entry(s.date.year()).or_default();
            r.short_term += s.short_term;
            r.long_term += s.long_term;
        }
        out
    }

    /// Unrealized gains of the taxable accounts if everything were sold on `date` at
    /// `prices` (by symbol), split by each lot's holding period. Wash sales that such a
    /// sale might trigger are ignored.
    pub fn unrealized_taxable(
        &self,
        prices: &BTreeMap<String, f64>,
        date: Date,
    ) -> Result<Realized, LedgerError> {
        let mut out = Realized::default();
        for lot in self.lots() {
            if !self
                .accounts
                .get(&*lot.account)
                .is_some_and(|a| a.kind.is_taxable())
            {
                continue;
            }
            let price = prices
                .get(&*lot.symbol)
                .copied()
                .filter(|p| check_positive(*p))
                .ok_or_else(|| LedgerError::MissingPrice {
                    symbol: lot.symbol.to_string(),
                })?;
            let gain = lot.quantity * price - lot.basis;
            if lot.is_long_term_on(date) {
                out.long_term += gain;
            } else {
                out.short_term += gain;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().expect("date")
    }

    #[test]
    fn positions_are_indexed_in_id_order() {
        let accounts =
            [("T2", AccountKind::Taxable), ("T1", AccountKind::RothIra)].map(|(id, kind)| {
                Account {
                    id: id.into(),
                    kind,
                    owner: "A".into(),
                }
            });
        let securities = [("ZZ", "G"), ("AA", "G"), ("MM", "H")].map(|(s, g)| Security {
            symbol: s.into(),
            group: g.into(),
        });
        let mut l = Ledger::new(accounts, securities, LotMethod::Fifo).expect("ledger");
        // Booked out of id order.
        for (account, symbol) in [("T2", "ZZ"), ("T1", "MM"), ("T2", "AA"), ("T1", "ZZ")] {
            l.apply(&Trade::buy(d("2024-01-02"), account, symbol, 1.0, 10.0))
                .expect("buy");
        }
        let order: Vec<(&str, &str)> = l.lots().map(|x| (&*x.account, &*x.symbol)).collect();
        assert_eq!(
            order,
            [("T1", "MM"), ("T1", "ZZ"), ("T2", "AA"), ("T2", "ZZ")]
        );
        for (account, symbol) in [("T1", "MM"), ("T2", "AA"), ("T2", "MM")] {
            let i = l.position_index(account, symbol).expect("known position");
            assert_eq!(l.position_at(i), l.position(account, symbol));
        }
        assert_eq!(
            l.position_at(l.position_index("T2", "ZZ").unwrap())[0].id,
            0
        );
        assert_eq!(l.position_index("T3", "ZZ"), None);
        assert_eq!(l.position_index("T1", "QQ"), None);
        assert!(l.position_at(usize::MAX).is_empty());
        assert!(matches!(
            l.apply(&Trade::buy(d("2024-01-03"), "T1", "QQ", 1.0, 10.0)),
            Err(LedgerError::UnknownSymbol { .. })
        ));
        assert!(matches!(
            l.apply(&Trade::buy(d("2024-01-03"), "T3", "ZZ", 1.0, 10.0)),
            Err(LedgerError::UnknownAccount { .. })
        ));
    }

    /// A LIFO sale lists its lots as relieved (newest first) in its outcome, and its
    /// record's legs in the order the shares were acquired (the wash-sale order).
    #[test]
    fn a_sale_lists_its_lots_as_relieved_and_its_legs_as_acquired() {
        let accounts = [Account {
            id: "T".into(),
            kind: AccountKind::Taxable,
            owner: "A".into(),
        }];
        let securities = [Security {
            symbol: "X".into(),
            group: "X".into(),
        }];
        let mut l = Ledger::new(accounts, securities, LotMethod::Lifo).expect("ledger");
        for date in ["2024-01-02", "2024-06-03"] {
            l.apply(&Trade::buy(d(date), "T", "X", 10.0, 10.0))
                .expect("buy");
        }
        let out = l
            .apply(&Trade::sell(d("2024-09-03"), "T", "X", 20.0, 9.0))
            .expect("sell");
        let relieved: Vec<Date> = out.relieved.iter().map(|r| r.acquired).collect();
        assert_eq!(relieved, [d("2024-06-03"), d("2024-01-02")]);
        let legs: Vec<Date> = l.sales()[0].lots.iter().map(|x| x.acquired).collect();
        assert_eq!(legs, [d("2024-01-02"), d("2024-06-03")]);
    }

    /// Regression: a harvest decided on the day's lots named a lot that an earlier loss
    /// sale of the day then washed in part, splitting the washed shares off under a new
    /// id; the harvest's sale of "all its loss lots" asked for more shares than the named
    /// ids held and the whole simulation failed. The pieces split off a named lot since
    /// the decision are named with it; pieces split before it are not.
    #[test]
    fn a_named_lot_brings_the_pieces_a_wash_split_off_it_since() {
        let accounts =
            [("A1", AccountKind::Taxable), ("A2", AccountKind::Taxable)].map(|(id, kind)| {
                Account {
                    id: id.into(),
                    kind,
                    owner: "M".into(),
                }
            });
        let securities = [Security {
            symbol: "VWO".into(),
            group: "EM".into(),
        }];
        let mut l = Ledger::new(accounts, securities, LotMethod::Fifo).expect("ledger");
        l.apply(&Trade::buy(d("2026-10-01"), "A1", "VWO", 50.0, 60.0))
            .expect("buy");
        l.apply(&Trade::buy(d("2026-11-23"), "A2", "VWO", 60.0, 52.0))
            .expect("buy");
        let a2 = l.position_index("A2", "VWO").expect("position");
        let named = [l.position_at(a2)[0].id];
        let decided = l.next_lot_id();
        // A1's loss sale is washed by 50 of A2's 60 shares bought two days before.
        l.apply(&Trade::sell(d("2026-11-25"), "A1", "VWO", 50.0, 50.0))
            .expect("sell");
        let lots = l.position_at(a2);
        assert_eq!(lots.len(), 2, "{lots:?}");
        assert_eq!(lots[0].id, named[0]);
        let mut out = Vec::new();
        l.named_with_pieces(a2, &named, decided, &mut out);
        assert_eq!(out, [named[0], lots[1].id]);
        let shares: f64 = lots.iter().map(|x| x.quantity).sum();
        assert!((shares - 60.0).abs() < 1e-12);
        // Decided after the split, the piece is a lot of its own, not named.
        l.named_with_pieces(a2, &named, l.next_lot_id(), &mut out);
        assert_eq!(out, named);
        // The sale of the named lot and its piece sells all 60 shares.
        let mut sale = Trade::sell(d("2026-11-25"), "A2", "VWO", 60.0, 50.0);
        sale.method = Some(LotMethod::SpecificLot);
        l.named_with_pieces(a2, &named, decided, &mut sale.lots);
        l.apply(&sale)
            .expect("the named lot and its piece hold the shares");
        assert!(l.position_at(a2).is_empty());
    }
}
