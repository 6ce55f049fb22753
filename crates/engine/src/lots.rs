//! Tax lots and lot relief.
//!
//! A [`Lot`] is a block of shares of one security in one account, bought together: its
//! quantity, its total cost basis and the date its holding period starts. A sale relieves
//! lots in an order chosen by a [`LotMethod`]. There is exactly one relief routine,
//! [`select_lots`], parameterised by the method's ordering key; [`relieve`] applies its
//! picks. Selling more than is held is a typed outcome ([`LotError::Shortfall`]), never a
//! panic.
//!
//! Quantities are `f64` (fractional shares are allowed); any quantity whose magnitude is
//! below [`QTY_EPS`] counts as zero, so a lot sold down to `1e-12` shares is closed.
//!
//! # Orders
//!
//! | method | order |
//! |---|---|
//! | FIFO | earliest purchase first |
//! | LIFO | latest purchase first |
//! | HIFO | highest basis per share first |
//! | MinTax | short-term losses, long-term losses, long-term gains, short-term gains; losses largest per share first, gains smallest per share first (at the sale price) |
//! | SpecificLot | the lot ids the trade names, in the order named |
//!
//! Ties break on the purchase date, then the lot id, so the order is total and the result
//! is deterministic.

use crate::date::Date;
use crate::types::LotMethod;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::sync::Arc;

/// Quantities with magnitude below this are zero.
pub const QTY_EPS: f64 = 1e-9;

/// True when `q` shares are an order in fractions of a share: more than [`QTY_EPS`] from
/// the nearest whole number (9.9999999999 shares, rounding noise of 10, are whole).
pub fn is_fractional(q: f64) -> bool {
    (q - crate::num::round(q)).abs() > QTY_EPS
}

/// True when `q` counts as zero shares (`|q| < QTY_EPS`).
pub fn is_zero(q: f64) -> bool {
    q.abs() < QTY_EPS
}

/// How far a request may exceed, or fall short of, the shares held and still mean all of
/// them: [`QTY_EPS`], or 10⁻¹¹ of the holding when that is more. A running total of the
/// shares kept elsewhere (the simulator's books) drifts from the sum of the lots by
/// rounding, about 10⁻¹⁴ of the holding: for a position of tens of thousands of shares
/// that is more than [`QTY_EPS`].
pub fn all_shares_tolerance(held: f64) -> f64 {
    QTY_EPS.max(held.abs() * 1e-11)
}

/// A lot's identifier, unique within a [`crate::ledger::Ledger`].
pub type LotId = u64;

/// A tax lot: shares of one security in one account with one basis and holding period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lot {
    /// Unique id (a lot split by a wash-sale adjustment gives its piece a new id).
    pub id: LotId,
    /// The account holding the lot (shared with the ledger's other lots of the account:
    /// a purchase copies a pointer, not the name).
    pub account: Arc<str>,
    /// The security's symbol (shared likewise).
    pub symbol: Arc<str>,
    /// Shares held (fractional allowed), always `> 0` for an open lot.
    pub quantity: f64,
    /// Total cost basis in dollars, including any wash-sale adjustment and buy fees.
    pub basis: f64,
    /// The purchase date.
    pub acquired: Date,
    /// The date the holding period runs from: the purchase date, or earlier for a
    /// replacement lot whose holding period was tacked on from the washed lot.
    pub holding_start: Date,
    /// The part of `basis` that is disallowed loss added by the wash-sale rule.
    pub wash_adjustment: f64,
    /// Shares of this lot that have already absorbed a washed loss as replacement shares
    /// (each replacement share absorbs a loss once). Between 0 and `quantity`.
    pub replacement_used: f64,
}

impl Lot {
    /// Basis per share.
    pub fn basis_per_share(&self) -> f64 {
        if is_zero(self.quantity) {
            0.0
        } else {
            self.basis / self.quantity
        }
    }

    /// True when a sale on `date` would be long-term: held more than one year, that is
    /// `date > holding_start + 1 year` (the day after purchase starts the clock).
    pub fn is_long_term_on(&self, date: Date) -> bool {
        is_long_term(self.holding_start, date)
    }

    /// Shares that can still absorb a washed loss.
    pub fn replacement_capacity(&self) -> f64 {
        (self.quantity - self.replacement_used).max(0.0)
    }
}

/// True when shares whose holding period starts on `holding_start` are long-term if sold
/// on `sale_date`: `sale_date > holding_start.add_years(1)`.
pub fn is_long_term(holding_start: Date, sale_date: Date) -> bool {
    // A year after any date is 365 or 366 days later (29 February → 28 February: 365), so
    // only a sale exactly 366 days on needs the calendar (a sale picks lots by this test
    // for every open lot: most of a busy book's calendar arithmetic).
    match sale_date.days_since(holding_start) {
        ..=365 => false,
        366 => sale_date > holding_start.add_years(1),
        _ => true,
    }
}

