//! The report's metric formulas (`simulate::report`, `path_metrics` and `definitions()`),
//! recomputed here from their definitions out of what a run exposes — the recorded
//! path's trade list, the scenario's opening holdings, the per-path outcome, and (for
//! tracking error and drift) every day's prices from the market model — and compared with
//! the one-path report, whose mean is the path's value:
//!
//! - turnover = ½ Σ |trade notional| ÷ average household value ÷ years;
//! - harvesting yield = gross harvested losses ÷ starting household value ÷ years (bps);
//! - tax alpha after costs = annualised after-tax return minus the baseline's, with
//!   annualised return `(W_T / W_0)^(1/T) − 1`; before costs, each policy's trading costs
//!   added back to its `W_T`;
//! - tracking error = annualised standard deviation of the daily difference between the
//!   household's return and the target model's return (× √ business days per year);
//! - average and maximum drift = largest absolute class-weight deviation from target,
//!   averaged over days and at its largest.
//!
//! "Years" is the horizon's span: the days from the scenario date to the last step over
//! 365.2425.

use std::sync::OnceLock;
use tollbooth_engine::date::Date;
use tollbooth_engine::market::STEPS_PER_YEAR;
use tollbooth_engine::scenario::policy::{CalendarRule, Frequency};
use tollbooth_engine::scenario::{Policy, Scenario};
use tollbooth_engine::simulate::{PathOutcome, Reason, Report, SimOptions, Simulation, TradeRow};
use tollbooth_engine::tax::HorizonTreatment;
use tollbooth_engine::types::{AccountKind, Side};

mod support;
use support::*;

/// Relative difference, scaled by the larger magnitude (at least 1e-300).
fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

/// The horizon in years: the span from the scenario date to the last step.
fn years_of(s: &Scenario, r: &Report) -> f64 {
    f64::from(r.end.days_since(s.as_of)) / 365.2425
}

/// The household's value on the scenario date: every lot at its price, plus cash.
fn start_value(s: &Scenario) -> f64 {
    let price = |sym: &str| s.securities.iter().find(|x| x.symbol == sym).unwrap().price;
    s.household
        .accounts
        .iter()
        .map(|a| {
            a.cash
                + a.lots
                    .iter()
                    .map(|l| l.quantity * price(&l.symbol))
                    .sum::<f64>()
        })
        .sum()
}

/// A one-path, two-year run of the demo household, quarterly rebalancing (the baseline)
/// against daily tax-loss harvesting: its scenario, outcome and report.
struct DemoRun {
    s: Scenario,
    o: PathOutcome,
    r: Report,
    years: f64,
}

fn demo_run() -> &'static DemoRun {
    static RUN: OnceLock<DemoRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let mut s = Scenario::demo();
        // Quarterly calendar (baseline) and daily TLH (household guard): the demo's first two.
        s.policies.truncate(2);
        assert_eq!(s.baseline, s.policies[0].name);
        assert!(s.policies[1].tlh.is_some());
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
        let mut acc = sim.accumulator();
        acc.push(o.clone()).unwrap();
        let r = sim.report(&acc);
        let years = years_of(&s, &r);
        assert!(
            (years - 2.0).abs() < 0.01,
            "a two-year horizon spans {years} years"
        );
        assert_eq!(sim.shape().years, years);
        DemoRun { s, o, r, years }
    })
}

fn metric(r: &Report, policy: usize, key: &str) -> f64 {
    r.policies[policy]
        .metric(key)
        .unwrap_or_else(|| panic!("no metric {key}"))
        .mean
}

fn rows(run: &DemoRun, policy: usize) -> &[TradeRow] {
    &run.o.trades.as_ref().expect("path 0 is recorded")[policy]
}

