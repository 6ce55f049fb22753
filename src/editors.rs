//! The scenario editors: one thin component per section of the form. Every input edits
//! one [`Field`](crate::fields::Field) and shows its validation message; every button
//! calls a plain function of [`crate::ops`].

use crate::fields::*;
use crate::fld;
use crate::ops;
use crate::undo::{self, Removal};
use leptos::prelude::*;
use serde::Serialize;
use tollbooth_engine::fees::FeePreset;
use tollbooth_engine::scenario::form::{ScheduleKind, ShockKind};
use tollbooth_engine::scenario::market::DividendTreatment;
use tollbooth_engine::scenario::policy::{BandKind, Frequency, WashSaleGuard};
use tollbooth_engine::scenario::tax_profile::{FilingStatus, HorizonTreatment};
use tollbooth_engine::scenario::ScenarioForm;
use tollbooth_engine::types::{AccountKind, LotMethod, SecurityType};
use LabelStyle::{Hidden, Shown};

/// `semi_annual` → `Semi annual`.
fn humanize(key: &str) -> String {
    let s = key.replace('_', " ");
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => s,
    }
}

fn opts<T: Serialize + Copy>(all: &[T]) -> Vec<(String, String)> {
    enum_options(all, |v| humanize(&key_of(&Some(v))))
}

const ACCOUNT_KINDS: [AccountKind; 4] = [
    AccountKind::Taxable,
    AccountKind::TraditionalIra,
    AccountKind::RothIra,
    AccountKind::K401,
];

fn account_kinds() -> Vec<(String, String)> {
    enum_options(&ACCOUNT_KINDS, |k| humanize(&k.to_string()))
}

fn security_types() -> Vec<(String, String)> {
    enum_options(&SecurityType::ALL, |t| {
        match t {
            SecurityType::Etf => "ETF",
            SecurityType::Stock => "Stock",
            SecurityType::MutualFund => "Mutual fund",
        }
        .to_string()
    })
}

fn frequencies() -> Vec<(String, String)> {
    opts(&Frequency::ALL)
}

/// A target class's asset location (its preferred account kinds, in order) as a select's
/// value.
fn location_field(i: usize) -> Field {
    let p = ClassTargetP(i);
    Field::new(
        join(&Part::path(&p), "location"),
        move |f| Part::get(&p, f).map(|c| ops::location_value(&c.location)),
        move |f, v| {
            if let Some(c) = Part::get_mut(&p, f) {
                c.location = ops::parse_location(&v);
            }
        },
    )
}

fn band_kinds() -> Vec<(String, String)> {
    opts(&[BandKind::Absolute, BandKind::Relative])
}

fn lot_methods() -> Vec<(String, String)> {
    enum_options(
        &[
            LotMethod::Fifo,
            LotMethod::Lifo,
            LotMethod::Hifo,
            LotMethod::MinTax,
            LotMethod::SpecificLot,
        ],
        |m| {
            match m {
                LotMethod::Fifo => "FIFO",
                LotMethod::Lifo => "LIFO",
                LotMethod::Hifo => "HIFO",
                LotMethod::MinTax => "Minimum tax",
                LotMethod::SpecificLot => "Specific lot (simulated as minimum tax)",
            }
            .to_string()
        },
    )
}

fn member_options(f: &ScenarioForm) -> Vec<(String, String)> {
    f.household
        .members
        .iter()
        .map(|m| (m.id.clone(), format!("{} ({})", m.name, m.id)))
        .collect()
}

fn security_options(f: &ScenarioForm) -> Vec<(String, String)> {
    f.securities
        .iter()
        .map(|x| (x.symbol.clone(), x.symbol.clone()))
        .collect()
}

fn account_options(f: &ScenarioForm) -> Vec<(String, String)> {
    f.household
        .accounts
        .iter()
        .map(|a| (a.id.clone(), format!("{} ({})", a.name, a.id)))
        .collect()
}

fn schedule_options(f: &ScenarioForm) -> Vec<(String, String)> {
    f.fee_schedules
        .iter()
        .map(|s| (s.id.clone(), format!("{} ({})", s.name, s.id)))
        .collect()
}

fn class_options(f: &ScenarioForm) -> Vec<(String, String)> {
    f.market
        .classes
        .iter()
        .map(|c| (c.name.clone(), c.name.clone()))
        .collect()
}

fn policy_options(f: &ScenarioForm) -> Vec<(String, String)> {
    f.policies
        .iter()
        .map(|p| (p.name.clone(), p.name.clone()))
        .collect()
}

/// A small button that edits the form. Row buttons share a visible label ("Delete"), so
/// the test id's words name the row for assistive technology.
/// An action button that is disabled, with `why` as its title, while `possible` is false
/// (an "Add" with nothing left to add).
fn action_if(
    label: String,
    test_id: String,
    possible: impl Fn(&ScenarioForm) -> bool + Send + Sync + 'static,
    why: &'static str,
    edit: impl Fn(&mut ScenarioForm) + 'static,
) -> impl IntoView {
    let ws = ws();
    let aria = row_label(&label, &test_id);
    let blocked = Memo::new(move |_| !ws.form.with(|f| possible(f)));
    let id = test_id.clone();
    view! {
        <button type="button" class="small" data-testid=test_id aria-label=aria
            prop:disabled=blocked title=move || blocked.get().then_some(why)
            on:click=move |_| {
                ws.form.update(|f| edit(f));
                let id = id.clone();
                set_timeout(move || crate::browser::focus_new_row(&id), std::time::Duration::ZERO);
            }>
            {label}
        </button>
    }
}

fn action(
    label: String,
    test_id: String,
    edit: impl Fn(&mut ScenarioForm) + 'static,
) -> impl IntoView {
    let ws = ws();
    let aria = row_label(&label, &test_id);
    let id = test_id.clone();
    view! {
        <button type="button" class="small" data-testid=test_id aria-label=aria on:click=move |_| {
            ws.form.update(|f| edit(f));
            // The new row's first field takes the focus.
            let id = id.clone();
            set_timeout(move || crate::browser::focus_new_row(&id), std::time::Duration::ZERO);
        }>
            {label}
        </button>
    }
}

/// A button that removes a row as an edit the advisor can undo (see [`crate::undo`]).
fn remove_button(label: &str, test_id: String, r: Removal) -> impl IntoView {
    let ws = ws();
    let aria = row_label(label, &test_id);
    let after = test_id.clone();
    view! {
        <button type="button" class="small" data-testid=test_id aria-label=aria
            on:click=move |_| {
                undo::remove_undoably(ws, r);
                let after = after.clone();
                set_timeout(move || focus_after_removal(&after), std::time::Duration::ZERO);
            }>
            {label.to_string()}
        </button>
    }
}

