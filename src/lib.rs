//! Tollbooth's web app: a thin Leptos layer over `tollbooth_engine`.
//!
//! Components only wire signals to engine types and plain functions; no finance logic
//! lives here, so everything that computes a number is tested natively in the engine.
//! The state is the [`ScenarioForm`] the user
//! types (one `RwSignal`), a `Memo` of its validation, and a few view settings; the form
//! is autosaved to local storage.

use leptos::prelude::*;
use tollbooth_engine::date::Date;
use tollbooth_engine::fees::{rate_text, TicketCost};
use tollbooth_engine::scenario::form::plain_number;
use tollbooth_engine::scenario::{Order, Scenario, ScenarioForm};
use tollbooth_engine::simulate;
use tollbooth_engine::types::Side;

mod browser;
pub mod charts;
mod editors;
pub mod fields;
mod format;
mod import_ui;
pub mod jobs;
pub mod ops;
pub mod persist;
mod print;
mod results;
pub mod summary;
pub mod undo;
pub mod workers;

use fields::{ws, Workspace};
pub use format::usd;
use persist::Notice;

/// The sections of the workspace.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Section {
    Overview,
    Household,
    Lots,
    Import,
    Securities,
    Target,
    Fees,
    Tax,
    Market,
    CashFlows,
    Policies,
    Files,
}

impl Section {
    const ALL: [Section; 12] = [
        Section::Overview,
        Section::Household,
        Section::Lots,
        Section::Import,
        Section::Securities,
        Section::Target,
        Section::Fees,
        Section::Tax,
        Section::Market,
        Section::CashFlows,
        Section::Policies,
        Section::Files,
    ];

    fn label(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Household => "Household & accounts",
            Section::Lots => "Tax lots",
            Section::Import => "Import CSV",
            Section::Securities => "Securities",
            Section::Target => "Target model",
            Section::Fees => "Fee schedules",
            Section::Tax => "Tax profile",
            Section::Market => "Market",
            Section::CashFlows => "Cash flows",
            Section::Policies => "Policies",
            Section::Files => "Save, load, share",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Section::Overview => "overview",
            Section::Household => "household",
            Section::Lots => "lots",
            Section::Import => "import",
            Section::Securities => "securities",
            Section::Target => "target",
            Section::Fees => "fees",
            Section::Tax => "tax",
            Section::Market => "market",
            Section::CashFlows => "cash-flows",
            Section::Policies => "policies",
            Section::Files => "files",
        }
    }
}

/// Which form the page opens with: reads the URL fragment and local storage.
fn start_in_browser() -> persist::Start {
    let stored = browser::load(persist::STORAGE_KEY);
    let fragment = browser::fragment();
    let mut start = persist::start(&fragment, stored.as_deref());
    let link = persist::decode_share(&fragment).is_some();
    if start.keep_previous {
        if let Some(old) = stored.clone() {
            let why = if link {
                "replaced by a shared link"
            } else {
                "could not be opened"
            };
            let (_, kept) = keep_earlier(old, why);
            if !kept && link {
                // The work open before cannot be kept: it stays open, the link is not.
                start = persist::start("", stored.as_deref());
                start.notice = Some(persist::Notice::problem(
                    "The shared link was not opened: the browser's storage is full, so the work \
                     open before could not be kept under “Earlier work”. Save it as a file (or \
                     forget some earlier work) and open the link again.",
                ));
            } else if !kept {
                start.notice = Some(persist::Notice::problem(
                    "The saved work could not be opened, and the browser's storage is full: no \
                     copy of it could be kept. Showing the demo household.",
                ));
            }
        }
    }
    if link {
        // The link has been read; a reload now restores the autosaved work.
        browser::set_fragment("");
    }
    start
}

/// The earlier work stored in this browser.
fn stored_kept() -> Vec<persist::Kept> {
    persist::decode_kept(browser::load(persist::PREVIOUS_KEY).as_deref())
}

/// Keeps the stored `record` at the head of the earlier work in local storage, saying
/// `why` it was replaced, and returns the list and whether the record could be stored
/// (when the browser's storage is full the oldest entries go first).
fn keep_earlier(record: String, why: &str) -> (Vec<persist::Kept>, bool) {
    let mut list = stored_kept();
    persist::keep(
        &mut list,
        record,
        format!("{why}, {}", browser::now_label()),
    );
    let stored = store_kept(&mut list);
    (list, stored)
}