/// Turnover: one-way, annualised, ½ Σ |trade notional| ÷ average household value ÷ years.
#[test]
fn turnover_is_half_the_traded_notional_over_average_value_per_year() {
    let run = demo_run();
    for (pi, p) in run.o.policies.iter().enumerate() {
        let name = &run.s.policies[pi].name;
        // Trades, not dividend reinvestments (listed, but no ticket and no turnover).
        let traded: f64 = rows(run, pi)
            .iter()
            .filter(|t| t.reason != Reason::DividendReinvestment)
            .map(|t| (t.quantity * t.price).abs())
            .sum();
        assert!(traded > 0.0, "{name} never traded");
        assert!(
            rel(traded, p.notional) < 1e-9,
            "{name}: the trade list adds up to {traded}, the path's notional is {}",
            p.notional
        );
        // The average daily value lies within the month-end values' range (a
        // low-volatility year: allow 10%).
        let lo = p
            .monthly_value
            .iter()
            .copied()
            .fold(p.start_value, f64::min);
        let hi = p
            .monthly_value
            .iter()
            .copied()
            .fold(p.start_value, f64::max);
        assert!(
            p.avg_value > 0.9 * lo && p.avg_value < 1.1 * hi,
            "{name}: average value {} outside [{lo}, {hi}]",
            p.avg_value
        );
        let want = 0.5 * traded / p.avg_value / run.years;
        let got = metric(&run.r, pi, "turnover");
        assert!(
            rel(got, want) < 1e-9,
            "{name}: turnover {got}, expected {want}"
        );
    }
}

/// Harvesting yield (the vendors' figure): gross harvested losses ÷ starting household
/// value ÷ years, in basis points a year. Gross losses are the harvest sales' economic
/// losses, lot by lot: basis relieved less the lot's share of the net proceeds.
#[test]
fn harvesting_yield_is_gross_harvested_losses_over_starting_value_per_year() {
    let run = demo_run();
    let w0 = start_value(&run.s);
    for (pi, p) in run.o.policies.iter().enumerate() {
        let name = &run.s.policies[pi].name;
        assert!(
            rel(p.start_value, w0) < 1e-12,
            "{name}: start value {}",
            p.start_value
        );
        let mut gross = 0.0;
        for t in rows(run, pi).iter().filter(|t| t.reason == Reason::Harvest) {
            assert_eq!(t.side, Side::Sell);
            let net = t.quantity * t.price - (t.commission + t.regulatory + t.spread);
            for l in &t.lots {
                gross += (l.basis - net * l.quantity / t.quantity).max(0.0);
            }
        }
        assert!(
            (gross - p.harvest_gross).abs() <= 1e-9 * gross.max(1.0),
            "{name}: harvest rows lose {gross}, the path's gross harvest is {}",
            p.harvest_gross
        );
        assert!(
            rel(metric(&run.r, pi, "harvested_gross"), gross) < 1e-12 || gross == 0.0,
            "{name}: harvested_gross"
        );
        let want = 1e4 * gross / w0 / run.years;
        let got = metric(&run.r, pi, "harvesting_yield");
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1e-6),
            "{name}: harvesting yield {got} bps/yr, expected {want}"
        );
    }
    // The check means something: the harvesting policy harvested, the calendar did not.
    assert!(run.o.policies[1].harvest_gross > 0.0, "nothing harvested");
    assert_eq!(run.o.policies[0].harvest_gross, 0.0);
    assert!(metric(&run.r, 1, "harvesting_yield") > 0.0);
}

/// Losses disallowed on all sales: the trade list's disallowed losses of every sale on the
/// path (a sale's row carries its final disallowed loss), at least the harvested washed and
/// lost parts.
#[test]
fn disallowed_losses_on_all_sales_add_up_the_trade_list() {
    let run = demo_run();
    for (pi, p) in run.o.policies.iter().enumerate() {
        let name = &run.s.policies[pi].name;
        let listed: f64 = rows(run, pi)
            .iter()
            .filter(|t| t.side == Side::Sell)
            .map(|t| t.disallowed)
            .sum();
        assert!(
            (listed - p.disallowed_all).abs() <= 1e-9 * listed.max(1.0),
            "{name}: the trade list disallows {listed}, the path {}",
            p.disallowed_all
        );
        assert!(
            p.disallowed_all + 1e-9 >= p.harvest_washed + p.harvest_lost,
            "{name}"
        );
        assert!(
            rel(metric(&run.r, pi, "disallowed_all"), p.disallowed_all) < 1e-12
                || p.disallowed_all == 0.0,
            "{name}: disallowed_all"
        );
    }
    // The check means something: the calendar's rebalancing sales (not harvests) are
    // washed by dividend reinvestments on this path, and only this metric shows it.
    let calendar = &run.o.policies[0];
    assert!(calendar.disallowed_all > 0.0 && calendar.harvest_gross == 0.0);
}