/// Where the focus goes once the row of remove button `test_id` is gone (the button would
/// otherwise leave it on the page's body): the same button of the row that took its place,
/// else the row before's, else the section's heading.
fn focus_after_removal(test_id: &str) {
    let exists = |id: &str| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector(&format!("[data-testid=\"{id}\"]:not(:disabled)"))
                    .ok()
                    .flatten()
            })
            .is_some()
    };
    if exists(test_id) {
        return crate::browser::focus_test_id(test_id);
    }
    let before = test_id.rsplit_once('-').and_then(|(stem, i)| {
        let i: usize = i.parse().ok()?;
        Some(format!("{stem}-{}", i.checked_sub(1)?))
    });
    match before.filter(|id| exists(id)) {
        Some(id) => crate::browser::focus_test_id(&id),
        None => crate::browser::focus_selector("main#main h2"),
    }
}

/// `("Delete", "delete-lot-0-2")` → `"Delete lot 3 of account 1"`; other ids → the label.
fn row_label(label: &str, test_id: &str) -> String {
    let parts: Vec<&str> = test_id.split('-').collect();
    let n = |s: &str| s.parse::<usize>().map(|i| (i + 1).to_string()).ok();
    match parts.as_slice() {
        [_, "lot", a, k] => match (n(a), n(k)) {
            (Some(a), Some(k)) => format!("{label} lot {k} of account {a}"),
            _ => label.to_string(),
        },
        [_, "lot", a] => {
            n(a).map_or_else(|| label.to_string(), |a| format!("{label} to account {a}"))
        }
        [_, mid @ .., i] if !mid.is_empty() => n(i).map_or_else(
            || label.to_string(),
            |i| {
                let what = match mid.join(" ").as_str() {
                    "min cash" => "minimum cash row".to_string(),
                    "security vol" => "volatility row".to_string(),
                    "flow" => "cash flow".to_string(),
                    "target" => "target class".to_string(),
                    w => w.to_string(),
                };
                // ("Remove schedule", "remove-schedule-0"): the row is named once.
                if label.ends_with(what.as_str()) {
                    format!("{label} {i}")
                } else {
                    format!("{label} {what} {i}")
                }
            },
        ),
        _ => label.to_string(),
    }
}

/// Index keys for a list of `len` rows: rows read their fields by index, so a row keeps
/// its inputs (and focus) while its contents change.
fn indices(
    len: impl Fn(&ScenarioForm) -> usize + Send + Sync + 'static,
) -> impl Fn() -> Vec<usize> + Send {
    let ws = ws();
    move || (0..ws.form.with(|f| len(f))).collect()
}

// ---------------------------------------------------------------------------------------

/// Scenario name and date, members, accounts.
#[component]
pub fn HouseholdEditor() -> impl IntoView {
    let ws = ws();
    // A date after today is valid (a plan for a coming date) but usually a typo: say so.
    let future = move || {
        let as_of: tollbooth_engine::date::Date = ws.form.with(|f| f.as_of.trim().parse().ok())?;
        let today = crate::browser::today()?;
        (as_of > today).then(|| {
            view! {
                <p class="muted" role="note" data-testid="as-of-future">
                    {format!("{as_of} is after today ({today}): the holdings, prices and first trades are dated in the future.")}
                </p>
            }
        })
    };
    view! {
        <section class="card editor" aria-labelledby="household-edit-h">
            <h2 id="household-edit-h">"Household"</h2>
            <div class="form-row">
                {text_input(fld!(Root(), name), "Scenario name", Shown)}
                {date_input(fld!(Root(), as_of), "Holdings and prices as of", Shown)}
            </div>
            {future}
            <h3>"Members"</h3>
            <p class="muted">"Spouses count together for wash sales."</p>
            {list_error("household.members")}
            <table class="grid edit" data-testid="members-table">
                <thead><tr><th scope="col">"Id"</th><th scope="col">"Name"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                <tbody>
                    <For each=indices(|f| f.household.members.len()) key=|i| *i children=move |i| view! {
                        <tr>
                            <td>{text_input(Field::new(format!("household.members[{i}].id"), move |f| f.household.members.get(i).map(|m| m.id.clone()), move |f, v| ops::rename_member(f, i, v)), format!("Member {} id", i + 1), Hidden)}</td>
                            <td>{text_input(fld!(MemberP(i), name), format!("Member {} name", i + 1), Hidden)}</td>
                            <td>{remove_button("Remove", format!("remove-member-{i}"), Removal::Member(i))}</td>
                        </tr>
                    } />
                </tbody>
            </table>
            {action("Add member".into(), "add-member".into(), ops::add_member)}
            <h3>"Accounts"</h3>
            {list_error("household.accounts")}
            <div class="scroll">
            <table class="grid edit" data-testid="accounts-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th><th scope="col">"Id"</th><th scope="col">"Kind"</th>
                        <th scope="col">"Owner"</th><th scope="col">"Joint"</th><th scope="col">"Cash ($)"</th>
                        <th scope="col">"Fee schedule"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    <For each=indices(|f| f.household.accounts.len()) key=|i| *i children=move |a| view! {
                        <tr>
                            <td>{text_input(fld!(AccountP(a), name), format!("Account {} name", a + 1), Hidden)}</td>
                            <td>{text_input(Field::new(format!("household.accounts[{a}].id"), move |f| f.household.accounts.get(a).map(|x| x.id.clone()), move |f, v| ops::rename_account(f, a, v)), format!("Account {} id", a + 1), Hidden)}</td>
                            <td>{select_input(fld!(AccountP(a), kind => enum), format!("Account {} kind", a + 1), Hidden, account_kinds(), Some("— choose —"))}</td>
                            <td>{dynamic_select(fld!(AccountP(a), owner), format!("Account {} owner", a + 1), Hidden, member_options)}</td>
                            <td>{checkbox(fld!(AccountP(a), joint => bool), "Joint")}</td>
                            <td>{text_input(fld!(AccountP(a), cash), format!("Account {} cash", a + 1), Hidden)}</td>
                            <td>{dynamic_select(fld!(AccountP(a), fee_schedule), format!("Account {} fee schedule", a + 1), Hidden, schedule_options)}</td>
                            <td>{remove_button("Remove", format!("remove-account-{a}"), Removal::Account(a))}</td>
                        </tr>
                    } />
                </tbody>
            </table>
            </div>
            {action("Add account".into(), "add-account".into(), ops::add_account)}
        </section>
    }
}