/// Stores the earlier work, dropping the oldest entries while the browser refuses it;
/// false, with the stored list left as it was, when not even the newest fits.
fn store_kept(list: &mut Vec<persist::Kept>) -> bool {
    if list.is_empty() {
        return browser::store(persist::PREVIOUS_KEY, &persist::encode_kept(list));
    }
    let mut trial = list.clone();
    while !trial.is_empty() {
        if browser::store(persist::PREVIOUS_KEY, &persist::encode_kept(&trial)) {
            *list = trial;
            return true;
        }
        trial.pop();
    }
    false
}

/// Autosaves the form; when the browser refuses, frees the earlier work's oldest entries
/// and tries again. Whether it was saved, and whether earlier work was given up.
fn autosave(text: &str) -> (bool, bool) {
    if browser::store(persist::STORAGE_KEY, text) {
        return (true, false);
    }
    let mut list = stored_kept();
    let mut freed = false;
    while !list.is_empty() {
        list.pop();
        freed = true;
        browser::store(persist::PREVIOUS_KEY, &persist::encode_kept(&list));
        if browser::store(persist::STORAGE_KEY, text) {
            return (true, true);
        }
    }
    (false, freed)
}

/// Bumped when the stored earlier work changes outside the Files section (the autosave
/// freeing room, work kept when another tab saved over it, another tab's change): the
/// section reads the list again.
#[derive(Clone, Copy)]
struct EarlierWork(RwSignal<u64>);

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let start = start_in_browser();
    let ws = Workspace::new(start.form, start.notice);
    provide_context(ws);
    let run_state = results::RunState::kept_in_tab(ws);
    provide_context(run_state);
    // The CSV import's text and choices outlive the section (see `ImportDraft`).
    let draft = import_ui::ImportDraft::kept_in_tab();
    draft.follow_account_renames(ws);
    provide_context(draft);
    // The ticket preview's account and security outlive the Overview and follow renames.
    let ticket = TicketChoice {
        account: RwSignal::new(String::new()),
        symbol: RwSignal::new(String::new()),
    };
    // (As the checked scenario lists them, the preview's choices: trimmed.)
    ops::follow_renames(
        move || {
            ws.form.with(|f| {
                f.household
                    .accounts
                    .iter()
                    .map(|a| a.id.trim().to_string())
                    .collect()
            })
        },
        move || ticket.account.get_untracked(),
        move |id| ticket.account.set(id),
    );
    ops::follow_renames(
        move || {
            ws.form.with(|f| {
                f.securities
                    .iter()
                    .map(|x| x.symbol.trim().to_string())
                    .collect()
            })
        },
        move || ticket.symbol.get_untracked(),
        move |s| ticket.symbol.set(s),
    );
    provide_context(ticket);
    results::watch_inputs(ws, run_state);
    // The Web Workers start right after the first render, while the page is still
    // loading: a comparison then makes no request (and works offline).
    set_timeout(
        move || {
            browser::mark("tollbooth:interactive");
            results::start_workers(run_state);
        },
        std::time::Duration::ZERO,
    );
    // Autosave: effects only push state out. A refusal (storage full or switched off) is
    // said on the page until a save succeeds again.
    let unsaved = RwSignal::new(false);
    // The text this tab saved last, and whether another tab has saved over it since.
    let mine = StoredValue::new(String::new());
    let overwritten = StoredValue::new(false);
    let earlier = EarlierWork(RwSignal::new(0));
    provide_context(earlier);
    Effect::new(move |_| {
        let text = ws.form.with(persist::encode_saved);
        let (saved, freed) = autosave(&text);
        if freed {
            earlier.0.update(|v| *v += 1);
        }
        unsaved.set(!saved);
        if saved {
            mine.set_value(text);
            overwritten.set_value(false);
        }
    });
    // The browser's tabs share local storage: another tab of the page autosaving its own
    // work replaces this one's saved copy (a reload here would open the other tab's work).
    // This tab's work is kept under "Earlier work" (one entry per tab, replaced each time),
    // once until it is saved again, and the advisor is told; the next change here saves it
    // again. Removed by another tab (its storage cleared), it is saved again at once. A
    // change to the earlier work by another tab reaches the Files section's list.
    browser::watch_tab_id();
    undo::listen_for_undo_key(ws);
    let _ = window_event_listener(leptos::ev::storage, move |e| {
        let key = e.key();
        if key.as_deref().is_none_or(|k| k == persist::PREVIOUS_KEY) {
            earlier.0.update(|v| *v += 1);
        }
        if key.is_some_and(|k| k != persist::STORAGE_KEY) {
            return;
        }
        match e.new_value() {
            None => {
                let text = mine.get_value();
                if !text.is_empty() {
                    unsaved.set(!autosave(&text).0);
                }
            }
            Some(v) if mine.with_value(|m| *m == v) || overwritten.get_value() => {}
            Some(_) => {
                overwritten.set_value(true);
                let current = ws.form.with_untracked(persist::encode_saved);
                let mut list = stored_kept();
                persist::keep_for_tab(
                    &mut list,
                    current,
                    format!(
                        "kept when another tab saved over it, {}",
                        browser::now_label()
                    ),
                    &browser::tab_id(),
                );
                let kept = store_kept(&mut list);
                earlier.0.update(|v| *v += 1);
                ws.notice.set(Some(Notice::problem(if kept {
                    "Another Tollbooth tab in this browser has saved its own work over this \
                     tab's. This tab's work is still open here and is kept under “Earlier work” \
                     (Files); your next change here saves it again."
                } else {
                    "Another Tollbooth tab in this browser has saved its own work over this \
                     tab's, and the browser's storage is full: this tab's work could not be kept \
                     under “Earlier work”. Save it as a file; your next change here saves it \
                     again."
                })));
            }
        }
    });
    // A share link pasted into this tab changes only the fragment: it opens as at
    // start-up (the work open now is kept first), by a reload.
    let _ = window_event_listener(leptos::ev::hashchange, move |_| {
        if persist::decode_share(&browser::fragment()).is_some() {
            browser::reload();
        }
    });
    let section = RwSignal::new(Section::Overview);
    // The page's title names the section on screen.
    Effect::new(move |_| {
        let s = if ws.presenting.get() {
            Section::Overview
        } else {
            section.get()
        };
        browser::set_title(&match s {
            Section::Overview => "Tollbooth — what a rebalancing policy really costs".to_string(),
            other => format!("{} — Tollbooth", other.label()),
        });
    });
    let hash = Memo::new(move |_| ws.checked.with(|c| c.as_ref().ok().map(Scenario::hash_hex)));
    view! {
        <div class="app" class:presenting=move || ws.presenting.get()>
            <header class="masthead">
                <div>
                    <h1>"Tollbooth"</h1>
                    <p class="tagline">"What a rebalancing policy really costs a household."</p>
                </div>
                <div class="toolbar">
                    <ProblemCount section />
                    <button type="button" data-testid="presentation-toggle"
                        aria-pressed=move || ws.presenting.get().to_string()
                        on:click=move |_| ws.presenting.update(|p| *p = !*p)>
                        {move || if ws.presenting.get() { "Leave presentation mode" } else { "Presentation mode" }}
                    </button>
                </div>
            </header>
            {move || unsaved.get().then(|| view! {
                <p class="notice problem" role="alert" data-testid="autosave-failed">
                    "This browser is not saving your work (its storage is full or switched off): save it as a JSON file before closing the page."
                </p>
            })}
            <NoticeBanner />
            <div class="layout">
                <nav class="sections" aria-label="Scenario sections">
                    <ul>
                        {Section::ALL.iter().map(|&s| view! {
                            <li>
                                <button type="button" data-testid=format!("nav-{}", s.id())
                                    aria-current=move || (section.get() == s).then_some("page")
                                    on:click=move |_| {
                                        section.set(s);
                                        // The section's heading takes the focus once drawn.
                                        set_timeout(
                                            || browser::focus_selector("main#main h2"),
                                            std::time::Duration::ZERO,
                                        );
                                    }>
                                    {s.label()}
                                </button>
                            </li>
                        }).collect_view()}
                    </ul>
                </nav>
                <main id="main">
                    <undo::UndoNotice />
                    {move || {
                        let s = if ws.presenting.get() { Section::Overview } else { section.get() };
                        match s {
                            Section::Overview => view! { <Overview /> }.into_any(),
                            Section::Household => view! { <editors::HouseholdEditor /> }.into_any(),
                            Section::Lots => view! { <editors::LotsEditor /> }.into_any(),
                            Section::Import => view! { <import_ui::ImportPanel /> }.into_any(),
                            Section::Securities => view! { <editors::SecuritiesEditor /> }.into_any(),
                            Section::Target => view! { <editors::TargetEditor /> }.into_any(),
                            Section::Fees => view! { <editors::FeesEditor /> }.into_any(),
                            Section::Tax => view! { <editors::TaxEditor /> }.into_any(),
                            Section::Market => view! { <editors::MarketEditor /> }.into_any(),
                            Section::CashFlows => view! { <editors::CashFlowsEditor /> }.into_any(),
                            Section::Policies => view! { <editors::PoliciesEditor /> }.into_any(),
                            Section::Files => view! { <FilesPanel /> }.into_any(),
                        }
                    }}
                    <print::Assumptions />
                </main>
            </div>
            <footer class="colophon">
                "Engine " {tollbooth_engine::VERSION} " · scenario "
                <code data-testid="scenario-hash">{move || hash.get().unwrap_or_else(|| "(not valid yet)".into())}</code>
                ". Runs entirely in this browser: no data leaves the page."
            </footer>
        </div>
    }
}

