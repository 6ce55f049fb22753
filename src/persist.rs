//! Keeping the work: the local-storage record of the form, share links, and which
//! scenario the page opens with. Plain functions, tested natively; the browser calls
//! live in `browser.rs`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tollbooth_engine::scenario::{migrate, Scenario, ScenarioError, ScenarioForm, SCHEMA_VERSION};

/// The local-storage key of the autosaved form.
pub const STORAGE_KEY: &str = "tollbooth.scenario.v1";
/// Where the work replaced by a shared link, a loaded file, an example or a restore is
/// kept (see [`Kept`]), so that nothing typed is lost. An older version kept one record
/// here as is; [`decode_kept`] reads that too.
pub const PREVIOUS_KEY: &str = "tollbooth.scenario.v1.previous";
/// How many replaced scenarios the browser keeps (the oldest goes first).
pub const KEEP_LIMIT: usize = 8;
/// The URL fragment's key for a shared scenario: `#s=...`.
pub const SHARE_PREFIX: &str = "s=";
/// The largest scenario a share link may inflate to (a guard against a hostile link).
const SHARE_LIMIT: usize = 8 << 20;

/// The stored record: the form exactly as typed, with the schema it was written in.
#[derive(Serialize, Deserialize)]
struct Saved<F> {
    schema_version: u32,
    form: F,
}

/// Why stored work or a share link could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestoreError {
    /// The stored text is not a saved form.
    #[error("the saved work is damaged ({0})")]
    Corrupt(String),
    /// Written by a newer version of Tollbooth.
    #[error("the saved work is from a newer Tollbooth (schema {found}; this one reads up to {supported})")]
    TooNew {
        /// The record's schema.
        found: u32,
        /// The newest schema this version reads.
        supported: u32,
    },
    /// The link's fragment is not base64 or does not inflate.
    #[error("the link is damaged or truncated ({0})")]
    BadLink(&'static str),
    /// The link inflates to something that is not a valid scenario.
    #[error("the link's scenario cannot be read: {0}")]
    BadScenario(ScenarioError),
}

/// The stored record of a form.
pub fn encode_saved(form: &ScenarioForm) -> String {
    let saved = Saved {
        schema_version: SCHEMA_VERSION,
        form,
    };
    serde_json::to_string(&saved).unwrap_or_default()
}

/// The form from a stored record. An older schema is migrated with the scenario
/// migrations (the form has the scenario's field names).
pub fn decode_saved(text: &str) -> Result<ScenarioForm, RestoreError> {
    let saved: Saved<serde_json::Value> =
        serde_json::from_str(text).map_err(|e| RestoreError::Corrupt(e.to_string()))?;
    let mut form = saved.form;
    if saved.schema_version > SCHEMA_VERSION {
        return Err(RestoreError::TooNew {
            found: saved.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    if saved.schema_version < SCHEMA_VERSION {
        if let Some(obj) = form.as_object_mut() {
            obj.insert("schema_version".into(), saved.schema_version.into());
        }
        migrate(&mut form).map_err(|e| RestoreError::Corrupt(e.to_string()))?;
    }
    serde_json::from_value(form).map_err(|e| RestoreError::Corrupt(e.to_string()))
}

/// A scenario that something else replaced, kept in this browser so that it can be
/// restored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    /// The scenario's name as typed, or a note when its record cannot be read.
    pub name: String,
    /// What replaced it, and when.
    pub why: String,
    /// Its stored record (see [`encode_saved`]), exactly as it was.
    pub record: String,
    /// The tab that kept it when another tab saved over its work (see [`keep_for_tab`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tab: Option<String>,
}

/// The stored list of kept work, newest first.
#[derive(Serialize, Deserialize)]
struct KeptList {
    kept: Vec<Kept>,
}

/// The kept work in the stored text of [`PREVIOUS_KEY`] (none when there is none). Text
/// that is not a list is an older version's single record, kept as one entry.
pub fn decode_kept(text: Option<&str>) -> Vec<Kept> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Vec::new();
    };
    match serde_json::from_str::<KeptList>(text) {
        Ok(list) => list.kept,
        Err(_) => vec![kept_entry(
            text.to_string(),
            "kept by an earlier version".into(),
        )],
    }
}

