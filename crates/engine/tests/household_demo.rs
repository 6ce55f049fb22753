//! The household optimizer on the demo household: budgets, restrictions, the wash-sale
//! guard, whole shares, one fee model, fixed fees and taxes.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use tollbooth_engine::household::*;
use tollbooth_engine::scenario::policy::{CostAwareRule, Frequency};
use tollbooth_engine::scenario::{Policy, Scenario};
use tollbooth_engine::types::Side;

fn demo() -> Scenario {
    Scenario::demo()
}

fn policy(s: &Scenario, name: &str) -> Policy {
    s.policy(name).expect("demo policy").clone()
}

const TLH: &str = "Daily TLH (household guard)";
const CALENDAR: &str = "Quarterly calendar";

/// The household optimizer under `p`'s options (its TLH rule and wash-sale guard, its
/// cost-aware rule's settings or the defaults). `todays_trades` sends only a cost-aware
/// policy here (any other trades by its own rules); the optimizer itself takes any.
fn optimize(s: &Scenario, p: &Policy) -> HouseholdSolution {
    let state = HouseholdState::from_scenario(s).expect("the demo's lots open");
    optimize_household(s, p, &state, s.as_of, &HouseholdSettings::default())
}

fn solve(s: &Scenario, p: &Policy) -> HouseholdSolution {
    let sol = optimize(s, p);
    assert!(
        matches!(
            sol.status,
            HouseholdStatus::Optimal | HouseholdStatus::Feasible
        ),
        "{:?} {:?}",
        sol.status,
        sol.messages
    );
    assert!(sol.lower_bound <= sol.objective + 1e-6);
    sol
}

/// The demo household's solution under each of its policies, solved once for every test.
fn demo_solutions() -> &'static [(String, HouseholdSolution)] {
    static SOLUTIONS: OnceLock<Vec<(String, HouseholdSolution)>> = OnceLock::new();
    SOLUTIONS.get_or_init(|| {
        let s = demo();
        s.policies
            .iter()
            .map(|p| (p.name.clone(), solve(&s, p)))
            .collect()
    })
}

fn demo_solution(name: &str) -> HouseholdSolution {
    demo_solutions()
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, sol)| sol.clone())
        .expect("demo policy")
}

/// The fixed fees are handled to a proven gap: every demo policy ends optimal within the
/// default 0.5% tolerance, the bound below the objective.
#[test]
fn demo_policies_are_proven_within_half_a_percent() {
    let names: Vec<&str> = demo_solutions().iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for (name, sol) in demo_solutions() {
        assert_eq!(
            sol.status,
            HouseholdStatus::Optimal,
            "{name}: gap {} after {} solves ({:?})",
            sol.gap,
            sol.solves,
            sol.messages
        );
        assert!(sol.gap <= 0.005, "{name}: gap {}", sol.gap);
        assert!(sol.lower_bound <= sol.objective, "{name}");
        assert!(
            sol.objective - sol.lower_bound <= 0.005 * sol.objective.abs().max(1.0) + 1e-9,
            "{name}: {} vs {}",
            sol.objective,
            sol.lower_bound
        );
        assert!(sol.solves < 3000, "{name}: {} solves", sol.solves);
        // The reported terms add up to the objective, up to rounding to shares and cents
        // (the asset-location penalty of the purchases included).
        let total = sol.terms.total();
        assert!(
            (total - sol.objective).abs() <= 0.01 * sol.objective.abs().max(1.0) + 0.05,
            "{name}: terms {total} vs objective {} ({:?})",
            sol.objective,
            sol.terms
        );
    }
}

fn check_budgets(s: &Scenario, sol: &HouseholdSolution) {
    for a in &s.household.accounts {
        let mut cash = a.cash;
        for t in sol.trades.iter().filter(|t| t.account == a.id) {
            cash += match t.side {
                Side::Buy => -t.notional - t.fees.total(),
                Side::Sell => t.notional - t.fees.total(),
            };
        }
        let min = s.target.min_cash_of(&a.id);
        assert!(cash >= min - 1e-6, "{}: {cash} < {min}", a.id);
    }
}

