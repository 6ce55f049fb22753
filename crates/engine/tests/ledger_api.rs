//! The ledger's API beyond the vectors: retroactive washes and finality, errors that
//! leave the ledger unchanged, dividend reinvestment, splits of replacement lots, yearly
//! results feeding the tax netting.

use approx::assert_abs_diff_eq;
use std::collections::BTreeMap;
use tollbooth_engine::date::Date;
use tollbooth_engine::ledger::{Account, Ledger, LedgerError, OpeningLot, Security, Trade};
use tollbooth_engine::lots::LotError;
use tollbooth_engine::tax::{net_years, TaxProfile};
use tollbooth_engine::types::{AccountKind, LotMethod};

fn d(s: &str) -> Date {
    s.parse().expect("date")
}

fn household(method: LotMethod) -> Ledger {
    let accounts = [
        ("T", AccountKind::Taxable),
        ("IRA", AccountKind::TraditionalIra),
    ]
    .map(|(id, kind)| Account {
        id: id.into(),
        kind,
        owner: "A".into(),
    });
    let securities = [("XYZ", "G"), ("XYZB", "G"), ("P", "H")].map(|(s, g)| Security {
        symbol: s.into(),
        group: g.into(),
    });
    Ledger::new(accounts, securities, method).expect("household")
}

fn opening(l: &mut Ledger, account: &str, q: f64, basis: f64, acquired: &str) -> u64 {
    l.open_lot(OpeningLot {
        account: account.into(),
        symbol: "XYZ".into(),
        quantity: q,
        basis,
        acquired: d(acquired),
        holding_start: None,
    })
    .expect("opening lot")
}

#[test]
fn later_purchase_washes_earlier_sale_retroactively() {
    let mut l = household(LotMethod::Fifo);
    opening(&mut l, "T", 100.0, 1000.0, "2025-12-01");
    let out = l
        .apply(&Trade::sell(d("2025-12-20"), "T", "XYZ", 100.0, 7.5))
        .expect("sell");
    let s = out.sale.expect("taxable sale record");
    assert_abs_diff_eq!(l.sales()[s].short_term, -250.0);
    assert!(!l.is_final(s, d("2026-01-19")));
    assert!(l.is_final(s, d("2026-01-20")));
    // Dividend reinvestment in the IRA, 12 days later: washes 10 shares' loss for good.
    l.reinvest(d("2026-01-01"), "IRA", "XYZ", 10.0, 8.0)
        .expect("reinvest");
    // A buy of the substantially identical XYZB in the taxable account: 50 more shares.
    let buy = l
        .apply(&Trade::buy(d("2026-01-05"), "T", "XYZB", 50.0, 8.0))
        .expect("buy");
    assert_eq!(buy.washes.len(), 1);
    let rec = &l.sales()[s];
    assert_abs_diff_eq!(rec.disallowed, 150.0, epsilon = 1e-9);
    assert_abs_diff_eq!(rec.permanently_disallowed, 25.0, epsilon = 1e-9);
    assert_abs_diff_eq!(rec.short_term, -100.0, epsilon = 1e-9);
    assert_abs_diff_eq!(l.permanently_disallowed(), 25.0, epsilon = 1e-9);
    let xyzb = l.position("T", "XYZB");
    assert_eq!(xyzb.len(), 1);
    assert_abs_diff_eq!(xyzb[0].basis, 400.0 + 125.0, epsilon = 1e-9);
    // Held 19 days: 2026-01-05 − 19 = 2025-12-17.
    assert_eq!(xyzb[0].holding_start, d("2025-12-17"));
    // The loss split by year: 2025 carries the recognized part.
    let years = l.realized_by_year();
    assert_abs_diff_eq!(years[&2025].short_term, -100.0, epsilon = 1e-9);
}

