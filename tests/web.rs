//! wasm-bindgen tests in headless Chromium: mount the app and read what it rendered.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Leptos updates the DOM asynchronously: yield to the event loop once.
async fn tick() {
    let resolved = js_sys::Promise::resolve(&wasm_bindgen::JsValue::UNDEFINED);
    let _ = wasm_bindgen_futures::JsFuture::from(resolved).await;
}

#[wasm_bindgen_test]
async fn app_mounts_and_shows_engine_number() {
    leptos::mount::mount_to_body(tollbooth_app::App);
    tick().await;
    let document = web_sys::window().unwrap().document().unwrap();
    let el = document
        .query_selector("[data-testid=business-days]")
        .unwrap()
        .expect("the slice renders its number");
    assert_eq!(el.text_content().unwrap().trim(), "261");
}