fn check_wash_guard(s: &Scenario, sol: &HouseholdSolution) {
    let group = |sym: &str| s.security(sym).unwrap().group.clone();
    let taxable: BTreeSet<&str> = s
        .household
        .accounts
        .iter()
        .filter(|a| a.kind.is_taxable())
        .map(|a| a.id.as_str())
        .collect();
    let loss_groups: BTreeSet<String> = sol
        .trades
        .iter()
        .filter(|t| t.side == Side::Sell && taxable.contains(t.account.as_str()))
        .filter(|t| t.lots.iter().any(|l| l.gain < 0.0))
        .map(|t| group(&t.symbol))
        .collect();
    for t in sol.trades.iter().filter(|t| t.side == Side::Buy) {
        assert!(
            !loss_groups.contains(&group(&t.symbol)),
            "buys {} while selling its group at a loss",
            t.symbol
        );
    }
    // Groups bought in the 30 days before the trade date are not sold at a loss.
    let start = s.as_of.add_days(-30);
    let recent: BTreeSet<String> = s
        .lots()
        .filter(|(_, l)| l.acquired >= start)
        .map(|(_, l)| group(&l.symbol))
        .collect();
    assert!(!recent.is_empty());
    for g in &loss_groups {
        assert!(
            !recent.contains(g),
            "loss sale of recently bought group {g}"
        );
    }
}

#[test]
fn demo_policies_respect_budgets_guard_and_one_fee_model() {
    let s = demo();
    for (name, sol) in demo_solutions() {
        let p = policy(&s, name);
        let sol = sol.clone();
        check_budgets(&s, &sol);
        check_wash_guard(&s, &sol);
        assert!(sol.terms.risk < sol.terms.risk_before, "{}", p.name);
        let mut keys = BTreeSet::new();
        for t in &sol.trades {
            assert!(keys.insert((t.account.clone(), t.symbol.clone(), t.side as u8)));
            // One fee model: the trade's fees are the simulator's ticket cost.
            let sec = s.security(&t.symbol).unwrap();
            let spec = tollbooth_engine::fees::TicketSpec {
                trade_date: s.as_of,
                side: t.side,
                security_type: sec.security_type,
                quantity: t.quantity,
                price: t.price,
                fractional: t.quantity.fract() != 0.0,
                half_spread_bps: sec.half_spread_bps,
                impact: None,
            };
            let cost = s
                .fee_schedule_of(&t.account)
                .unwrap()
                .ticket_cost(&spec, &s.regulatory)
                .unwrap();
            assert_eq!(cost, t.fees);
            assert!(!t.explanation.is_empty());
            assert!(t.explanation.contains(&t.symbol));
        }
        let fees: f64 = sol.trades.iter().map(|t| t.fees.commission).sum();
        assert!((fees - sol.terms.ticket_fees - sol.terms.commissions).abs() < 1e-9);
    }
}

#[test]
fn restrictions_are_never_traded() {
    let mut s = demo();
    let before = demo_solution(TLH);
    let bought: Vec<String> = before
        .trades
        .iter()
        .filter(|t| t.side == Side::Buy)
        .map(|t| t.symbol.clone())
        .collect();
    let sold: Vec<String> = before
        .trades
        .iter()
        .filter(|t| t.side == Side::Sell)
        .map(|t| t.symbol.clone())
        .collect();
    assert!(!bought.is_empty() && !sold.is_empty());
    s.target.restrictions.do_not_buy = bought.clone();
    s.target.restrictions.do_not_sell = sold.clone();
    let after = solve(&s, &policy(&s, TLH));
    for t in &after.trades {
        match t.side {
            Side::Buy => assert!(!bought.contains(&t.symbol), "bought {}", t.symbol),
            Side::Sell => assert!(!sold.contains(&t.symbol), "sold {}", t.symbol),
        }
    }
    check_budgets(&s, &after);
}

#[test]
fn whole_shares_when_fractions_are_not_allowed() {
    let mut s = demo();
    for x in &mut s.securities {
        x.fractional_allowed = false;
    }
    for name in [TLH, CALENDAR] {
        let sol = solve(&s, &policy(&s, name));
        assert!(!sol.trades.is_empty());
        for t in &sol.trades {
            let whole_position: f64 = s
                .household
                .accounts
                .iter()
                .filter(|a| a.id == t.account)
                .flat_map(|a| a.lots.iter())
                .filter(|l| l.symbol == t.symbol)
                .map(|l| l.quantity)
                .sum();
            let closes = t.side == Side::Sell && (t.quantity - whole_position).abs() < 1e-9;
            assert!(
                t.quantity.fract() == 0.0 || closes,
                "{} {} {}",
                t.account,
                t.symbol,
                t.quantity
            );
        }
        check_budgets(&s, &sol);
    }
}

fn with_flat_fee(s: &Scenario, fee: f64) -> Scenario {
    let mut s = s.clone();
    for f in &mut s.fee_schedules {
        f.rows.etf.flat = fee;
        f.rows.stock.flat = fee;
        f.rows.mutual_fund.flat = fee;
    }
    s
}

