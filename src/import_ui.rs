//! The CSV import panel: paste or choose a file, pick the column mapping, preview, and
//! import all or nothing (the engine's [`import_lots`]).

use crate::browser;
use crate::fields::ws;
use crate::undo::Undoable;
use leptos::prelude::*;
use tollbooth_engine::date::Date;
use tollbooth_engine::scenario::form::{plain_number, LotForm};
use tollbooth_engine::scenario::import::{
    import_lots, parse_rows, read_table, resolve_mapping, ColumnMapping, Field, ImportError,
    ImportMode, ImportOptions, ImportPreset, ImportedLot, MappingChoice,
};
use tollbooth_engine::scenario::ScenarioForm;

/// How many data rows the preview shows.
const PREVIEW_ROWS: usize = 5;

/// What the preview shows for the text and mapping so far.
#[derive(Clone, PartialEq)]
enum Preview {
    Empty,
    Problems(Vec<ImportError>),
    Mapped {
        mapping: ColumnMapping,
        detected: Option<ImportPreset>,
        rows: usize,
        sample: Vec<Vec<(Field, String)>>,
        /// Rows whose cell count differs from the header's (the import refuses them): the
        /// first few row numbers, and how many.
        misshapen: (Vec<usize>, usize),
    },
}

fn preview(text: &str, choice: &MappingChoice) -> Preview {
    if text.trim().is_empty() {
        return Preview::Empty;
    }
    let table = match read_table(text) {
        Ok(t) => t,
        Err(e) => return Preview::Problems(e),
    };
    match resolve_mapping(&table, choice) {
        Err(e) => Preview::Problems(e),
        Ok(mapping) => {
            let cols: Vec<(Field, Option<usize>)> = Field::ALL
                .iter()
                .map(|&f| {
                    (
                        f,
                        mapping
                            .get(f)
                            .and_then(|h| table.headers.iter().position(|x| x == h)),
                    )
                })
                .collect();
            let width = table.headers.len();
            // Cells are found by position: a row of another width would show shifted
            // values, so its cells are left blank (the import names it).
            let sample = table
                .rows
                .iter()
                .take(PREVIEW_ROWS)
                .map(|(_, cells)| {
                    cols.iter()
                        .map(|&(f, c)| {
                            let cell = c
                                .filter(|_| cells.len() == width)
                                .and_then(|c| cells.get(c));
                            (f, cell.cloned().unwrap_or_default())
                        })
                        .collect()
                })
                .collect();
            let bad: Vec<usize> = table
                .rows
                .iter()
                .filter(|(_, cells)| cells.len() != width)
                .map(|(row, _)| *row)
                .collect();
            Preview::Mapped {
                detected: ColumnMapping::detect_preset(&table.headers),
                mapping,
                rows: table.rows.len(),
                sample,
                misshapen: (bad.iter().copied().take(5).collect(), bad.len()),
            }
        }
    }
}

/// A row of the file that repeats a lot already in its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateRow {
    /// The row (the header is row 1).
    pub row: usize,
    /// The account's id.
    pub account: String,
    /// The id of the lot it repeats.
    pub lot: String,
}

/// What makes two lots the same holding: symbol, shares, cost basis and acquisition date,
/// read as values (`$1,234.50` and `1234.5`, `03/15/2021` and `2021-03-15` are equal). A
/// number or date that does not read is compared as typed.
/// (Numbers by their bits, 0 and −0 alike, so that keys hash: an account's lots are keyed
/// once, not once per row of the file.)
#[derive(PartialEq, Eq, Hash)]
struct LotKey {
    symbol: String,
    quantity: Result<u64, String>,
    basis: Result<u64, String>,
    acquired: Result<Date, String>,
}

impl LotKey {
    fn of(l: &LotForm) -> LotKey {
        let number = |t: &str| {
            plain_number(t.trim())
                .and_then(|p| p.parse::<f64>().ok())
                .map(|x| (x + 0.0).to_bits())
                .ok_or_else(|| t.trim().to_string())
        };
        let acquired = l.acquired.trim();
        let date = acquired.parse::<Date>().or_else(|_| {
            // MM/DD/YYYY, as custodians print it (the import reads it so).
            match acquired.split('/').collect::<Vec<_>>()[..] {
                [m, d, y] => format!("{y}-{m:0>2}-{d:0>2}").parse::<Date>(),
                _ => acquired.parse::<Date>(),
            }
            .map_err(|_| acquired.to_string())
        });
        LotKey {
            symbol: l.symbol.trim().to_ascii_uppercase(),
            quantity: number(&l.quantity),
            basis: number(&l.basis),
            acquired: date,
        }
    }
}

