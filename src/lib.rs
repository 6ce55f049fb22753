//! Tollbooth's web app: a thin Leptos layer over `tollbooth_engine`.
//!
//! Components only wire signals to engine types and functions; no finance logic lives
//! here, so everything that computes a number is tested natively in the engine.

use leptos::prelude::*;
use tollbooth_engine::date::Date;

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="masthead">
            <h1>"Tollbooth"</h1>
            <p class="tagline">"What a rebalancing policy really costs a household."</p>
        </header>
        <main id="main">
            <Slice />
        </main>
        <footer class="colophon">
            "Engine " {tollbooth_engine::VERSION}
            ". Runs entirely in this browser: no data leaves the page."
        </footer>
    }
}

#[component]
fn Slice() -> impl IntoView {
    let year = 2026;
    let days = business_days_in_year(year);
    view! {
        <section aria-labelledby="slice-h">
            <h2 id="slice-h">"Trading calendar"</h2>
            <p>
                "Trading days in " {year} ": "
                <strong data-testid="business-days">{days}</strong>
            </p>
        </section>
    }
}

fn business_days_in_year(year: i32) -> usize {
    let (Some(start), Some(end)) = (Date::from_ymd(year, 1, 1), Date::from_ymd(year + 1, 1, 1))
    else {
        return 0;
    };
    (start.days()..end.days())
        .map(Date::from_days)
        .filter(|d| d.is_business_day())
        .count()
}
