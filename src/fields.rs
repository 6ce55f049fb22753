//! The workspace state and the input widgets that edit one field of the form each.
//!
//! A [`Field`] reads and writes one text value of the [`ScenarioForm`] and knows its path,
//! the same path [`ScenarioForm::validate`] puts in a [`FieldError`], so every input shows
//! its own error next to it.

use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tollbooth_engine::scenario::form::*;
use tollbooth_engine::scenario::{FieldError, Scenario, ScenarioForm};

use crate::persist::Notice;
use crate::undo::UndoStack;

/// Everything the editors share; `Copy`, passed through context.
#[derive(Clone, Copy)]
pub struct Workspace {
    /// What the user typed.
    pub form: RwSignal<ScenarioForm>,
    /// The validated scenario or every problem.
    pub checked: Memo<Result<Scenario, Vec<FieldError>>>,
    /// Error messages by field path.
    pub errors: Memo<BTreeMap<String, String>>,
    /// Presentation mode: large type, names masked, editors hidden.
    pub presenting: RwSignal<bool>,
    /// The banner message.
    pub notice: RwSignal<Option<Notice>>,
    /// The destructive edits that can be undone (see [`crate::undo`]).
    pub undo: RwSignal<UndoStack>,
}

impl Workspace {
    /// A workspace editing `form`.
    pub fn new(form: ScenarioForm, notice: Option<Notice>) -> Workspace {
        let form = RwSignal::new(form);
        let checked = Memo::new(move |_| form.with(ScenarioForm::validate));
        let errors = Memo::new(move |_| checked.with(|c| error_map(c.as_ref().err())));
        Workspace {
            form,
            checked,
            errors,
            presenting: RwSignal::new(false),
            notice: RwSignal::new(notice),
            undo: RwSignal::new(UndoStack::default()),
        }
    }

    /// The message for a path, if any (tracked).
    pub fn error(&self, path: &str) -> Option<String> {
        self.errors.with(|m| m.get(path).cloned())
    }

    /// The message for an input's path (tracked): its own, and for a list typed in one
    /// input (alternates, restrictions) the messages about its entries (`path[k]`), each
    /// prefixed with the entry's position ("entry 2: …").
    pub fn field_error(&self, path: &str) -> Option<String> {
        self.errors.with(|m| field_message(m, path))
    }
}

/// Error messages by path; several errors on one field are joined.
pub fn error_map(errors: Option<&Vec<FieldError>>) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    for e in errors.into_iter().flatten() {
        m.entry(e.path.clone())
            .and_modify(|s| {
                s.push_str("; ");
                s.push_str(&e.message);
            })
            .or_insert_with(|| e.message.clone());
    }
    m
}