#[test]
fn replacement_larger_than_the_loss_is_split() {
    let mut l = household(LotMethod::Fifo);
    opening(&mut l, "T", 50.0, 500.0, "2026-01-05");
    l.apply(&Trade::sell(d("2026-03-02"), "T", "XYZ", 50.0, 8.0))
        .expect("sell");
    let out = l
        .apply(&Trade::buy(d("2026-03-09"), "T", "XYZ", 120.0, 9.0))
        .expect("buy");
    let lots = l.position("T", "XYZ");
    assert_eq!(lots.len(), 2);
    let adjusted = lots
        .iter()
        .find(|x| x.wash_adjustment > 0.0)
        .expect("piece");
    let plain = lots
        .iter()
        .find(|x| x.wash_adjustment == 0.0)
        .expect("rest");
    assert_eq!(Some(plain.id), out.created);
    assert_abs_diff_eq!(adjusted.quantity, 50.0);
    assert_abs_diff_eq!(adjusted.basis, 450.0 + 100.0, epsilon = 1e-9);
    assert_eq!(adjusted.holding_start, d("2026-01-12"));
    assert_abs_diff_eq!(plain.quantity, 70.0);
    assert_abs_diff_eq!(plain.basis, 630.0, epsilon = 1e-9);
    assert_eq!(plain.holding_start, d("2026-03-09"));
}

/// Shares bought in the 30 days before a loss sale replace it even when they were sold
/// again before it: the rule asks whether identical shares were acquired in the window.
#[test]
fn shares_sold_again_before_the_loss_sale_still_replace_it() {
    let mut l = household(LotMethod::Lifo);
    opening(&mut l, "T", 100.0, 1500.0, "2025-06-02");
    l.apply(&Trade::buy(d("2026-02-20"), "T", "XYZ", 100.0, 10.0))
        .expect("buy");
    // LIFO sells the February lot at a gain…
    l.apply(&Trade::sell(d("2026-02-25"), "T", "XYZ", 100.0, 11.0))
        .expect("gain sale");
    assert_abs_diff_eq!(l.sales()[0].short_term, 100.0, epsilon = 1e-9);
    assert!(
        !l.is_final(0, d("2026-03-20")),
        "its shares can still replace a loss"
    );
    // …then the old lot at a loss: the February purchase, 10 days before, replaces it.
    let out = l
        .apply(&Trade::sell(d("2026-03-02"), "T", "XYZ", 100.0, 9.0))
        .expect("loss sale");
    assert_eq!(l.sales().len(), 2);
    assert_abs_diff_eq!(l.sales()[1].disallowed, 600.0, epsilon = 1e-9);
    assert_abs_diff_eq!(l.sales()[1].short_term, 0.0, epsilon = 1e-9);
    // The $600 goes into the basis of the February shares, in the sale that relieved
    // them, with the old lot's 273 days tacked on: a $500 short-term loss there.
    let first = &l.sales()[0];
    assert_abs_diff_eq!(first.basis, 1600.0, epsilon = 1e-9);
    assert_abs_diff_eq!(first.short_term, -500.0, epsilon = 1e-9);
    assert_eq!(first.lots[0].holding_start, d("2025-05-23"));
    assert_eq!(l.washes()[out.washes.start].acquired, d("2026-02-20"));
    // Now a loss itself, it can be washed by a purchase up to 30 days after its date.
    assert!(!l.is_final(0, d("2026-03-27")));
    assert!(l.is_final(0, d("2026-03-28")));
}

#[test]
fn retirement_sales_recognize_nothing_and_do_not_wash() {
    let mut l = household(LotMethod::Fifo);
    opening(&mut l, "IRA", 100.0, 1000.0, "2026-01-05");
    let out = l
        .apply(&Trade::sell(d("2026-03-02"), "IRA", "XYZ", 100.0, 5.0))
        .expect("sell");
    assert_eq!(out.sale, None);
    assert_eq!(out.relieved.len(), 1);
    l.apply(&Trade::buy(d("2026-03-03"), "T", "XYZ", 100.0, 5.0))
        .expect("buy");
    assert!(l.sales().is_empty() && l.washes().is_empty());
    assert_eq!(l.position("T", "XYZ")[0].basis, 500.0);
}