/// The stored text of a list of kept work.
pub fn encode_kept(list: &[Kept]) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        kept: &'a [Kept],
    }
    serde_json::to_string(&Out { kept: list }).unwrap_or_default()
}

fn kept_entry(record: String, why: String) -> Kept {
    let name = match decode_saved(&record) {
        Ok(f) if f.name.trim().is_empty() => "(no name)".to_string(),
        Ok(f) => f.name,
        Err(e) => format!("unreadable saved work: {e}"),
    };
    Kept {
        name,
        why,
        record,
        tab: None,
    }
}

/// Puts `record` at the head of `list`, saying `why` it was replaced. The same record
/// already in the list moves to the head instead of being kept twice; beyond
/// [`KEEP_LIMIT`] the oldest entries go.
pub fn keep(list: &mut Vec<Kept>, record: String, why: String) {
    list.retain(|k| k.record != record);
    list.insert(0, kept_entry(record, why));
    list.truncate(KEEP_LIMIT);
}

/// [`keep`] for the work of tab `tab` that another tab saved over: it replaces what that
/// tab kept so before, so two tabs edited in turn keep one entry each instead of pushing
/// older work out of the list.
pub fn keep_for_tab(list: &mut Vec<Kept>, record: String, why: String, tab: &str) {
    list.retain(|k| k.tab.as_deref() != Some(tab));
    keep(list, record, why);
    if let Some(k) = list.first_mut() {
        k.tab = Some(tab.to_string());
    }
}

/// The URL fragment (without `#`) that carries a scenario: `s=` + URL-safe base64 of its
/// deflated canonical JSON.
pub fn encode_share(s: &Scenario) -> String {
    let packed = miniz_oxide::deflate::compress_to_vec(s.canonical_json().as_bytes(), 9);
    format!("{SHARE_PREFIX}{}", URL_SAFE_NO_PAD.encode(packed))
}

/// The scenario of a fragment (with or without `#`), `None` when it carries none.
pub fn decode_share(fragment: &str) -> Option<Result<Scenario, RestoreError>> {
    let f = fragment.strip_prefix('#').unwrap_or(fragment);
    let payload = f.strip_prefix(SHARE_PREFIX)?;
    Some(decode_payload(payload))
}

fn decode_payload(payload: &str) -> Result<Scenario, RestoreError> {
    let packed = URL_SAFE_NO_PAD
        .decode(payload.trim().trim_end_matches('='))
        .map_err(|_| RestoreError::BadLink("not base64"))?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, SHARE_LIMIT)
        .map_err(|_| RestoreError::BadLink("does not inflate"))?;
    let text = String::from_utf8(json).map_err(|_| RestoreError::BadLink("not UTF-8"))?;
    Scenario::from_json(&text).map_err(RestoreError::BadScenario)
}

/// A message for the banner at the top of the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Info (false) or a problem (true).
    pub problem: bool,
    /// The message.
    pub text: String,
}

impl Notice {
    /// An informational notice.
    pub fn info(text: impl Into<String>) -> Notice {
        Notice {
            problem: false,
            text: text.into(),
        }
    }

    /// A notice about a problem.
    pub fn problem(text: impl Into<String>) -> Notice {
        Notice {
            problem: true,
            text: text.into(),
        }
    }
}

/// How the page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Start {
    /// The form to edit.
    pub form: ScenarioForm,
    /// What to tell the user.
    pub notice: Option<Notice>,
    /// Keep the stored record (see [`keep`]) before autosave replaces it.
    pub keep_previous: bool,
}