/// Why lots cannot be relieved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LotError {
    /// The quantity to relieve is not a positive finite number.
    #[error("quantity {quantity} is not a positive number of shares")]
    InvalidQuantity {
        /// The quantity asked for.
        quantity: f64,
    },
    /// Fewer shares are held (or named) than the sale asks for.
    #[error("sells {requested} but only {available} are held")]
    Shortfall {
        /// Shares the sale asks for.
        requested: f64,
        /// Shares available to it (held, or held in the named lots).
        available: f64,
    },
    /// Specific identification named a lot that is not open in this position.
    #[error("lot {id} is not an open lot of this position")]
    UnknownLot {
        /// The id named.
        id: LotId,
    },
    /// Specific identification was asked for but no lot was named.
    #[error("specific identification names no lot")]
    NoLotsNamed,
    /// Specific identification named the same lot twice.
    #[error("lot {id} is named twice")]
    DuplicateLot {
        /// The id named twice.
        id: LotId,
    },
}

/// How a sale chooses lots: a method and, for [`LotMethod::SpecificLot`], the lots named.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LotSelection {
    /// The relief order.
    pub method: LotMethod,
    /// The lots named, in order (used only by [`LotMethod::SpecificLot`]).
    pub specific: Vec<LotId>,
}

impl From<LotMethod> for LotSelection {
    fn from(method: LotMethod) -> Self {
        LotSelection {
            method,
            specific: Vec::new(),
        }
    }
}

/// One lot picked by [`select_lots`]: its index in the slice and the shares taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// Index of the lot in the slice given to [`select_lots`].
    pub index: usize,
    /// Shares to take from it (`0 < quantity ≤ lot.quantity`).
    pub quantity: f64,
}

/// The part of a lot a sale relieved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relieved {
    /// The lot's id.
    pub lot_id: LotId,
    /// Shares relieved.
    pub quantity: f64,
    /// Basis of those shares (pro rata, wash adjustments included).
    pub basis: f64,
    /// Wash adjustment included in `basis`.
    pub wash_adjustment: f64,
    /// The lot's purchase date.
    pub acquired: Date,
    /// The lot's holding-period start.
    pub holding_start: Date,
    /// Of the shares relieved, those that had already absorbed a washed loss as
    /// replacement shares (the lot's [`Lot::replacement_used`], pro rata).
    pub replacement_used: f64,
}

/// The relief order of two lots for a sale on `date` at `price` (MinTax needs both).
/// What a relief order compares of one lot: computed once per lot, not per comparison.
#[derive(Debug, Clone, Copy)]
struct OrderKey {
    /// MinTax's class: short-term loss, long-term loss, long-term gain, short-term gain.
    rank: u8,
    /// HIFO: basis per share; MinTax: gain per share at the sale price.
    value: f64,
    acquired: Date,
    id: LotId,
}

impl OrderKey {
    fn of(method: LotMethod, l: &Lot, date: Date, price: f64) -> OrderKey {
        let (rank, value) = match method {
            LotMethod::Fifo | LotMethod::SpecificLot | LotMethod::Lifo => (0, 0.0),
            LotMethod::Hifo => (0, l.basis_per_share()),
            LotMethod::MinTax => {
                let gain = price - l.basis_per_share();
                let rank = match (gain < 0.0, l.is_long_term_on(date)) {
                    (true, false) => 0u8,
                    (true, true) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                };
                (rank, gain)
            }
        };
        OrderKey {
            rank,
            value,
            acquired: l.acquired,
            id: l.id,
        }
    }
}

/// The relief order of two lots' keys ([`OrderKey::of`] with the same method).
fn order(method: LotMethod, a: &OrderKey, b: &OrderKey) -> Ordering {
    let fifo = || a.acquired.cmp(&b.acquired).then(a.id.cmp(&b.id));
    match method {
        LotMethod::Fifo | LotMethod::SpecificLot => fifo(),
        LotMethod::Lifo => b.acquired.cmp(&a.acquired).then(b.id.cmp(&a.id)),
        LotMethod::Hifo => b.value.total_cmp(&a.value).then_with(fifo),
        // Within losses the most negative gain (largest loss) first; within gains the
        // smallest gain first: ascending gain per share in both cases.
        LotMethod::MinTax => a
            .rank
            .cmp(&b.rank)
            .then(a.value.total_cmp(&b.value))
            .then_with(fifo),
    }
}

