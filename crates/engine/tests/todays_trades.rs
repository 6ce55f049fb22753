//! "What would it trade today" for a policy without the cost-aware rule: its own rules,
//! applied on the scenario's date (`household::todays_trades` → `simulate::rule_trades`).

use tollbooth_engine::household::{todays_trades, HouseholdSolution, HouseholdStatus};
use tollbooth_engine::scenario::policy::{Band, BandKind, Frequency, ThresholdRule};
use tollbooth_engine::scenario::{Policy, Scenario};
use tollbooth_engine::types::Side;

/// Each class's weight of the investable value (value less the accounts' minimum cash),
/// before (`trades` empty) or after the trades, with each ticket's costs paid from cash.
fn class_weights(s: &Scenario, sol: Option<&HouseholdSolution>) -> Vec<(String, f64)> {
    let price = |sym: &str| s.securities.iter().find(|x| x.symbol == sym).unwrap().price;
    let class = |sym: &str| {
        s.securities
            .iter()
            .find(|x| x.symbol == sym)
            .unwrap()
            .asset_class
            .clone()
    };
    let mut held: Vec<(String, f64)> = s
        .target
        .classes
        .iter()
        .map(|c| (c.asset_class.clone(), 0.0))
        .collect();
    let mut add = |sym: &str, dollars: f64| {
        let c = class(sym);
        held.iter_mut().find(|(k, _)| *k == c).unwrap().1 += dollars;
    };
    let mut cash = 0.0;
    for a in &s.household.accounts {
        cash += a.cash - s.target.min_cash_of(&a.id);
        for l in &a.lots {
            add(&l.symbol, l.quantity * price(&l.symbol));
        }
    }
    for t in sol.map(|x| x.trades.as_slice()).unwrap_or_default() {
        let signed = if t.side == Side::Buy { 1.0 } else { -1.0 } * t.notional;
        add(&t.symbol, signed);
        cash -= signed + t.fees.total();
    }
    let investable = cash + held.iter().map(|(_, v)| v).sum::<f64>();
    held.into_iter().map(|(c, v)| (c, v / investable)).collect()
}

fn rule_policy(name: &str) -> Policy {
    let s = Scenario::demo();
    let mut p = s.policy("Quarterly calendar").unwrap().clone();
    p.name = name.into();
    p.calendar = None;
    p.threshold = None;
    p.opportunistic = None;
    p.tlh = None;
    p.tactical = None;
    p.optimizer = None;
    p
}

#[test]
fn a_calendar_policy_rebalances_to_target_today() {
    let s = Scenario::demo();
    let p = s.policy("Quarterly calendar").unwrap();
    let sol = todays_trades(&s, p, s.as_of);
    assert_eq!(sol.status, HouseholdStatus::Rules, "{:?}", sol.messages);
    assert!(!sol.trades.is_empty());
    let value: f64 = s
        .household
        .accounts
        .iter()
        .map(|a| {
            a.cash
                + a.lots
                    .iter()
                    .map(|l| l.quantity * s.security(&l.symbol).unwrap().price)
                    .sum::<f64>()
        })
        .sum();
    assert!((sol.household_value - value).abs() < 1e-6 * value);
    let target = |c: &str| s.target.weight_of(c);
    let before = class_weights(&s, None);
    assert!(
        before.iter().any(|(c, w)| (w - target(c)).abs() > 0.01),
        "the demo household starts off target: {before:?}"
    );
    for (c, w) in class_weights(&s, Some(&sol)) {
        assert!((w - target(&c)).abs() < 0.002, "{c}: {w} vs {}", target(&c));
    }
    for t in &sol.trades {
        assert!(
            t.explanation.contains("calendar rebalance"),
            "{}",
            t.explanation
        );
        assert!(t.risk_reduction.is_nan());
        assert!(t.fees.commission > 0.0);
    }
}