/// Which scenario the page opens with: a shared link's first, then the saved work, then
/// the demo household.
pub fn start(fragment: &str, stored: Option<&str>) -> Start {
    let mut notice = None;
    match decode_share(fragment) {
        Some(Ok(s)) => {
            return Start {
                form: s.to_form(),
                notice: Some(Notice::info(format!(
                    "Opened “{}” from the shared link.{}",
                    s.name,
                    if stored.is_some() {
                        " The work open before is kept under “Earlier work” in Save, load, share."
                            .to_string()
                    } else {
                        String::new()
                    }
                ))),
                keep_previous: stored.is_some(),
            }
        }
        Some(Err(e)) => {
            notice = Some(Notice::problem(format!(
                "The shared link was not opened: {e}."
            )))
        }
        None => {}
    }
    match stored.map(decode_saved) {
        Some(Ok(form)) => Start {
            form,
            notice,
            keep_previous: false,
        },
        Some(Err(e)) => Start {
            form: Scenario::demo().to_form(),
            notice: Some(Notice::problem(format!(
                "{}{e}: showing the demo household. A copy of the saved work is kept under \
                 “Earlier work” in Save, load, share.",
                notice.map(|n| format!("{} ", n.text)).unwrap_or_default()
            ))),
            keep_previous: true,
        },
        None => Start {
            form: Scenario::demo().to_form(),
            notice,
            keep_previous: false,
        },
    }
}