/// The section whose editor holds the field at a validation path.
fn section_of(path: &str) -> Section {
    let head = path.split(['.', '[']).next().unwrap_or_default();
    match head {
        "household" if path.contains(".lots") => Section::Lots,
        "household" | "name" | "as_of" => Section::Household,
        "securities" => Section::Securities,
        "target" => Section::Target,
        "fee_schedules" | "regulatory" => Section::Fees,
        "tax" => Section::Tax,
        "market" => Section::Market,
        "cash_flows" => Section::CashFlows,
        "policies" | "baseline" => Section::Policies,
        _ => Section::Overview,
    }
}

/// The number of problems in the form, with the list on demand: each problem named as
/// the form names it, a button to the field.
#[component]
fn ProblemCount(section: RwSignal<Section>) -> impl IntoView {
    let ws = ws();
    let go = move |path: String| {
        ws.presenting.set(false);
        section.set(section_of(&path));
        // Focus the field once its section is drawn.
        set_timeout(
            move || browser::focus_test_id(&fields::test_id(&path)),
            std::time::Duration::from_millis(0),
        );
    };
    let errors = Memo::new(move |_| {
        ws.checked
            .with(|c| c.as_ref().err().cloned().unwrap_or_default())
    });
    view! {
        // Said politely by a screen reader as the count changes (the visible count sits in a
        // <details> summary, which is not a live region).
        <span class="sr-only" role="status" data-testid="problem-count-live">
            {move || match errors.with(Vec::len) {
                0 => "Scenario valid".to_string(),
                1 => "1 problem in the scenario".to_string(),
                n => format!("{n} problems in the scenario"),
            }}
        </span>
        {move || {
            let list = errors.get();
            if list.is_empty() {
                view! { <span class="status ok" data-testid="problem-count">"Scenario valid"</span> }.into_any()
            } else if ws.presenting.get() {
                // The list names the client's accounts: only the count is shown.
                view! { <span class="status problem" data-testid="problem-count">{format!("{} problem(s)", list.len())}</span> }.into_any()
            } else {
                view! {
                    <details class="problems">
                        <summary data-testid="problem-count">{format!("{} problem(s)", list.len())}</summary>
                        <ul>{list.into_iter().map(|e| {
                            let label = ws.form.with_untracked(|f| ops::problem_label(f, &e.path));
                            let path = e.path.clone();
                            view! {
                                <li>
                                    <button type="button" class="link" data-testid="problem-link" data-path=e.path.clone()
                                        on:click=move |_| go(path.clone())>{label}</button>
                                    ": "{e.message}
                                </li>
                            }
                        }).collect_view()}</ul>
                    </details>
                }.into_any()
            }
        }}
    }
}

