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