/// Chooses which lots (and how many shares of each) a sale of `quantity` shares on `date`
/// at `price` relieves. `lots` are the open lots of one position (one account, one
/// security). Nothing is modified: apply the picks with [`relieve`].
///
/// A request within [`all_shares_tolerance`] of the shares held (above or below) takes
/// everything.
pub fn select_lots(
    lots: &[Lot],
    quantity: f64,
    selection: &LotSelection,
    date: Date,
    price: f64,
) -> Result<Vec<Pick>, LotError> {
    if !(quantity.is_finite() && quantity > 0.0) || is_zero(quantity) {
        return Err(LotError::InvalidQuantity { quantity });
    }
    let ordered: Vec<usize> = if selection.method == LotMethod::SpecificLot {
        if selection.specific.is_empty() {
            return Err(LotError::NoLotsNamed);
        }
        let mut out = Vec::with_capacity(selection.specific.len());
        for (k, id) in selection.specific.iter().enumerate() {
            if selection.specific[..k].contains(id) {
                return Err(LotError::DuplicateLot { id: *id });
            }
            let index = lots
                .iter()
                .position(|l| l.id == *id)
                .ok_or(LotError::UnknownLot { id: *id })?;
            out.push(index);
        }
        out
    } else {
        let method = selection.method;
        let mut keyed: Vec<(OrderKey, usize)> = lots
            .iter()
            .enumerate()
            .map(|(i, l)| (OrderKey::of(method, l, date, price), i))
            .collect();
        keyed.sort_by(|a, b| order(method, &a.0, &b.0));
        keyed.into_iter().map(|(_, i)| i).collect()
    };
    let available = ordered.iter().fold(0.0, |a, &i| a + lots[i].quantity);
    let tolerance = all_shares_tolerance(available);
    if quantity > available + tolerance {
        return Err(LotError::Shortfall {
            requested: quantity,
            available,
        });
    }
    let mut remaining = if (quantity - available).abs() <= tolerance {
        available
    } else {
        quantity
    };
    let mut picks = Vec::new();
    for i in ordered {
        if is_zero(remaining) {
            break;
        }
        let lot_q = lots[i].quantity;
        let take = if remaining >= lot_q - QTY_EPS {
            lot_q
        } else {
            remaining
        };
        picks.push(Pick {
            index: i,
            quantity: take,
        });
        remaining -= take;
    }
    Ok(picks)
}