#[test]
fn errors_leave_the_ledger_unchanged() {
    let mut l = household(LotMethod::Fifo);
    let first = opening(&mut l, "T", 100.0, 1000.0, "2026-01-05");
    l.apply(&Trade::sell(d("2026-03-02"), "T", "XYZ", 40.0, 7.5))
        .expect("sell");
    let before = (l.held("T", "XYZ"), l.trade_count(), l.sales().len());
    let err = |l: &mut Ledger, t: Trade| l.apply(&t).expect_err("must fail");
    assert!(matches!(
        err(&mut l, Trade::sell(d("2026-03-03"), "T", "XYZ", 61.0, 7.5)),
        LedgerError::Shortfall { requested, available, .. } if requested == 61.0 && available == 60.0
    ));
    assert_eq!(
        err(&mut l, Trade::sell(d("2026-03-01"), "T", "XYZ", 1.0, 7.5)),
        LedgerError::OutOfOrder {
            date: d("2026-03-01"),
            previous: d("2026-03-02")
        }
    );
    assert!(matches!(
        err(&mut l, Trade::buy(d("2026-03-03"), "Q", "XYZ", 1.0, 7.5)),
        LedgerError::UnknownAccount { .. }
    ));
    assert!(matches!(
        err(&mut l, Trade::buy(d("2026-03-03"), "T", "ZZZ", 1.0, 7.5)),
        LedgerError::UnknownSymbol { .. }
    ));
    assert!(matches!(
        err(
            &mut l,
            Trade::buy(d("2026-03-03"), "T", "XYZ", f64::NAN, 7.5)
        ),
        LedgerError::InvalidQuantity { .. }
    ));
    assert!(matches!(
        err(&mut l, Trade::buy(d("2026-03-03"), "T", "XYZ", 1.0, 0.0)),
        LedgerError::InvalidPrice { .. }
    ));
    let mut fee = Trade::buy(d("2026-03-03"), "T", "XYZ", 1.0, 1.0);
    fee.fee = -1.0;
    assert!(matches!(err(&mut l, fee), LedgerError::InvalidFee { .. }));
    let mut specific = Trade::sell(d("2026-03-03"), "T", "XYZ", 1.0, 1.0);
    specific.method = Some(LotMethod::SpecificLot);
    assert!(matches!(
        err(&mut l, specific.clone()),
        LedgerError::Relief {
            error: LotError::NoLotsNamed,
            ..
        }
    ));
    specific.lots = vec![first + 99];
    assert!(matches!(
        err(&mut l, specific),
        LedgerError::Relief {
            error: LotError::UnknownLot { .. },
            ..
        }
    ));
    assert_eq!(
        l.open_lot(OpeningLot {
            account: "T".into(),
            symbol: "XYZ".into(),
            quantity: 1.0,
            basis: 1.0,
            acquired: d("2026-01-01"),
            holding_start: None,
        }),
        Err(LedgerError::OpeningAfterTrades)
    );
    assert_eq!(
        (l.held("T", "XYZ"), l.trade_count(), l.sales().len()),
        before
    );
}

#[test]
fn trade_before_an_opening_lot_of_its_group_is_refused() {
    let mut l = household(LotMethod::Fifo);
    let id = opening(&mut l, "IRA", 10.0, 100.0, "2026-04-01");
    assert_eq!(
        l.apply(&Trade::buy(d("2026-03-01"), "T", "XYZB", 1.0, 1.0)),
        Err(LedgerError::OpeningLotAfterTrade {
            lot: id,
            acquired: d("2026-04-01"),
            date: d("2026-03-01")
        })
    );
    // Another group trades freely.
    assert!(l
        .apply(&Trade::buy(d("2026-03-01"), "T", "P", 1.0, 1.0))
        .is_ok());
}

