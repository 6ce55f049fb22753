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