/// The demo's cash flows as `(years after the scenario date, amount)`: each on its date's
/// business day or the next, within the horizon (all contributions, so paid in full).
fn demo_flows(s: &Scenario, end: Date) -> Vec<(f64, f64)> {
    use tollbooth_engine::scenario::CashFlowSchedule;
    let on_business_day = |d: Date| {
        if d.is_business_day() {
            d
        } else {
            d.next_business_day()
        }
    };
    let mut out = Vec::new();
    for cf in &s.cash_flows {
        assert!(cf.amount > 0.0, "a contribution");
        let dates: Vec<Date> = match cf.schedule {
            CashFlowSchedule::Once { date } => vec![date],
            CashFlowSchedule::Recurring {
                start,
                end: None,
                frequency: Frequency::Monthly,
            } => {
                let (y, m, d) = start.ymd();
                (0..36)
                    .map(|k| {
                        let m0 = m - 1 + k;
                        Date::from_ymd(y + (m0 / 12) as i32, m0 % 12 + 1, d).unwrap()
                    })
                    .collect()
            }
            ref other => panic!("the demo's flows changed: {other:?}"),
        };
        for d in dates.into_iter().map(on_business_day) {
            if d > s.as_of && d <= end {
                out.push((f64::from(d.days_since(s.as_of)) / 365.2425, cf.amount));
            }
        }
    }
    assert!(out.len() > 20, "{out:?}");
    out
}