/// The message for an input's path in `errors` (see [`Workspace::field_error`]).
pub fn field_message(errors: &BTreeMap<String, String>, path: &str) -> Option<String> {
    let prefix = format!("{path}[");
    let mut parts: Vec<String> = errors.get(path).cloned().into_iter().collect();
    let mut entries: Vec<(usize, &String)> = Vec::new();
    for (k, msg) in errors
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
    {
        match k[prefix.len()..].split(']').next().map(str::parse::<usize>) {
            Some(Ok(i)) => entries.push((i, msg)),
            _ => parts.push(msg.clone()),
        }
    }
    // By position (the map orders "10" before "2").
    entries.sort_by_key(|e| e.0);
    parts.extend(
        entries
            .into_iter()
            .map(|(i, msg)| format!("entry {}: {msg}", i + 1)),
    );
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The workspace from context.
pub fn ws() -> Workspace {
    expect_context::<Workspace>()
}

type Read = Arc<dyn Fn(&ScenarioForm) -> Option<String> + Send + Sync>;
type Write = Arc<dyn Fn(&mut ScenarioForm, String) + Send + Sync>;

/// One editable text value of the form.
#[derive(Clone)]
pub struct Field {
    /// The validation path.
    pub path: String,
    read: Read,
    write: Write,
}

impl Field {
    /// A field from its path and accessors.
    pub fn new(
        path: String,
        read: impl Fn(&ScenarioForm) -> Option<String> + Send + Sync + 'static,
        write: impl Fn(&mut ScenarioForm, String) + Send + Sync + 'static,
    ) -> Field {
        // Toggles flatten their fields: `impact.fields.coefficient` is `impact.coefficient`.
        Field {
            path: path.replace(".fields.", "."),
            read: Arc::new(read),
            write: Arc::new(write),
        }
    }

    /// The current text (tracked).
    pub fn get(&self, ws: Workspace) -> String {
        ws.form.with(|f| (self.read)(f)).unwrap_or_default()
    }

    /// Sets the text.
    pub fn set(&self, ws: Workspace, v: String) {
        ws.form.update(|f| (self.write)(f, v));
    }
}

/// An addressable part of the form.
pub trait Part: Copy + Send + Sync + 'static {
    /// Its type.
    type T;
    /// Its path.
    fn path(&self) -> String;
    /// Reads it.
    fn get<'a>(&self, f: &'a ScenarioForm) -> Option<&'a Self::T>;
    /// Writes it.
    fn get_mut<'a>(&self, f: &'a mut ScenarioForm) -> Option<&'a mut Self::T>;
}

macro_rules! ix {
    ($i:ident) => {
        usize
    };
}

macro_rules! part {
    ($name:ident ( $($i:ident),* ) -> $t:ty, $fmt:literal, |$f:ident| $get:expr, |$fm:ident| $get_mut:expr) => {
        #[doc = concat!("The part at `", $fmt, "`.")]
        #[derive(Clone, Copy)]
        pub struct $name($(pub ix!($i)),*);
        impl Part for $name {
            type T = $t;
            fn path(&self) -> String {
                #[allow(unused_variables)]
                let $name($($i),*) = *self;
                format!($fmt)
            }
            fn get<'a>(&self, $f: &'a ScenarioForm) -> Option<&'a $t> {
                #[allow(unused_variables)]
                let $name($($i),*) = *self;
                $get
            }
            fn get_mut<'a>(&self, $fm: &'a mut ScenarioForm) -> Option<&'a mut $t> {
                #[allow(unused_variables)]
                let $name($($i),*) = *self;
                $get_mut
            }
        }
    };
}

part!(Root() -> ScenarioForm, "", |f| Some(f), |f| Some(f));
part!(MemberP(i) -> MemberForm, "household.members[{i}]",
    |f| f.household.members.get(i), |f| f.household.members.get_mut(i));
part!(AccountP(a) -> AccountForm, "household.accounts[{a}]",
    |f| f.household.accounts.get(a), |f| f.household.accounts.get_mut(a));
part!(LotP(a, k) -> LotForm, "household.accounts[{a}].lots[{k}]",
    |f| f.household.accounts.get(a)?.lots.get(k),
    |f| f.household.accounts.get_mut(a)?.lots.get_mut(k));
part!(SecurityP(i) -> SecurityForm, "securities[{i}]",
    |f| f.securities.get(i), |f| f.securities.get_mut(i));
part!(TargetP() -> TargetForm, "target", |f| Some(&f.target), |f| Some(&mut f.target));
part!(ClassTargetP(i) -> ClassTargetForm, "target.classes[{i}]",
    |f| f.target.classes.get(i), |f| f.target.classes.get_mut(i));
part!(FeeP(i) -> FeeScheduleForm, "fee_schedules[{i}]",
    |f| f.fee_schedules.get(i), |f| f.fee_schedules.get_mut(i));
part!(TaxP() -> TaxForm, "tax", |f| Some(&f.tax), |f| Some(&mut f.tax));
part!(MarketP() -> MarketForm, "market", |f| Some(&f.market), |f| Some(&mut f.market));
part!(MarketClassP(i) -> ClassAssumptionForm, "market.classes[{i}]",
    |f| f.market.classes.get(i), |f| f.market.classes.get_mut(i));
