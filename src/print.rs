//! What a printout carries next to the numbers: the assumptions of the scenario and the
//! definitions of the metrics. Shown in print (and in presentation mode), hidden while
//! editing on screen.

use crate::fields::ws;
use crate::ops;
use crate::usd;
use leptos::prelude::*;
use tollbooth_engine::scenario::policy::Policy;
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::report::AFTER_TAX_VALUE_DEFINITION;

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// An option's name in words ("min tax", "household"), as the editors list it.
fn words<T: serde::Serialize>(v: T) -> String {
    let w = crate::fields::key_of(&Some(v)).replace('_', " ");
    match w.as_str() {
        "fifo" | "lifo" | "hifo" => w.to_uppercase(),
        _ => w,
    }
}

/// Where a band rule trades a breached class back to, in words: `trade_to` is a fraction
/// of the band's half-width from target (0: back to target, 0.5: to half the band).
fn trade_back(trade_to: f64) -> String {
    let near = |x: f64| (trade_to - x).abs() < 1e-12;
    if near(0.0) {
        "traded back to target".into()
    } else if near(0.5) {
        "traded back to half the band".into()
    } else if near(1.0) {
        "traded back to the band's edge".into()
    } else {
        format!("traded back to {} of the band from target", pct(trade_to))
    }
}

/// A one-line description of a policy's rules, in an advisor's words: every setting that
/// changes the results is stated, so two policies that trade differently never read alike.
pub fn describe_policy(p: &Policy) -> String {
    use tollbooth_engine::scenario::policy::{Band, BandKind, Frequency};
    let f = |x: Frequency| crate::fields::key_of(&Some(x)).replace('_', " ");
    let band = |b: Band| match b.kind {
        BandKind::Absolute => format!(
            "band ±{} points of weight",
            pct(b.width).trim_end_matches('%')
        ),
        BandKind::Relative => format!("band ±{} of each class's target", pct(b.width)),
    };
    let mut parts = Vec::new();
    if let Some(c) = p.calendar {
        parts.push(format!("calendar {}", f(c.frequency)));
    }
    if let Some(t) = p.threshold {
        let band = t.band.map_or("the target model's bands".to_string(), band);
        parts.push(format!(
            "threshold, {band}, checked {}, {}",
            f(t.check),
            trade_back(t.trade_to)
        ));
    }
    if let Some(o) = p.opportunistic {
        parts.push(format!(
            "opportunistic {} relative band, checked {}, {}",
            pct(o.relative_band),
            f(o.check),
            trade_back(o.trade_to)
        ));
    }
    if let Some(t) = p.tlh {
        parts.push(format!(
            "TLH {} (loss ≥ {} and ≥ {}, wash-sale guard {}{})",
            f(t.check),
            pct(t.loss_threshold_pct),
            usd(t.loss_threshold_usd),
            words(t.wash_sale_guard),
            if t.partner_swaps {
                ", partner swaps"
            } else {
                ""
            }
        ));
    }
    if let Some(t) = p.tactical {
        parts.push(format!(
            "tactical overlay IC {} max tilt {}, refreshed {}",
            t.information_coefficient,
            pct(t.max_tilt),
            f(t.frequency)
        ));
    }
    if let Some(o) = p.optimizer {
        let weighs = match (o.tickets_in_objective, o.taxes_in_objective) {
            (true, true) => "weighs flat ticket fees and taxes on gains",
            (true, false) => "weighs flat ticket fees, not taxes",
            (false, true) => "weighs taxes on gains, not flat ticket fees",
            (false, false) => "weighs neither flat ticket fees nor taxes",
        };
        parts.push(format!(
            "cost-aware optimizer {} (min trade {}; {weighs})",
            f(o.check),
            usd(o.min_trade_usd)
        ));
    }
    if parts.is_empty() {
        parts.push("buy and hold".into());
    }
    parts.push(
        if p.cash_flow_first {
            "contributions and withdrawals rebalance as they arrive (buying underweight, selling overweight classes)"
        } else {
            "contributions wait in cash until a rule trades"
        }
        .into(),
    );
    format!("{}; lots {}", parts.join("; "), words(p.lot_method))
}