#[test]
fn a_higher_flat_fee_never_means_more_tickets() {
    let s = demo();
    let p = policy(&s, CALENDAR);
    // The demo's own flat fee is $3.10 (every demo security is an ETF).
    let counts: Vec<usize> = [0.0, 3.10, 45.0]
        .iter()
        .map(|&f| {
            if f == 3.10 {
                demo_solution(CALENDAR).tickets()
            } else {
                solve(&with_flat_fee(&s, f), &p).tickets()
            }
        })
        .collect();
    assert!(
        counts[0] >= counts[1] && counts[1] >= counts[2],
        "{counts:?}"
    );
    assert!(counts[0] > counts[2], "{counts:?}");
    let none = solve(&with_flat_fee(&s, 1e6), &p);
    assert_eq!(none.tickets(), 0);
    assert_eq!(none.terms.risk, none.terms.risk_before);
}

#[test]
fn tlh_harvests_a_loss_that_tlh_off_does_not() {
    let on = demo_solution(TLH);
    let off = demo_solution(CALENDAR);
    let losses = |sol: &HouseholdSolution| -> f64 {
        sol.trades
            .iter()
            .flat_map(|t| t.lots.iter())
            .filter(|l| l.gain < 0.0)
            .map(|l| -l.gain)
            .sum()
    };
    assert!(losses(&on) > 1000.0, "{}", losses(&on));
    assert!(on.trades.iter().any(|t| t.reason == ReasonCode::Harvest));
    assert!(losses(&off) < losses(&on));
    assert!(off.trades.iter().all(|t| t.reason != ReasonCode::Harvest));
    assert!(on.terms.harvest_value > off.terms.harvest_value);
    let explained = on
        .trades
        .iter()
        .find(|t| t.reason == ReasonCode::Harvest)
        .unwrap();
    assert!(
        explained.explanation.contains("loss"),
        "{}",
        explained.explanation
    );
    assert!(explained.tax_effect < 0.0);
}

#[test]
fn a_sale_relieves_the_loss_lot_before_the_high_gain_lot() {
    // Cut US equity to force a sale of VTI in the taxable account, which holds a 2015
    // long-term gain lot and a 2026 short-term loss lot.
    let mut s = demo();
    let shift = 0.10;
    for c in &mut s.target.classes {
        match c.asset_class.as_str() {
            "us_equity" => c.weight -= shift,
            "us_bonds" => c.weight += shift,
            _ => {}
        }
    }
    let mut p = Policy::buy_and_hold("sell equity");
    p.optimizer = Some(CostAwareRule {
        check: Frequency::Quarterly,
        min_trade_usd: 0.0,
        tickets_in_objective: true,
        taxes_in_objective: true,
    });
    let sol = solve(&s, &p);
    let vti = sol
        .trades
        .iter()
        .find(|t| t.account == "joint" && t.symbol == "VTI" && t.side == Side::Sell);
    if let Some(t) = vti {
        assert!(t.lots[0].gain < 0.0, "{:?}", t.lots);
        // No gain lot relieved while a loss lot of the position stays open.
        let loss_shares: f64 = s
            .account("joint")
            .unwrap()
            .lots
            .iter()
            .filter(|l| l.symbol == "VTI" && l.basis > l.quantity * t.price)
            .map(|l| l.quantity)
            .sum();
        if t.lots.iter().any(|l| l.gain > 0.0) {
            let sold_losses: f64 = t
                .lots
                .iter()
                .filter(|l| l.gain < 0.0)
                .map(|l| l.shares)
                .sum();
            assert!((sold_losses - loss_shares).abs() < 1e-6);
        }
    }
    // Equity is sold where it costs no tax first: the high-gain 2015 lot stays.
    let gain_tax: f64 = sol.trades.iter().map(|t| t.tax_effect.max(0.0)).sum();
    assert!(sol.terms.tax <= gain_tax + 1e-9);
    let relieved: BTreeSet<String> = sol
        .trades
        .iter()
        .flat_map(|t| t.lots.iter().map(|l| l.label.clone()))
        .collect();
    let high_gain = s
        .account("joint")
        .unwrap()
        .lots
        .iter()
        .find(|l| l.symbol == "VTI" && l.acquired.year() == 2015)
        .unwrap();
    assert!(!relieved.contains(&high_gain.id), "{relieved:?}");
}

