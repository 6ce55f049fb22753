//! Undoing destructive edits: a removal (an account with its lots, a lot, a security, a
//! policy, a cash flow, …) or a CSV import keeps the form as it was before, so that the
//! advisor can take the edit back. Plain functions on [`ScenarioForm`], tested natively;
//! the page keeps one [`UndoStack`] and shows its latest entry with an *Undo* button.

use crate::fields::Workspace;
use crate::ops;
use leptos::prelude::*;
use tollbooth_engine::scenario::ScenarioForm;
use wasm_bindgen::JsCast;

/// How many destructive edits can be undone (the oldest is given up first).
pub const UNDO_LIMIT: usize = 10;

/// One destructive edit that can be undone.
#[derive(Debug, Clone, PartialEq)]
pub struct Undoable {
    /// What the edit did, in the advisor's words: "Removed account “Alex traditional IRA”
    /// (5 lots)".
    pub what: String,
    /// The form exactly as it was before the edit (half-typed text included).
    pub before: ScenarioForm,
    /// The form the edit left.
    pub after: ScenarioForm,
}

/// The destructive edits that can be undone, newest last.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UndoStack {
    entries: Vec<Undoable>,
    /// Whether the advisor dismissed the notice of the latest edit (the edit can still be
    /// undone with Ctrl+Z); the next destructive edit shows it again.
    pub dismissed: bool,
    /// What the last undo took back, said until the next destructive edit or a dismissal.
    pub undone: Option<String>,
}

impl UndoStack {
    /// Applies `edit` to a copy of `form` and, when it changed anything, keeps `form` to
    /// undo it, described by `what`: the new form, or `None` when the edit changed
    /// nothing (a button on a row that is already gone).
    pub fn apply(
        &mut self,
        form: &ScenarioForm,
        what: String,
        edit: impl FnOnce(&mut ScenarioForm),
    ) -> Option<ScenarioForm> {
        let mut after = form.clone();
        edit(&mut after);
        if after == *form {
            return None;
        }
        self.push(Undoable {
            what,
            before: form.clone(),
            after: after.clone(),
        });
        Some(after)
    }

    /// Keeps an edit already made (the CSV import's), `before` → `after`.
    pub fn push(&mut self, entry: Undoable) {
        self.entries.push(entry);
        if self.entries.len() > UNDO_LIMIT {
            self.entries.remove(0);
        }
        self.dismissed = false;
        self.undone = None;
    }

    /// Hides the notice (the edits can still be undone with Ctrl+Z).
    pub fn dismiss(&mut self) {
        self.dismissed = true;
        self.undone = None;
    }

    /// The latest edit that can be undone.
    pub fn latest(&self) -> Option<&Undoable> {
        self.entries.last()
    }

    /// Takes the latest edit off the stack: the caller opens its `before`.
    pub fn undo(&mut self) -> Option<Undoable> {
        self.entries.pop()
    }

    /// How many edits can be undone.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing can be undone.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every edit (another scenario was opened: its edits are not these).
    pub fn clear(&mut self) {
        *self = UndoStack::default();
    }
}

/// A row that a *Remove* (or *Delete*) button takes out of the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    /// A household member.
    Member(usize),
    /// An account, with its lots, minimum-cash rows and cash flows.
    Account(usize),
    /// Lot `.1` of account `.0`.
    Lot(usize, usize),
    /// A security, with its idiosyncratic-volatility row.
    Security(usize),
    /// A class of the target model.
    TargetClass(usize),
    /// A minimum-cash row.
    MinCash(usize),
    /// A fee schedule.
    FeeSchedule(usize),
    /// An idiosyncratic-volatility row.
    SecurityVol(usize),
    /// A cash flow.
    CashFlow(usize),
    /// A policy.
    Policy(usize),
}

/// `n` with its noun, singular or plural: `plural(5, "lot", "lots")` → "5 lots".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What is typed, or `fallback` when nothing is.
fn or<'a>(text: &'a str, fallback: &'a str) -> &'a str {
    if text.trim().is_empty() {
        fallback
    } else {
        text.trim()
    }
}

/// Removes a row (nothing when it is not there).
pub fn remove(f: &mut ScenarioForm, r: Removal) {
    fn drop<T>(v: &mut Vec<T>, i: usize) {
        if i < v.len() {
            v.remove(i);
        }
    }
    match r {
        Removal::Member(i) => drop(&mut f.household.members, i),
        Removal::Account(a) => ops::remove_account(f, a),
        Removal::Lot(a, k) => ops::remove_lot(f, a, k),
        Removal::Security(i) => ops::remove_security(f, i),
        Removal::TargetClass(i) => drop(&mut f.target.classes, i),
        Removal::MinCash(i) => drop(&mut f.target.min_cash, i),
        Removal::FeeSchedule(i) => drop(&mut f.fee_schedules, i),
        Removal::SecurityVol(i) => drop(&mut f.market.idiosyncratic_vol, i),
        Removal::CashFlow(i) => drop(&mut f.cash_flows, i),
        Removal::Policy(i) => ops::remove_policy(f, i),
    }
}