/// The file's rows that repeat a lot already in their account (same symbol, shares, cost
/// basis and acquisition date): adding them would count the holding twice. In file
/// order; each row is matched to the first such lot.
pub fn duplicate_rows(form: &ScenarioForm, lots: &[ImportedLot]) -> Vec<DuplicateRow> {
    // The lots of the accounts the file names, keyed once: the first lot of each key.
    let mut existing: std::collections::HashMap<(usize, LotKey), &str> =
        std::collections::HashMap::new();
    let mut keyed = std::collections::HashSet::new();
    for new in lots {
        if keyed.insert(new.account) {
            if let Some(account) = form.household.accounts.get(new.account) {
                for l in &account.lots {
                    existing
                        .entry((new.account, LotKey::of(l)))
                        .or_insert(l.id.as_str());
                }
            }
        }
    }
    lots.iter()
        .filter_map(|new| {
            let account = form.household.accounts.get(new.account)?;
            let old = existing.get(&(new.account, LotKey::of(&new.lot)))?;
            Some(DuplicateRow {
                row: new.row,
                account: account.id.clone(),
                lot: (*old).to_string(),
            })
        })
        .collect()
}

/// The rows of `text` that would duplicate existing lots if added (none in replace mode,
/// or when the file does not read: the import then says why).
fn duplicates(form: &ScenarioForm, text: &str, options: &ImportOptions) -> Vec<DuplicateRow> {
    if options.mode != ImportMode::Add || text.trim().is_empty() {
        return Vec::new();
    }
    let Ok(table) = read_table(text) else {
        return Vec::new();
    };
    let Ok(mapping) = resolve_mapping(&table, &options.mapping) else {
        return Vec::new();
    };
    match parse_rows(form, &table, &mapping, options) {
        Ok(lots) => duplicate_rows(form, &lots),
        Err(_) => Vec::new(),
    }
}

/// The preview's warning about duplicate rows, naming the first few.
pub fn duplicates_message(dups: &[DuplicateRow]) -> Option<String> {
    const NAMED: usize = 5;
    if dups.is_empty() {
        return None;
    }
    let named: Vec<String> = dups
        .iter()
        .take(NAMED)
        .map(|d| format!("row {} = lot {} in {}", d.row, d.lot, d.account))
        .collect();
    Some(format!(
        "{} row(s) repeat lots already in their account (same symbol, shares, cost basis and \
         acquisition date): {}{}. Adding them would count these holdings twice; to refresh \
         the accounts from the file, choose to replace their lots instead.",
        dups.len(),
        named.join(", "),
        if dups.len() > NAMED { ", …" } else { "" }
    ))
}

/// The outcome of the last import attempt.
#[derive(Clone, PartialEq)]
enum Outcome {
    None,
    Done(String),
    Failed(Vec<ImportError>),
}

/// What the panel holds while the advisor works elsewhere: the pasted text, the choices
/// and the last outcome stay as they were when they come back. The text and the choices
/// are also kept in the tab's session storage ([`DRAFT_KEY`]), so a reload does not lose
/// them either; closing the tab does. Created once by the app and provided as context.
#[derive(Clone, Copy)]
pub struct ImportDraft {
    text: RwSignal<String>,
    preset: RwSignal<String>,
    mode: RwSignal<ImportMode>,
    account: RwSignal<String>,
    outcome: RwSignal<Outcome>,
    custom: RwSignal<ColumnMapping>,
}

/// The session-storage key of the import's text and choices.
pub const DRAFT_KEY: &str = "tollbooth.import.v1";

/// The stored form of a draft.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    text: String,
    preset: String,
    mode: ImportMode,
    account: String,
    custom: ColumnMapping,
}