#[test]
fn a_band_policy_trades_only_a_breached_band() {
    let s = Scenario::demo();
    let before = class_weights(&s, None);
    let worst = before
        .iter()
        .map(|(c, w)| (w - s.target.weight_of(c)).abs())
        .fold(0.0, f64::max);
    let band = |width| {
        let mut p = rule_policy("Bands");
        p.threshold = Some(ThresholdRule {
            band: Some(Band {
                kind: BandKind::Absolute,
                width,
            }),
            check: Frequency::Daily,
            trade_to: 0.0,
        });
        p
    };
    // Wider than the worst drift: nothing to do today.
    let wide = todays_trades(&s, &band(worst * 2.0 + 0.01), s.as_of);
    assert_eq!(wide.status, HouseholdStatus::Rules);
    assert!(wide.trades.is_empty(), "{:?}", wide.trades);
    // Narrower: the breached classes are traded back.
    let narrow = todays_trades(&s, &band(worst / 4.0), s.as_of);
    assert!(!narrow.trades.is_empty());
    assert!(narrow
        .trades
        .iter()
        .all(|t| t.explanation.contains("outside its band")));
    // A policy with no rule at all trades nothing.
    let none = todays_trades(&s, &rule_policy("Hold"), s.as_of);
    assert!(none.trades.is_empty());
}

/// A harvest the same day's purchases wash (no guard: the IRA reinvests in the group) is
/// taxed as the ledger recognizes it — the washed part of the loss saves nothing, and the
/// sale's costs lower its proceeds — not at the lots' gross losses.
#[test]
fn a_washed_harvest_saves_only_what_the_ledger_recognizes() {
    use tollbooth_engine::scenario::policy::WashSaleGuard;
    let s = Scenario::demo();
    let mut p = s.policy("Daily TLH (household guard)").unwrap().clone();
    p.tlh.as_mut().unwrap().wash_sale_guard = WashSaleGuard::None;
    let sol = todays_trades(&s, &p, s.as_of);
    let rows = tollbooth_engine::simulate::rule_trades(&s, &p, s.as_of).unwrap();
    let rate = |long: bool| {
        if long {
            s.tax.long_term_rate()
        } else {
            s.tax.short_term_rate()
        }
    };
    let mut washed = 0;
    for t in sol.trades.iter().filter(|t| t.side == Side::Sell) {
        let taxable = s
            .household
            .accounts
            .iter()
            .any(|a| a.id == t.account && a.kind.is_taxable());
        let mine = rows
            .iter()
            .filter(|r| r.account == t.account && r.symbol == t.symbol && r.side == Side::Sell);
        let (gain, long, disallowed) = mine.fold((0.0, 0.0, 0.0), |(g, l, d), r| {
            (
                g + r.realized_gain,
                l + r.realized_long_term,
                d + r.disallowed,
            )
        });
        let want = if taxable {
            (gain - long) * rate(false) + long * rate(true)
        } else {
            0.0
        };
        assert!(
            (t.tax_effect - want).abs() < 1e-6,
            "{} {}: {} vs {want}",
            t.account,
            t.symbol,
            t.tax_effect
        );
        if taxable && disallowed > 0.0 {
            washed += 1;
            let gross: f64 = t.lots.iter().map(|l| l.gain * rate(l.long_term)).sum();
            assert!(
                t.tax_effect > gross + 1.0,
                "{}: {} vs gross {gross}",
                t.symbol,
                t.tax_effect
            );
        }
    }
    assert!(washed > 0, "no washed harvest: {:?}", sol.trades);
}

/// A harvest larger than the yearly limit saves this year only the limit's worth at the
/// ordinary rates, the rest carrying forward — not its loss at the marginal rates — and
/// a loss carried in absorbs the limit first; the sentence states the recognized loss.
#[test]
fn todays_harvest_is_netted_for_the_year() {
    let mut s = Scenario::demo();
    let p = s.policy("Daily TLH (household guard)").unwrap().clone();
    let sol = todays_trades(&s, &p, s.as_of);
    let sells: Vec<_> = sol
        .trades
        .iter()
        .filter(|t| t.realized_short_term + t.realized_long_term != 0.0)
        .collect();
    assert!(!sells.is_empty(), "no taxable sale: {:?}", sol.trades);
    let loss: f64 = -sells
        .iter()
        .map(|t| t.realized_short_term + t.realized_long_term)
        .sum::<f64>();
    let marginal: f64 = sells.iter().map(|t| t.tax_effect).sum();
    assert!(loss > 3_000.0, "a loss over the limit: {loss}");
    let year = sol.year_tax(&s.tax);
    let cap = s.tax.ordinary_offset_cap;
    assert!(
        (year.tax + cap * s.tax.offset_rate()).abs() < 1e-9,
        "{year:?}"
    );
    assert!(
        (year.carried_forward - (loss - cap)).abs() < 1e-9,
        "{year:?}"
    );
    assert!(marginal < year.tax - 100.0, "{marginal} vs {year:?}");
    for t in &sells {
        // The recognized loss in dollars and cents (`−$7,291.62`).
        let cents = format!("{:.2}", -(t.realized_short_term + t.realized_long_term));
        let (whole, frac) = cents.split_once('.').unwrap();
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        let recognized = format!("realizes −${grouped}.{frac}");
        assert!(
            t.explanation.contains(&recognized),
            "{recognized}: {}",
            t.explanation
        );
        // Its value at the marginal rates is not this year's saving: the sentence says so.
        assert!(
            t.explanation
                .contains("before the year's netting and the yearly limit"),
            "{}",
            t.explanation
        );
    }
    // A loss carried in already uses the limit: the harvest saves nothing this year and
    // carries all of its loss forward.
    s.tax.carryforward_in.long_term = 10_000.0;
    let year = todays_trades(&s, &p, s.as_of).year_tax(&s.tax);
    assert!(year.tax.abs() < 1e-9, "{year:?}");
    assert!((year.carried_forward - loss).abs() < 1e-6, "{year:?}");
}