/// Dollars as entered: cents when the amount is whole cents, else every significant
/// digit ("$0.005"), so a printed rate is the rate charged.
fn exact_usd(x: f64) -> String {
    if (x * 100.0 - (x * 100.0).round()).abs() < 1e-9 {
        return usd(x);
    }
    let digits = format!("{:.8}", x.abs());
    let digits = digits.trim_end_matches('0');
    format!("{}${digits}", if x < 0.0 { "-" } else { "" })
}

/// One commission row in words: what a ticket pays and on which sides.
fn describe_row(r: &tollbooth_engine::fees::FeeRow) -> String {
    use tollbooth_engine::fees::ChargedSides;
    let mut parts = vec![exact_usd(r.flat)];
    if r.per_share != 0.0 {
        parts.push(format!("{}/share", exact_usd(r.per_share)));
    }
    if r.notional_bps != 0.0 {
        parts.push(format!("{} bps of notional", r.notional_bps));
    }
    let mut out = parts.join(" + ");
    if r.minimum > 0.0 {
        out.push_str(&format!(", minimum {}", exact_usd(r.minimum)));
    }
    if let Some(m) = r.maximum {
        out.push_str(&format!(", maximum {}", exact_usd(m)));
    }
    out.push_str(match r.sides {
        ChargedSides::Both => "",
        ChargedSides::BuysOnly => ", on purchases only",
        ChargedSides::SellsOnly => ", on sales only",
    });
    out
}

/// A fee schedule in words, every row and charge as the engine applies them.
pub fn describe_fee_schedule(f: &tollbooth_engine::fees::FeeSchedule) -> String {
    format!(
        "{} ({}): per ticket, ETF {}; stock {}; mutual fund {}; fractional-share surcharge {}; SEC and FINRA fees on sales {}; market impact {}; advisory fee {} bps a year.",
        f.name,
        f.id,
        describe_row(&f.rows.etf),
        describe_row(&f.rows.stock),
        describe_row(&f.rows.mutual_fund),
        exact_usd(f.fractional_surcharge),
        if f.charge_regulatory { "passed through" } else { "not charged" },
        f.impact
            .map_or_else(|| "not modelled".to_string(), |m| format!("b = {}", m.coefficient)),
        f.advisory_fee_bps
    )
}

/// The dated regulatory fee tables in words.
fn describe_regulatory(r: &tollbooth_engine::fees::RegulatoryTables) -> String {
    let sec: Vec<String> = r
        .sec
        .iter()
        .map(|x| format!("{} per $1M from {}", exact_usd(x.per_million), x.effective))
        .collect();
    let taf: Vec<String> = r
        .taf
        .iter()
        .map(|x| {
            format!(
                "{}/share, at most {} a trade, from {}",
                exact_usd(x.per_share),
                exact_usd(x.max_per_trade),
                x.effective
            )
        })
        .collect();
    format!(
        "Regulatory fees (on sales, rounded up to the cent): SEC Section 31 {}; FINRA TAF {}.",
        sec.join("; "),
        taf.join("; ")
    )
}

/// The do-not-buy and do-not-sell lists in words.
fn restrictions(s: &Scenario) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    format!(
        "Restrictions: never buy {}; never sell {}.",
        list(&s.target.restrictions.do_not_buy),
        list(&s.target.restrictions.do_not_sell)
    )
}

/// When a cash flow happens, in words.
fn describe_schedule(c: &tollbooth_engine::scenario::CashFlowSchedule) -> String {
    use tollbooth_engine::scenario::CashFlowSchedule;
    match c {
        CashFlowSchedule::Once { date } => format!("on {date}."),
        CashFlowSchedule::Recurring {
            start,
            end,
            frequency,
        } => format!(
            "{} from {start}{}.",
            words(*frequency),
            end.map(|e| format!(" to {e}"))
                .unwrap_or_else(|| " to the horizon".to_string())
        ),
    }
}

