//! The few browser calls the app makes: local storage, the URL fragment, file download
//! and file reading. No network.

use wasm_bindgen::{JsCast, JsValue};

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

fn storage() -> Option<web_sys::Storage> {
    window()?.local_storage().ok().flatten()
}

/// A local-storage item.
pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Stores a local-storage item; false when the browser refused (quota, private mode).
pub fn store(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

fn session() -> Option<web_sys::Storage> {
    window()?.session_storage().ok().flatten()
}

/// A value this tab kept in session storage (as JSON; kept across reloads of the tab, not
/// shared with other tabs), if there is one that reads as `T`.
pub fn session_get<T: serde::de::DeserializeOwned>(key: &str) -> Option<T> {
    let text = session()?.get_item(key).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

/// Keeps `value` in session storage as JSON. When the browser refuses (its quota), the
/// value kept before is removed, so that a reload does not bring it back instead; false
/// then.
pub fn session_put<T: serde::Serialize>(key: &str, value: &T) -> bool {
    let Some(s) = session() else {
        return false;
    };
    let saved = serde_json::to_string(value).is_ok_and(|json| s.set_item(key, &json).is_ok());
    if !saved {
        let _ = s.remove_item(key);
    }
    saved
}

/// Where [`tab_id`] keeps this tab's id.
const TAB_KEY: &str = "tollbooth.tab.v1";

/// This tab's id (random, kept in session storage: the same across reloads of the tab;
/// a duplicated tab, which copies session storage, gets its own from [`watch_tab_id`]).
pub fn tab_id() -> String {
    if let Some(id) = session_get::<String>(TAB_KEY).filter(|id| !id.is_empty()) {
        return id;
    }
    new_tab_id()
}

fn new_tab_id() -> String {
    let id = format!(
        "{:013x}",
        (js_sys::Math::random() * (1u64 << 52) as f64) as u64
    );
    session_put(TAB_KEY, &id);
    id
}

/// Tells a duplicated tab from its original: the page's tabs share a `BroadcastChannel`
/// (no request leaves the browser). Starting, a tab announces its id; a live tab with the
/// same id answers that it is taken, and the newcomer — a duplicate, whose session storage
/// was copied — takes a new one, so each tab keeps its own entry under Earlier work.
pub fn watch_tab_id() {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    const HELLO: &str = "hello:";
    const TAKEN: &str = "taken:";
    let Ok(channel) = web_sys::BroadcastChannel::new("tollbooth.tabs") else {
        return;
    };
    let reply = channel.clone();
    let on_message =
        Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            let Some(text) = e.data().as_string() else {
                return;
            };
            let mine = tab_id();
            if text.strip_prefix(HELLO) == Some(mine.as_str()) {
                let _ = reply.post_message(&format!("{TAKEN}{mine}").into());
            } else if text.strip_prefix(TAKEN) == Some(mine.as_str()) {
                new_tab_id();
            }
        });
    channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The channel and its handler live as long as the page.
    on_message.forget();
    let _ = channel.post_message(&format!("{HELLO}{}", tab_id()).into());
    std::mem::forget(channel);
}