/// The rate r with `w0 (1+r)^T + Σ F (1+r)^(T−t) = w`, by bisection.
fn irr(w0: f64, flows: &[(f64, f64)], w: f64, t: f64) -> f64 {
    let g = |r: f64| {
        w0 * (1.0 + r).powf(t)
            + flows
                .iter()
                .map(|&(ti, f)| f * (1.0 + r).powf(t - ti))
                .sum::<f64>()
            - w
    };
    let (mut lo, mut hi) = (-0.5, 1.0);
    assert!(g(lo) < 0.0 && g(hi) > 0.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Tax alpha: the annualised after-tax money-weighted return of the policy minus the
/// baseline's on the same path, in bps a year — the rate that grows the starting value and
/// each contribution from its date to the after-tax terminal wealth, so contributions are
/// not counted as return; before costs, each policy's trading costs (commissions,
/// regulatory fees, spread, impact) are added back to its `W_T` at their after-tax value
/// there.
#[test]
fn tax_alpha_is_the_annualised_after_tax_return_difference_before_and_after_costs() {
    let run = demo_run();
    let (r, t) = (&run.r, run.years);
    let w0 = start_value(&run.s);
    let b = run
        .s
        .policies
        .iter()
        .position(|p| p.name == run.s.baseline)
        .unwrap();
    let flows = demo_flows(&run.s, r.end);
    let ann = |w: f64| irr(w0, &flows, w, t);
    let wealth = |pi: usize| metric(r, pi, "after_tax_wealth");
    let costs = |pi: usize| {
        metric(r, pi, "ticket_charges")
            + metric(r, pi, "regulatory_fees")
            + metric(r, pi, "spread_impact")
    };
    // Before costs, each cost is added back at its after-tax value at the horizon: less
    // its tax deduction by account (and side, when holding at the horizon) and grown at
    // the target model's expected return from its date.
    let s = &run.s;
    let expected: f64 = s
        .target
        .classes
        .iter()
        .map(|c| {
            let m = s.market.classes.iter().find(|m| m.name == c.asset_class);
            c.weight * m.unwrap().expected_return
        })
        .sum();
    let weighed = |pi: usize| -> f64 {
        rows(run, pi)
            .iter()
            .map(|x| {
                let kind = s
                    .household
                    .accounts
                    .iter()
                    .find(|a| a.id == x.account)
                    .unwrap()
                    .kind;
                let share = match kind {
                    AccountKind::TraditionalIra | AccountKind::K401 => 1.0 - s.tax.deferred_rate(),
                    AccountKind::RothIra => 1.0,
                    _ if x.side == Side::Buy && s.tax.horizon == HorizonTreatment::Hold => 1.0,
                    _ => 1.0 - s.tax.long_term_rate(),
                };
                let days = f64::from(r.end.days_since(x.date).max(0));
                let growth = (1.0 + expected).powf(days / 365.2425);
                (x.commission + x.regulatory + x.spread) * share * growth
            })
            .sum()
    };
    // The compound rate (W_T / W_0)^(1/T) − 1 would count the contributions as return.
    let compound = (wealth(b) / w0).powf(1.0 / t) - 1.0;
    assert!(
        compound > ann(wealth(b)) + 0.01,
        "{compound} vs {}",
        ann(wealth(b))
    );
    for (pi, p) in run.o.policies.iter().enumerate() {
        let name = &run.s.policies[pi].name;
        // The costs are the trade list's, and the wealth the path's.
        let listed: f64 = rows(run, pi)
            .iter()
            .map(|x| x.commission + x.regulatory + x.spread)
            .sum();
        assert!(
            (listed - costs(pi)).abs() <= 1e-9 * listed.max(1.0),
            "{name}: the trade list costs {listed}, the report {}",
            costs(pi)
        );
        assert_eq!(wealth(pi), p.after_tax);
        let after = 1e4 * (ann(wealth(pi)) - ann(wealth(b)));
        let before = 1e4 * (ann(wealth(pi) + weighed(pi)) - ann(wealth(b) + weighed(b)));
        let got_after = metric(r, pi, "tax_alpha_after_costs");
        let got_before = metric(r, pi, "tax_alpha_before_costs");
        assert!(
            (got_after - after).abs() < 1e-6,
            "{name}: tax alpha after costs {got_after} bps/yr, expected {after}"
        );
        assert!(
            (got_before - before).abs() < 1e-6,
            "{name}: tax alpha before costs {got_before} bps/yr, expected {before}"
        );
    }
    // The baseline against itself is zero; the harvesting policy's costs differ from the
    // baseline's, so its two alphas differ (the test tells them apart).
    assert_eq!(metric(r, b, "tax_alpha_after_costs"), 0.0);
    assert_eq!(metric(r, b, "tax_alpha_before_costs"), 0.0);
    let gap = metric(r, 1, "tax_alpha_before_costs") - metric(r, 1, "tax_alpha_after_costs");
    assert!(gap.abs() > 0.1, "costs move tax alpha by {gap} bps/yr only");
    assert!(
        metric(r, 1, "tax_alpha_after_costs").abs() > 0.1,
        "a zero tax alpha checks little"
    );
}

/// A three-class household off its target, held (the baseline) or rebalanced monthly, its
/// values, prices and class weights known on every day.
struct DailyRun {
    s: Scenario,
    r: Report,
    days: Vec<(Date, Vec<f64>)>,
    books: Vec<Vec<DayBook>>,
}

fn daily_run() -> &'static DailyRun {
    static RUN: OnceLock<DailyRun> = OnceLock::new();
    RUN.get_or_init(|| {
        let classes = [
            Cls {
                market: "us_equity",
                symbol: "VTI",
                target: 0.5,
                start: 0.6,
                ret: 0.067,
                vol: 0.16,
            },
            Cls {
                market: "us_bonds",
                symbol: "BND",
                target: 0.3,
                start: 0.2,
                ret: 0.046,
                vol: 0.05,
            },
            Cls {
                market: "intl_developed",
                symbol: "VEA",
                target: 0.2,
                start: 0.2,
                ret: 0.08,
                vol: 0.175,
            },
        ];
        let s = mini(
            &classes,
            vec![
                Policy::buy_and_hold("Hold"),
                Policy {
                    calendar: Some(CalendarRule {
                        frequency: Frequency::Monthly,
                    }),
                    ..Policy::buy_and_hold("Monthly")
                },
            ],
        );
        let years = 1;
        let sim = Simulation::new(
            &s,
            &SimOptions {
                paths: Some(1),
                years: Some(years),
                ..SimOptions::default()
            },
        )
        .unwrap();
        let o = sim.run_path(0).unwrap();
        let mut acc = sim.accumulator();
        acc.push(o.clone()).unwrap();
        let r = sim.report(&acc);
        let days = market_days(&s, years, 0);
        let trades = o.trades.expect("path 0 is recorded");
        let books = trades.iter().map(|rows| replay(&s, &days, rows)).collect();
        DailyRun { s, r, days, books }
    })
}

/// Tracking error: the sample standard deviation of the daily difference between the
/// household's return and the target model's (target weights on each class's primary
/// security), annualised by √(business days a year). (The tolerance, 0.5%, accepts a
/// population or a sample deviation but not √252 for the ≈ 260.9 business days a year.)
#[test]
fn tracking_error_is_the_annualised_std_of_daily_return_differences() {
    let run = daily_run();
    let targets: Vec<f64> = run.s.target.classes.iter().map(|c| c.weight).collect();
    let p0: Vec<f64> = run.s.securities.iter().map(|x| x.price).collect();
    let v0 = start_value(&run.s);
    for (pi, books) in run.books.iter().enumerate() {
        let name = &run.s.policies[pi].name;
        let mut diffs = Vec::with_capacity(books.len());
        let (mut prev_v, mut prev_p) = (v0, &p0);
        for (d, (_, prices)) in books.iter().zip(&run.days) {
            let v: f64 = d.post.0.iter().zip(prices).map(|(q, p)| q * p).sum::<f64>() + d.post.1;
            let bench: f64 = targets
                .iter()
                .zip(prices.iter().zip(prev_p))
                .map(|(w, (p, q))| w * (p / q - 1.0))
                .sum();
            diffs.push(v / prev_v - 1.0 - bench);
            prev_v = v;
            prev_p = prices;
        }
        let n = diffs.len() as f64;
        let mean = diffs.iter().sum::<f64>() / n;
        let var = diffs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let want = (var * STEPS_PER_YEAR).sqrt();
        let got = metric(&run.r, pi, "tracking_error");
        assert!(
            want > 0.001,
            "{name}: a tracking error of {want} checks little"
        );
        assert!(
            rel(got, want) < 5e-3,
            "{name}: tracking error {got}, expected {want}"
        );
    }
    // Rebalancing monthly tracks the model more closely than holding off-target weights.
    assert!(metric(&run.r, 1, "tracking_error") < metric(&run.r, 0, "tracking_error"));
}

/// Average and maximum drift: the largest absolute deviation of a class weight (of the
/// investable value) from its target at each day's close, averaged over the days and at
/// its largest.
#[test]
fn drift_metrics_follow_their_definitions() {
    let run = daily_run();
    let targets: Vec<f64> = run.s.target.classes.iter().map(|c| c.weight).collect();
    for (pi, books) in run.books.iter().enumerate() {
        let name = &run.s.policies[pi].name;
        let drifts: Vec<f64> = books
            .iter()
            .map(|d| {
                weights(&d.post, &d.prices)
                    .iter()
                    .zip(&targets)
                    .map(|(w, t)| (w - t).abs())
                    .fold(0.0, f64::max)
            })
            .collect();
        let avg = drifts.iter().sum::<f64>() / drifts.len() as f64;
        let max = drifts.iter().copied().fold(0.0, f64::max);
        let (got_avg, got_max) = (
            metric(&run.r, pi, "avg_drift"),
            metric(&run.r, pi, "max_drift"),
        );
        assert!(
            rel(got_avg, avg) < 1e-9,
            "{name}: average drift {got_avg}, expected {avg}"
        );
        assert!(
            rel(got_max, max) < 1e-9,
            "{name}: maximum drift {got_max}, expected {max}"
        );
    }
    // Holding lets the 10-point opening deviation stand; monthly rebalancing removes it.
    assert!(metric(&run.r, 0, "max_drift") >= 0.09);
    assert!(metric(&run.r, 1, "avg_drift") < metric(&run.r, 0, "avg_drift"));
}