impl ImportDraft {
    /// The draft this tab kept (an empty one when none, or when it cannot be read), saved
    /// again on every change.
    pub fn kept_in_tab() -> ImportDraft {
        let d = ImportDraft::new();
        if let Some(s) = browser::session_get::<Stored>(DRAFT_KEY) {
            d.text.set(s.text);
            d.preset.set(s.preset);
            d.mode.set(s.mode);
            d.account.set(s.account);
            d.custom.set(s.custom);
        }
        Effect::new(move |_| {
            let stored = Stored {
                text: d.text.get(),
                preset: d.preset.get(),
                mode: d.mode.get(),
                account: d.account.get(),
                custom: d.custom.get(),
            };
            // A refusal (a file too large for the tab's storage) loses the draft on a
            // reload only; the panel keeps it meanwhile.
            browser::session_put(DRAFT_KEY, &stored);
        });
        d
    }

    /// An empty draft: no text, the layout detected, existing lots replaced.
    pub fn new() -> ImportDraft {
        ImportDraft {
            text: RwSignal::new(String::new()),
            preset: RwSignal::new(String::from("auto")),
            mode: RwSignal::new(ImportMode::Replace),
            account: RwSignal::new(String::new()),
            outcome: RwSignal::new(Outcome::None),
            custom: RwSignal::new(ColumnMapping::default()),
        }
    }
}

impl ImportDraft {
    /// Keeps the account chosen for rows without one through a rename of its id,
    /// whichever section is open ([`crate::ops::follow_renames`]).
    pub fn follow_account_renames(self, ws: crate::fields::Workspace) {
        let account = self.account;
        crate::ops::follow_renames(
            move || {
                ws.form
                    .with(|f| f.household.accounts.iter().map(|a| a.id.clone()).collect())
            },
            move || account.get_untracked(),
            move |id| account.set(id),
        );
    }

    /// Forgets the last import's outcome (an undo may have taken the import back).
    pub fn forget_outcome(&self) {
        self.outcome.set(Outcome::None);
    }
}

impl Default for ImportDraft {
    fn default() -> Self {
        ImportDraft::new()
    }
}