/// Each account's cash after today's trades and every ticket's costs.
fn cash_after(s: &Scenario, sol: &HouseholdSolution) -> Vec<(String, f64, f64)> {
    s.household
        .accounts
        .iter()
        .map(|a| {
            let spent: f64 = sol
                .trades
                .iter()
                .filter(|t| t.account == a.id)
                .map(|t| {
                    let signed = if t.side == Side::Buy { 1.0 } else { -1.0 } * t.notional;
                    signed + t.fees.total()
                })
                .sum();
            (a.id.clone(), a.cash - spent, s.target.min_cash_of(&a.id))
        })
        .collect()
}

/// The rules keep every account's minimum cash when the sales must be whole shares (they
/// were planned in fractions, sold rounded down, and the buys spent the difference) and
/// when purchases are large (the buys' half-spread was left out of the cash they spent).
#[test]
fn the_rules_keep_minimum_cash_with_whole_shares_and_large_purchases() {
    let mut whole = Scenario::demo();
    for x in &mut whole.securities {
        x.fractional_allowed = false;
    }
    let mut large = Scenario::demo();
    for a in &mut large.household.accounts {
        a.cash *= 100.0;
        for l in &mut a.lots {
            l.quantity *= 100.0;
            l.basis *= 100.0;
        }
    }
    for m in &mut large.target.min_cash {
        m.amount *= 100.0;
    }
    for (what, s) in [("whole shares", whole), ("× 100", large)] {
        for name in ["Quarterly calendar", "Daily TLH (household guard)"] {
            let sol = todays_trades(&s, s.policy(name).unwrap(), s.as_of);
            assert_eq!(sol.status, HouseholdStatus::Rules, "{what} {name}");
            assert!(!sol.trades.is_empty(), "{what} {name}");
            for (account, cash, min) in cash_after(&s, &sol) {
                assert!(
                    cash >= min - 1e-6,
                    "{what} {name}: {account} ends at {cash}, minimum {min}"
                );
            }
        }
    }
}

/// Under the household guard, a rebalance does not sell at a loss a group bought in the
/// last 30 days anywhere in the household: it sells the group's gain lots only (or none).
/// Without the guard the same rebalance sells joint's VWO at a loss, the Roth having
/// bought VWO 17 days before.
#[test]
fn a_guarded_rebalance_does_not_sell_a_recent_purchase_at_a_loss() {
    use tollbooth_engine::scenario::policy::WashSaleGuard;
    let mut s = Scenario::demo();
    s.target.restrictions.do_not_buy = ["VEA", "IEFA", "SPDW", "MUB"].map(String::from).to_vec();
    s.target.restrictions.do_not_sell = ["VB", "BND", "IEMG"].map(String::from).to_vec();
    let guarded = s.policy("Daily TLH (household guard)").unwrap().clone();
    let mut unguarded = guarded.clone();
    unguarded.tlh.as_mut().unwrap().wash_sale_guard = WashSaleGuard::None;
    let group = |sym: &str| {
        s.securities
            .iter()
            .find(|x| x.symbol == sym)
            .unwrap()
            .group
            .clone()
    };
    let recent = |g: &str| {
        s.household.accounts.iter().any(|a| {
            a.lots
                .iter()
                .any(|l| group(&l.symbol) == g && s.as_of.days_since(l.acquired) <= 30)
        })
    };
    let taxable = |id: &str| {
        s.household
            .accounts
            .iter()
            .any(|a| a.id == id && a.kind.is_taxable())
    };
    let washed_losses = |p: &Policy| {
        tollbooth_engine::simulate::rule_trades(&s, p, s.as_of)
            .unwrap()
            .into_iter()
            .filter(|r| r.side == Side::Sell && taxable(&r.account) && recent(&group(&r.symbol)))
            .filter(|r| r.lots.iter().any(|l| l.quantity * r.price < l.basis))
            .map(|r| format!("{} {}", r.account, r.symbol))
            .collect::<Vec<_>>()
    };
    assert!(washed_losses(&unguarded).contains(&"joint VWO".to_string()));
    assert_eq!(washed_losses(&guarded), Vec::<String>::new());
}