/// The tax lots of every account.
#[component]
pub fn LotsEditor() -> impl IntoView {
    let ws = ws();
    view! {
        <section class="card editor" aria-labelledby="lots-h">
            <h2 id="lots-h">"Tax lots"</h2>
            <p class="muted">"Shares, total cost basis in dollars, and the acquisition date of every lot. Import a custodian export under “Import CSV”."</p>
            <datalist id="symbols">
                {move || ws.form.with(|f| f.securities.iter().map(|s| view! { <option value=s.symbol.clone()></option> }).collect_view())}
            </datalist>
            <For each=indices(|f| f.household.accounts.len()) key=|i| *i children=move |a| {
                let title = move || ws.form.with(|f| f.household.accounts.get(a).map(|x| format!("{} ({})", x.name, x.id)).unwrap_or_default());
                let count = move || ws.form.with(|f| f.household.accounts.get(a).map_or(0, |x| x.lots.len()));
                view! {
                    <div class="lots" data-testid=format!("lots-{a}")>
                        <h3>{title} " · " <span data-testid=format!("lot-count-{a}")>{count}</span> " lot(s)"</h3>
                        <div class="scroll">
                        <table class="grid edit">
                            <thead><tr>
                                <th scope="col">"Lot id"</th><th scope="col">"Symbol"</th><th scope="col">"Shares"</th>
                                <th scope="col">"Cost basis ($)"</th><th scope="col">"Acquired"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                <For each=indices(move |f| f.household.accounts.get(a).map_or(0, |x| x.lots.len())) key=|k| *k children=move |k| {
                                    let n = format!("Account {} lot {}", a + 1, k + 1);
                                    let sym = fld!(LotP(a, k), symbol);
                                    view! {
                                        <tr data-testid=format!("lot-{a}-{k}")>
                                            <td>{text_input(fld!(LotP(a, k), id), format!("{n} id"), Hidden)}</td>
                                            <td>{symbol_input(sym, format!("{n} symbol"))}</td>
                                            <td>{text_input(fld!(LotP(a, k), quantity), format!("{n} shares"), Hidden)}</td>
                                            <td>{text_input(fld!(LotP(a, k), basis), format!("{n} cost basis"), Hidden)}</td>
                                            <td>{date_input(fld!(LotP(a, k), acquired), format!("{n} acquired"), Hidden)}</td>
                                            <td>{remove_button("Delete", format!("delete-lot-{a}-{k}"), Removal::Lot(a, k))}</td>
                                        </tr>
                                    }
                                } />
                            </tbody>
                        </table>
                        </div>
                        {action("Add lot".into(), format!("add-lot-{a}"), move |f| ops::add_lot(f, a))}
                    </div>
                }
            } />
        </section>
    }
}

/// A symbol input with the securities as suggestions; symbols are upper case (as typed in
/// lots, securities and CSV imports alike, so that they always match).
fn symbol_input(field: Field, label: String) -> AnyView {
    let ws = ws();
    let path = field.path.clone();
    let (f1, f2) = (field.clone(), field);
    let p1 = path.clone();
    let p2 = path.clone();
    view! {
        <label class="field">
            <span class="sr-only">{label}</span>
            <input
                list="symbols"
                class="short"
                data-testid=test_id(&path)
                prop:value=move || f1.get(ws)
                aria-invalid=move || ws.field_error(&p1).is_some().to_string()
                on:input=move |ev| f2.set(ws, event_target_value(&ev).trim().to_ascii_uppercase())
            />
            <span class="field-error" data-error-for=p2>{move || ws.field_error(&path)}</span>
        </label>
    }
    .into_any()
}

/// Securities: symbol, class, price, type, spread, group and TLH partners.
#[component]
pub fn SecuritiesEditor() -> impl IntoView {
    view! {
        <section class="card editor" aria-labelledby="securities-h">
            <h2 id="securities-h">"Securities"</h2>
            <p class="muted">"The group is the unit of the wash-sale test (substantially identical securities share one). TLH partners are securities in other groups that track the same asset class. Rates are fractions: 0.0003 is 0.03%."</p>
            <div class="scroll">
            <table class="grid edit" data-testid="securities-table">
                <thead><tr>
                    <th scope="col">"Symbol"</th><th scope="col">"Name"</th><th scope="col">"Asset class"</th>
                    <th scope="col">"Price ($)"</th><th scope="col">"Type"</th><th scope="col">"Half-spread (bps)"</th>
                    <th scope="col">"Expense ratio"</th><th scope="col">"Dividend yield"</th>
                    <th scope="col">"Group"</th><th scope="col">"TLH partners"</th><th scope="col">"Fractional"</th>
                    <th scope="col" title="Average daily dollar volume: the V of the market-impact term b·σ·|x|^1.5/V^0.5, charged when the account's fee schedule models impact. Empty: no impact.">"Avg daily $ volume"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    <For each=indices(|f| f.securities.len()) key=|i| *i children=move |i| {
                        let n = format!("Security {}", i + 1);
                        view! {
                            <tr>
                                <td>{symbol_input(Field::new(format!("securities[{i}].symbol"), move |f| f.securities.get(i).map(|x| x.symbol.clone()), move |f, v| ops::rename_security(f, i, v)), format!("{n} symbol"))}</td>
                                <td>{text_input(fld!(SecurityP(i), name), format!("{n} name"), Hidden)}</td>
                                <td>{dynamic_select(fld!(SecurityP(i), asset_class), format!("{n} asset class"), Hidden, class_options)}</td>
                                <td>{text_input(fld!(SecurityP(i), price), format!("{n} price"), Hidden)}</td>
                                <td>{select_input(fld!(SecurityP(i), security_type => enum), format!("{n} type"), Hidden, security_types(), Some("— choose —"))}</td>
                                <td>{text_input(fld!(SecurityP(i), half_spread_bps), format!("{n} half-spread"), Hidden)}</td>
                                <td>{text_input(fld!(SecurityP(i), expense_ratio), format!("{n} expense ratio"), Hidden)}</td>
                                <td>{text_input(fld!(SecurityP(i), dividend_yield), format!("{n} dividend yield"), Hidden)}</td>
                                <td>{text_input(fld!(SecurityP(i), group), format!("{n} group"), Hidden)}</td>
                                <td>{partners_input(i, format!("{n} TLH partners (comma-separated)"))}</td>
                                <td>{checkbox(fld!(SecurityP(i), fractional_allowed => bool), "Fractional")}</td>
                                <td>{text_input(fld!(SecurityP(i), daily_dollar_volume), format!("{n} average daily dollar volume"), Hidden)}</td>
                                <td>{remove_button("Remove", format!("remove-security-{i}"), Removal::Security(i))}</td>
                            </tr>
                        }
                    } />
                </tbody>
            </table>
            </div>
            {action("Add security".into(), "add-security".into(), ops::add_security)}
        </section>
    }
}