#[test]
fn duplicate_ids_are_refused() {
    let a = Account {
        id: "T".into(),
        kind: AccountKind::Taxable,
        owner: "A".into(),
    };
    assert_eq!(
        Ledger::new([a.clone(), a], [], LotMethod::Fifo).err(),
        Some(LedgerError::DuplicateAccount { id: "T".into() })
    );
}

#[test]
fn years_feed_the_tax_netting_and_unrealized_gains_split_by_term() {
    let mut l = household(LotMethod::Fifo);
    opening(&mut l, "T", 100.0, 10_000.0, "2024-01-02");
    // Bought 61 days before the loss sale: outside its window (28 days would wash it).
    opening(&mut l, "T", 100.0, 5_000.0, "2025-10-01");
    // 2025: long-term loss 5,000 (no purchase within 30 days).
    l.apply(&Trade::sell(d("2025-12-01"), "T", "XYZ", 100.0, 50.0))
        .expect("sell");
    // 2027: half the second lot, long-term by then: 4,500 − 2,500 = +2,000 LT.
    l.apply(&Trade::sell(d("2027-01-04"), "T", "XYZ", 50.0, 90.0))
        .expect("sell");
    let years = l.realized_by_year();
    let profile = TaxProfile::default();
    let ys = net_years(&profile, &years);
    assert_eq!(
        ys.iter().map(|y| y.0).collect::<Vec<_>>(),
        [2025, 2026, 2027]
    );
    assert_abs_diff_eq!(ys[0].1.ordinary_offset, 3000.0);
    assert_abs_diff_eq!(ys[0].1.carryforward_out.long_term, 2000.0);
    assert_abs_diff_eq!(ys[1].1.ordinary_offset, 2000.0);
    assert_abs_diff_eq!(ys[2].1.lt_net, 2000.0, epsilon = 1e-9);
    let prices = BTreeMap::from([("XYZ".to_string(), 40.0)]);
    let u = l
        .unrealized_taxable(&prices, d("2027-01-05"))
        .expect("priced");
    assert_abs_diff_eq!(u.long_term, 50.0 * 40.0 - 2500.0, epsilon = 1e-9);
    assert_eq!(u.short_term, 0.0);
    assert!(matches!(
        l.unrealized_taxable(&BTreeMap::new(), d("2027-01-05")),
        Err(LedgerError::MissingPrice { .. })
    ));
}

#[test]
fn wash_guard_queries() {
    let mut l = household(LotMethod::Fifo);
    opening(&mut l, "T", 100.0, 1000.0, "2025-12-01");
    l.apply(&Trade::buy(d("2026-02-20"), "IRA", "XYZB", 30.0, 9.0))
        .expect("buy");
    assert_abs_diff_eq!(l.replacement_shares_before("G", d("2026-03-01")), 30.0);
    assert_eq!(l.replacement_shares_before("G", d("2026-03-23")), 0.0);
    assert_eq!(l.replacement_shares_before("H", d("2026-03-01")), 0.0);
    l.apply(&Trade::sell(d("2026-03-02"), "T", "XYZ", 100.0, 8.0))
        .expect("sell");
    // 30 of the 100 loss shares were washed by the IRA purchase; 70 remain pending.
    let p = l.pending_losses("G", d("2026-03-10"));
    assert_eq!(p.len(), 1);
    assert_abs_diff_eq!(p[0].1, 70.0, epsilon = 1e-9);
    assert_abs_diff_eq!(p[0].2, 2.0, epsilon = 1e-9);
    assert!(l.pending_losses("G", d("2026-04-02")).is_empty());
    assert!(l.pending_losses("H", d("2026-03-10")).is_empty());
}