/// Definitions printed after the engine's metric definitions (the same words the results
/// table shows): the figures the results page adds.
const DEFINITIONS: [(&str, &str); 5] = [
    ("After-tax household value (the fan chart)", AFTER_TAX_VALUE_DEFINITION),
    ("Break-even ticket fee", crate::results::BREAK_EVEN_DEFINITION),
    ("Ticket charges ÷ net new assets", "Mean ticket charges (commissions; regulatory fees are their own row) ÷ mean net new assets (contributions less withdrawals); n/a without net new assets."),
    ("⚠ friction", "The policy chooses to trade on more than 4 days a year over the horizon (more often than quarterly; investing contributions, raising withdrawals and paying taxes do not count) and its mean net benefit is negative."),
    ("★ best", "The best mean in a row (ties all marked; none when the metric has no direction). It does not say the difference is larger than the spread between paths: read the 5th–95th percentile range under each mean."),
];

/// Assumptions and definitions for print.
#[component]
pub fn Assumptions() -> impl IntoView {
    let ws = ws();
    view! {
        <section id="assumptions" class="card print-only" aria-labelledby="assumptions-h" data-testid="assumptions">
            <h2 id="assumptions-h">"Assumptions"</h2>
            {move || {
                let presenting = ws.presenting.get();
                ws.checked.with(|c| match c {
                    Err(e) => view! { <p>{format!("The scenario has {} problem(s): assumptions are listed once it is valid.", e.len())}</p> }.into_any(),
                    Ok(s) => {
                        let run = use_context::<crate::results::RunState>().and_then(|r| r.shown_run());
                        assumptions(s, presenting, run).into_any()
                    }
                })
            }}
            <h2 id="definitions">"Definitions"</h2>
            <dl class="definitions">
                {tollbooth_engine::simulate::report::definitions().into_iter().map(|d| view! { <dt>{d.label}</dt><dd>{d.definition}</dd> }).collect_view()}
                {DEFINITIONS.iter().map(|(t, d)| view! { <dt>{*t}</dt><dd>{*d}</dd> }).collect_view()}
            </dl>
        </section>
    }
}