part!(MinCashP(i) -> MinCashForm, "target.min_cash[{i}]",
    |f| f.target.min_cash.get(i), |f| f.target.min_cash.get_mut(i));
part!(SecurityVolP(i) -> SecurityVolForm, "market.idiosyncratic_vol[{i}]",
    |f| f.market.idiosyncratic_vol.get(i), |f| f.market.idiosyncratic_vol.get_mut(i));
part!(CashFlowP(i) -> CashFlowForm, "cash_flows[{i}]",
    |f| f.cash_flows.get(i), |f| f.cash_flows.get_mut(i));
part!(PolicyP(i) -> PolicyForm, "policies[{i}]",
    |f| f.policies.get(i), |f| f.policies.get_mut(i));

/// Joins a part's path and a field name.
pub fn join(part: &str, field: &str) -> String {
    if part.is_empty() {
        field.to_string()
    } else {
        format!("{part}.{field}")
    }
}

/// A [`Field`] of a [`Part`]: `fld!(LotP(a, k), symbol)`; a conversion after `=>`:
/// `enum` (an `Option` of a serde enum), `bool`, `list` (comma-separated strings).
#[macro_export]
macro_rules! fld {
    ($part:expr, $($name:ident).+) => {{
        let p = $part;
        $crate::fields::Field::new(
            $crate::fields::join(&$crate::fields::Part::path(&p), &[$(stringify!($name)),+].join(".")),
            move |f| $crate::fields::Part::get(&p, f).map(|x| x.$($name).+.clone()),
            move |f, v| if let Some(x) = $crate::fields::Part::get_mut(&p, f) { x.$($name).+ = v; },
        )
    }};
    ($part:expr, $($name:ident).+ => enum) => {{
        let p = $part;
        $crate::fields::Field::new(
            $crate::fields::join(&$crate::fields::Part::path(&p), &[$(stringify!($name)),+].join(".")),
            move |f| $crate::fields::Part::get(&p, f).map(|x| $crate::fields::key_of(&x.$($name).+)),
            move |f, v| if let Some(x) = $crate::fields::Part::get_mut(&p, f) { x.$($name).+ = $crate::fields::from_key(&v); },
        )
    }};
    ($part:expr, $($name:ident).+ => bool) => {{
        let p = $part;
        $crate::fields::Field::new(
            $crate::fields::join(&$crate::fields::Part::path(&p), &[$(stringify!($name)),+].join(".")),
            move |f| $crate::fields::Part::get(&p, f).map(|x| x.$($name).+.to_string()),
            move |f, v| if let Some(x) = $crate::fields::Part::get_mut(&p, f) { x.$($name).+ = v == "true"; },
        )
    }};
    ($part:expr, $($name:ident).+ => list) => {{
        let p = $part;
        $crate::fields::Field::new(
            $crate::fields::join(&$crate::fields::Part::path(&p), &[$(stringify!($name)),+].join(".")),
            move |f| $crate::fields::Part::get(&p, f).map(|x| x.$($name).+.join(", ")),
            move |f, v| if let Some(x) = $crate::fields::Part::get_mut(&p, f) { x.$($name).+ = $crate::fields::split_list(&v); },
        )
    }};
}

/// The serde name of an optional enum value ("" for none).
pub fn key_of<T: Serialize>(v: &Option<T>) -> String {
    match v {
        None => String::new(),
        Some(v) => match serde_json::to_value(v) {
            Ok(serde_json::Value::String(s)) => s,
            _ => String::new(),
        },
    }
}

/// The enum value of a serde name (none for "" or an unknown name).
pub fn from_key<T: DeserializeOwned>(k: &str) -> Option<T> {
    if k.is_empty() {
        return None;
    }
    serde_json::from_value(serde_json::Value::String(k.to_string())).ok()
}