/// The notice banner (restored work, shared link, load errors).
#[component]
fn NoticeBanner() -> impl IntoView {
    let ws = ws();
    move || {
        ws.notice.get().map(|n: Notice| {
            let class = if n.problem { "notice problem" } else { "notice" };
            view! {
                <div class=class role="status" data-testid="notice">
                    <span>{n.text}</span>
                    <button type="button" class="small" on:click=move |_| ws.notice.set(None)>"Dismiss"</button>
                </div>
            }
        })
    }
}

/// The household, the ticket preview and the results.
#[component]
fn Overview() -> impl IntoView {
    view! {
        <HouseholdSummary />
        <TicketPreview />
        <results::Results />
    }
}

/// The name shown for account `i`: masked in presentation mode.
fn account_label(presenting: bool, i: usize, name: &str) -> String {
    if presenting {
        ops::account_alias(i)
    } else {
        name.to_string()
    }
}

/// The household's accounts and their values at the scenario's prices.
#[component]
fn HouseholdSummary() -> impl IntoView {
    let ws = ws();
    move || {
        let presenting = ws.presenting.get();
        ws.checked.with(|c| match c {
            Err(errors) => view! {
                <section class="card" aria-labelledby="household-h">
                    <h2 id="household-h">"Household"</h2>
                    <p class="field-error" data-testid="summary-invalid">
                        {format!("The scenario has {} problem(s); the summary returns once they are fixed.", errors.len())}
                    </p>
                </section>
            }.into_any(),
            Ok(s) => {
                let price = |sym: &str| s.security(sym).map_or(0.0, |sec| sec.price);
                let title = if presenting {
                    let n = s.household.members.len();
                    format!("{} household", (0..n).map(ops::client_alias).collect::<Vec<_>>().join(" & "))
                } else {
                    s.name.clone()
                };
                let rows = s.household.accounts.iter().enumerate().map(|(i, a)| view! {
                    <tr data-account=a.id.clone()>
                        <td data-testid="account-name">{account_label(presenting, i, &a.name)}</td>
                        <td>{a.kind.to_string()}</td>
                        <td class="num">{a.lots.len()}</td>
                        <td class="num">{usd(a.value(price))}</td>
                    </tr>
                }).collect_view();
                view! {
                    <section class="card" aria-labelledby="household-h">
                        <h2 id="household-h" data-testid="household-title">{title}</h2>
                        <p class="muted">"Holdings and prices as of " {s.as_of.to_string()}</p>
                        <table class="grid" data-testid="accounts">
                            <thead>
                                <tr>
                                    <th scope="col">"Account"</th>
                                    <th scope="col">"Kind"</th>
                                    <th scope="col" class="num">"Lots"</th>
                                    <th scope="col" class="num">"Value"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                            <tfoot>
                                <tr>
                                    <th scope="row" colspan="3">"Household"</th>
                                    <td class="num" data-testid="household-value">{usd(s.household_value())}</td>
                                </tr>
                            </tfoot>
                        </table>
                    </section>
                }.into_any()
            }
        })
    }
}