/// What removing a row does, in the advisor's words, for the undo notice: "Removed
/// account “Alex traditional IRA” (5 lots)". Read before the removal.
pub fn describe(f: &ScenarioForm, r: Removal) -> String {
    let account_name = |id: &str| {
        f.household
            .accounts
            .iter()
            .find(|a| a.id == id && !a.name.trim().is_empty())
            .map_or_else(|| id.trim().to_string(), |a| a.name.trim().to_string())
    };
    let row = |what: &str, i: usize| format!("Removed {what} {}", i + 1);
    match r {
        Removal::Member(i) => f.household.members.get(i).map_or_else(
            || row("member", i),
            |m| format!("Removed member “{}”", or(&m.name, &m.id)),
        ),
        Removal::Account(a) => f.household.accounts.get(a).map_or_else(
            || row("account", a),
            |acc| {
                let mut parts = vec![plural(acc.lots.len(), "lot", "lots")];
                let flows = f.cash_flows.iter().filter(|c| c.account == acc.id).count();
                if flows > 0 {
                    parts.push(plural(flows, "cash flow", "cash flows"));
                }
                if f.target.min_cash.iter().any(|m| m.account == acc.id) {
                    parts.push("its minimum cash".into());
                }
                format!(
                    "Removed account “{}” ({})",
                    or(&acc.name, &acc.id),
                    parts.join(", ")
                )
            },
        ),
        Removal::Lot(a, k) => f
            .household
            .accounts
            .get(a)
            .and_then(|acc| acc.lots.get(k).map(|l| (acc, l)))
            .map_or_else(
                || row("lot", k),
                |(acc, l)| {
                    format!(
                        "Deleted lot {} ({} {}) of “{}”",
                        or(&l.id, "?"),
                        or(&l.quantity, "?"),
                        or(&l.symbol, "?"),
                        or(&acc.name, &acc.id)
                    )
                },
            ),
        Removal::Security(i) => f.securities.get(i).map_or_else(
            || row("security", i),
            |s| format!("Removed security {}", or(&s.symbol, &s.name)),
        ),
        Removal::TargetClass(i) => f.target.classes.get(i).map_or_else(
            || row("target class", i),
            |c| format!("Removed target class “{}”", or(&c.asset_class, "?")),
        ),
        Removal::MinCash(i) => f.target.min_cash.get(i).map_or_else(
            || row("minimum cash row", i),
            |m| format!("Removed the minimum cash of “{}”", account_name(&m.account)),
        ),
        Removal::FeeSchedule(i) => f.fee_schedules.get(i).map_or_else(
            || row("fee schedule", i),
            |s| format!("Removed fee schedule “{}”", or(&s.name, &s.id)),
        ),
        Removal::SecurityVol(i) => f.market.idiosyncratic_vol.get(i).map_or_else(
            || row("volatility row", i),
            |v| {
                format!(
                    "Removed the idiosyncratic volatility of {}",
                    or(&v.symbol, "?")
                )
            },
        ),
        Removal::CashFlow(i) => f.cash_flows.get(i).map_or_else(
            || row("cash flow", i),
            |c| {
                let account = account_name(&c.account);
                // The amount as the form reads it: a withdrawal comes from the account.
                let what = match tollbooth_engine::scenario::import::parse_amount(&c.amount) {
                    Ok(x) if x < 0.0 => format!("{} from “{account}”", crate::format::usd(-x)),
                    Ok(x) => format!("{} into “{account}”", crate::format::usd(x)),
                    Err(_) => format!("{} for “{account}”", or(&c.amount, "?")),
                };
                format!("Removed cash flow {} ({what})", i + 1)
            },
        ),
        Removal::Policy(i) => f.policies.get(i).map_or_else(
            || row("policy", i),
            |p| format!("Removed policy “{}”", or(&p.name, "?")),
        ),
    }
}

/// Removes a row as a destructive edit the advisor can undo (see [`UndoStack::apply`]).
pub fn remove_undoably(ws: Workspace, r: Removal) {
    let form = ws.form.get_untracked();
    let what = describe(&form, r);
    let after = ws
        .undo
        .try_update(|u| u.apply(&form, what, |f| remove(f, r)))
        .flatten();
    if let Some(after) = after {
        ws.form.set(after);
    }
}