/// The local date and time to the minute, `2026-11-23 14:05`.
pub fn now_label() -> String {
    let d = js_sys::Date::new_0();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

/// Today's local date.
pub fn today() -> Option<tollbooth_engine::date::Date> {
    let d = js_sys::Date::new_0();
    tollbooth_engine::date::Date::from_ymd(
        d.get_full_year() as i32,
        d.get_month() + 1,
        d.get_date(),
    )
}

/// The URL fragment, with its `#` (empty when none).
pub fn fragment() -> String {
    window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Reloads the page (from the browser's cache when it can).
pub fn reload() {
    if let Some(w) = window() {
        let _ = w.location().reload();
    }
}

/// Replaces the fragment without a reload or a request (empty: removes it).
pub fn set_fragment(fragment: &str) {
    let Some(w) = window() else { return };
    let loc = w.location();
    let base = format!(
        "{}{}",
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default()
    );
    let url = if fragment.is_empty() {
        base
    } else {
        format!("{base}#{fragment}")
    };
    if let Ok(h) = w.history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// The page's address without its fragment.
pub fn page_url() -> String {
    window()
        .and_then(|w| w.location().href().ok())
        .map(|h| h.split('#').next().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// Offers `text` as a file download (a `blob:` URL; nothing leaves the machine).
pub fn download(file_name: &str, mime: &str, text: &str) -> Result<(), String> {
    let fail = |e: JsValue| format!("{e:?}");
    let doc = window().and_then(|w| w.document()).ok_or("no document")?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let a: web_sys::HtmlAnchorElement = doc
        .create_element("a")
        .map_err(fail)?
        .dyn_into()
        .map_err(|_| "not an anchor".to_string())?;
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The first file chosen in an `<input type=file>`, if any.
pub fn chosen_file(ev: &web_sys::Event) -> Option<web_sys::File> {
    let input: web_sys::HtmlInputElement = ev.target()?.dyn_into().ok()?;
    let file = input.files()?.get(0);
    // Let the same file be chosen again later.
    input.set_value("");
    file
}

/// Reads a file as text.
pub async fn read_text(file: web_sys::File) -> Result<String, String> {
    let v = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|e| format!("{e:?}"))?;
    v.as_string().ok_or_else(|| "not text".to_string())
}

/// Runs `f` and records its duration as a User Timing measure named `label` (visible in
/// the browser's performance tools and read by the in-browser benchmark).
pub fn timed<T>(label: &str, f: impl FnOnce() -> T) -> T {
    let perf = window().and_then(|w| w.performance());
    let start = format!("{label}:start");
    if let Some(p) = &perf {
        let _ = p.mark(&start);
    }
    let out = f();
    if let Some(p) = &perf {
        let _ = p.measure_with_start_mark(label, &start);
        p.clear_marks_with_mark_name(&start);
    }
    out
}

/// Runs `f` once the page's thread is idle (`requestIdleCallback`; at once if the
/// browser has none).
pub fn when_idle(f: impl FnOnce() + 'static) {
    use wasm_bindgen::closure::Closure;
    let Some(w) = window() else {
        return f();
    };
    let cb = Closure::once_into_js(f);
    let _ = w.request_idle_callback(cb.unchecked_ref());
}

/// Records a User Timing mark (read by the in-browser benchmark).
pub fn mark(name: &str) {
    if let Some(p) = window().and_then(|w| w.performance()) {
        let _ = p.mark(name);
    }
}

/// Sets an attribute of the page's root element (`<html>`), e.g. a readiness flag that
/// tests and the benchmark wait for.
pub fn set_root_attribute(name: &str, value: &str) {
    if let Some(root) = window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute(name, value);
    }
}

/// Moves the keyboard focus to the first element matching `selector` (made focusable by
/// script only, `tabindex="-1"`, so the Tab order is unchanged): after a section switch,
/// the section's heading, so that a screen reader announces it and the next Tab goes on
/// from there rather than from the navigation.
pub fn focus_selector(selector: &str) {
    let Some(doc) = window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(Some(el)) = doc.query_selector(selector) {
        if !el.has_attribute("tabindex") {
            let _ = el.set_attribute("tabindex", "-1");
        }
        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}

/// After an "Add" button (test id `id`) added a row to the table just before it (the
/// nearest earlier sibling that is or holds a table): the new row's first field takes the
/// focus (the row is drawn above the button, several Tab stops back). Does nothing when
/// the button has no such table.
pub fn focus_new_row(id: &str) {
    let Some(doc) = window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(Some(button)) = doc.query_selector(&format!("[data-testid=\"{id}\"]")) else {
        return;
    };
    let mut sibling = button.previous_element_sibling();
    while let Some(el) = sibling {
        let table = if el.tag_name().eq_ignore_ascii_case("table") {
            Some(el.clone())
        } else {
            el.query_selector("table").ok().flatten()
        };
        if let Some(table) = table {
            if let Ok(Some(field)) = table.query_selector(
                "tbody tr:last-child input:not([type=hidden]), tbody tr:last-child select",
            ) {
                if let Ok(field) = field.dyn_into::<web_sys::HtmlElement>() {
                    let _ = field.focus();
                }
            }
            return;
        }
        sibling = el.previous_element_sibling();
    }
}

/// Sets the page's title (what the browser tab and a screen reader name the page).
pub fn set_title(title: &str) {
    if let Some(doc) = window().and_then(|w| w.document()) {
        doc.set_title(title);
    }
}

/// Moves the keyboard focus to the element with `data-testid` `id` (a form field), if the
/// page shows one.
pub fn focus_test_id(id: &str) {
    let Some(doc) = window().and_then(|w| w.document()) else {
        return;
    };
    if let Ok(Some(el)) = doc.query_selector(&format!("[data-testid=\"{id}\"]")) {
        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}