/// A file name for a saved scenario: its name in lowercase letters, digits and dashes.
pub fn file_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let stem = out.trim_end_matches('-');
    format!(
        "{}.tollbooth.json",
        if stem.is_empty() { "scenario" } else { stem }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_form_round_trips_half_typed_text() {
        let mut form = Scenario::demo().to_form();
        form.household.accounts[0].cash = "12,5".into();
        form.securities[1].price = String::new();
        let text = encode_saved(&form);
        assert!(text.starts_with("{\"schema_version\":1,"));
        assert_eq!(decode_saved(&text), Ok(form));
    }

    #[test]
    fn unreadable_or_newer_records_are_errors() {
        assert!(matches!(decode_saved("{"), Err(RestoreError::Corrupt(_))));
        assert!(matches!(decode_saved("[]"), Err(RestoreError::Corrupt(_))));
        assert_eq!(
            decode_saved(r#"{"schema_version":99,"form":{}}"#),
            Err(RestoreError::TooNew {
                found: 99,
                supported: SCHEMA_VERSION
            })
        );
    }

    #[test]
    fn older_records_are_migrated() {
        // Schema 0 named the baseline `baseline_policy`.
        let text = r#"{"schema_version":0,"form":{"name":"Old","baseline_policy":"Quarterly"}}"#;
        let form = decode_saved(text).unwrap();
        assert_eq!(form.name, "Old");
        assert_eq!(form.baseline, "Quarterly");
    }

    /// The stored record of the demo renamed `name`.
    fn named(name: &str) -> String {
        let mut f = Scenario::demo().to_form();
        f.name = name.into();
        encode_saved(&f)
    }

    #[test]
    fn kept_work_is_newest_first_bounded_and_without_repeats() {
        let mut list = Vec::new();
        keep(
            &mut list,
            named("First"),
            "replaced by a shared link".into(),
        );
        keep(&mut list, named("Second"), "replaced by a file".into());
        keep(&mut list, named("First"), "replaced by an example".into());
        let names: Vec<&str> = list.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["First", "Second"]);
        assert_eq!(list[0].why, "replaced by an example");
        for i in 0..2 * KEEP_LIMIT {
            keep(&mut list, named(&format!("Work {i}")), String::new());
        }
        assert_eq!(list.len(), KEEP_LIMIT);
        assert_eq!(list[0].name, format!("Work {}", 2 * KEEP_LIMIT - 1));

        let text = encode_kept(&list);
        assert_eq!(decode_kept(Some(&text)), list);
        assert_eq!(
            decode_saved(&decode_kept(Some(&text))[0].record)
                .unwrap()
                .name,
            list[0].name
        );
        assert!(decode_kept(None).is_empty());
        assert!(decode_kept(Some("")).is_empty());
    }

    #[test]
    fn a_tab_keeps_one_entry_for_work_saved_over_by_another() {
        let mut list = Vec::new();
        keep(
            &mut list,
            named("linked over"),
            "replaced by a shared link".into(),
        );
        for i in 0..2 * KEEP_LIMIT {
            let (tab, name) = if i % 2 == 0 {
                ("a", format!("A {i}"))
            } else {
                ("b", format!("B {i}"))
            };
            keep_for_tab(
                &mut list,
                named(&name),
                "kept when another tab saved over it".into(),
                tab,
            );
        }
        let names: Vec<&str> = list.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(names, ["B 15", "A 14", "linked over"]);
        assert_eq!(list[0].tab.as_deref(), Some("b"));
        assert_eq!(list[2].tab, None);
        // The tab survives the stored text; entries without one read as before.
        let back = decode_kept(Some(&encode_kept(&list)));
        assert_eq!(back, list);
        assert!(!encode_kept(&list[2..]).contains("\"tab\""));
    }

    #[test]
    fn an_older_single_record_or_damaged_text_is_kept_as_one_entry() {
        let mut f = Scenario::demo().to_form();
        f.name = "Kept by 1.0".into();
        let old = encode_saved(&f);
        let list = decode_kept(Some(&old));
        assert_eq!(list.len(), 1);
        assert_eq!(
            (list[0].name.as_str(), &list[0].record),
            ("Kept by 1.0", &old)
        );

        let list = decode_kept(Some("{not json"));
        assert_eq!(list[0].record, "{not json");
        assert!(
            list[0].name.starts_with("unreadable saved work"),
            "{}",
            list[0].name
        );
    }

    #[test]
    fn share_links_round_trip_and_are_compact() {
        let s = Scenario::demo();
        let frag = encode_share(&s);
        assert!(frag.starts_with("s="));
        assert!(frag[2..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert!(frag.len() < s.canonical_json().len() / 3, "{}", frag.len());
        let back = decode_share(&format!("#{frag}")).unwrap().unwrap();
        assert_eq!(back.hash_hex(), s.hash_hex());
        assert!(decode_share("#other").is_none());
        assert!(decode_share("").is_none());
    }

    #[test]
    fn damaged_links_are_errors() {
        assert_eq!(
            decode_share("s=***").unwrap().unwrap_err(),
            RestoreError::BadLink("not base64")
        );
        assert_eq!(
            decode_share("s=AAAA").unwrap().unwrap_err(),
            RestoreError::BadLink("does not inflate")
        );
        let not_scenario = URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(b"{}", 6));
        assert!(matches!(
            decode_share(&format!("s={not_scenario}")).unwrap(),
            Err(RestoreError::BadScenario(_))
        ));
        let frag = encode_share(&Scenario::demo());
        let cut = &frag[..frag.len() / 2];
        assert!(decode_share(cut).unwrap().is_err());
    }

    #[test]
    fn start_prefers_the_link_then_storage_then_the_demo() {
        let demo = Scenario::demo().to_form();
        let mut mine = demo.clone();
        mine.name = "Mine".into();
        let stored = encode_saved(&mine);
        let mut shared = Scenario::demo();
        shared.name = "Shared".into();
        let frag = format!("#{}", encode_share(&shared));

        let s = start(&frag, Some(&stored));
        assert_eq!(s.form.name, "Shared");
        assert!(!s.notice.unwrap().problem);

        let s = start("", Some(&stored));
        assert_eq!((s.form.name.as_str(), s.notice), ("Mine", None));

        let s = start("", None);
        assert_eq!((s.form, s.notice), (demo.clone(), None));

        let s = start("#s=%%%", Some("not json"));
        assert_eq!(s.form, demo);
        assert!(s.keep_previous);
        let n = s.notice.unwrap();
        assert!(n.problem);
        assert!(
            n.text.contains("shared link") && n.text.contains("damaged"),
            "{}",
            n.text
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(
            file_name("Rivera household (demo)"),
            "rivera-household-demo.tollbooth.json"
        );
        assert_eq!(file_name("  "), "scenario.tollbooth.json");
    }
}
