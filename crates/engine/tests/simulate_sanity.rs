//! Sanity checks of the simulator's behaviour on short runs.

use tollbooth_engine::scenario::policy::{
    Band, BandKind, CalendarRule, Frequency, ThresholdRule, TlhRule, WashSaleGuard,
};
use tollbooth_engine::scenario::{Policy, Scenario};
use tollbooth_engine::simulate::{seed_firm, simulate, Reason, SimError, SimOptions};
use tollbooth_engine::types::LotMethod;

fn opts(paths: u64, years: u32) -> SimOptions {
    SimOptions {
        paths: Some(paths),
        years: Some(years),
        ..SimOptions::default()
    }
}

fn quiet(mut s: Scenario, policies: Vec<Policy>) -> Scenario {
    s.cash_flows.clear();
    s.baseline = policies[0].name.clone();
    s.policies = policies;
    s
}

fn calendar(name: &str, f: Frequency) -> Policy {
    Policy {
        calendar: Some(CalendarRule { frequency: f }),
        lot_method: LotMethod::Hifo,
        ..Policy::buy_and_hold(name)
    }
}

#[test]
fn monthly_calendar_rebalances_twelve_times_a_year() {
    let s = quiet(
        Scenario::demo(),
        vec![
            calendar("Monthly", Frequency::Monthly),
            Policy::buy_and_hold("Hold"),
        ],
    );
    let r = simulate(&s, &opts(1, 2)).unwrap();
    let rows = &r.trades.policies[0].1;
    let mut days: Vec<_> = rows
        .iter()
        .filter(|t| t.reason == Reason::Drift)
        .map(|t| t.date)
        .collect();
    days.dedup();
    assert_eq!(days.len(), 24, "{days:?}");
    for d in &days {
        let (_, _, day) = d.ymd();
        assert!(day <= 3, "{d} is not the first business day of a month");
    }
    // Buy and hold never trades without cash flows (taxes are paid from cash).
    assert!(r.trades.policies[1]
        .1
        .iter()
        .all(|t| t.reason != Reason::Drift));
}

#[test]
fn wider_bands_rebalance_less_often() {
    let band = |name: &str, width: f64| Policy {
        threshold: Some(ThresholdRule {
            band: Band {
                kind: BandKind::Absolute,
                width,
            },
            check: Frequency::Daily,
            trade_to: 0.0,
        }),
        ..Policy::buy_and_hold(name)
    };
    let s = quiet(
        Scenario::demo(),
        vec![
            band("0.5%", 0.005),
            band("2%", 0.02),
            band("5%", 0.05),
            band("15%", 0.15),
        ],
    );
    let r = simulate(&s, &opts(2, 2)).unwrap();
    let days: Vec<f64> = r
        .policies
        .iter()
        .map(|p| p.metric("trade_days_per_year").unwrap().mean)
        .collect();
    assert!(days[0] > days[3], "{days:?}");
    for w in days.windows(2) {
        assert!(
            w[0] >= w[1],
            "trading days must not grow with the band: {days:?}"
        );
    }
}

#[test]
fn zero_fees_and_spreads_cost_nothing() {
    let mut s = Scenario::demo_zero_fee();
    for f in &mut s.fee_schedules {
        f.charge_regulatory = false;
        for t in [
            tollbooth_engine::types::SecurityType::Etf,
            tollbooth_engine::types::SecurityType::Stock,
            tollbooth_engine::types::SecurityType::MutualFund,
        ] {
            let row = f.rows.get_mut(t);
            row.flat = 0.0;
            row.per_share = 0.0;
            row.notional_bps = 0.0;
            row.minimum = 0.0;
        }
        f.fractional_surcharge = 0.0;
    }
    for sec in &mut s.securities {
        sec.half_spread_bps = 0.0;
    }
    let r = simulate(&s, &opts(1, 1)).unwrap();
    for p in &r.policies {
        assert!(
            p.metric("tickets").unwrap().mean > 0.0,
            "{} never traded",
            p.name
        );
        for key in ["ticket_charges", "regulatory_fees", "spread_impact"] {
            assert_eq!(p.metric(key).unwrap().mean, 0.0, "{}: {key}", p.name);
        }
    }
}

fn tlh(name: &str, guard: WashSaleGuard) -> Policy {
    Policy {
        tlh: Some(TlhRule {
            check: Frequency::Daily,
            loss_threshold_pct: 0.01,
            loss_threshold_usd: 100.0,
            partner_swaps: true,
            wash_sale_guard: guard,
        }),
        calendar: Some(CalendarRule {
            frequency: Frequency::Quarterly,
        }),
        cash_flow_first: true,
        lot_method: LotMethod::MinTax,
        ..Policy::buy_and_hold(name)
    }
}