#[test]
fn bad_targets_and_unreachable_cash_are_statuses() {
    let mut s = demo();
    s.target.classes[0].weight += 0.1;
    let sol = optimize(&s, &policy(&s, CALENDAR));
    assert_eq!(sol.status, HouseholdStatus::InvalidInput);
    assert!(sol.messages[0].contains("sum to"), "{:?}", sol.messages);

    let mut s = demo();
    s.target.min_cash[0].amount = 1e9;
    let sol = optimize(&s, &policy(&s, CALENDAR));
    assert_eq!(sol.status, HouseholdStatus::Infeasible);
    assert!(sol.messages[0].contains("joint"), "{:?}", sol.messages);

    let mut s = demo();
    s.market.correlation[0][1] = -0.99;
    s.market.correlation[1][0] = -0.99;
    let sol = optimize(&s, &policy(&s, CALENDAR));
    assert!(matches!(
        sol.status,
        HouseholdStatus::Optimal | HouseholdStatus::Feasible
    ));
    assert!(
        sol.messages.iter().any(|m| m.contains("Higham")),
        "{:?}",
        sol.messages
    );
}

/// The 300-lot household is proven within 0.5% under every demo policy. A few thousand
/// QPs: run it optimised (`cargo test --release -p tollbooth-engine --test household_demo
/// -- --ignored`); the `household` benchmark asserts the same.
#[test]
#[ignore = "a few seconds optimised, too slow for the debug suite"]
fn realistic_household_is_proven_within_half_a_percent() {
    let s = Scenario::demo_300_lots();
    for p in &s.policies {
        let sol = solve(&s, p);
        assert_eq!(
            sol.status,
            HouseholdStatus::Optimal,
            "{}: gap {} after {} solves",
            p.name,
            sol.gap,
            sol.solves
        );
        assert!(sol.gap <= 0.005, "{}: gap {}", p.name, sol.gap);
        check_budgets(&s, &sol);
    }
}

/// A selling-only account whose minimum binds: rounding its sale to shares and its SEC fee
/// up to the cent left it a cent short, and with no purchase to trim the whole household
/// was refused. The repair sells a little more.
#[test]
fn a_cent_short_after_rounding_sells_a_little_more() {
    let mut s = demo();
    s.target.restrictions.do_not_buy = s.securities.iter().map(|x| x.symbol.clone()).collect();
    let roth = s
        .target
        .min_cash
        .iter_mut()
        .find(|m| m.account == "roth_sam")
        .expect("roth_sam has a minimum");
    roth.amount = 5000.0;
    let sol = solve(&s, &policy(&s, CALENDAR));
    check_budgets(&s, &sol);
    assert!(sol.trades.iter().any(|t| t.account == "roth_sam"));
}

/// An account whose minimum cash no sale can restore (an empty account, or one whose
/// holdings may not be sold) is reported as such, not as a solver failure.
#[test]
fn a_minimum_cash_out_of_reach_is_named() {
    let mut s = demo();
    s.target.restrictions.do_not_sell = s
        .household
        .accounts
        .iter()
        .find(|a| a.id == "roth_sam")
        .unwrap()
        .lots
        .iter()
        .map(|l| l.symbol.clone())
        .collect();
    s.target
        .min_cash
        .iter_mut()
        .find(|m| m.account == "roth_sam")
        .unwrap()
        .amount = 3000.0;
    let sol = optimize(&s, &policy(&s, CALENDAR));
    assert_eq!(
        sol.status,
        HouseholdStatus::Infeasible,
        "{:?}",
        sol.messages
    );
    assert!(
        sol.messages[0].contains("account roth_sam holds $1800.00")
            && sol.messages[0].contains("$1200.00 short"),
        "{:?}",
        sol.messages
    );
}

/// Without a wash-sale guard the optimizer may sell a loss and buy the group back in the
/// same list: the tax it reports is what the ledger books for the list (the washed loss
/// saves nothing), not each lot's gross loss at the marginal rate.
#[test]
fn the_reported_tax_is_what_the_ledger_books() {
    use tollbooth_engine::scenario::policy::{Frequency, TlhRule, WashSaleGuard};
    let s = demo();
    let mut p = policy(&s, "Cost-aware optimizer");
    p.tlh = Some(TlhRule {
        check: Frequency::Daily,
        loss_threshold_pct: 0.03,
        loss_threshold_usd: 500.0,
        partner_swaps: true,
        wash_sale_guard: WashSaleGuard::None,
    });
    let sol = solve(&s, &p);
    let rate = |long: bool| {
        if long {
            s.tax.long_term_rate()
        } else {
            s.tax.short_term_rate()
        }
    };
    let gross: f64 = sol
        .trades
        .iter()
        .filter(|t| t.side == Side::Sell && t.account == "joint")
        .flat_map(|t| &t.lots)
        .map(|l| l.gain * rate(l.long_term))
        .sum();
    let booked: f64 = sol.trades.iter().map(|t| t.tax_effect).sum();
    // Some of the list's losses are washed by its own purchases: less is saved.
    assert!(booked > gross + 100.0, "booked {booked}, lots {gross}");
    assert!((sol.terms.tax - sol.terms.harvest_value - booked).abs() < 1e-6);
}