/// One order that sells an old loss lot and part of a recent purchase: the rest of the
/// recent purchase, still held, replaces shares of the old lot (a different purchase), as
/// it would if the two lots had been sold in two orders; the recent purchase's own leg is
/// not replaced by its own shares.
#[test]
fn rest_of_a_recent_purchase_replaces_the_other_legs_of_its_sale() {
    let mut l = household(LotMethod::Fifo);
    opening(&mut l, "T", 100.0, 2000.0, "2024-01-02");
    l.apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 100.0, 10.0))
        .expect("buy");
    let out = l
        .apply(&Trade::sell(d("2025-03-10"), "T", "XYZ", 150.0, 9.0))
        .expect("sell");
    let rec = &l.sales()[out.sale.expect("sale")];
    // Old leg: 100 shares at a loss of 11 each, 50 of them replaced.
    assert_abs_diff_eq!(rec.disallowed, 550.0, epsilon = 1e-9);
    assert_abs_diff_eq!(rec.long_term, -550.0, epsilon = 1e-9);
    // Recent leg: 50 shares at a loss of 1 each, not replaced by its own purchase.
    assert_abs_diff_eq!(rec.short_term, -50.0, epsilon = 1e-9);
    let rest = l.position("T", "XYZ");
    assert_eq!(rest.len(), 1);
    assert_abs_diff_eq!(rest[0].quantity, 50.0, epsilon = 1e-9);
    assert_abs_diff_eq!(rest[0].basis, 500.0 + 550.0, epsilon = 1e-9);
    // The old lot's 433 days tacked on: 2025-03-03 − 433 days.
    assert_eq!(rest[0].holding_start, d("2023-12-26"));

    // The same trades in two orders the same day: the same tax and the same lot left.
    let mut two = household(LotMethod::Fifo);
    opening(&mut two, "T", 100.0, 2000.0, "2024-01-02");
    two.apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 100.0, 10.0))
        .expect("buy");
    for q in [100.0, 50.0] {
        two.apply(&Trade::sell(d("2025-03-10"), "T", "XYZ", q, 9.0))
            .expect("sell");
    }
    let recognized =
        |l: &Ledger| -> f64 { l.sales().iter().map(|r| r.short_term + r.long_term).sum() };
    assert_abs_diff_eq!(recognized(&two), recognized(&l), epsilon = 1e-9);
    assert_abs_diff_eq!(two.position("T", "XYZ")[0].basis, 1050.0, epsilon = 1e-9);
}

/// A piece split off a purchase by a wash keeps its purchase: selling it at a loss is not
/// washed by the rest of the same purchase.
#[test]
fn a_piece_split_by_a_wash_is_not_replaced_by_its_own_purchase() {
    let mut l = household(LotMethod::Hifo);
    opening(&mut l, "T", 50.0, 1000.0, "2024-12-31");
    l.apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 100.0, 10.0))
        .expect("buy");
    // The opening lot at a loss of 600, washed into 50 of the 100 new shares: they split
    // off as a piece with basis 500 + 600.
    let first = l
        .apply(&Trade::sell(d("2025-03-05"), "T", "XYZ", 50.0, 8.0))
        .expect("sell");
    assert_abs_diff_eq!(
        l.sales()[first.sale.expect("sale")].disallowed,
        600.0,
        epsilon = 1e-9
    );
    // HIFO sells the piece (basis 1,100) at 9: a loss of 650, recognized.
    let second = l
        .apply(&Trade::sell(d("2025-03-10"), "T", "XYZ", 50.0, 9.0))
        .expect("sell");
    let rec = &l.sales()[second.sale.expect("sale")];
    assert_abs_diff_eq!(rec.basis, 1100.0, epsilon = 1e-9);
    assert_abs_diff_eq!(rec.disallowed, 0.0, epsilon = 1e-9);
    assert_abs_diff_eq!(rec.short_term, -650.0, epsilon = 1e-9);
    let rest = l.position("T", "XYZ");
    assert_abs_diff_eq!(rest[0].basis, 500.0, epsilon = 1e-9);
    assert_eq!(rest[0].holding_start, d("2025-03-03"));
}