/// The partners list, with the per-partner errors (`partners[k]`) shown together.
fn partners_input(i: usize, label: String) -> AnyView {
    let ws = ws();
    let prefix = format!("securities[{i}].partners[");
    view! {
        <div>
            {list_input(fld!(SecurityP(i), partners => list), label, Hidden)}
            <span class="field-error">
                {move || ws.errors.with(|m| {
                    m.range(prefix.clone()..)
                        .take_while(|(k, _)| k.starts_with(&prefix))
                        .map(|(_, v)| v.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                })}
            </span>
        </div>
    }
    .into_any()
}

/// Target weights by asset class, bands and restrictions.
#[component]
pub fn TargetEditor() -> impl IntoView {
    view! {
        <section class="card editor" aria-labelledby="target-h">
            <h2 id="target-h">"Target model"</h2>
            <p class="muted">"Weights are fractions of the household and must sum to 1. A band is absolute (0.05 = 5 points) or relative (0.20 = 20% of the target weight)."</p>
            {list_error("target.classes")}
            <div class="scroll">
            <table class="grid edit" data-testid="target-table">
                <thead><tr>
                    <th scope="col">"Asset class"</th><th scope="col">"Weight"</th><th scope="col">"Primary"</th>
                    <th scope="col">"Alternates"</th><th scope="col">"Own band"</th><th scope="col">"Band kind"</th><th scope="col">"Band width"</th>
                    <th scope="col" title="Asset location: the account kinds whose cash buys this class first (and that sell it first)">"Location"</th>
                    <th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    <For each=indices(|f| f.target.classes.len()) key=|i| *i children=move |i| {
                        let n = format!("Target class {}", i + 1);
                        view! {
                            <tr>
                                <td>{dynamic_select(fld!(ClassTargetP(i), asset_class), format!("{n} asset class"), Hidden, class_options)}</td>
                                <td>{text_input(fld!(ClassTargetP(i), weight), format!("{n} weight"), Hidden)}</td>
                                <td>{text_input(fld!(ClassTargetP(i), primary), format!("{n} primary security"), Hidden)}</td>
                                <td>{list_input(fld!(ClassTargetP(i), alternates => list), format!("{n} alternates"), Hidden)}</td>
                                <td>{checkbox(fld!(ClassTargetP(i), band.enabled => bool), "Own band")}</td>
                                <td>{select_input(fld!(ClassTargetP(i), band.fields.kind => enum), format!("{n} band kind"), Hidden, band_kinds(), Some("—"))}</td>
                                <td>{text_input(fld!(ClassTargetP(i), band.fields.width), format!("{n} band width"), Hidden)}</td>
                                <td>{dynamic_select(location_field(i), format!("{n} asset location"), Hidden, move |f| ops::location_options(f.target.classes.get(i).map_or(&[][..], |c| &c.location[..])))}</td>
                                <td>{remove_button("Remove", format!("remove-target-{i}"), Removal::TargetClass(i))}</td>
                            </tr>
                        }
                    } />
                </tbody>
            </table>
            </div>
            {action("Add class".into(), "add-target".into(), ops::add_class_target)}
            <h3>"Default band"</h3>
            <div class="form-row">
                {select_input(fld!(TargetP(), default_band.kind => enum), "Kind", Shown, band_kinds(), Some("— choose —"))}
                {text_input(fld!(TargetP(), default_band.width), "Width", Shown)}
            </div>
            <h3>"Restrictions"</h3>
            <div class="form-row">
                {list_input(fld!(TargetP(), restrictions.do_not_buy => list), "Do not buy (symbols, comma-separated)", Shown)}
                {list_input(fld!(TargetP(), restrictions.do_not_sell => list), "Do not sell (symbols, comma-separated)", Shown)}
            </div>
            <h3>"Minimum cash per account"</h3>
            <p class="muted">"Cash each account keeps uninvested (dollars); an account without a row keeps none."</p>
            <table class="grid edit" data-testid="min-cash-table">
                <thead><tr>
                    <th scope="col">"Account"</th><th scope="col">"Minimum cash ($)"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    <For each=indices(|f| f.target.min_cash.len()) key=|i| *i children=move |i| {
                        let n = format!("Minimum cash {}", i + 1);
                        view! { <tr>
                            <td>{dynamic_select(fld!(MinCashP(i), account), format!("{n} account"), Hidden, account_options)}</td>
                            <td>{text_input(fld!(MinCashP(i), amount), format!("{n} amount"), Hidden)}</td>
                            <td>{remove_button("Remove", format!("remove-min-cash-{i}"), Removal::MinCash(i))}</td>
                        </tr> }
                    } />
                </tbody>
            </table>
            {action_if("Add minimum cash".into(), "add-min-cash".into(),
                |f| ops::next_min_cash_account(f).is_some(), "Every account has a row", ops::add_min_cash)}
        </section>
    }
}

/// Fee schedules with presets, and the regulatory tables.
#[component]
pub fn FeesEditor() -> impl IntoView {
    let ws = ws();
    let new_preset = RwSignal::new(FeePreset::FlatClearing.id().to_string());
    view! {
        <section class="card editor" aria-labelledby="fees-h">
            <h2 id="fees-h">"Fee schedules"</h2>
            <p class="muted">"A ticket's commission is flat + per share + bps of notional, clamped to the minimum and maximum (empty maximum: none). Regulatory fees apply to sales of exchange-traded securities when “Pass through SEC fee and TAF” is on."</p>
            <For each=indices(|f| f.fee_schedules.len()) key=|i| *i children=move |i| view! { <FeeScheduleEditor i /> } />
            <div class="form-row">
                <label class="field">
                    <span class="label-text">"New schedule from preset"</span>
                    <select data-testid="new-schedule-preset" on:change=move |ev| new_preset.set(event_target_value(&ev))>
                        {FeePreset::ALL.iter().map(|p| view! { <option value=p.id() prop:selected=*p == FeePreset::FlatClearing>{p.name()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="button" data-testid="add-schedule" on:click=move |_| {
                    if let Some(p) = FeePreset::ALL.into_iter().find(|p| p.id() == new_preset.get_untracked()) {
                        ws.form.update(|f| ops::add_fee_schedule(f, p));
                    }
                }>"Add schedule"</button>
            </div>
            <RegulatoryEditor />
        </section>
    }
}

#[component]
fn FeeScheduleEditor(i: usize) -> impl IntoView {
    let ws = ws();
    let chosen = RwSignal::new(String::new());
    let row = move |key: &'static str, label: &'static str| {
        let n = format!("{label} row");
        let (flat, per_share, bps, min, max, sides) = match key {
            "etf" => (
                fld!(FeeP(i), rows.etf.flat),
                fld!(FeeP(i), rows.etf.per_share),
                fld!(FeeP(i), rows.etf.notional_bps),
                fld!(FeeP(i), rows.etf.minimum),
                fld!(FeeP(i), rows.etf.maximum),
                fld!(FeeP(i), rows.etf.sides => enum),
            ),
            "stock" => (
                fld!(FeeP(i), rows.stock.flat),
                fld!(FeeP(i), rows.stock.per_share),
                fld!(FeeP(i), rows.stock.notional_bps),
                fld!(FeeP(i), rows.stock.minimum),
                fld!(FeeP(i), rows.stock.maximum),
                fld!(FeeP(i), rows.stock.sides => enum),
            ),
            _ => (
                fld!(FeeP(i), rows.mutual_fund.flat),
                fld!(FeeP(i), rows.mutual_fund.per_share),
                fld!(FeeP(i), rows.mutual_fund.notional_bps),
                fld!(FeeP(i), rows.mutual_fund.minimum),
                fld!(FeeP(i), rows.mutual_fund.maximum),
                fld!(FeeP(i), rows.mutual_fund.sides => enum),
            ),
        };
        use tollbooth_engine::fees::ChargedSides;
        view! {
            <tr>
                <th scope="row">{label}</th>
                <td>{text_input(flat, format!("{n} flat per ticket"), Hidden)}</td>
                <td>{text_input(per_share, format!("{n} per share"), Hidden)}</td>
                <td>{text_input(bps, format!("{n} bps of notional"), Hidden)}</td>
                <td>{text_input(min, format!("{n} minimum"), Hidden)}</td>
                <td>{text_input(max, format!("{n} maximum"), Hidden)}</td>
                <td>{select_input(sides, format!("{n} sides charged"), Hidden, opts(&[ChargedSides::Both, ChargedSides::BuysOnly, ChargedSides::SellsOnly]), Some("Both"))}</td>
            </tr>
        }
    };
    view! {
        <div class="schedule" data-testid=format!("schedule-{i}")>
            <div class="form-row">
                {text_input(fld!(FeeP(i), name), "Name", Shown)}
                {text_input(Field::new(format!("fee_schedules[{i}].id"), move |f| f.fee_schedules.get(i).map(|x| x.id.clone()), move |f, v| ops::rename_fee_schedule(f, i, v)), "Id (accounts refer to it)", Shown)}
                <label class="field">
                    <span class="label-text">"Load preset"</span>
                    <select data-testid=format!("preset-{i}") on:change=move |ev| chosen.set(event_target_value(&ev))>
                        <option value="" prop:selected=move || chosen.get().is_empty()>"— choose a preset —"</option>
                        {FeePreset::ALL.iter().map(|p| view! { <option value=p.id()>{p.name()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="button" data-testid=format!("load-preset-{i}")
                    aria-label=format!("Load the chosen preset into schedule {}", i + 1)
                    prop:disabled=move || chosen.get().is_empty()
                    on:click=move |_| {
                        if let Some(p) = FeePreset::ALL.into_iter().find(|p| p.id() == chosen.get_untracked()) {
                            ws.form.update(|f| ops::load_fee_preset(f, i, p));
                            chosen.set(String::new());
                        }
                    }>"Load"</button>
                {remove_button("Remove schedule", format!("remove-schedule-{i}"), Removal::FeeSchedule(i))}
            </div>
            <div class="scroll">
            <table class="grid edit">
                <thead><tr>
                    <th scope="col">"Security type"</th><th scope="col">"Flat ($/ticket)"</th><th scope="col">"Per share ($)"</th>
                    <th scope="col">"Notional (bps)"</th><th scope="col">"Minimum ($)"</th><th scope="col">"Maximum ($)"</th><th scope="col">"Sides"</th>
                </tr></thead>
                <tbody>
                    {row("etf", "ETF")}
                    {row("stock", "Stock")}
                    {row("mutual_fund", "Mutual fund")}
                </tbody>
            </table>
            </div>
            <div class="form-row">
                {text_input(fld!(FeeP(i), fractional_surcharge), "Fractional surcharge ($/ticket)", Shown)}
                {checkbox(fld!(FeeP(i), charge_regulatory => bool), "Pass through SEC fee and TAF")}
                {checkbox(fld!(FeeP(i), impact.enabled => bool), "Market impact (securities with an average daily $ volume)")}
                {text_input(fld!(FeeP(i), impact.fields.coefficient), "Impact coefficient b", Shown)}
                {text_input(fld!(FeeP(i), advisory_fee_bps), "Advisory fee (bps/year)", Shown)}
            </div>
        </div>
    }
}

#[component]
fn RegulatoryEditor() -> impl IntoView {
    let ws = ws();
    use tollbooth_engine::scenario::form::{SecRateForm, TafRateForm};
    view! {
        <h3>"Regulatory fee tables"</h3>
        <p class="muted">"SEC Section 31 fee per $1M of sales and FINRA TAF per share (capped per trade), each from its effective date."</p>
        <div class="two-col">
            <table class="grid edit" data-testid="sec-table">
                <caption>"SEC Section 31"</caption>
                <thead><tr><th scope="col">"Effective"</th><th scope="col">"$ per $1M"</th></tr></thead>
                <tbody>
                    <For each=indices(|f| f.regulatory.sec.len()) key=|i| *i children=move |i| {
                        let eff = Field::new(format!("regulatory.sec[{i}].effective"),
                            move |f| f.regulatory.sec.get(i).map(|r| r.effective.clone()),
                            move |f, v| if let Some(r) = f.regulatory.sec.get_mut(i) { r.effective = v; });
                        let rate = Field::new(format!("regulatory.sec[{i}].per_million"),
                            move |f| f.regulatory.sec.get(i).map(|r| r.per_million.clone()),
                            move |f, v| if let Some(r) = f.regulatory.sec.get_mut(i) { r.per_million = v; });
                        view! { <tr>
                            <td>{date_input(eff, format!("SEC row {} effective", i + 1), Hidden)}</td>
                            <td>{text_input(rate, format!("SEC row {} rate", i + 1), Hidden)}</td>
                        </tr> }
                    } />
                </tbody>
            </table>
            <table class="grid edit" data-testid="taf-table">
                <caption>"FINRA TAF"</caption>
                <thead><tr><th scope="col">"Effective"</th><th scope="col">"$ per share"</th><th scope="col">"Cap per trade ($)"</th></tr></thead>
                <tbody>
                    <For each=indices(|f| f.regulatory.taf.len()) key=|i| *i children=move |i| {
                        let eff = Field::new(format!("regulatory.taf[{i}].effective"),
                            move |f| f.regulatory.taf.get(i).map(|r| r.effective.clone()),
                            move |f, v| if let Some(r) = f.regulatory.taf.get_mut(i) { r.effective = v; });
                        let rate = Field::new(format!("regulatory.taf[{i}].per_share"),
                            move |f| f.regulatory.taf.get(i).map(|r| r.per_share.clone()),
                            move |f, v| if let Some(r) = f.regulatory.taf.get_mut(i) { r.per_share = v; });
                        let cap = Field::new(format!("regulatory.taf[{i}].max_per_trade"),
                            move |f| f.regulatory.taf.get(i).map(|r| r.max_per_trade.clone()),
                            move |f, v| if let Some(r) = f.regulatory.taf.get_mut(i) { r.max_per_trade = v; });
                        view! { <tr>
                            <td>{date_input(eff, format!("TAF row {} effective", i + 1), Hidden)}</td>
                            <td>{text_input(rate, format!("TAF row {} rate", i + 1), Hidden)}</td>
                            <td>{text_input(cap, format!("TAF row {} cap", i + 1), Hidden)}</td>
                        </tr> }
                    } />
                </tbody>
            </table>
        </div>
        <div class="form-row">
            <button type="button" class="small" data-testid="add-sec-row" on:click=move |_| ws.form.update(|f| f.regulatory.sec.push(SecRateForm::default()))>"Add SEC rate"</button>
            <button type="button" class="small" data-testid="add-taf-row" on:click=move |_| ws.form.update(|f| f.regulatory.taf.push(TafRateForm::default()))>"Add TAF rate"</button>
        </div>
    }
}

/// The tax profile.
#[component]
pub fn TaxEditor() -> impl IntoView {
    view! {
        <section class="card editor" aria-labelledby="tax-h">
            <h2 id="tax-h">"Tax profile"</h2>
            <p class="muted">"Rates are fractions: 0.24 is 24%."</p>
            <div class="form-row">
                {select_input(fld!(TaxP(), filing_status => enum), "Filing status", Shown,
                    opts(&[FilingStatus::Single, FilingStatus::MarriedFilingJointly, FilingStatus::MarriedFilingSeparately, FilingStatus::HeadOfHousehold]), Some("— choose —"))}
                {text_input(fld!(TaxP(), ordinary_rate), "Federal ordinary rate", Shown)}
                {text_input(fld!(TaxP(), ltcg_rate), "Long-term gains rate (0, 0.15, 0.20)", Shown)}
                {checkbox(fld!(TaxP(), niit => bool), "Net investment income tax (3.8%)")}
                {text_input(fld!(TaxP(), state_rate), "State rate", Shown)}
            </div>
            <div class="form-row">
                {text_input(fld!(TaxP(), carryforward_in_st), "Short-term loss carry-forward ($)", Shown)}
                {text_input(fld!(TaxP(), carryforward_in_lt), "Long-term loss carry-forward ($)", Shown)}
                {text_input(fld!(TaxP(), ordinary_offset_cap), "Ordinary income offset cap ($/year)", Shown)}
                {select_input(fld!(TaxP(), horizon => enum), "At the horizon", Shown,
                    vec![(key_of(&Some(HorizonTreatment::Liquidate)), "Liquidate: gains taxed".into()), (key_of(&Some(HorizonTreatment::Hold)), "Hold: step-up, gains untaxed".into())], Some("— choose —"))}
            </div>
        </section>
    }
}

/// Market assumptions: the main numbers; the correlation matrix is shown read-only.
#[component]
pub fn MarketEditor() -> impl IntoView {
    let ws = ws();
    view! {
        <section class="card editor" aria-labelledby="market-h">
            <h2 id="market-h">"Market assumptions"</h2>
            <p class="muted">"Annual expected return (arithmetic), volatility (standard deviation of the annual return) and dividend yield per asset class, as fractions. Monte Carlo: lognormal daily steps on business days. The TLH partner correlation is the one asked of each security and its class's benchmark; the report states the correlations achieved."</p>
            {list_error("market.classes")}
            <div class="scroll">
            <table class="grid edit" data-testid="market-table">
                <thead><tr>
                    <th scope="col">"Asset class"</th><th scope="col">"Expected return"</th><th scope="col">"Volatility"</th>
                    <th scope="col">"Dividend yield"</th><th scope="col">"Source"</th><th scope="col">"As of"</th>
                </tr></thead>
                <tbody>
                    <For each=indices(|f| f.market.classes.len()) key=|i| *i children=move |i| {
                        let n = move || ws.form.with(|f| f.market.classes.get(i).map(|c| c.name.clone()).unwrap_or_default());
                        let label = format!("Class {}", i + 1);
                        view! { <tr>
                            <th scope="row">{n}</th>
                            <td>{text_input(fld!(MarketClassP(i), expected_return), format!("{label} expected return"), Hidden)}</td>
                            <td>{text_input(fld!(MarketClassP(i), volatility), format!("{label} volatility"), Hidden)}</td>
                            <td>{text_input(fld!(MarketClassP(i), dividend_yield), format!("{label} dividend yield"), Hidden)}</td>
                            <td>{text_input(fld!(MarketClassP(i), source), format!("{label} source"), Hidden)}</td>
                            <td>{text_input(fld!(MarketClassP(i), as_of), format!("{label} source date"), Hidden)}</td>
                        </tr> }
                    } />
                </tbody>
            </table>
            </div>
            <h3 id="corr-h">"Correlations (read-only)"</h3>
            {list_error("market.correlation")}
            <div class="scroll" tabindex="0" role="region" aria-labelledby="corr-h">
            <table class="grid corr" data-testid="correlation">
                {move || ws.form.with(|f| {
                    let names: Vec<String> = f.market.classes.iter().map(|c| c.name.clone()).collect();
                    view! {
                        <thead><tr><td></td>{names.iter().map(|n| view! { <th scope="col">{n.clone()}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {f.market.correlation.iter().enumerate().map(|(r, row)| view! {
                                <tr>
                                    <th scope="row">{names.get(r).cloned().unwrap_or_default()}</th>
                                    {row.iter().map(|x| view! { <td class="num">{x.clone()}</td> }).collect_view()}
                                </tr>
                            }).collect_view()}
                        </tbody>
                    }
                })}
            </table>
            </div>
            <p class="muted">{move || ws.form.with(|f| f.market.correlation_source.clone())}</p>
            <h3>"Simulation"</h3>
            <div class="form-row">
                {text_input(fld!(MarketP(), horizon_years), "Horizon (years)", Shown)}
                {text_input(fld!(MarketP(), paths), "Monte Carlo paths", Shown)}
                {text_input(fld!(MarketP(), seed), "Random seed", Shown)}
                {text_input(fld!(MarketP(), cash_yield), "Cash yield", Shown)}
                {text_input(fld!(MarketP(), partner_correlation), "TLH partner correlation", Shown)}
                {text_input(fld!(MarketP(), default_idiosyncratic_vol), "Default idiosyncratic volatility", Shown)}
            </div>
            <div class="form-row">
                {select_input(fld!(MarketP(), shocks.kind => enum), "Shocks", Shown,
                    vec![(key_of(&Some(ShockKind::Normal)), "Normal".into()), (key_of(&Some(ShockKind::StudentT)), "Student-t".into())], Some("— choose —"))}
                {text_input(fld!(MarketP(), shocks.dof), "Degrees of freedom (Student-t)", Shown)}
                {select_input(fld!(MarketP(), dividends => enum), "Dividends", Shown,
                    opts(&[DividendTreatment::Reinvest, DividendTreatment::Cash]), Some("— choose —"))}
            </div>
            <h3>"Idiosyncratic volatility per security"</h3>
            <p class="muted">"Annual volatility of a security against its asset class (0.02 is 2%); a security without a row uses the default above."</p>
            <table class="grid edit" data-testid="security-vol-table">
                <thead><tr>
                    <th scope="col">"Security"</th><th scope="col">"Volatility"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    <For each=indices(|f| f.market.idiosyncratic_vol.len()) key=|i| *i children=move |i| {
                        let n = format!("Idiosyncratic volatility {}", i + 1);
                        view! { <tr>
                            <td>{dynamic_select(fld!(SecurityVolP(i), symbol), format!("{n} security"), Hidden, security_options)}</td>
                            <td>{text_input(fld!(SecurityVolP(i), vol), format!("{n} volatility"), Hidden)}</td>
                            <td>{remove_button("Remove", format!("remove-security-vol-{i}"), Removal::SecurityVol(i))}</td>
                        </tr> }
                    } />
                </tbody>
            </table>
            {action_if("Add security volatility".into(), "add-security-vol".into(),
                |f| ops::next_security_vol(f).is_some(), "Every security has a row", ops::add_security_vol)}
        </section>
    }
}

/// Contributions and withdrawals.
#[component]
pub fn CashFlowsEditor() -> impl IntoView {
    view! {
        <section class="card editor" aria-labelledby="flows-h">
            <h2 id="flows-h">"Cash flows"</h2>
            <p class="muted">"Contributions are positive, withdrawals negative (dollars). A recurring flow without an end runs to the horizon."</p>
            <div class="scroll">
            <table class="grid edit" data-testid="flows-table">
                <thead><tr>
                    <th scope="col">"Account"</th><th scope="col">"Amount ($)"</th><th scope="col">"When"</th><th scope="col">"Date"</th>
                    <th scope="col">"Start"</th><th scope="col">"End"</th><th scope="col">"Frequency"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    <For each=indices(|f| f.cash_flows.len()) key=|i| *i children=move |i| {
                        let n = format!("Cash flow {}", i + 1);
                        view! { <tr>
                            <td>{dynamic_select(fld!(CashFlowP(i), account), format!("{n} account"), Hidden, account_options)}</td>
                            <td>{text_input(fld!(CashFlowP(i), amount), format!("{n} amount"), Hidden)}</td>
                            <td>{select_input(fld!(CashFlowP(i), schedule.kind => enum), format!("{n} schedule"), Hidden,
                                vec![(key_of(&Some(ScheduleKind::Once)), "Once".into()), (key_of(&Some(ScheduleKind::Recurring)), "Recurring".into())], Some("— choose —"))}</td>
                            <td>{date_input(fld!(CashFlowP(i), schedule.date), format!("{n} date"), Hidden)}</td>
                            <td>{date_input(fld!(CashFlowP(i), schedule.start), format!("{n} start"), Hidden)}</td>
                            <td>{date_input(fld!(CashFlowP(i), schedule.end), format!("{n} end"), Hidden)}</td>
                            <td>{select_input(fld!(CashFlowP(i), schedule.frequency => enum), format!("{n} frequency"), Hidden, frequencies(), Some("—"))}</td>
                            <td>{remove_button("Remove", format!("remove-flow-{i}"), Removal::CashFlow(i))}</td>
                        </tr> }
                    } />
                </tbody>
            </table>
            </div>
            {action("Add cash flow".into(), "add-flow".into(), ops::add_cash_flow)}
        </section>
    }
}

/// The policies compared (2 to 8) and the baseline.
#[component]
pub fn PoliciesEditor() -> impl IntoView {
    let ws = ws();
    view! {
        <section class="card editor" aria-labelledby="policies-h">
            <h2 id="policies-h">"Policies to compare"</h2>
            <p class="muted">"Two to eight policies, each a mix of rules. Tax alpha is measured against the baseline."</p>
            {list_error("policies")}
            <div class="form-row">
                {dynamic_select(fld!(Root(), baseline), "Baseline policy", Shown, policy_options)}
                <button type="button" data-testid="add-policy"
                    prop:disabled=move || !ws.form.with(ops::can_add_policy)
                    on:click=move |_| ws.form.update(ops::add_policy)>"Add policy"</button>
            </div>
            <For each=indices(|f| f.policies.len()) key=|i| *i children=move |i| view! { <PolicyEditor i /> } />
        </section>
    }
}

#[component]
fn PolicyEditor(i: usize) -> impl IntoView {
    let ws = ws();
    let name = Field::new(
        format!("policies[{i}].name"),
        move |f| f.policies.get(i).map(|p| p.name.clone()),
        move |f, v| ops::rename_policy(f, i, v),
    );
    let p = PolicyP(i);
    view! {
        <fieldset class="policy" data-testid=format!("policy-{i}")>
            <legend>{move || ws.form.with(|f| f.policies.get(i).map(|p| p.name.clone()).unwrap_or_default())}</legend>
            <div class="form-row">
                {text_input(name, "Name", Shown)}
                {select_input(fld!(p, lot_method => enum), "Lot selection", Shown, lot_methods(), Some("— choose —"))}
                {checkbox(fld!(p, cash_flow_first => bool), "Use cash flows first")}
                <button type="button" class="small" data-testid=format!("duplicate-policy-{i}")
                    aria-label=row_label("Duplicate", &format!("duplicate-policy-{i}"))
                    prop:disabled=move || !ws.form.with(ops::can_add_policy)
                    on:click=move |_| ws.form.update(|f| ops::duplicate_policy(f, i))>"Duplicate"</button>
                <button type="button" class="small" data-testid=format!("remove-policy-{i}")
                    aria-label=row_label("Remove", &format!("remove-policy-{i}"))
                    prop:disabled=move || !ws.form.with(ops::can_remove_policy)
                    on:click=move |_| {
                        undo::remove_undoably(ws, Removal::Policy(i));
                        set_timeout(
                            move || focus_after_removal(&format!("remove-policy-{i}")),
                            std::time::Duration::ZERO,
                        );
                    }>"Remove"</button>
            </div>
            <div class="rules">
                <div class="rule">
                    {checkbox(fld!(p, calendar.enabled => bool), "Calendar rebalancing")}
                    {select_input(fld!(p, calendar.fields.frequency => enum), "Frequency", Shown, frequencies(), Some("—"))}
                </div>
                <div class="rule">
                    {checkbox(fld!(p, threshold.enabled => bool), "Threshold bands")}
                    {checkbox(fld!(p, threshold.fields.band.enabled => bool), "Own band (else the target model's bands)")}
                    {select_input(fld!(p, threshold.fields.band.fields.kind => enum), "Band kind", Shown, band_kinds(), Some("—"))}
                    {text_input(fld!(p, threshold.fields.band.fields.width), "Band width", Shown)}
                    {select_input(fld!(p, threshold.fields.check => enum), "Checked", Shown, frequencies(), Some("—"))}
                    {text_input(fld!(p, threshold.fields.trade_to), "Trade back to (fraction of band)", Shown)}
                </div>
                <div class="rule">
                    {checkbox(fld!(p, opportunistic.enabled => bool), "Opportunistic (Daryanani)")}
                    {select_input(fld!(p, opportunistic.fields.check => enum), "Look", Shown, frequencies(), Some("—"))}
                    {text_input(fld!(p, opportunistic.fields.relative_band), "Relative band", Shown)}
                    {text_input(fld!(p, opportunistic.fields.trade_to), "Trade back to (fraction of band)", Shown)}
                </div>
                <div class="rule">
                    {checkbox(fld!(p, tlh.enabled => bool), "Tax-loss harvesting")}
                    {select_input(fld!(p, tlh.fields.check => enum), "Checked", Shown, frequencies(), Some("—"))}
                    {text_input(fld!(p, tlh.fields.loss_threshold_pct), "Loss threshold (fraction of basis)", Shown)}
                    {text_input(fld!(p, tlh.fields.loss_threshold_usd), "Loss threshold ($)", Shown)}
                    {checkbox(fld!(p, tlh.fields.partner_swaps => bool), "Swap into TLH partners")}
                    {select_input(fld!(p, tlh.fields.wash_sale_guard => enum), "Wash-sale guard", Shown,
                        vec![(key_of(&Some(WashSaleGuard::None)), "None".into()), (key_of(&Some(WashSaleGuard::Account)), "Same account".into()), (key_of(&Some(WashSaleGuard::Household)), "Household incl. IRAs and spouse".into())], Some("—"))}
                </div>
                <div class="rule">
                    {checkbox(fld!(p, tactical.enabled => bool), "Signal-driven tactical overlay")}
                    {text_input(fld!(p, tactical.fields.information_coefficient), "Information coefficient", Shown)}
                    {text_input(fld!(p, tactical.fields.max_tilt), "Max tilt", Shown)}
                    {select_input(fld!(p, tactical.fields.frequency => enum), "Frequency", Shown, frequencies(), Some("—"))}
                </div>
                <div class="rule">
                    {checkbox(fld!(p, optimizer.enabled => bool), "Cost-aware optimization")}
                    {select_input(fld!(p, optimizer.fields.check => enum), "Checked", Shown, frequencies(), Some("—"))}
                    {text_input(fld!(p, optimizer.fields.min_trade_usd), "Minimum trade ($)", Shown)}
                    {checkbox(fld!(p, optimizer.fields.tickets_in_objective => bool), "Ticket costs in the objective")}
                    {checkbox(fld!(p, optimizer.fields.taxes_in_objective => bool), "Taxes in the objective")}
                </div>
            </div>
        </fieldset>
    }
}

#[cfg(test)]
mod tests {
    use super::humanize;

    #[test]
    fn row_buttons_name_their_row() {
        use super::row_label;
        assert_eq!(
            row_label("Delete", "delete-lot-0-2"),
            "Delete lot 3 of account 1"
        );
        assert_eq!(
            row_label("Remove", "remove-security-4"),
            "Remove security 5"
        );
        assert_eq!(row_label("Add lot", "add-lot-1"), "Add lot to account 2");
        assert_eq!(row_label("Add member", "add-member"), "Add member");
        assert_eq!(
            row_label("Remove", "remove-min-cash-0"),
            "Remove minimum cash row 1"
        );
        assert_eq!(
            row_label("Remove", "remove-security-vol-2"),
            "Remove volatility row 3"
        );
        assert_eq!(
            row_label("Remove schedule", "remove-schedule-0"),
            "Remove schedule 1"
        );
        assert_eq!(row_label("Remove", "remove-policy-1"), "Remove policy 2");
    }

    #[test]
    fn labels() {
        assert_eq!(humanize("semi_annual"), "Semi annual");
        assert_eq!(humanize("traditional IRA"), "Traditional IRA");
        assert_eq!(humanize(""), "");
    }
}