/// `run`: the paths, years and seed of the results on screen, which the run settings may
/// have set apart from the scenario's own.
fn assumptions(s: &Scenario, presenting: bool, run: Option<(u64, u32, u64)>) -> impl IntoView {
    let t = &s.tax;
    let m = &s.market;
    let name = if presenting {
        "Client household".to_string()
    } else {
        s.name.clone()
    };
    view! {
        <p>
            {format!("{name}, holdings and prices as of {}. Engine {}, scenario {}, seed {}.",
                s.as_of, tollbooth_engine::VERSION, s.hash_hex(), m.seed)}
        </p>
        <p>
            {format!(
                "Tax: {}; federal ordinary {}, long-term gains {}, NIIT {}, state {}; losses offset up to {} of ordinary income a year; loss carried in: {} short-term, {} long-term; at the horizon: {}.",
                words(t.filing_status), pct(t.ordinary_rate), pct(t.ltcg_rate), if t.niit { "on" } else { "off" }, pct(t.state_rate),
                usd(t.ordinary_offset_cap), usd(t.carryforward_in.short_term), usd(t.carryforward_in.long_term), words(t.horizon)
            )}
        </p>
        <p data-testid="assumptions-market">
            {match run {
                Some((paths, years, seed)) => format!(
                    "Market: the results shown were computed over {years} years with {paths} Monte Carlo paths (seed {seed}){}; daily steps on business days, cash yield {}, TLH partner correlation {}.",
                    if u64::from(m.paths) != paths || m.horizon_years != years || m.seed != seed {
                        format!(" — the scenario's own settings are {} years, {} paths, seed {}", m.horizon_years, m.paths, m.seed)
                    } else {
                        String::new()
                    },
                    pct(m.cash_yield), m.partner_correlation),
                None => format!("Market: {} years, {} Monte Carlo paths, daily steps on business days, cash yield {}, TLH partner correlation {}.",
                    m.horizon_years, m.paths, pct(m.cash_yield), m.partner_correlation),
            }}
        </p>
        <table class="grid">
            <thead><tr><th scope="col">"Asset class"</th><th scope="col" class="num">"Expected return"</th><th scope="col" class="num">"Volatility"</th><th scope="col" class="num">"Dividend yield"</th><th scope="col">"Source"</th></tr></thead>
            <tbody>
                {m.classes.iter().map(|c| view! {
                    <tr><td>{c.name.clone()}</td><td class="num">{pct(c.expected_return)}</td><td class="num">{pct(c.volatility)}</td>
                        <td class="num">{pct(c.dividend_yield)}</td><td>{format!("{} {}", c.source, c.as_of)}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
        <h3>"Fee schedules"</h3>
        <ul data-testid="assumptions-fees">
            {s.fee_schedules.iter().map(|f| view! { <li>{describe_fee_schedule(f)}</li> }).collect_view()}
        </ul>
        <p>{describe_regulatory(&s.regulatory)}</p>
        <h3>"Accounts"</h3>
        <ul>
            {s.household.accounts.iter().enumerate().map(|(i, a)| {
                let n = if presenting { ops::account_alias(i) } else { a.name.clone() };
                let min = s.target.min_cash_of(&a.id);
                let min = if min > 0.0 { format!(", keeps at least {} in cash", usd(min)) } else { String::new() };
                view! { <li>{format!("{n}: {}, fee schedule {}, cash {}{min}", a.kind, a.fee_schedule, usd(a.cash))}</li> }
            }).collect_view()}
        </ul>
        <h3>"Target model"</h3>
        <table class="grid" data-testid="assumptions-target">
            <thead><tr><th scope="col">"Asset class"</th><th scope="col" class="num">"Weight"</th><th scope="col">"Band"</th><th scope="col">"Securities"</th><th scope="col">"Preferred accounts"</th></tr></thead>
            <tbody>
                {s.target.classes.iter().map(|c| {
                    let band = s.target.band_of(&c.asset_class);
                    let band = format!("±{} {}{}", pct(band.width), words(band.kind), if c.band.is_some() { "" } else { " (default)" });
                    let secs = std::iter::once(c.primary.clone()).chain(c.alternates.iter().cloned()).collect::<Vec<_>>().join(", ");
                    let loc = ops::location_label(&c.location);
                    view! { <tr><td>{c.asset_class.clone()}</td><td class="num">{pct(c.weight)}</td><td>{band}</td><td>{secs}</td><td>{loc}</td></tr> }
                }).collect_view()}
            </tbody>
        </table>
        <p>{restrictions(s)}</p>
        <h3>"Cash flows"</h3>
        <ul data-testid="assumptions-flows">
            {if s.cash_flows.is_empty() {
                view! { <li>"None."</li> }.into_any()
            } else {
                s.cash_flows.iter().map(|f| {
                    let i = s.household.accounts.iter().position(|a| a.id == f.account);
                    let n = match (presenting, i) {
                        (true, Some(i)) => ops::account_alias(i),
                        _ => f.account.clone(),
                    };
                    let (what, prep) = if f.amount >= 0.0 { ("Contribution", "into") } else { ("Withdrawal", "from") };
                    view! { <li>{format!("{what} of {} {prep} {n}, {}", usd(f.amount.abs()), describe_schedule(&f.schedule))}</li> }
                }).collect_view().into_any()
            }}
        </ul>
        <h3>"Policies"</h3>
        <ul>
            {s.policies.iter().map(|p| {
                let base = if p.name == s.baseline { " (baseline)" } else { "" };
                view! { <li>{format!("{}{base}: {}", p.name, describe_policy(p))}</li> }
            }).collect_view()}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A printed schedule states every charge as the engine applies it: rates to the
    /// digit entered, every security type's row, the sides, the fractional surcharge.
    #[test]
    fn fee_schedules_are_printed_as_charged() {
        use tollbooth_engine::fees::{ChargedSides, FeePreset, FeeRow, FeeSchedule};
        let mut f = FeeSchedule::preset(FeePreset::ZeroCommission);
        f.name = "Custom".into();
        f.id = "ria".into();
        f.rows.etf = FeeRow {
            flat: 7.95,
            per_share: 0.005,
            minimum: 5.0,
            maximum: Some(25.0),
            ..FeeRow::ZERO
        };
        f.fractional_surcharge = 1.0;
        let d = describe_fee_schedule(&f);
        assert!(
            d.starts_with("Custom (ria): per ticket, ETF $7.95 + $0.005/share, minimum $5.00, maximum $25.00; stock $0.00;"),
            "{d}"
        );
        assert!(d.contains("mutual fund $49.95, on purchases only"), "{d}");
        assert!(d.contains("fractional-share surcharge $1.00"), "{d}");
        assert!(
            d.contains("SEC and FINRA fees on sales passed through"),
            "{d}"
        );
        assert_eq!(f.rows.mutual_fund.sides, ChargedSides::BuysOnly);
        assert_eq!(exact_usd(0.000195), "$0.000195");
        assert_eq!(exact_usd(27.8), "$27.80");
        let r = describe_regulatory(&Scenario::demo().regulatory);
        assert!(r.contains("$20.60 per $1M from 2026-04-04"), "{r}");
        assert!(
            r.contains("$0.000195/share, at most $9.79 a trade, from 2026-01-01"),
            "{r}"
        );
    }

    #[test]
    fn policies_are_described() {
        let s = Scenario::demo();
        let d: Vec<String> = s.policies.iter().map(describe_policy).collect();
        assert!(d[0].starts_with("calendar quarterly"), "{}", d[0]);
        assert!(d[1].contains("TLH daily"), "{}", d[1]);
        // Options in words, not the code's names (`Household`, `MinTax`).
        assert!(d[1].contains("wash-sale guard household"), "{}", d[1]);
        assert!(
            d.iter()
                .all(|x| !x.contains("MinTax") && !x.contains("Hifo")),
            "{d:?}"
        );
        assert_eq!(
            describe_policy(&Policy::buy_and_hold("x")),
            "buy and hold; contributions wait in cash until a rule trades; lots FIFO"
        );
    }

    /// Two policies that trade differently never print alike: every setting that changes
    /// the results is in the description.
    #[test]
    fn policies_that_differ_in_any_result_changing_setting_print_differently() {
        use tollbooth_engine::scenario::policy::{
            CostAwareRule, Frequency, OpportunisticRule, TacticalOverlay, ThresholdRule,
        };
        let threshold = |trade_to: f64| Policy {
            threshold: Some(ThresholdRule {
                band: None,
                check: Frequency::Daily,
                trade_to,
            }),
            ..Policy::buy_and_hold("band")
        };
        let (to_target, to_half) = (threshold(0.0), threshold(0.5));
        assert_ne!(describe_policy(&to_target), describe_policy(&to_half));
        assert!(describe_policy(&to_target).contains("traded back to target"));
        assert!(describe_policy(&to_half).contains("traded back to half the band"));
        assert!(describe_policy(&threshold(0.25)).contains("25.00% of the band"));
        // Daryanani's opportunistic rule: back to half the band, not to target.
        let opportunistic = |trade_to: f64| Policy {
            opportunistic: Some(OpportunisticRule {
                trade_to,
                ..OpportunisticRule::default()
            }),
            ..Policy::buy_and_hold("opportunistic")
        };
        let d = describe_policy(&opportunistic(0.5));
        assert!(d.contains("traded back to half the band"), "{d}");
        assert_ne!(d, describe_policy(&opportunistic(0.0)));
        // Cash flows put to work, or left in cash.
        let mut flows = to_target.clone();
        flows.cash_flow_first = true;
        assert_ne!(describe_policy(&flows), describe_policy(&to_target));
        assert!(describe_policy(&flows).contains("contributions and withdrawals rebalance"));
        // The tactical overlay's refresh and the optimizer's objective.
        let tactical = |frequency| Policy {
            tactical: Some(TacticalOverlay {
                frequency,
                ..TacticalOverlay::default()
            }),
            ..Policy::buy_and_hold("tactical")
        };
        assert_ne!(
            describe_policy(&tactical(Frequency::Daily)),
            describe_policy(&tactical(Frequency::Monthly))
        );
        assert!(describe_policy(&tactical(Frequency::Monthly)).contains("refreshed monthly"));
        let optimizer = |tickets, taxes| Policy {
            optimizer: Some(CostAwareRule {
                check: Frequency::Weekly,
                min_trade_usd: 2500.0,
                tickets_in_objective: tickets,
                taxes_in_objective: taxes,
            }),
            ..Policy::buy_and_hold("optimizer")
        };
        let all: Vec<String> = [(true, true), (true, false), (false, true), (false, false)]
            .into_iter()
            .map(|(a, b)| describe_policy(&optimizer(a, b)))
            .collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert!(
            all[0].contains("weighs flat ticket fees and taxes on gains"),
            "{}",
            all[0]
        );
    }
}
