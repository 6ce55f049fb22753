//! The books balance on every path and policy: starting value, plus price gains,
//! dividends, interest and flows, less commissions, regulatory fees, spread, impact, taxes
//! paid in cash and advisory fees, is the ending value; shares and cash never go negative.

use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::{presets, SimOptions, Simulation};

fn check_books(s: &Scenario, paths: u64, years: u32) {
    let sim = Simulation::new(
        s,
        &SimOptions {
            paths: Some(paths),
            years: Some(years),
            ..SimOptions::default()
        },
    )
    .unwrap();
    for path in 0..paths {
        let o = sim.run_path(path).unwrap();
        for (pi, p) in o.policies.iter().enumerate() {
            let name = &s.policies[pi].name;
            let expected = p.start_value + p.price_gain + p.dividends + p.interest + p.flows
                - p.commission
                - p.regulatory
                - p.spread
                - p.impact
                - p.taxes_cash
                - p.advisory;
            let rel = (expected - p.terminal_pretax).abs() / p.terminal_pretax.abs().max(1.0);
            assert!(
                rel < 1e-6,
                "{name}, path {path}: books do not balance: expected {expected}, got {} (rel {rel:e})",
                p.terminal_pretax
            );
            assert!(
                p.min_cash >= -1e-6,
                "{name}, path {path}: cash went to {}",
                p.min_cash
            );
            assert!(
                p.min_shares >= 0.0,
                "{name}, path {path}: shares went to {}",
                p.min_shares
            );
            assert!(p.after_tax.is_finite() && p.after_tax > 0.0);
            // The horizon is the last month-end: its after-tax value is the after-tax
            // terminal wealth (the month-end values it before settling a year still open at
            // the horizon, the scalar after: the two differ by rounding only).
            assert_eq!(p.monthly_after_tax.len(), p.monthly_value.len());
            let last = *p.monthly_after_tax.last().unwrap();
            let rel = (last - p.after_tax).abs() / p.after_tax.abs().max(1.0);
            assert!(
                rel < 1e-9,
                "{name}, path {path}: last month-end after-tax {last} vs after-tax wealth {} (rel {rel:e})",
                p.after_tax
            );
            // Taxes paid = year-end cash taxes + the last year's tax.
            assert!((p.taxes_paid - p.taxes_cash - p.last_year_tax).abs() < 1e-6);
        }
    }
}

#[test]
fn demo_books_balance() {
    check_books(&Scenario::demo(), 2, 2);
}

#[test]
fn every_preset_books_balance() {
    for p in presets() {
        check_books(&p.scenario, 1, 1);
    }
}

/// Regression: a quarter of the seed firm's generated households failed their simulation
/// (`sells 61.5 VWO in account acct2 but only 56.9 are held`): a harvest named the day's
/// loss lots, an earlier harvest of the day in another account washed part of one, and
/// the named ids no longer held the shares. Household 7 failed on its third day.
#[test]
fn generated_households_with_same_day_washes_simulate() {
    let config = tollbooth_engine::simulate::seed_firm();
    let firm = tollbooth_engine::firm::FirmGenerator::new(&config, 1).unwrap();
    for (i, h) in firm.households(10).enumerate() {
        let s = h
            .scenario(&config, i as u64 + 1)
            .unwrap_or_else(|e| panic!("{}: {e}", h.id));
        check_books(&s, 1, 1);
    }
}

#[test]
fn books_balance_with_withdrawals_advisory_fees_and_cash_dividends() {
    use tollbooth_engine::scenario::market::DividendTreatment;
    use tollbooth_engine::scenario::{CashFlow, CashFlowSchedule};
    let mut s = Scenario::demo();
    s.market.dividends = DividendTreatment::Cash;
    for f in &mut s.fee_schedules {
        f.advisory_fee_bps = 75.0;
    }
    s.cash_flows.push(CashFlow {
        account: "joint".into(),
        amount: -60_000.0,
        schedule: CashFlowSchedule::Once {
            date: "2027-03-15".parse().unwrap(),
        },
    });
    check_books(&s, 1, 2);
    let sim = Simulation::new(
        &s,
        &SimOptions {
            paths: Some(1),
            years: Some(2),
            ..SimOptions::default()
        },
    )
    .unwrap();
    let o = sim.run_path(0).unwrap();
    for p in &o.policies {
        assert!(p.advisory > 0.0);
        assert!(
            p.flows < 0.0,
            "the withdrawal exceeds two years of $2,000 contributions"
        );
    }
}