/// The panel.
#[component]
pub fn ImportPanel() -> impl IntoView {
    let ws = ws();
    let ImportDraft {
        text,
        preset,
        mode,
        account,
        outcome,
        custom,
    } = use_context::<ImportDraft>().unwrap_or_default();
    let headers =
        Memo::new(move |_| text.with(|t| read_table(t).map(|t| t.headers).unwrap_or_default()));
    let choice = Memo::new(move |_| match preset.get().as_str() {
        "custom" => MappingChoice::Custom(custom.get()),
        key => ImportPreset::from_key(key).map_or(MappingChoice::Auto, MappingChoice::Preset),
    });
    let choose_layout = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        if v == "custom" {
            // Start from what the header names suggest, column by column.
            custom.set(headers.with_untracked(|hs| ColumnMapping::detect_partial(hs)));
        }
        preset.set(v);
    };
    let shown = Memo::new(move |_| text.with(|t| preview(t, &choice.get())));
    // The account chosen for rows without one, if the scenario still has it (the draft
    // outlives the section and reloads, the account may not): else none, as the select
    // then shows.
    let chosen_account = move || {
        Some(account.get_untracked()).filter(|a| {
            !a.is_empty()
                && ws
                    .form
                    .with_untracked(|f| f.household.accounts.iter().any(|x| &x.id == a))
        })
    };
    if chosen_account().is_none() {
        account.set(String::new());
    }
    // Rows that would add a second copy of a lot already there (add mode only).
    let duplicated = Memo::new(move |_| {
        if mode.get() != ImportMode::Add || !matches!(shown.get(), Preview::Mapped { .. }) {
            return None;
        }
        account.track();
        let options = ImportOptions {
            mapping: choice.get(),
            mode: ImportMode::Add,
            default_account: chosen_account(),
        };
        text.with(|t| {
            ws.form
                .with(|f| duplicates_message(&duplicates(f, t, &options)))
        })
    });

    let run = move |_| {
        let options = ImportOptions {
            mapping: choice.get_untracked(),
            mode: mode.get_untracked(),
            default_account: chosen_account(),
        };
        let result =
            text.with_untracked(|t| ws.form.with_untracked(|f| import_lots(f, t, &options)));
        match result {
            Ok(done) => {
                let summary = format!(
                    "Imported {} lot(s): {}{}.",
                    done.imported,
                    done.per_account
                        .iter()
                        .map(|(a, n)| format!("{n} into {a}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    if done.replaced > 0 {
                        format!(", replacing {} earlier lot(s)", done.replaced)
                    } else {
                        String::new()
                    }
                );
                // An import replaces or adds lots at once: it can be undone. Lots it
                // replaces are also kept under “Earlier work”, which outlives the tab.
                let before = ws.form.get_untracked();
                if done.replaced > 0 {
                    let _ = crate::keep_earlier(
                        crate::persist::encode_saved(&before),
                        &format!(
                            "replaced by a CSV import that replaced {} lot(s)",
                            done.replaced
                        ),
                    );
                    if let Some(crate::EarlierWork(changed)) = use_context::<crate::EarlierWork>() {
                        changed.update(|v| *v += 1);
                    }
                }
                ws.undo.update(|u| {
                    u.push(Undoable {
                        what: summary.trim_end_matches('.').to_string(),
                        before,
                        after: done.form.clone(),
                    })
                });
                ws.form.set(done.form);
                outcome.set(Outcome::Done(summary));
            }
            Err(errors) => outcome.set(Outcome::Failed(errors)),
        }
    };

    let on_file = move |ev: leptos::ev::Event| {
        if let Some(file) = browser::chosen_file(&ev) {
            leptos::task::spawn_local(async move {
                match browser::read_text(file).await {
                    Ok(t) => {
                        text.set(t);
                        outcome.set(Outcome::None);
                    }
                    Err(e) => outcome.set(Outcome::Failed(vec![ImportError {
                        row: 1,
                        column: None,
                        message: format!("the file could not be read: {e}"),
                    }])),
                }
            });
        }
    };

    view! {
        <section class="card editor" aria-labelledby="import-h">
            <h2 id="import-h">"Import lots from CSV"</h2>
            <p class="muted">
                "One row per tax lot: symbol, shares, total cost basis, acquisition date (YYYY-MM-DD or MM/DD/YYYY) and account (its id or name). "
                "Dollar signs and thousands separators are fine. The import is all or nothing: if any row has a problem, nothing changes."
            </p>
            <div class="form-row">
                <label class="field">
                    <span class="label-text">"Column layout"</span>
                    <select data-testid="import-preset" on:change=choose_layout>
                        <option value="auto" prop:selected=preset.get_untracked() == "auto">"Detect from the header"</option>
                        {ImportPreset::ALL.iter().map(|p| view! { <option value=p.key() prop:selected=preset.get_untracked() == p.key()>{p.name()}</option> }).collect_view()}
                        <option value="custom" prop:selected=preset.get_untracked() == "custom">"Choose the columns myself"</option>
                    </select>
                </label>
                <label class="field">
                    <span class="label-text">"Existing lots"</span>
                    <select data-testid="import-mode" on:change=move |ev| mode.set(if event_target_value(&ev) == "add" { ImportMode::Add } else { ImportMode::Replace })>
                        <option value="replace" prop:selected=mode.get_untracked() == ImportMode::Replace>"Replace the lots of each account in the file"</option>
                        <option value="add" prop:selected=mode.get_untracked() == ImportMode::Add>"Keep them and add the file's lots"</option>
                    </select>
                </label>
                <label class="field">
                    <span class="label-text">"Account for rows without one"</span>
                    <select data-testid="import-account" on:change=move |ev| account.set(event_target_value(&ev))>
                        <option value="">"— none —"</option>
                        {move || ws.form.with(|f| f.household.accounts.iter().map(|a| {
                            let id = a.id.clone();
                            let sel = account.get_untracked() == id;
                            view! { <option value=id.clone() prop:selected=sel>{format!("{} ({})", a.name, id)}</option> }
                        }).collect_view())}
                    </select>
                </label>
                <label class="field">
                    <span class="label-text">"Or choose a file"</span>
                    <input type="file" accept=".csv,text/csv" data-testid="import-file" on:change=on_file />
                </label>
            </div>
            <label class="field wide">
                <span class="label-text">"CSV text"</span>
                <textarea
                    rows="8"
                    spellcheck="false"
                    data-testid="import-text"
                    prop:value=move || text.get()
                    on:input=move |ev| { text.set(event_target_value(&ev)); outcome.set(Outcome::None); }
                ></textarea>
            </label>
            <Show when=move || preset.get() == "custom">
                <div class="form-row" data-testid="custom-mapping">
                    {Field::ALL.iter().map(|&f| view! {
                        <label class="field">
                            <span class="label-text">{format!("{}{}", f.label(), if f.required() { "" } else { " (optional)" })}</span>
                            <select
                                data-testid=format!("map-{}", field_key(f))
                                on:change=move |ev| {
                                    let v = event_target_value(&ev);
                                    custom.update(|m| m.set(f, Some(v).filter(|v| !v.is_empty())));
                                }
                            >
                                {move || {
                                    let current = custom.with(|m| m.get(f).map(str::to_string)).unwrap_or_default();
                                    std::iter::once(String::new())
                                        .chain(headers.get())
                                        .map(|h| {
                                            let sel = h == current;
                                            let label = if h.is_empty() { "(none)".to_string() } else { h.clone() };
                                            view! { <option value=h prop:selected=sel>{label}</option> }
                                        })
                                        .collect_view()
                                }}
                            </select>
                        </label>
                    }).collect_view()}
                </div>
            </Show>
            {move || match shown.get() {
                Preview::Empty => view! { <p class="muted">"Paste the CSV text above or choose a file."</p> }.into_any(),
                Preview::Problems(errors) => view! {
                    <div data-testid="import-preview-problems">{error_list(errors)}</div>
                }.into_any(),
                Preview::Mapped { mapping, detected, rows, sample, misshapen: (first_bad, n_bad) } => view! {
                    <div data-testid="import-preview">
                        <p>
                            {format!("{rows} row(s) to import. ")}
                            {detected.map(|p| format!("The header matches the {} layout.", p.name()))}
                        </p>
                        {(n_bad > 0).then(|| view! {
                            <p class="field-error" data-testid="import-preview-misshapen">
                                {format!(
                                    "{n_bad} row(s) have a different number of cells than the header ({}{}): an unquoted comma in a number? They are left blank below, and the import refuses them.",
                                    first_bad.iter().map(|r| format!("row {r}")).collect::<Vec<_>>().join(", "),
                                    if n_bad > first_bad.len() { ", …" } else { "" }
                                )}
                            </p>
                        })}
                        {move || duplicated.get().map(|m| view! {
                            <p class="field-error" role="alert" data-testid="import-preview-duplicates">{m}</p>
                        })}
                        <table class="grid">
                            <caption class="caption-left">"Column mapping and the first rows"</caption>
                            <thead>
                                <tr>{Field::ALL.iter().map(|f| view! { <th scope="col">{f.label()}</th> }).collect_view()}</tr>
                                <tr class="muted">{Field::ALL.iter().map(|&f| view! {
                                    <td data-testid=format!("mapping-{}", f.label().to_lowercase().replace(' ', "-"))>
                                        {mapping.get(f).map(|h| format!("← {h}")).unwrap_or_else(|| "(none)".into())}
                                    </td>
                                }).collect_view()}</tr>
                            </thead>
                            <tbody>
                                {sample.into_iter().map(|r| view! {
                                    <tr>{r.into_iter().map(|(_, v)| view! { <td>{v}</td> }).collect_view()}</tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any(),
            }}
            <div class="form-row">
                <button type="button" data-testid="import-run"
                    prop:disabled=move || !matches!(shown.get(), Preview::Mapped { .. })
                    on:click=run>"Import lots"</button>
            </div>
            {move || match outcome.get() {
                Outcome::None => ().into_any(),
                Outcome::Done(s) => view! { <p class="ok" role="status" data-testid="import-done">{s}</p> }.into_any(),
                Outcome::Failed(errors) => view! {
                    <div role="alert" data-testid="import-errors">
                        <p class="field-error">{format!("Nothing was imported: {} problem(s). Fix the file and try again.", errors.len())}</p>
                        {error_list(errors)}
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

/// A test id word for a field: `cost_basis`, `lot_id`, …
fn field_key(f: Field) -> String {
    crate::fields::key_of(&Some(f))
}

fn error_list(errors: Vec<ImportError>) -> impl IntoView {
    view! {
        <table class="grid errors">
            <thead><tr><th scope="col">"Row"</th><th scope="col">"Column"</th><th scope="col">"Problem"</th></tr></thead>
            <tbody>
                {errors.into_iter().map(|e| view! {
                    <tr data-testid="import-error" data-row=e.row.to_string()>
                        <td class="num">{e.row}</td>
                        <td>{e.column.unwrap_or_default()}</td>
                        <td>{e.message}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollbooth_engine::scenario::Scenario;

    /// A generic CSV of `rows` (symbol, quantity, basis, acquired, account).
    fn csv(rows: &[[String; 5]]) -> String {
        let mut out = String::from("symbol,quantity,cost_basis,acquired,account\n");
        for r in rows {
            out.push_str(&r.join(","));
            out.push('\n');
        }
        out
    }

    #[test]
    fn rows_repeating_a_lot_already_in_the_account_are_found_whatever_their_notation() {
        let form = Scenario::demo().to_form();
        let acc = &form.household.accounts[0];
        let lot = &acc.lots[1];
        let basis: f64 = plain_number(&lot.basis).unwrap().parse().unwrap();
        let date: Date = lot.acquired.parse().unwrap();
        let (y, m, d) = date.ymd();
        let us_date = format!("{m:02}/{d:02}/{y}");
        let rows = [
            // The same lot, written as a custodian prints it.
            [
                lot.symbol.to_lowercase(),
                lot.quantity.clone(),
                format!("\"${basis:.2}\""),
                us_date,
                acc.id.clone(),
            ],
            // One share more: another lot.
            [
                lot.symbol.clone(),
                format!("{}1", lot.quantity),
                lot.basis.clone(),
                lot.acquired.clone(),
                acc.id.clone(),
            ],
            // The same lot in another account: not a duplicate there.
            [
                lot.symbol.clone(),
                lot.quantity.clone(),
                lot.basis.clone(),
                lot.acquired.clone(),
                form.household.accounts[1].id.clone(),
            ],
        ];
        let text = csv(&rows);
        let options = ImportOptions::auto(ImportMode::Add);
        let dups = duplicates(&form, &text, &options);
        assert_eq!(
            dups,
            vec![DuplicateRow {
                row: 2,
                account: acc.id.clone(),
                lot: lot.id.clone(),
            }]
        );
        let message = duplicates_message(&dups).unwrap();
        assert!(
            message.starts_with(&format!("1 row(s) repeat lots already in their account (same symbol, shares, cost basis and acquisition date): row 2 = lot {} in {}.", lot.id, acc.id)),
            "{message}"
        );
        // Replacing the account's lots duplicates nothing.
        assert!(duplicates(&form, &text, &ImportOptions::auto(ImportMode::Replace)).is_empty());
        assert_eq!(duplicates_message(&[]), None);
    }

    #[test]
    fn importing_the_same_file_twice_in_add_mode_is_all_duplicates() {
        let form = Scenario::demo().to_form();
        let acc = &form.household.accounts[1];
        let rows: Vec<[String; 5]> = ["VTI", "BND", "VEA"]
            .iter()
            .enumerate()
            .map(|(i, s)| {
                [
                    s.to_string(),
                    format!("{}", 10 * (i + 1)),
                    "1000.50".into(),
                    "2020-01-02".into(),
                    acc.id.clone(),
                ]
            })
            .collect();
        let text = csv(&rows);
        let options = ImportOptions::auto(ImportMode::Add);
        assert!(duplicates(&form, &text, &options).is_empty());
        let once = import_lots(&form, &text, &options).unwrap().form;
        let dups = duplicates(&once, &text, &options);
        assert_eq!(
            dups.iter().map(|d| d.row).collect::<Vec<_>>(),
            vec![2, 3, 4]
        );
        assert!(dups
            .iter()
            .all(|d| d.account == acc.id && d.lot.starts_with("csv-")));
    }
}