/// Save to and load from a JSON file; a share link; start over from an example.
#[component]
fn FilesPanel() -> impl IntoView {
    let ws = ws();
    let message = RwSignal::new(None::<Notice>);
    let link = RwSignal::new(String::new());
    let kept = RwSignal::new(stored_kept());
    // Read again when the page changed the list elsewhere, or another tab did.
    if let Some(EarlierWork(changed)) = use_context::<EarlierWork>() {
        Effect::new(move |first: Option<()>| {
            changed.track();
            if first.is_some() {
                kept.set(stored_kept());
            }
        });
    }
    // Opens `form` in place of the current work, which goes to the earlier work first.
    // The text to append to the message: empty, or why the old work could not be kept.
    // (When the current work cannot be kept, nothing is replaced.)
    let replace = move |form: ScenarioForm, why: &str| -> Result<&'static str, Notice> {
        let current = ws.form.with_untracked(persist::encode_saved);
        let (list, stored) = keep_earlier(current, why);
        if !stored {
            return Err(Notice::problem(
                "The browser's storage is full: the work open now could not be kept under \
                 “Earlier work”, so it was not replaced. Save it as a file (or forget some \
                 earlier work) and try again.",
            ));
        }
        kept.set(list);
        // Another scenario is open: the edits that could be undone were the old one's.
        ws.undo.update(undo::UndoStack::clear);
        ws.form.set(form);
        Ok(" The work open before is under “Earlier work”.")
    };
    let save = move |_| {
        let r = ws.checked.with_untracked(|c| match c {
            Ok(s) => browser::download(&persist::file_name(&s.name), "application/json", &s.to_json_pretty())
                .map(|_| Notice::info("Saved the scenario as a JSON file.")),
            Err(e) => Ok(Notice::problem(format!(
                "The scenario has {} problem(s): fix them before saving a file (your typing is kept in this browser meanwhile).",
                e.len()
            ))),
        });
        message.set(Some(r.unwrap_or_else(|e| {
            Notice::problem(format!("The file could not be offered: {e}"))
        })));
    };
    let load = move |ev: leptos::ev::Event| {
        if let Some(file) = browser::chosen_file(&ev) {
            let name = file.name();
            leptos::task::spawn_local(async move {
                let result = browser::read_text(file)
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|t| Scenario::from_json(&t).map_err(|e| e.to_string()));
                match result {
                    Ok(s) => message.set(Some(
                        match replace(s.to_form(), &format!("replaced by the file {name}")) {
                            Ok(kept_note) => {
                                Notice::info(format!("Loaded “{}” from {name}.{kept_note}", s.name))
                            }
                            Err(refused) => refused,
                        },
                    )),
                    Err(e) => message.set(Some(Notice::problem(format!(
                        "{name} was not loaded; the current scenario is unchanged. {e}"
                    )))),
                }
            });
        }
    };
    let share = move |_| {
        ws.checked.with_untracked(|c| match c {
            Ok(s) => {
                link.set(format!(
                    "{}#{}",
                    browser::page_url(),
                    persist::encode_share(s)
                ));
                message.set(None);
            }
            Err(e) => message.set(Some(Notice::problem(format!(
                "The scenario has {} problem(s): fix them before sharing it.",
                e.len()
            )))),
        });
    };
    let presets = simulate::presets();
    let example = RwSignal::new(presets[0].id.to_string());
    let load_example = move |_| {
        let id = example.get_untracked();
        if let Some(p) = simulate::presets().into_iter().find(|p| p.id == id) {
            let outcome = replace(
                p.scenario.to_form(),
                &format!("replaced by the example “{}”", p.name),
            );
            message.set(Some(match outcome {
                Ok(kept_note) => Notice::info(format!(
                    "Started over from the example “{}”: {}{kept_note}",
                    p.name, p.description
                )),
                Err(refused) => refused,
            }));
        }
    };
    let restore = move |i: usize| {
        let Some(entry) = kept.with_untracked(|l| l.get(i).cloned()) else {
            return;
        };
        match persist::decode_saved(&entry.record) {
            Ok(form) => match replace(form, &format!("replaced by restoring “{}”", entry.name))
            {
                Ok(kept_note) => {
                    // The restored entry is open now: it leaves the list.
                    let mut list = kept.get_untracked();
                    list.retain(|k| k.record != entry.record);
                    store_kept(&mut list);
                    kept.set(list);
                    message.set(Some(Notice::info(format!(
                        "Restored “{}”.{kept_note}",
                        entry.name
                    ))));
                }
                Err(refused) => message.set(Some(refused)),
            },
            Err(e) => message.set(Some(Notice::problem(format!(
                "“{}” cannot be restored ({e}); the current scenario is unchanged.",
                entry.name
            )))),
        }
    };
    let forget = move |i: usize| {
        kept.update(|l| {
            if i < l.len() {
                l.remove(i);
            }
        });
        let mut list = kept.get_untracked();
        store_kept(&mut list);
        kept.set(list);
    };
    view! {
        <section class="card editor" aria-labelledby="files-h">
            <h2 id="files-h">"Save, load, share"</h2>
            <p class="muted">"Your work is saved in this browser as you type. Files and links stay on this machine until you send them."</p>
            <div class="form-row">
                <button type="button" data-testid="save-json" on:click=save>"Save as JSON file"</button>
                <label class="field">
                    <span class="label-text">"Load a JSON scenario file"</span>
                    <input type="file" accept=".json,application/json" data-testid="load-json" on:change=load />
                </label>
                <button type="button" data-testid="make-share-link" on:click=share>"Make a share link"</button>
            </div>
            <div class="form-row">
                <label>
                    "Example scenario"
                    <select data-testid="example" on:change=move |ev| example.set(event_target_value(&ev))>
                        {presets.iter().map(|p| view! {
                            <option value=p.id title=p.description>{p.name}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="button" data-testid="load-example" on:click=load_example>
                    "Start over from this example"
                </button>
            </div>
            {move || message.get().map(|n| {
                let class = if n.problem { "field-error" } else { "ok" };
                view! { <p class=class role="status" data-testid="files-message">{n.text}</p> }
            })}
            <Show when=move || !kept.with(|l| l.is_empty())>
                <h3 id="earlier-h">"Earlier work"</h3>
                <p class="muted">{format!(
                    "The last {} scenarios replaced by a link, a file, an example, a restore or an undo, kept in this browser only.",
                    persist::KEEP_LIMIT
                )}</p>
                <ul class="earlier" aria-labelledby="earlier-h" data-testid="earlier-work">
                    {move || kept.get().into_iter().enumerate().map(|(i, k)| {
                        let restore_label = format!("Restore {}", k.name);
                        let forget_label = format!("Forget {}", k.name);
                        view! {
                            <li data-testid="earlier-entry">
                                <span class="earlier-name">{k.name}</span>
                                " "
                                <span class="muted">{k.why}</span>
                                " "
                                <button type="button" data-testid="earlier-restore"
                                    aria-label=restore_label
                                    on:click=move |_| restore(i)>"Restore"</button>
                                " "
                                <button type="button" data-testid="earlier-forget"
                                    aria-label=forget_label
                                    on:click=move |_| forget(i)>"Forget"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </Show>
            <Show when=move || !link.get().is_empty()>
                <label class="field wide">
                    <span class="label-text">"Share link (the whole scenario is in the link; anyone with it can read it)"</span>
                    <input readonly data-testid="share-link" prop:value=move || link.get() />
                </label>
            </Show>
        </section>
    }
}

/// The ticket preview's chosen account id and symbol (empty: the first of each), kept
/// while other sections are open and through renames.
#[derive(Clone, Copy)]
struct TicketChoice {
    account: RwSignal<String>,
    symbol: RwSignal<String>,
}

/// What one ticket costs under the account's fee schedule, itemised.
#[component]
fn TicketPreview() -> impl IntoView {
    let ws = ws();
    // The choices of the last valid scenario (an invalid form keeps the previous lists).
    let accounts = Memo::new(move |prev: Option<&Vec<(String, String)>>| {
        let presenting = ws.presenting.get();
        ws.checked.with(|c| match c {
            Ok(s) => s
                .household
                .accounts
                .iter()
                .enumerate()
                .map(|(i, a)| (a.id.clone(), account_label(presenting, i, &a.name)))
                .collect(),
            // (Names kept from before are masked when presenting.)
            Err(_) => prev
                .map(|v| {
                    v.iter()
                        .enumerate()
                        .map(|(i, (id, name))| (id.clone(), account_label(presenting, i, name)))
                        .collect()
                })
                .unwrap_or_default(),
        })
    });
    let symbols = Memo::new(move |prev: Option<&Vec<String>>| {
        ws.checked.with(|c| match c {
            Ok(s) => s.securities.iter().map(|x| x.symbol.clone()).collect(),
            Err(_) => prev.cloned().unwrap_or_default(),
        })
    });
    let choice = use_context::<TicketChoice>().unwrap_or(TicketChoice {
        account: RwSignal::new(String::new()),
        symbol: RwSignal::new(String::new()),
    });
    // The choice when it is in the list, else the list's first.
    let account = Memo::new(move |_| {
        let chosen = choice.account.get();
        accounts.with(|a| {
            if a.iter().any(|x| x.0 == chosen) {
                chosen
            } else {
                a.first().map(|x| x.0.clone()).unwrap_or_default()
            }
        })
    });
    let symbol = Memo::new(move |_| {
        let chosen = choice.symbol.get();
        symbols.with(|s| {
            if s.contains(&chosen) {
                chosen
            } else {
                s.first().cloned().unwrap_or_default()
            }
        })
    });
    let set_account = move |id: String| choice.account.set(id);
    let set_symbol = move |s: String| choice.symbol.set(s);
    let (side, set_side) = signal(Side::Sell);
    let (quantity, set_quantity) = signal("100".to_string());
    // Priced on the scenario's date (its holdings' and prices' date) until the advisor types another.
    let (date, set_date) = signal(ws.form.with_untracked(|f| f.as_of.trim().to_string()));

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
        Some(ws.checked.with(|c| match c {
            Ok(s) => s.ticket_cost(&order).map_err(|e| e.to_string()),
            Err(e) => Err(format!(
                "The scenario has {} problem(s); the ticket is priced once they are fixed.",
                e.len()
            )),
        }))
    });

    view! {
        <section class="card ticket-preview" aria-labelledby="ticket-h">
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
                        on:change=move |ev| set_account(event_target_value(&ev))
                    >
                        {move || {
                            let current = account.get();
                            accounts
                                .get()
                                .into_iter()
                                .map(|(id, name)| {
                                    let sel = id == current;
                                    view! { <option value=id prop:selected=sel>{name}</option> }
                                })
                                .collect_view()
                        }}
                    </select>
                </label>
                <label>
                    "Security"
                    <select
                        data-testid="ticket-symbol"
                        on:change=move |ev| set_symbol(event_target_value(&ev))
                    >
                        {move || {
                            let current = symbol.get();
                            symbols
                                .get()
                                .into_iter()
                                .map(|s| {
                                    let sel = s == current;
                                    view! { <option value=s.clone() prop:selected=sel>{s.clone()}</option> }
                                })
                                .collect_view()
                        }}
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
    // No rate applied (a buy, or a schedule that does not pass the fees on): say so rather
    // than quote a rate of $0.
    const NOT_CHARGED: &str = "not charged: sales only, where the schedule passes it on";
    let sec_rate = cost
        .sec_rate_effective
        .map_or(NOT_CHARGED.to_string(), |d| {
            format!(
                "${} per $1M (from {d})",
                rate_text(cost.sec_rate_per_million, 2)
            )
        });
    let taf_rate = cost
        .taf_rate_effective
        .map_or(NOT_CHARGED.to_string(), |d| {
            format!(
                "${}/share, cap ${} (from {d})",
                rate_text(cost.taf_rate_per_share, 6),
                rate_text(cost.taf_cap, 2)
            )
        });
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
                <tr>
                    <th scope="row">"Market impact"</th>
                    <td class="num" data-testid="ticket-impact">{usd(cost.impact)}</td>
                    <td class="muted">{if cost.impact > 0.0 {
                        "coefficient × daily volatility × √(notional ÷ daily dollar volume) × notional"
                    } else {
                        "off for this schedule, or no daily dollar volume for the security"
                    }}</td>
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
///
/// Commas are read by the scenario form's rule ([`plain_number`]): `1,250` is 1250 shares,
/// while `12,5` is refused rather than guessed to be 125 or 12.5.
fn parse_quantity(text: &str) -> Result<f64, String> {
    let typed = text.trim();
    let Some(t) = plain_number(typed) else {
        return Err(format!(
            "“{typed}” is not a number of shares: a comma may only separate thousands \
             (1,250); write a fraction with a decimal point (12.5)."
        ));
    };
    match t.parse::<f64>() {
        Ok(q) if q.is_finite() && q > 0.0 => Ok(q),
        Ok(_) => Err("Shares must be a positive number.".into()),
        Err(_) => Err(format!("“{typed}” is not a number of shares.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity(" 1,200 "), Ok(1200.0));
        assert_eq!(parse_quantity("1,250"), Ok(1250.0));
        assert_eq!(parse_quantity("12.5"), Ok(12.5));
        assert!(parse_quantity("0").is_err());
        assert!(parse_quantity("abc").unwrap_err().contains("abc"));
    }

    #[test]
    fn a_comma_that_is_not_a_thousands_separator_is_refused_not_dropped() {
        // "12,5" was read as 125 shares and "1,2,3" as 123.
        for typed in ["12,5", "1,2,3", "1,25", "1.250,5"] {
            let err = parse_quantity(typed).unwrap_err();
            assert!(err.contains(typed), "{err}");
            assert!(err.contains("comma may only separate thousands"), "{err}");
        }
    }
}