/// Applies picks from [`select_lots`] to the same `lots`: reduces (or removes) each
/// picked lot and returns what was relieved, in pick order. The basis, the wash
/// adjustment and the used replacement capacity of a lot are relieved pro rata.
pub fn relieve(lots: &mut Vec<Lot>, picks: &[Pick]) -> Vec<Relieved> {
    let mut out = Vec::with_capacity(picks.len());
    for p in picks {
        let Some(lot) = lots.get_mut(p.index) else {
            continue;
        };
        let full = p.quantity >= lot.quantity - QTY_EPS;
        let share = if full { 1.0 } else { p.quantity / lot.quantity };
        let basis = lot.basis * share;
        let wash = lot.wash_adjustment * share;
        let quantity = if full { lot.quantity } else { p.quantity };
        out.push(Relieved {
            lot_id: lot.id,
            quantity,
            basis,
            wash_adjustment: wash,
            acquired: lot.acquired,
            holding_start: lot.holding_start,
            replacement_used: (lot.replacement_used * share).min(quantity),
        });
        if full {
            lot.quantity = 0.0;
        } else {
            lot.quantity -= p.quantity;
            lot.basis -= basis;
            lot.wash_adjustment -= wash;
            lot.replacement_used = (lot.replacement_used * (1.0 - share)).min(lot.quantity);
        }
    }
    lots.retain(|l| !is_zero(l.quantity));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_means_away_from_a_whole_number() {
        assert!(!is_fractional(10.0));
        assert!(!is_fractional(9.999_999_999_9));
        assert!(!is_fractional(10.000_000_000_1));
        assert!(is_fractional(9.5));
        assert!(is_fractional(0.001));
    }

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn lot(id: LotId, q: f64, basis: f64, acquired: &str) -> Lot {
        Lot {
            id,
            account: "T".into(),
            symbol: "X".into(),
            quantity: q,
            basis,
            acquired: d(acquired),
            holding_start: d(acquired),
            wash_adjustment: 0.0,
            replacement_used: 0.0,
        }
    }

    fn ids(lots: &[Lot], picks: &[Pick]) -> Vec<(LotId, f64)> {
        picks
            .iter()
            .map(|p| (lots[p.index].id, p.quantity))
            .collect()
    }

    fn sample() -> Vec<Lot> {
        vec![
            lot(1, 10.0, 500.0, "2024-01-10"), // 50/sh, long-term on 2026-03-01
            lot(2, 10.0, 1200.0, "2025-06-01"), // 120/sh, long-term on 2026-06-02+
            lot(3, 10.0, 900.0, "2026-01-05"), // 90/sh, short-term
            lot(4, 10.0, 1100.0, "2024-05-01"), // 110/sh, long-term
        ]
    }

    #[test]
    fn fifo_lifo_hifo_orders() {
        let lots = sample();
        let date = d("2026-03-01");
        let pick = |m: LotMethod| {
            let p = select_lots(&lots, 25.0, &m.into(), date, 100.0).unwrap();
            ids(&lots, &p)
        };
        assert_eq!(pick(LotMethod::Fifo), vec![(1, 10.0), (4, 10.0), (2, 5.0)]);
        assert_eq!(pick(LotMethod::Lifo), vec![(3, 10.0), (2, 10.0), (4, 5.0)]);
        assert_eq!(pick(LotMethod::Hifo), vec![(2, 10.0), (4, 10.0), (3, 5.0)]);
    }

    #[test]
    fn min_tax_order() {
        let lots = sample();
        // At 100/sh on 2026-03-01: lot 2 ST loss 20, lot 4 LT loss 10, lot 1 LT gain 50,
        // lot 3 ST gain 10.
        let p = select_lots(
            &lots,
            40.0,
            &LotMethod::MinTax.into(),
            d("2026-03-01"),
            100.0,
        )
        .unwrap();
        assert_eq!(
            ids(&lots, &p),
            vec![(2, 10.0), (4, 10.0), (1, 10.0), (3, 10.0)]
        );
    }

    #[test]
    fn specific_lots_and_errors() {
        let lots = sample();
        let date = d("2026-03-01");
        let sel = LotSelection {
            method: LotMethod::SpecificLot,
            specific: vec![3, 1],
        };
        let p = select_lots(&lots, 15.0, &sel, date, 100.0).unwrap();
        assert_eq!(ids(&lots, &p), vec![(3, 10.0), (1, 5.0)]);
        assert!(matches!(
            select_lots(&lots, 25.0, &sel, date, 100.0),
            Err(LotError::Shortfall { .. })
        ));
        let bad = LotSelection {
            method: LotMethod::SpecificLot,
            specific: vec![9],
        };
        assert_eq!(
            select_lots(&lots, 1.0, &bad, date, 100.0),
            Err(LotError::UnknownLot { id: 9 })
        );
        assert!(matches!(
            select_lots(&lots, 41.0, &LotMethod::Fifo.into(), date, 100.0),
            Err(LotError::Shortfall { .. })
        ));
        assert!(matches!(
            select_lots(&lots, f64::NAN, &LotMethod::Fifo.into(), date, 100.0),
            Err(LotError::InvalidQuantity { .. })
        ));
    }

    #[test]
    fn relieve_pro_rata_and_dust() {
        let mut lots = sample();
        let date = d("2026-03-01");
        let p = select_lots(&lots, 15.0 + 1e-12, &LotMethod::Fifo.into(), date, 1.0).unwrap();
        let r = relieve(&mut lots, &p);
        assert_eq!(r.len(), 2);
        assert!((r[1].basis - 550.0).abs() < 1e-9);
        assert_eq!(lots.len(), 3);
        let l4 = lots.iter().find(|l| l.id == 4).unwrap();
        assert!((l4.quantity - 5.0).abs() < 1e-9 && (l4.basis - 550.0).abs() < 1e-9);
        // Everything plus dust closes every lot.
        let p = select_lots(&lots, 25.0 + 1e-10, &LotMethod::Fifo.into(), date, 1.0).unwrap();
        relieve(&mut lots, &p);
        assert!(lots.is_empty());
    }

    #[test]
    fn long_term_test_is_the_calendar_rule() {
        // Every start day from 1999 to 2102 (leap days, the 2100 non-leap year), sales
        // around a year on.
        let first = d("1999-01-01");
        for k in 0..(104 * 366) {
            let start = first.add_days(k);
            let year_on = start.add_years(1);
            for off in 355..375 {
                let sale = start.add_days(off);
                assert_eq!(
                    is_long_term(start, sale),
                    sale > year_on,
                    "{start} sold {sale}"
                );
            }
        }
    }

    #[test]
    fn long_term_boundary() {
        let start = d("2025-03-02");
        assert!(!is_long_term(start, d("2026-03-02")));
        assert!(is_long_term(start, d("2026-03-03")));
        // A lot bought on 29 Feb: one year later is 28 Feb, long-term from 1 Mar.
        let leap = d("2024-02-29");
        assert!(!is_long_term(leap, d("2025-02-28")));
        assert!(is_long_term(leap, d("2025-03-01")));
    }
}