/// `"VTI, ITOT ,"` → `["VTI", "ITOT"]`.
pub fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Options of a select: `(value, label)` for every value of an enum.
pub fn enum_options<T: Serialize + Copy>(
    all: &[T],
    label: fn(T) -> String,
) -> Vec<(String, String)> {
    all.iter().map(|&v| (key_of(&Some(v)), label(v))).collect()
}

/// A test id from a path: `household.accounts[0].lots[1].symbol` →
/// `household-accounts-0-lots-1-symbol`.
pub fn test_id(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The error message under an input.
fn error_view(ws: Workspace, path: String) -> impl IntoView {
    let id = format!("err-{}", test_id(&path));
    let for_path = path.clone();
    view! {
        <span class="field-error" id=id data-error-for=for_path>
            {move || ws.field_error(&path)}
        </span>
    }
}

/// How a label is shown: above the input, or only to assistive technology (table cells).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LabelStyle {
    /// Visible above the input.
    Shown,
    /// Visually hidden (the column header says it).
    Hidden,
}

/// The label's text, with the id its input names itself by (`aria-labelledby`): the
/// error message also sits inside the `<label>`, and would otherwise be read as part of
/// the field's name as well as its description.
fn label_text(text: String, style: LabelStyle, path: &str) -> impl IntoView {
    let class = match style {
        LabelStyle::Shown => "label-text",
        LabelStyle::Hidden => "sr-only",
    };
    view! { <span class=class id=label_id(path)>{text}</span> }
}

/// The id of a field's label text.
fn label_id(path: &str) -> String {
    format!("lbl-{}", test_id(path))
}

/// A text input. `on:input` keeps the text exactly as typed.
pub fn text_input(field: Field, label: impl Into<String>, style: LabelStyle) -> AnyView {
    text_like(field, label.into(), style, "text", false)
}

/// A text input for a comma-separated list. The form takes each keystroke (so the
/// autosave has it even if the page is reloaded while the field has the focus), but the
/// field shows the text as typed until it loses the focus, and only then the list as the
/// form writes it (`a,b` becomes `a, b`; empty entries go).
pub fn list_input(field: Field, label: impl Into<String>, style: LabelStyle) -> AnyView {
    text_like(field, label.into(), style, "text", true)
}

/// A date input (ISO text).
pub fn date_input(field: Field, label: impl Into<String>, style: LabelStyle) -> AnyView {
    text_like(field, label.into(), style, "date", false)
}

fn text_like(
    field: Field,
    label: String,
    style: LabelStyle,
    kind: &'static str,
    as_list: bool,
) -> AnyView {
    let ws = ws();
    let path = field.path.clone();
    let (f1, f2) = (field.clone(), field.clone());
    let p1 = path.clone();
    let write = move |ev: leptos::ev::Event| f2.set(ws, event_target_value(&ev));
    let input = if as_list {
        // The text being typed, while the field has the focus (`change` would not clear
        // it when the text ends as it began, nor wait for the focus to go on Enter).
        let typed = RwSignal::new(None::<String>);
        let f3 = field.clone();
        view! {
            <input
                type=kind
                data-testid=test_id(&path)
                aria-labelledby=label_id(&path)
                aria-describedby=format!("err-{}", test_id(&path))
                prop:value=move || typed.get().unwrap_or_else(|| f1.get(ws))
                aria-invalid=move || ws.field_error(&p1).is_some().to_string()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    typed.set(Some(v.clone()));
                    f3.set(ws, v);
                }
                on:blur=move |_| typed.set(None)
            />
        }
        .into_any()
    } else {
        view! {
            <input
                type=kind
                data-testid=test_id(&path)
                aria-labelledby=label_id(&path)
                aria-describedby=format!("err-{}", test_id(&path))
                prop:value=move || f1.get(ws)
                aria-invalid=move || ws.field_error(&p1).is_some().to_string()
                on:input=write
            />
        }
        .into_any()
    };
    view! {
        <label class="field">
            {label_text(label, style, &path)}
            {input}
            {error_view(ws, path)}
        </label>
    }
    .into_any()
}