/// Undoes the latest destructive edit: its `before` form is opened (and autosaved like
/// any edit). Work typed since the edit is kept under “Earlier work” first; when it
/// cannot be kept (the browser's storage is full) nothing is undone and the page says so.
pub fn undo_latest(ws: Workspace) {
    let Some(entry) = ws.undo.try_update(UndoStack::undo).flatten() else {
        return;
    };
    let current = ws.form.get_untracked();
    if current != entry.after {
        let (_, kept) = crate::keep_earlier(
            crate::persist::encode_saved(&current),
            &format!("replaced by undoing “{}”", entry.what),
        );
        if let Some(crate::EarlierWork(changed)) = use_context::<crate::EarlierWork>() {
            changed.update(|v| *v += 1);
        }
        if !kept {
            ws.notice.set(Some(crate::persist::Notice::problem(
                "Nothing was undone: the changes made since could not be kept under “Earlier \
                 work” (the browser's storage is full). Save the work as a file first.",
            )));
            ws.undo.update(|u| u.push(entry));
            return;
        }
    }
    if let Some(draft) = use_context::<crate::import_ui::ImportDraft>() {
        draft.forget_outcome();
    }
    // The changes made since were kept under Earlier work (above): the notice says so.
    let undone = if current != entry.after {
        format!(
            "{} (the changes made after it are kept under Files › Earlier work)",
            entry.what
        )
    } else {
        entry.what.clone()
    };
    ws.undo.update(|u| u.undone = Some(undone));
    ws.form.set(entry.before);
}

/// The notice of the latest destructive edit, with its *Undo* button, near the top of
/// the editors.
#[component]
pub fn UndoNotice() -> impl IntoView {
    let ws = crate::fields::ws();
    move || {
        // Presentation mode shows no editor, and the notice names the client's accounts.
        if ws.presenting.get() {
            return None;
        }
        ws.undo.with(|u| {
            if let (Some(e), false) = (u.latest(), u.dismissed) {
                let more = u.len() - 1;
                let what = e.what.clone();
                Some(view! {
                    <div class="notice" role="status" data-testid="undo-notice">
                        <span data-testid="undo-what">{format!("{what}.")}</span>
                        {(more > 0).then(|| view! { <span class="muted">{format!(" ({more} earlier edit(s) can be undone too.)")}</span> })}
                        " "
                        <button type="button" class="small" data-testid="undo" title="Undo (Ctrl+Z)"
                            on:click=move |_| undo_latest(ws)>"Undo"</button>
                        " "
                        <button type="button" class="small" data-testid="undo-dismiss"
                            on:click=move |_| {
                                ws.undo.update(|u| u.dismiss());
                                // The notice and its button are gone: the section's heading takes the focus.
                                set_timeout(|| crate::browser::focus_selector("main#main h2"), std::time::Duration::ZERO);
                            }>"Dismiss"</button>
                    </div>
                }.into_any())
            } else {
                u.undone.clone().map(|what| view! {
                    <div class="notice" role="status" data-testid="undo-notice">
                        <span data-testid="undo-done">{format!("Undone: {what}.")}</span>
                        " "
                        <button type="button" class="small" data-testid="undo-dismiss"
                            on:click=move |_| {
                                ws.undo.update(|u| u.dismiss());
                                // The notice and its button are gone: the section's heading takes the focus.
                                set_timeout(|| crate::browser::focus_selector("main#main h2"), std::time::Duration::ZERO);
                            }>"Dismiss"</button>
                    </div>
                }.into_any())
            }
        })
    }
}

