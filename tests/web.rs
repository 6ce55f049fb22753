//! wasm-bindgen tests in headless Chromium: mount the app and read what it rendered.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Leptos updates the DOM asynchronously: yield to the event loop once.
async fn tick() {
    let resolved = js_sys::Promise::resolve(&wasm_bindgen::JsValue::UNDEFINED);
    let _ = wasm_bindgen_futures::JsFuture::from(resolved).await;
}

fn text_of(test_id: &str) -> String {
    let document = web_sys::window().unwrap().document().unwrap();
    document
        .query_selector(&format!("[data-testid={test_id}]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no element with data-testid={test_id}"))
        .text_content()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[wasm_bindgen_test]
async fn app_prices_the_sample_sell_ticket_in_the_browser() {
    leptos::mount::mount_to_body(tollbooth_app::App);
    tick().await;
    // Sell 100 VTI at $335.40 on the scenario's date, 2026-11-20, under the flat $3.10
    // clearing ticket: SEC $33,540 × $20.60/1M = $0.691 → $0.70; TAF $0.00 (FINRA reports
    // it as $0.00 from 2026-10-01 to 2026-12-31); spread 0.15 bp × $33,540 = $0.50.
    assert_eq!(text_of("ticket-commission"), "$3.10");
    assert_eq!(text_of("ticket-sec"), "$0.70");
    assert_eq!(text_of("ticket-taf"), "$0.00");
    assert_eq!(text_of("ticket-total"), "$4.30");
    let expected = tollbooth_engine::scenario::Scenario::demo().hash_hex();
    assert_eq!(text_of("scenario-hash"), expected);
}

/// The Monte Carlo market is bit-identical in the browser: the fingerprint of the first
/// 1,000 steps of path 0 for seed 42 equals the native value pinned in
/// `crates/engine/tests/market_model.rs`.
#[wasm_bindgen_test]
fn market_paths_are_bit_identical_to_native() {
    const NATIVE_FINGERPRINT_SEED_42_1000: u64 = 0x02c8_2dfa_22a9_457b;
    assert_eq!(
        tollbooth_engine::market::fingerprint(42, 1000),
        NATIVE_FINGERPRINT_SEED_42_1000
    );
}

/// The scenario hash is computed identically in the browser (pinned natively in
/// `crates/engine/src/scenario/tests.rs`).
#[wasm_bindgen_test]
fn scenario_hash_is_identical_to_native() {
    assert_eq!(
        tollbooth_engine::scenario::Scenario::demo().hash_hex(),
        "e9f82c72a962a782"
    );
}

/// `Report::hash_hex` of the demo, 8 paths, 2 years, the scenario's seed: the value pinned
/// natively as `DEMO_REPORT_HASH_8_PATHS_2_YEARS` in
/// `crates/engine/tests/simulate_repro.rs` (the app's native test
/// `jobs::tests::pinned_report_hash_matches_the_engine` keeps the two equal).
const DEMO_REPORT_HASH_8_PATHS_2_YEARS: &str = "7b66e455352d665d";

/// The simulator runs in the browser bit-identically to native, and chunks run as the
/// workers run them (JSON across the boundary), merged in any order, give the same hash.
#[wasm_bindgen_test]
fn simulation_report_hash_is_identical_to_native_however_split() {
    use tollbooth_app::jobs::{
        chunk_accumulator, chunks, job, job_with, Done, Job, RunSettings, ScenarioCache,
    };
    use tollbooth_engine::scenario::Scenario;
    use tollbooth_engine::simulate::{Accumulator, Simulation};
    let s = Scenario::demo();
    let settings = RunSettings {
        paths: 8,
        years: 2,
        seed: s.market.seed,
    };
    let sim = Simulation::new(&s, &settings.options()).unwrap();
    let whole = sim.run().unwrap();
    assert_eq!(whole.hash_hex(), DEMO_REPORT_HASH_8_PATHS_2_YEARS);
    let json = s.to_json_pretty();
    // As a worker runs them: one scenario cache across the run's chunks, merged in
    // whatever order they arrive (here also last chunk first).
    let mut cache = ScenarioCache::default();
    for (size, reversed) in [(1u64, false), (3, false), (3, true), (5, false)] {
        let mut acc = Accumulator::new();
        let mut plan: Vec<_> = chunks(8, size).into_iter().enumerate().collect();
        if reversed {
            plan.reverse();
        }
        for (index, r) in plan {
            let chunk = Job::Chunk {
                run: 1,
                index,
                scenario: json.clone(),
                settings,
                start: r.start,
                end: r.end,
            };
            let out = if size == 1 {
                job(chunk)
            } else {
                job_with(&mut cache, chunk)
            };
            let Done::Chunk {
                result: Ok(text),
                trades,
                ..
            } = out
            else {
                panic!("chunk {index} failed: {out:?}");
            };
            acc.merge(chunk_accumulator(&text, trades.as_ref()).unwrap())
                .unwrap();
        }
        assert_eq!(
            sim.report(&acc).hash_hex(),
            DEMO_REPORT_HASH_8_PATHS_2_YEARS
        );
    }
}

#[wasm_bindgen_test]
async fn app_autosaves_the_form_and_shows_the_results_placeholder() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage
        .remove_item(tollbooth_app::persist::STORAGE_KEY)
        .unwrap();
    leptos::mount::mount_to_body(tollbooth_app::App);
    // The autosave effect runs after the first render.
    for _ in 0..5 {
        tick().await;
    }
    let saved = storage
        .get_item(tollbooth_app::persist::STORAGE_KEY)
        .unwrap()
        .expect("the form is autosaved on load");
    let form = tollbooth_app::persist::decode_saved(&saved).unwrap();
    assert_eq!(form, tollbooth_engine::scenario::Scenario::demo().to_form());
    assert!(text_of("results").contains("once a comparison"));
    assert_eq!(text_of("problem-count"), "Scenario valid");
}
