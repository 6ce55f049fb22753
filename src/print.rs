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

/// A one-line description of a policy's rules.
pub fn describe_policy(p: &Policy) -> String {
    let f = |x: tollbooth_engine::scenario::policy::Frequency| {
        crate::fields::key_of(&Some(x)).replace('_', " ")
    };
    let mut parts = Vec::new();
    if let Some(c) = p.calendar {
        parts.push(format!("calendar {}", f(c.frequency)));
    }
    if let Some(t) = p.threshold {
        let band = t.band.map_or("the target model's bands".to_string(), |b| {
            format!("band {} {}", b.width, words(b.kind))
        });
        parts.push(format!("threshold, {band}, checked {}", f(t.check)));
    }
    if let Some(o) = p.opportunistic {
        parts.push(format!(
            "opportunistic {} relative band, checked {}",
            pct(o.relative_band),
            f(o.check)
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
            "tactical overlay IC {} max tilt {}",
            t.information_coefficient,
            pct(t.max_tilt)
        ));
    }
    if let Some(o) = p.optimizer {
        parts.push(format!(
            "cost-aware optimizer {} (min trade {})",
            f(o.check),
            usd(o.min_trade_usd)
        ));
    }
    if parts.is_empty() {
        parts.push("buy and hold".into());
    }
    format!("{}; lots {}", parts.join("; "), words(p.lot_method))
}

/// The metric definitions (the same words the results use).
const DEFINITIONS: [(&str, &str); 14] = [
    ("Tickets", "One ticket per order: account, security, side and trading day."),
    ("Ticket charges", "The fee schedule's flat + per-share + % of notional, within its minimum and maximum, per ticket."),
    ("Regulatory fees", "SEC Section 31 fee on sales (proceeds × the dated rate, rounded up to the cent) and FINRA TAF per share sold, capped per trade."),
    ("Spread and impact", "Half-spread × notional on every trade, plus market impact where the fee schedule models it and the security has an average daily dollar volume."),
    ("Turnover", "One-way, annualized: ½ Σ|trade notional| ÷ average household value, per year."),
    ("Tracking error", "Annualized standard deviation of the difference between the policy's and the target model's returns."),
    ("Tax alpha", "Annualized after-tax return of the policy minus that of the baseline policy on the same paths, before and after all costs."),
    ("Harvesting yield", "Harvested losses ÷ starting value, per year, as vendors quote it. Not tax alpha."),
    ("Net benefit", "After-tax terminal wealth of the policy minus the baseline's, in dollars and bps per year; the break-even ticket fee is the fee at which it reaches zero."),
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
                "Tax: federal ordinary {}, long-term gains {}, NIIT {}, state {}; losses offset up to {} of ordinary income a year; at the horizon: {}.",
                pct(t.ordinary_rate), pct(t.ltcg_rate), if t.niit { "on" } else { "off" }, pct(t.state_rate),
                usd(t.ordinary_offset_cap), words(t.horizon)
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
        <ul>
            {s.fee_schedules.iter().map(|f| {
                let r = f.rows.etf;
                view! { <li>{format!("{}: ETF/stock ticket {} + {}/share + {} bps, minimum {}{}; advisory fee {} bps/year.",
                    f.name, usd(r.flat), usd(r.per_share), r.notional_bps, usd(r.minimum),
                    r.maximum.map(|x| format!(", maximum {}", usd(x))).unwrap_or_default(), f.advisory_fee_bps)}</li> }
            }).collect_view()}
        </ul>
        <h3>"Accounts"</h3>
        <ul>
            {s.household.accounts.iter().enumerate().map(|(i, a)| {
                let n = if presenting { ops::account_alias(i) } else { a.name.clone() };
                view! { <li>{format!("{n}: {}, fee schedule {}", a.kind, a.fee_schedule)}</li> }
            }).collect_view()}
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
            "buy and hold; lots FIFO"
        );
    }
}