#[test]
fn no_losses_no_harvest() {
    let mut s = quiet(
        Scenario::demo(),
        vec![
            calendar("Quarterly", Frequency::Quarterly),
            tlh("TLH", WashSaleGuard::Household),
        ],
    );
    // Every lot deep in gain and a market that barely moves but drifts up.
    for a in &mut s.household.accounts {
        for l in &mut a.lots {
            l.basis *= 0.2;
        }
    }
    for c in &mut s.market.classes {
        c.volatility = 0.001;
        c.expected_return = 0.08;
    }
    s.market.idiosyncratic_vol.clear();
    s.market.default_idiosyncratic_vol = 0.0005;
    let r = simulate(&s, &opts(2, 1)).unwrap();
    let p = r.policy("TLH").unwrap();
    assert_eq!(p.metric("harvested_gross").unwrap().p95, 0.0);
    assert!(r.trades.policies[1]
        .1
        .iter()
        .all(|t| t.reason != Reason::Harvest));
}

#[test]
fn household_guard_washes_nothing_and_no_guard_can_lose_losses() {
    let s = quiet(
        Scenario::demo(),
        vec![
            calendar("Quarterly", Frequency::Quarterly),
            tlh("Household guard", WashSaleGuard::Household),
            tlh("No guard", WashSaleGuard::None),
        ],
    );
    let r = simulate(&s, &opts(3, 2)).unwrap();
    let g = r.policy("Household guard").unwrap();
    assert!(g.metric("harvested_gross").unwrap().mean > 0.0);
    for key in ["harvested_washed", "harvested_lost"] {
        let st = g.metric(key).unwrap();
        assert_eq!((st.mean, st.p95), (0.0, 0.0), "{key}");
    }
    // Without a guard the demo's traps (VNQ bought in the IRA, VWO in the Roth within 30
    // days) disallow part of the harvest for good.
    let n = r.policy("No guard").unwrap();
    assert!(n.metric("harvested_lost").unwrap().mean > 0.0);
}

#[test]
fn the_seed_story_sentiment_engine_trades_more_and_nets_less() {
    let s = seed_firm();
    let r = simulate(&s, &opts(2, 1)).unwrap();
    let q = &r.policies[0];
    let e = &r.policies[1];
    let tickets = |p: &tollbooth_engine::simulate::PolicyReport| p.metric("tickets").unwrap().mean;
    assert!(
        tickets(e) > 5.0 * tickets(q),
        "{} vs {}",
        tickets(e),
        tickets(q)
    );
    assert!(e.metric("net_benefit_usd").unwrap().mean < 0.0);
    assert!(e.friction_flag);
    assert!(!q.friction_flag);
    let be = e.break_even_ticket_fee.unwrap();
    assert!(be < 3.10, "break-even fee {be}");
}

#[test]
fn bad_runs_are_typed_errors() {
    let s = Scenario::demo();
    assert_eq!(simulate(&s, &opts(0, 1)).unwrap_err(), SimError::NoPaths);
    assert_eq!(simulate(&s, &opts(1, 0)).unwrap_err(), SimError::NoYears);
    let mut t = s.clone();
    t.policies.clear();
    assert_eq!(simulate(&t, &opts(1, 1)).unwrap_err(), SimError::NoPolicies);
    let mut t = s.clone();
    t.baseline = "nope".into();
    assert!(matches!(
        simulate(&t, &opts(1, 1)),
        Err(SimError::UnknownBaseline { .. })
    ));
    let mut t = s;
    t.household.accounts[0].fee_schedule = "missing".into();
    let e = simulate(&t, &opts(1, 1)).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
}

#[test]
fn metric_definitions_cover_every_metric() {
    let r = simulate(&Scenario::demo(), &opts(1, 1)).unwrap();
    for p in &r.policies {
        assert_eq!(p.metrics.len(), r.definitions.len());
        for (m, d) in p.metrics.iter().zip(&r.definitions) {
            assert_eq!(m.key, d.key);
            assert!(!d.definition.is_empty());
        }
    }
    // November 2026 (partial) to November 2027 (the horizon).
    assert_eq!(r.series.dates.len(), 13);
    assert!(r.trades_csv().lines().count() > 1);
}