/// With market impact modelled, a ticket's sentence names every cost its trading cost
/// adds up: commission, SEC/TAF, spread and impact.
#[test]
fn the_sentence_names_the_market_impact() {
    let mut s = Scenario::demo();
    for f in &mut s.fee_schedules {
        f.impact = Some(tollbooth_engine::fees::ImpactModel { coefficient: 1.0 });
    }
    for x in &mut s.securities {
        x.daily_dollar_volume = Some(2e6);
    }
    let p = s.policy("Daily TLH (household guard)").unwrap().clone();
    let sol = todays_trades(&s, &p, s.as_of);
    let with_impact: Vec<_> = sol
        .trades
        .iter()
        .filter(|t| t.fees.impact >= 0.005)
        .collect();
    assert!(!with_impact.is_empty(), "{:?}", sol.trades);
    for t in with_impact {
        assert!(
            t.explanation.contains(" market impact"),
            "{}",
            t.explanation
        );
    }
}

/// Regression: the cost-aware optimizer's sale of AGG said only that it "cuts tracking
/// error by $0.26/yr-equivalent, costs $3.10 ticket…" — a trade worth less than its ticket,
/// on the face of it; it pays for the purchases in its account, and now says so (and each
/// purchase names the sales that fund it).
#[test]
fn an_optimised_sale_that_funds_purchases_says_so() {
    let s = Scenario::demo();
    let p = s.policy("Cost-aware optimizer").unwrap().clone();
    let sol = todays_trades(&s, &p, s.as_of);
    let mut paired = 0;
    for t in &sol.trades {
        let others: Vec<&str> = sol
            .trades
            .iter()
            .filter(|o| o.account == t.account && o.side != t.side)
            .map(|o| o.symbol.as_str())
            .collect();
        let phrase = match t.side {
            Side::Sell => "and funds the purchase of ",
            Side::Buy => "funded by the sale of ",
        };
        assert_eq!(
            t.explanation.contains(phrase),
            !others.is_empty(),
            "{}",
            t.explanation
        );
        for o in &others {
            assert!(t.explanation.contains(o), "{}", t.explanation);
        }
        paired += usize::from(!others.is_empty());
    }
    assert!(paired > 0, "{:?}", sol.trades);
}

/// Gains that use up loss carried in: the year's tax rises by the offset they take from
/// ordinary income, and the loss carried forward shrinks (a negative change).
#[test]
fn gains_today_use_the_loss_carried_in() {
    let mut s = Scenario::demo();
    s.tax.carryforward_in.long_term = 10_000.0;
    let p = s.policy("Daily TLH (household guard)").unwrap().clone();
    let mut sol = todays_trades(&s, &p, s.as_of);
    for t in &mut sol.trades {
        t.realized_short_term = 0.0;
        t.realized_long_term = 0.0;
    }
    sol.trades[0].realized_long_term = 8_000.0;
    let year = sol.year_tax(&s.tax);
    // Without the list, 3,000 offsets ordinary income and 7,000 carries on; with it, the
    // 8,000 gain leaves a 2,000 loss to offset and nothing to carry.
    assert!((year.carried_forward + 7_000.0).abs() < 1e-9, "{year:?}");
    assert!(
        (year.tax - 1_000.0 * s.tax.offset_rate()).abs() < 1e-9,
        "{year:?}"
    );
}