/// A sale at a gain that a later wash turns into a loss (its shares replaced an older
/// loss lot sold after it) is then a loss sale like any other: a purchase in the 30 days
/// after it washes it.
#[test]
fn a_gain_turned_loss_by_a_wash_is_washed_by_a_later_purchase() {
    let mut l = household(LotMethod::Lifo);
    opening(&mut l, "T", 100.0, 2000.0, "2024-01-02");
    l.apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 100.0, 10.0))
        .expect("buy B");
    // B sold at 11: a gain of 100.
    let b = l
        .apply(&Trade::sell(d("2025-03-05"), "T", "XYZ", 100.0, 11.0))
        .expect("sell B")
        .sale
        .expect("sale");
    assert_abs_diff_eq!(l.sales()[b].short_term, 100.0, epsilon = 1e-9);
    // The old lot sold at 10, a loss of 1,000 replaced by B (bought 4 days before):
    // B's sale basis becomes 2,000, a loss of 900.
    l.apply(&Trade::sell(d("2025-03-07"), "T", "XYZ", 100.0, 10.0))
        .expect("sell old");
    assert_abs_diff_eq!(l.sales()[b].basis, 2000.0, epsilon = 1e-9);
    // C, bought 7 days after B's sale, washes that loss.
    l.apply(&Trade::buy(d("2025-03-12"), "T", "XYZ", 100.0, 10.0))
        .expect("buy C");
    let rec = &l.sales()[b];
    assert_abs_diff_eq!(rec.disallowed, 900.0, epsilon = 1e-9);
    assert_abs_diff_eq!(rec.short_term + rec.long_term, 0.0, epsilon = 1e-9);
    let c = l.position("T", "XYZ");
    assert_abs_diff_eq!(c[0].basis, 1000.0 + 900.0, epsilon = 1e-9);
    // B's tacked holding period (from 2024-01-02, 428 days to B's sale) carried on.
    assert_eq!(c[0].holding_start, d("2024-01-05"));
}

/// An amount too large to book is refused before anything is booked. Regression: 10³⁰⁰
/// shares at $1 were booked, and the sums built on them overflowed to JSON nulls.
#[test]
fn an_amount_too_large_to_book_is_refused() {
    let mut l = household(LotMethod::Fifo);
    let err = l
        .apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 1e200, 1e200))
        .expect_err("too large");
    assert!(matches!(err, LedgerError::InvalidQuantity { .. }), "{err}");
    assert!(err.to_string().contains("quantity 1e200"), "{err}");
    let err = l
        .apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 1e300, 1.0))
        .expect_err("too large");
    assert!(matches!(err, LedgerError::InvalidQuantity { .. }), "{err}");
    let err = l
        .apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 10.0, 2e15))
        .expect_err("too dear");
    assert!(matches!(err, LedgerError::InvalidPrice { .. }), "{err}");
    l.apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 1e15, 1e15))
        .expect("the largest amounts are booked");
    l.apply(&Trade::sell(d("2025-03-04"), "T", "XYZ", 1e15, 1e15))
        .expect("and sold");
    assert!(l.sales().iter().all(|r| r.short_term.is_finite()));
    assert!(l.position("T", "XYZ").is_empty());
}

/// Messages quote extreme values briefly: a subnormal is 5e-324, not 327 digits.
#[test]
fn messages_quote_extreme_values_briefly() {
    let mut l = household(LotMethod::Fifo);
    let err = l
        .apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 5e-324, 10.0))
        .expect_err("too small");
    assert_eq!(
        err.to_string(),
        "quantity 5e-324 is not a number of shares from 0.000000001 to 1e15"
    );
    let err = l
        .apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 10.0, -1e300))
        .expect_err("negative price");
    assert_eq!(
        err.to_string(),
        "price -1e300 is not a positive number of at most 1e15"
    );
    l.apply(&Trade::buy(d("2025-03-03"), "T", "XYZ", 10.0, 2.5))
        .expect("buy");
    let err = l
        .apply(&Trade::sell(d("2025-03-04"), "T", "XYZ", 1e14, 2.5))
        .expect_err("more than held");
    assert!(
        err.to_string()
            .contains("XYZ in account T but only 10 are held"),
        "{err}"
    );
}
