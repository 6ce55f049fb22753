//! Tollbooth's web app: a thin Leptos layer over `tollbooth_engine`.
//!
//! Components only wire signals to engine types and functions; no finance logic lives
//! here, so everything that computes a number is tested natively in the engine.

use leptos::prelude::*;
use tollbooth_engine::date::Date;
use tollbooth_engine::fees::TicketCost;
use tollbooth_engine::scenario::{Order, Scenario};
use tollbooth_engine::types::Side;

mod format;
pub use format::usd;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let scenario = StoredValue::new(Scenario::demo());
    view! {
        <header class="masthead">
            <h1>"Tollbooth"</h1>
            <p class="tagline">"What a rebalancing policy really costs a household."</p>
        </header>
        <main id="main">
            <HouseholdSummary scenario />
            <TicketPreview scenario />
        </main>
        <footer class="colophon">
            "Engine " {tollbooth_engine::VERSION} " · scenario "
            <code data-testid="scenario-hash">{scenario.with_value(Scenario::hash_hex)}</code>
            ". Runs entirely in this browser: no data leaves the page."
        </footer>
    }
}

/// The household's accounts and their values at the scenario's prices.
#[component]
fn HouseholdSummary(scenario: StoredValue<Scenario>) -> impl IntoView {
    let rows = scenario.with_value(|s| {
        let price = |sym: &str| s.security(sym).map_or(0.0, |sec| sec.price);
        s.household
            .accounts
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    a.name.clone(),
                    a.kind.to_string(),
                    a.lots.len(),
                    a.value(price),
                )
            })
            .collect::<Vec<_>>()
    });
    let (name, as_of, total) =
        scenario.with_value(|s| (s.name.clone(), s.as_of, s.household_value()));
    view! {
        <section class="card" aria-labelledby="household-h">
            <h2 id="household-h">{name}</h2>
            <p class="muted">"Holdings and prices as of " {as_of.to_string()}</p>
            <table class="grid" data-testid="accounts">
                <thead>
                    <tr>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col" class="num">"Lots"</th>
                        <th scope="col" class="num">"Value"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|(id, name, kind, lots, value)| {
                            view! {
                                <tr data-account=id>
                                    <td>{name}</td>
                                    <td>{kind}</td>
                                    <td class="num">{lots}</td>
                                    <td class="num">{usd(value)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
                <tfoot>
                    <tr>
                        <th scope="row" colspan="3">"Household"</th>
                        <td class="num" data-testid="household-value">{usd(total)}</td>
                    </tr>
                </tfoot>
            </table>
        </section>
    }
}

/// What one ticket costs under the account's fee schedule, itemised.
#[component]
fn TicketPreview(scenario: StoredValue<Scenario>) -> impl IntoView {
    let accounts = scenario.with_value(|s| {
        s.household
            .accounts
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect::<Vec<_>>()
    });
    let symbols = scenario.with_value(|s| {
        s.securities
            .iter()
            .map(|x| x.symbol.clone())
            .collect::<Vec<_>>()
    });
    let (account, set_account) = signal(accounts.first().map(|a| a.0.clone()).unwrap_or_default());
    let (symbol, set_symbol) = signal(symbols.first().cloned().unwrap_or_default());
    let (side, set_side) = signal(Side::Sell);
    let (quantity, set_quantity) = signal("100".to_string());
    let (date, set_date) = signal("2026-06-01".to_string());

    let quantity_value = Memo::new(move |_| parse_quantity(&quantity.get()));
    let date_value = Memo::new(move |_| date.get().parse::<Date>().map_err(|e| e.to_string()));
    let cost = Memo::new(move |_| -> Option<Result<TicketCost, String>> {
        let q = quantity_value.get().ok()?;
        let d = date_value.get().ok()?;
        let (account, symbol) = (account.get(), symbol.get());
        let order = Order {
            account: &account,
            symbol: &symbol,
            side: side.get(),
            quantity: q,
            date: d,
        };
        Some(
            scenario
                .with_value(|s| s.ticket_cost(&order))
                .map_err(|e| e.to_string()),
        )
    });

    view! {
        <section class="card" aria-labelledby="ticket-h">
            <h2 id="ticket-h">"What one ticket costs"</h2>
            <p class="muted">
                "A ticket is one order: account, security, side and trading day. "
                "Regulatory fees apply to sales only, at the rate in force on the trade date."
            </p>
            <div class="form-row">
                <label>
                    "Account"
                    <select
                        data-testid="ticket-account"
                        on:change=move |ev| set_account.set(event_target_value(&ev))
                        prop:value=account
                    >
                        {accounts
                            .into_iter()
                            .map(|(id, name)| view! { <option value=id>{name}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Security"
                    <select
                        data-testid="ticket-symbol"
                        on:change=move |ev| set_symbol.set(event_target_value(&ev))
                        prop:value=symbol
                    >
                        {symbols
                            .into_iter()
                            .map(|s| view! { <option value=s.clone()>{s.clone()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Side"
                    <select
                        data-testid="ticket-side"
                        on:change=move |ev| {
                            set_side.set(if event_target_value(&ev) == "buy" { Side::Buy } else { Side::Sell })
                        }
                    >
                        <option value="sell" selected>"Sell"</option>
                        <option value="buy">"Buy"</option>
                    </select>
                </label>
                <label>
                    "Shares"
                    <input
                        data-testid="ticket-quantity"
                        inputmode="decimal"
                        prop:value=quantity
                        on:input=move |ev| set_quantity.set(event_target_value(&ev))
                        aria-invalid=move || quantity_value.get().is_err().to_string()
                    />
                    <span class="field-error" role="alert">
                        {move || quantity_value.get().err()}
                    </span>
                </label>
                <label>
                    "Trade date"
                    <input
                        data-testid="ticket-date"
                        type="date"
                        prop:value=date
                        on:input=move |ev| set_date.set(event_target_value(&ev))
                        aria-invalid=move || date_value.get().is_err().to_string()
                    />
                    <span class="field-error" role="alert">{move || date_value.get().err()}</span>
                </label>
            </div>
            {move || match cost.get() {
                None => view! { <p class="muted">"Enter a valid quantity and date."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="field-error" role="alert">{e}</p> }.into_any(),
                Some(Ok(c)) => view! { <TicketBreakdown cost=c /> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn TicketBreakdown(cost: TicketCost) -> impl IntoView {
    let sec_rate = format!("${:.2} per $1M", cost.sec_rate_per_million);
    let taf_rate = format!(
        "${:.6}/share, cap {}",
        cost.taf_rate_per_share,
        usd(cost.taf_cap)
    );
    view! {
        <table class="grid ticket" data-testid="ticket-cost">
            <tbody>
                <tr>
                    <th scope="row">"Commission (ticket charge)"</th>
                    <td class="num" data-testid="ticket-commission">{usd(cost.commission)}</td>
                    <td class="muted">"flat + per share + % of notional, within min/max"</td>
                </tr>
                <tr>
                    <th scope="row">"SEC Section 31 fee"</th>
                    <td class="num" data-testid="ticket-sec">{usd(cost.sec_fee)}</td>
                    <td class="muted">{sec_rate}</td>
                </tr>
                <tr>
                    <th scope="row">"FINRA TAF"</th>
                    <td class="num" data-testid="ticket-taf">{usd(cost.taf)}</td>
                    <td class="muted">{taf_rate}</td>
                </tr>
                <tr>
                    <th scope="row">"Spread"</th>
                    <td class="num" data-testid="ticket-spread">{usd(cost.spread)}</td>
                    <td class="muted">"half-spread × notional"</td>
                </tr>
            </tbody>
            <tfoot>
                <tr>
                    <th scope="row">"Total"</th>
                    <td class="num" data-testid="ticket-total">{usd(cost.total())}</td>
                    <td></td>
                </tr>
            </tfoot>
        </table>
    }
}

/// A share quantity typed by the user, or a message saying what is wrong with it.
fn parse_quantity(text: &str) -> Result<f64, String> {
    let t = text.trim().replace(',', "");
    match t.parse::<f64>() {
        Ok(q) if q.is_finite() && q > 0.0 => Ok(q),
        Ok(_) => Err("Shares must be a positive number.".into()),
        Err(_) => Err(format!("“{}” is not a number of shares.", text.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity(" 1,200 "), Ok(1200.0));
        assert!(parse_quantity("0").is_err());
        assert!(parse_quantity("abc").unwrap_err().contains("abc"));
    }
}