/// A horizon on or before January 30 falls before the previous year is settled: the
/// horizon settles it from cash first, so the books still balance and the terminal
/// after-tax value is net of that year's tax.
#[test]
fn january_horizon_settles_the_open_year_first() {
    use tollbooth_engine::date::Date;
    use tollbooth_engine::simulate::simulate;
    let mut s = Scenario::demo();
    s.as_of = Date::from_ymd(2027, 1, 12).unwrap();
    let opts = SimOptions {
        paths: Some(1),
        years: Some(1),
        ..SimOptions::default()
    };
    let r = simulate(&s, &opts).unwrap();
    let end = *r.series.dates.last().unwrap();
    assert_eq!((end.year(), end.ymd().1), (2028, 1));
    assert!(end.ymd().2 <= 30, "horizon {end}");
    check_books(&s, 1, 1);
}

/// With embedded gains in the taxable account (basis half the value, prices rising) and
/// a traditional IRA, the after-tax value is below the pre-tax value at every month-end
/// by at least the deferred tax's share.
#[test]
fn after_tax_is_below_pretax_with_gains_and_deferred_balances() {
    use tollbooth_engine::scenario::Policy;
    use tollbooth_engine::types::AccountKind;
    let mut s = Scenario::demo();
    s.cash_flows.clear();
    s.policies = vec![Policy::buy_and_hold("Hold")];
    s.baseline = "Hold".into();
    for c in &mut s.market.classes {
        c.expected_return = 0.08;
        c.volatility = 0.01;
    }
    s.market.default_idiosyncratic_vol = 0.0;
    s.market.idiosyncratic_vol.clear();
    let prices: Vec<(String, f64)> = s
        .securities
        .iter()
        .map(|x| (x.symbol.clone(), x.price))
        .collect();
    let price = |sym: &str| prices.iter().find(|p| p.0 == sym).unwrap().1;
    let mut deferred_accounts = 0;
    for a in &mut s.household.accounts {
        if matches!(a.kind, AccountKind::TraditionalIra | AccountKind::K401) {
            deferred_accounts += 1;
        }
        for l in &mut a.lots {
            l.basis = 0.5 * l.quantity * price(&l.symbol);
        }
    }
    assert!(deferred_accounts > 0, "the demo has a deferred account");
    let sim = Simulation::new(
        &s,
        &SimOptions {
            paths: Some(2),
            years: Some(2),
            ..SimOptions::default()
        },
    )
    .unwrap();
    for path in 0..2 {
        let o = sim.run_path(path).unwrap();
        let p = &o.policies[0];
        assert!(p.liquidation_tax > 0.0 && p.deferred_tax > 0.0);
        assert!(p.after_tax < p.terminal_pretax);
        let share = p.deferred_tax / p.terminal_pretax;
        for (m, (pre, post)) in p.monthly_value.iter().zip(&p.monthly_after_tax).enumerate() {
            assert!(
                post < pre && pre - post > 0.5 * share * pre,
                "path {path}, month {m}: after-tax {post} vs pre-tax {pre}"
            );
        }
    }
}

#[test]
fn a_sales_realized_gain_is_its_proceeds_net_of_every_cost_less_the_basis_relieved() {
    use tollbooth_engine::types::Side;
    // With market impact modelled, so that every cost the proceeds are net of is there.
    let mut s = Scenario::demo();
    for f in &mut s.fee_schedules {
        f.impact = Some(tollbooth_engine::fees::ImpactModel { coefficient: 1.0 });
    }
    for x in &mut s.securities {
        x.daily_dollar_volume = Some(2e6);
    }
    let mut sells = 0;
    let mut with_spread = 0;
    for p in &s.policies {
        let rows = tollbooth_engine::simulate::rule_trades(&s, p, s.as_of).unwrap();
        for r in rows.iter().filter(|r| r.side == Side::Sell) {
            let taxable = s.account(&r.account).unwrap().kind.is_taxable();
            if !taxable {
                continue;
            }
            sells += 1;
            // The half-spread alone is notional × bps; more is the impact.
            let half_spread = s
                .securities
                .iter()
                .find(|x| x.symbol == r.symbol)
                .map_or(0.0, |x| r.quantity * r.price * x.half_spread_bps * 1e-4);
            if r.spread > half_spread + 0.01 {
                with_spread += 1;
            }
            // Proceeds at the mid price, net of commission, SEC + FINRA fees, the half-spread
            // and market impact; a loss disallowed as a wash sale is not recognized.
            let proceeds = r.quantity * r.price - r.commission - r.regulatory - r.spread;
            let basis: f64 = r.lots.iter().map(|l| l.basis).sum();
            let want = proceeds - basis + r.disallowed;
            assert!(
                (r.realized_gain - want).abs() < 1e-6 * want.abs().max(1.0),
                "{} {} {}: realized {} vs {want}",
                p.name,
                r.account,
                r.symbol,
                r.realized_gain
            );
        }
    }
    assert!(
        sells > 0 && with_spread > 0,
        "{sells} sales, {with_spread} with market impact"
    );
}