/// Ctrl+Z (Cmd+Z on a Mac) outside a text field undoes the latest destructive edit; in a
/// field it stays the browser's own undo of the typing.
pub fn listen_for_undo_key(ws: Workspace) {
    // A window listener runs outside the component tree: the undo runs in the owner of the
    // page, so that it finds the contexts (the Files list, the import panel) it updates.
    let owner = Owner::current();
    let _ = window_event_listener(leptos::ev::keydown, move |e| {
        let z = e.key().eq_ignore_ascii_case("z");
        if !z || !(e.ctrl_key() || e.meta_key()) || e.shift_key() || e.alt_key() {
            return;
        }
        if ws.presenting.get_untracked() || ws.undo.with_untracked(UndoStack::is_empty) {
            return;
        }
        let in_field = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|el| {
                matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                    || el.is_content_editable()
            });
        if in_field {
            return;
        }
        e.prevent_default();
        match &owner {
            Some(o) => o.with(|| undo_latest(ws)),
            None => undo_latest(ws),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollbooth_engine::scenario::Scenario;

    fn demo() -> ScenarioForm {
        Scenario::demo().to_form()
    }

    #[test]
    fn removing_an_account_is_undone_exactly_half_typed_text_included() {
        let mut form = demo();
        // Half-typed, invalid text elsewhere in the form survives the undo as typed.
        form.household.accounts[0].cash = "12,5".into();
        let a = form
            .household
            .accounts
            .iter()
            .position(|a| a.name == "Alex traditional IRA")
            .unwrap();
        let lots = form.household.accounts[a].lots.len();
        let mut stack = UndoStack::default();
        let what = describe(&form, Removal::Account(a));
        assert!(
            what.starts_with(&format!(
                "Removed account “Alex traditional IRA” ({lots} lots"
            )),
            "{what}"
        );
        let after = stack
            .apply(&form, what.clone(), |f| remove(f, Removal::Account(a)))
            .unwrap();
        assert_eq!(
            after.household.accounts.len(),
            form.household.accounts.len() - 1
        );
        assert_eq!(stack.latest().map(|u| u.what.as_str()), Some(what.as_str()));
        let undone = stack.undo().unwrap();
        assert_eq!(undone.before, form);
        assert_eq!(undone.after, after);
        assert!(stack.is_empty());
    }

    #[test]
    fn an_edit_that_changes_nothing_is_not_kept() {
        let form = demo();
        let mut stack = UndoStack::default();
        assert_eq!(
            stack.apply(&form, "x".into(), |f| remove(f, Removal::Lot(99, 0))),
            None
        );
        assert!(stack.is_empty());
    }

    #[test]
    fn the_stack_keeps_the_last_ten_newest_first_and_a_new_edit_shows_again() {
        let mut form = demo();
        let mut stack = UndoStack::default();
        let mut forms = vec![form.clone()];
        for n in 0..12 {
            form = stack
                .apply(&form, format!("edit {n}"), |f| f.name = format!("v{n}"))
                .unwrap();
            forms.push(form.clone());
            stack.dismissed = true;
        }
        assert_eq!(stack.len(), UNDO_LIMIT);
        stack.push(Undoable {
            what: "import".into(),
            before: form.clone(),
            after: demo(),
        });
        assert!(!stack.dismissed);
        assert_eq!(stack.undo().map(|u| u.what), Some("import".into()));
        // Undone in turn, newest first, each to the form before it.
        for n in (3..12).rev() {
            let u = stack.undo().unwrap();
            assert_eq!(u.what, format!("edit {n}"));
            assert_eq!(u.before, forms[n]);
        }
        assert_eq!(stack.len(), 0);
        stack.clear();
        assert!(stack.latest().is_none());
    }

    #[test]
    fn every_removal_is_described_and_removes_its_row() {
        let f = demo();
        let all = [
            Removal::Member(0),
            Removal::Account(0),
            Removal::Lot(0, 0),
            Removal::Security(0),
            Removal::TargetClass(0),
            Removal::MinCash(0),
            Removal::FeeSchedule(0),
            Removal::SecurityVol(0),
            Removal::CashFlow(0),
            Removal::Policy(0),
        ];
        for r in all {
            let what = describe(&f, r);
            assert!(
                what.starts_with("Removed") || what.starts_with("Deleted"),
                "{what}"
            );
            assert!(!what.contains("“”"), "{what}");
            let mut g = f.clone();
            remove(&mut g, r);
            assert_ne!(g, f, "{r:?} removed nothing");
        }
        let lot = &f.household.accounts[0].lots[0];
        assert_eq!(
            describe(&f, Removal::Lot(0, 0)),
            format!(
                "Deleted lot {} ({} {}) of “{}”",
                lot.id, lot.quantity, lot.symbol, f.household.accounts[0].name
            )
        );
        // A row already gone is named by its position, and removing it changes nothing.
        assert_eq!(describe(&f, Removal::CashFlow(99)), "Removed cash flow 100");
        // A cash flow's amount as the form reads it; a withdrawal is taken from the account.
        let mut w = f.clone();
        w.cash_flows[0].amount = "-$7,000".into();
        let name = f
            .household
            .accounts
            .iter()
            .find(|a| a.id == w.cash_flows[0].account)
            .map(|a| a.name.clone())
            .unwrap();
        assert_eq!(
            describe(&w, Removal::CashFlow(0)),
            format!("Removed cash flow 1 ($7,000.00 from “{name}”)")
        );
        w.cash_flows[0].amount = "2000".into();
        assert_eq!(
            describe(&w, Removal::CashFlow(0)),
            format!("Removed cash flow 1 ($2,000.00 into “{name}”)")
        );
        let mut g = f.clone();
        remove(&mut g, Removal::CashFlow(99));
        assert_eq!(g, f);
    }
}