/// A select over fixed options; `blank` adds an empty choice (for unset values).
pub fn select_input(
    field: Field,
    label: impl Into<String>,
    style: LabelStyle,
    options: Vec<(String, String)>,
    blank: Option<&'static str>,
) -> AnyView {
    let ws = ws();
    let path = field.path.clone();
    let (f1, f2) = (field.clone(), field.clone());
    let p1 = path.clone();
    let current = Memo::new(move |_| f1.get(ws));
    let blank = blank.map(|b| {
        view! { <option value="" prop:selected=move || current.get().is_empty()>{b}</option> }
    });
    view! {
        <label class="field">
            {label_text(label.into(), style, &path)}
            <select
                data-testid=test_id(&path)
                aria-labelledby=label_id(&path)
                aria-describedby=format!("err-{}", test_id(&path))
                aria-invalid=move || ws.field_error(&p1).is_some().to_string()
                on:change=move |ev| f2.set(ws, event_target_value(&ev))
            >
                {blank}
                {options
                    .into_iter()
                    .map(|(v, l)| {
                        let v2 = v.clone();
                        view! { <option value=v prop:selected=move || current.with(|c| *c == v2)>{l}</option> }
                    })
                    .collect_view()}
            </select>
            {error_view(ws, path)}
        </label>
    }
    .into_any()
}

/// A select whose options come from the form (account ids, fee schedules, …).
pub fn dynamic_select(
    field: Field,
    label: impl Into<String>,
    style: LabelStyle,
    options: impl Fn(&ScenarioForm) -> Vec<(String, String)> + Send + Sync + 'static,
) -> AnyView {
    let ws = ws();
    let path = field.path.clone();
    let (f1, f2) = (field.clone(), field.clone());
    let p1 = path.clone();
    let current = Memo::new(move |_| f1.get(ws));
    let opts = Memo::new(move |_| ws.form.with(|f| options(f)));
    view! {
        <label class="field">
            {label_text(label.into(), style, &path)}
            <select
                data-testid=test_id(&path)
                aria-labelledby=label_id(&path)
                aria-describedby=format!("err-{}", test_id(&path))
                aria-invalid=move || ws.field_error(&p1).is_some().to_string()
                on:change=move |ev| f2.set(ws, event_target_value(&ev))
            >
                {move || {
                    let cur = current.get();
                    let mut list = opts.get();
                    if !list.iter().any(|(v, _)| *v == cur) {
                        let shown = if cur.is_empty() { "— choose —".to_string() } else { format!("{cur} (unknown)") };
                        list.insert(0, (cur.clone(), shown));
                    }
                    list.into_iter()
                        .map(|(v, l)| {
                            let sel = v == cur;
                            view! { <option value=v prop:selected=sel>{l}</option> }
                        })
                        .collect_view()
                }}
            </select>
            {error_view(ws, path)}
        </label>
    }
    .into_any()
}

/// A checkbox over a `bool` field (see `fld!(.. => bool)`).
pub fn checkbox(field: Field, label: impl Into<String>) -> AnyView {
    let ws = ws();
    let path = field.path.clone();
    let (f1, f2) = (field.clone(), field.clone());
    view! {
        <label class="field check">
            <input
                type="checkbox"
                data-testid=test_id(&path)
                prop:checked=move || f1.get(ws) == "true"
                on:change=move |ev| f2.set(ws, event_target_checked(&ev).to_string())
            />
            <span class="label-text">{label.into()}</span>
            {error_view(ws, path)}
        </label>
    }
    .into_any()
}

/// Errors about a list as a whole (e.g. `policies`: "compare 2 to 8 policies").
pub fn list_error(path: &'static str) -> impl IntoView {
    let ws = ws();
    view! {
        <p class="field-error" data-error-for=path>
            {move || ws.error(path)}
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollbooth_engine::scenario::policy::Frequency;
    use tollbooth_engine::types::AccountKind;

    #[test]
    fn enum_keys_round_trip() {
        assert_eq!(key_of(&Some(AccountKind::K401)), "401k");
        assert_eq!(from_key::<AccountKind>("401k"), Some(AccountKind::K401));
        assert_eq!(key_of(&Some(Frequency::SemiAnnual)), "semi_annual");
        assert_eq!(key_of::<Frequency>(&None), "");
        assert_eq!(from_key::<Frequency>(""), None);
        assert_eq!(from_key::<Frequency>("hourly"), None);
    }

    #[test]
    fn lists_and_ids() {
        assert_eq!(split_list(" VTI, ITOT ,,"), vec!["VTI", "ITOT"]);
        assert_eq!(
            test_id("household.accounts[0].lots[12].acquired"),
            "household-accounts-0-lots-12-acquired"
        );
    }

    #[test]
    fn a_list_input_shows_the_messages_about_its_entries() {
        // Alternates typed as "VTI, XYZ" where XYZ is not a security of the scenario.
        let mut form = Scenario::demo().to_form();
        let path = "target.classes[0].alternates";
        form.target.classes[0].alternates = vec!["XYZ".into()];
        form.target.restrictions.do_not_buy = vec!["VTI".into(), "QQQ".into()];
        let errors = error_map(form.validate().as_ref().err());
        let own = field_message(&errors, path).expect("the alternates input shows the error");
        assert!(own.starts_with("entry 1: "), "{own}");
        assert!(own.contains("XYZ"), "{own}");
        let dnb =
            field_message(&errors, "target.restrictions.do_not_buy").expect("restriction error");
        assert!(dnb.starts_with("entry 2: ") && dnb.contains("QQQ"), "{dnb}");
        // Entries are in order of position, and a field of the same stem is not an entry.
        let mut m = BTreeMap::new();
        m.insert("x[10]".to_string(), "ten".to_string());
        m.insert("x[2]".to_string(), "two".to_string());
        m.insert("x".to_string(), "whole".to_string());
        m.insert("xy".to_string(), "other".to_string());
        assert_eq!(
            field_message(&m, "x").as_deref(),
            Some("whole; entry 3: two; entry 11: ten")
        );
        assert_eq!(field_message(&m, "z"), None);
    }

    #[test]
    fn field_paths_match_validation_paths() {
        // Break one field through its Field and find the error at the Field's path.
        let mut form = Scenario::demo().to_form();
        let lot = fld!(LotP(1, 2), quantity);
        let fee = fld!(FeeP(0), rows.etf.flat);
        let imp = fld!(FeeP(0), impact.fields.coefficient);
        let kind = fld!(AccountP(0), kind => enum);
        (lot.write)(&mut form, "-1".into());
        (fee.write)(&mut form, "x".into());
        form.fee_schedules[0].impact.enabled = true;
        (imp.write)(&mut form, "".into());
        (kind.write)(&mut form, String::new());
        let errors = error_map(form.validate().err().as_ref());
        for f in [&lot, &fee, &imp, &kind] {
            assert!(errors.contains_key(&f.path), "{} not in {errors:?}", f.path);
        }
        assert_eq!(lot.path, "household.accounts[1].lots[2].quantity");
        assert_eq!(imp.path, "fee_schedules[0].impact.coefficient");
        assert_eq!((lot.read)(&form).as_deref(), Some("-1"));
        // Out of range reads nothing and writes nothing.
        let gone = fld!(LotP(9, 0), symbol);
        assert_eq!((gone.read)(&form), None);
        let before = form.clone();
        (gone.write)(&mut form, "X".into());
        assert_eq!(form, before);
    }
}
