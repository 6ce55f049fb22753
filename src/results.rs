//! "Running" and "Results": the comparison runs in a pool of Web Workers (never on the
//! page's thread); the page splits the paths into chunks, feeds the workers, merges the
//! accumulators in chunk order and shows partial results as chunks arrive.

use crate::browser;
use crate::charts::{Chart, ChartFigure};
use crate::fields::ws;
use crate::format::usd;
use crate::jobs::{
    chunk_size, chunks, decode_accumulator, Done, Job, RunSettings, SimWorker, TodayTrades,
};
use crate::summary::{self, fmt_value};
use gloo_worker::{Spawnable, WorkerBridge};
use leptos::prelude::*;
use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::{Accumulator, Report, Simulation};

/// The worker script Trunk emits (relative to the page, so a sub-path works).
const WORKER_LOADER: &str = "./worker_loader.js";

/// Where a comparison stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Nothing has run.
    Idle,
    /// Chunks are out.
    Running,
    /// Every path is in (milliseconds, workers).
    Done(f64, usize),
    /// Stopped by the user.
    Cancelled,
    /// A worker reported an error.
    Failed(String),
}

/// The run's state the page shows (kept for the whole session).
#[derive(Clone, Copy)]
pub struct RunState {
    status: RwSignal<Status>,
    done: RwSignal<u64>,
    total: RwSignal<u64>,
    report: RwSignal<Option<Report>>,
    today: RwSignal<Option<Result<TodayTrades, String>>>,
    today_busy: RwSignal<bool>,
}

impl RunState {
    /// A fresh state.
    pub fn new() -> RunState {
        RunState {
            status: RwSignal::new(Status::Idle),
            done: RwSignal::new(0),
            total: RwSignal::new(0),
            report: RwSignal::new(None),
            today: RwSignal::new(None),
            today_busy: RwSignal::new(false),
        }
    }
}

impl Default for RunState {
    fn default() -> Self {
        RunState::new()
    }
}

/// A comparison in flight.
struct Run {
    id: u64,
    scenario: Scenario,
    json: String,
    settings: RunSettings,
    chunks: Vec<Range<u64>>,
    next: usize,
    results: Vec<Option<Accumulator>>,
    bridges: Vec<WorkerBridge<SimWorker>>,
    started: f64,
    last_partial: f64,
}

thread_local! {
    static RUN: RefCell<Option<Run>> = const { RefCell::new(None) };
    static TODAY: RefCell<Option<WorkerBridge<SimWorker>>> = const { RefCell::new(None) };
    static NEXT_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn next_id() -> u64 {
    NEXT_ID.with(|c| {
        let v = c.get();
        c.set(v + 1);
        v
    })
}

/// Workers for this machine: `navigator.hardwareConcurrency`, between 1 and 8.
fn worker_count() -> usize {
    let n = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    (n as usize).clamp(1, 8)
}

/// Drops workers after the current event (a bridge must not be dropped inside its own
/// callback); dropping a bridge tells its worker to close.
fn retire(bridges: Vec<WorkerBridge<SimWorker>>) {
    wasm_bindgen_futures::spawn_local(async move { drop(bridges) });
}

/// The chunk plan: one small chunk per worker first (a fast first result), then chunks of
/// the regular size. Any split gives the same report.
fn plan(paths: u64, workers: usize) -> Vec<Range<u64>> {
    let size = chunk_size(paths, workers as u64);
    let first = size.min(2);
    let head = (workers as u64 * first).min(paths);
    let mut v = chunks(head, first);
    v.extend(
        chunks(paths - head, size)
            .into_iter()
            .map(|r| r.start + head..r.end + head),
    );
    v
}

fn send_next(run: &mut Run, worker: usize) {
    if run.next >= run.chunks.len() {
        return;
    }
    let index = run.next;
    run.next += 1;
    let r = run.chunks[index].clone();
    if let Some(b) = run.bridges.get(worker) {
        b.send(Job::Chunk {
            run: run.id,
            index,
            scenario: run.json.clone(),
            settings: run.settings,
            start: r.start,
            end: r.end,
        });
    }
}

/// The report of the chunks gathered so far, merged in chunk order.
fn merged_report(run: &Run) -> Result<Report, String> {
    let sim = Simulation::new(&run.scenario, &run.settings.options()).map_err(|e| e.to_string())?;
    let mut acc = Accumulator::new();
    for a in run.results.iter().flatten() {
        acc.merge(a.clone());
    }
    Ok(sim.report(&mut acc))
}

/// Starts a comparison of `scenario` with `settings` (cancelling any run in flight).
fn start(state: RunState, scenario: Scenario, settings: RunSettings) {
    cancel(state, false);
    let workers = worker_count().min(settings.paths.max(1) as usize);
    let plan = plan(settings.paths, workers);
    let id = next_id();
    let bridges: Vec<WorkerBridge<SimWorker>> = (0..workers)
        .map(|i| {
            SimWorker::spawner()
                .callback(move |out| on_output(state, i, out))
                .with_loader(true)
                .as_module(false)
                .spawn(WORKER_LOADER)
        })
        .collect();
    let mut run = Run {
        id,
        json: scenario.to_json_pretty(),
        scenario,
        settings,
        results: vec![None; plan.len()],
        chunks: plan,
        next: 0,
        bridges,
        started: now(),
        last_partial: 0.0,
    };
    for w in 0..workers {
        send_next(&mut run, w);
    }
    state.done.set(0);
    state.total.set(settings.paths);
    state.report.set(None);
    state.status.set(Status::Running);
    RUN.with(|r| *r.borrow_mut() = Some(run));
}

/// Stops feeding chunks and closes the workers; the partial result stays on the page.
fn cancel(state: RunState, mark: bool) {
    let old = RUN.with(|r| r.borrow_mut().take());
    if let Some(run) = old {
        retire(run.bridges);
        if mark {
            state.status.set(Status::Cancelled);
        }
    }
}

fn on_output(state: RunState, worker: usize, out: Done) {
    let Done::Chunk {
        run: id,
        index,
        paths,
        result,
    } = out
    else {
        return;
    };
    let finished = RUN.with(|cell| {
        let mut guard = cell.borrow_mut();
        let run = guard.as_mut().filter(|r| r.id == id)?;
        let acc = match result.and_then(|j| decode_accumulator(&j)) {
            Ok(a) => a,
            Err(e) => {
                state.status.set(Status::Failed(e));
                return Some(());
            }
        };
        if let Some(slot) = run.results.get_mut(index) {
            *slot = Some(acc);
        }
        state.done.update(|d| *d += paths);
        send_next(run, worker);
        let complete = run.results.iter().all(Option::is_some);
        // Partial results: at most about three times a second.
        if complete || now() - run.last_partial > 300.0 {
            run.last_partial = now();
            match merged_report(run) {
                Ok(r) => state.report.set(Some(r)),
                Err(e) => {
                    state.status.set(Status::Failed(e));
                    return Some(());
                }
            }
        }
        if complete {
            state
                .status
                .set(Status::Done(now() - run.started, run.bridges.len()));
            return Some(());
        }
        None
    });
    if finished.is_some() {
        cancel(state, false);
    }
}

/// Asks a worker for the household's trades today under policy `policy`.
fn ask_today(state: RunState, scenario: &Scenario, policy: usize) {
    let id = next_id();
    state.today_busy.set(true);
    let bridge = SimWorker::spawner()
        .callback(move |out| {
            if let Done::Today { result, .. } = out {
                state.today.set(Some(result));
                state.today_busy.set(false);
                if let Some(b) = TODAY.with(|t| t.borrow_mut().take()) {
                    retire(vec![b]);
                }
            }
        })
        .with_loader(true)
        .as_module(false)
        .spawn(WORKER_LOADER);
    bridge.send(Job::Today {
        run: id,
        scenario: scenario.to_json_pretty(),
        policy,
        as_of: scenario.as_of.to_string(),
    });
    if let Some(old) = TODAY.with(|t| t.borrow_mut().replace(bridge)) {
        retire(vec![old]);
    }
}

fn whole(text: &str, lo: u64, hi: u64) -> Result<u64, String> {
    match text.trim().replace(',', "").parse::<u64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!("a whole number from {lo} to {hi}")),
    }
}

/// The results section of the overview.
#[component]
pub fn Results() -> impl IntoView {
    let ws = ws();
    let state = expect_context::<RunState>();
    let market = ws.checked.with_untracked(|c| {
        c.as_ref()
            .ok()
            .map(|s| (s.market.paths, s.market.horizon_years))
    });
    let (p0, y0) = market.unwrap_or((500, 10));
    let paths = RwSignal::new(p0.to_string());
    let years = RwSignal::new(y0.to_string());
    let paths_ok = Memo::new(move |_| whole(&paths.get(), 1, 100_000));
    let years_ok = Memo::new(move |_| whole(&years.get(), 1, 50));
    let hash = Memo::new(move |_| ws.checked.with(|c| c.as_ref().ok().map(Scenario::hash_hex)));
    let compare = move |_| {
        let (Ok(p), Ok(y)) = (paths_ok.get_untracked(), years_ok.get_untracked()) else {
            return;
        };
        if let Some(s) = ws.checked.with_untracked(|c| c.as_ref().ok().cloned()) {
            let settings = RunSettings {
                paths: p,
                years: y as u32,
                seed: s.market.seed,
            };
            start(state, s, settings);
        }
    };
    let running = move || state.status.get() == Status::Running;
    let can_run =
        move || ws.checked.with(|c| c.is_ok()) && paths_ok.get().is_ok() && years_ok.get().is_ok();
    view! {
        <section id="results" class="card results" aria-labelledby="results-h" data-testid="results">
            <h2 id="results-h">"Results"</h2>
            <div class="form-row run-controls">
                <label>
                    "Paths"
                    <input data-testid="run-paths" inputmode="numeric" prop:value=paths
                        on:input=move |ev| paths.set(event_target_value(&ev))
                        aria-invalid=move || paths_ok.get().is_err().to_string() />
                    <span class="field-error" role="alert">{move || paths_ok.get().err()}</span>
                </label>
                <label>
                    "Years"
                    <input data-testid="run-years" inputmode="numeric" prop:value=years
                        on:input=move |ev| years.set(event_target_value(&ev))
                        aria-invalid=move || years_ok.get().is_err().to_string() />
                    <span class="field-error" role="alert">{move || years_ok.get().err()}</span>
                </label>
                <button type="button" class="primary" data-testid="compare" on:click=compare
                    prop:disabled=move || !can_run()>"Compare"</button>
                <button type="button" data-testid="cancel" on:click=move |_| cancel(state, true)
                    prop:disabled=move || !running()>"Cancel"</button>
            </div>
            <RunProgress state />
            {move || match state.report.get() {
                None => view! {
                    <p class="muted" data-testid="results-empty">
                        "Results appear here once a comparison of the policies has run. Nothing has been computed yet."
                    </p>
                }.into_any(),
                Some(r) => {
                    let stale = hash.get().is_some_and(|h| h != r.scenario_hash);
                    view! { <ReportView report=r stale /> }.into_any()
                }
            }}
            <TodayPanel state />
        </section>
    }
}

#[component]
fn RunProgress(state: RunState) -> impl IntoView {
    move || {
        let (done, total) = (state.done.get(), state.total.get());
        let text = match state.status.get() {
            Status::Idle => return None,
            Status::Running => {
                format!("Simulating: {done} of {total} paths done (in Web Workers).")
            }
            Status::Done(ms, w) => format!(
                "Done: {total} paths in {:.1} s on {w} worker(s).",
                ms / 1000.0
            ),
            Status::Cancelled => format!(
                "Cancelled after {done} of {total} paths; the figures below cover those paths."
            ),
            Status::Failed(e) => format!("The comparison stopped: {e}"),
        };
        Some(view! {
            <div class="run-status" role="status">
                <progress data-testid="run-progress" max=total.to_string() value=done.to_string()>
                    {format!("{done} / {total}")}
                </progress>
                <span data-testid="run-status">{text}</span>
            </div>
        })
    }
}

#[component]
fn ReportView(report: Report, stale: bool) -> impl IntoView {
    let rows = summary::rows(&report);
    let heads = report
        .policies
        .iter()
        .map(|p| {
            let name = p.name.clone();
            view! {
                <th scope="col" data-testid="policy-col">
                    {name}
                    {p.baseline.then(|| view! { <span class="tag">" baseline"</span> })}
                    {p.friction_flag.then(|| view! {
                        <span class="flag" data-testid="friction-flag"
                            title="Trades more often than quarterly and its mean net benefit vs the baseline is negative.">
                            " ⚠ friction"
                        </span>
                    })}
                </th>
            }
        })
        .collect_view();
    let body = rows
        .iter()
        .enumerate()
        .map(|(n, r)| {
            let cells = r
                .cells
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let best = r.best == Some(i);
                    view! {
                        <td class="num" class:best=best>
                            <span class="mean">{fmt_value(&r.unit, s.mean)}</span>
                            {best.then(|| view! { <span class="best-mark" title="Best in this row">" ★"</span> })}
                            <span class="range">{format!("{} – {}", fmt_value(&r.unit, s.p5), fmt_value(&r.unit, s.p95))}</span>
                        </td>
                    }
                })
                .collect_view();
            view! {
                <tr data-metric=r.key.clone()>
                    <th scope="row" title=r.definition.clone() data-testid="metric-label">
                        {r.label.clone()}<sup>{n + 1}</sup>
                    </th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    let break_even = report
        .policies
        .iter()
        .map(|p| {
            let v = p
                .break_even_ticket_fee
                .map_or_else(|| "n/a".to_string(), usd);
            view! { <td class="num" data-testid="break-even">{v}</td> }
        })
        .collect_view();
    let nna = report
        .policies
        .iter()
        .map(|p| {
            let v = p
                .ticket_charges_to_nna
                .map_or_else(|| "n/a".to_string(), |x| fmt_value("fraction", x));
            view! { <td class="num" data-testid="charges-to-nna">{v}</td> }
        })
        .collect_view();
    let notes = rows
        .iter()
        .map(|r| view! { <li><strong>{r.label.clone()}</strong>": "{r.definition.clone()}</li> })
        .collect_view();
    let assumptions = report
        .assumptions
        .iter()
        .map(|a| view! { <li>{a.clone()}</li> })
        .collect_view();
    let trade_counts = report
        .trades
        .policies
        .iter()
        .map(|(n, t)| format!("{n}: {}", t.len()))
        .collect::<Vec<_>>()
        .join("; ");
    let summary_csv = summary::summary_csv(&report);
    let trades_csv = report.trades_csv();
    let stem = crate::persist::file_name(&report.scenario_name);
    let stem = stem.trim_end_matches(".json").to_string();
    let stem2 = stem.clone();
    let report = Rc::new(report);
    let shared = report.clone();
    view! {
        {stale.then(|| view! {
            <p class="notice problem" data-testid="results-stale">"The scenario has changed since this comparison ran: compare again to update."</p>
        })}
        <p class="muted" data-testid="report-meta">
            {format!("{} paths × {} years from {}, seed {}, engine {}, scenario ", report.paths, report.horizon_years, report.start, report.seed, report.engine_version)}
            <code>{report.scenario_hash.clone()}</code>", report "
            <code data-testid="report-hash">{report.hash_hex()}</code>
            ". Each cell: mean, and the 5th–95th percentile range over paths."
        </p>
        <div class="table-scroll">
            <table class="grid compare" data-testid="compare-table">
                <thead><tr><th scope="col">"Metric"</th>{heads}</tr></thead>
                <tbody>{body}</tbody>
                <tfoot>
                    <tr>
                        <th scope="row" title="The flat fee per ticket at which the policy's mean net benefit vs the baseline is zero (n/a: it buys no more tickets than the baseline).">
                            "Break-even ticket fee"
                        </th>
                        {break_even}
                    </tr>
                    <tr>
                        <th scope="row" title="Mean ticket charges and regulatory fees ÷ mean net new assets (contributions less withdrawals); n/a without net new assets.">
                            "Ticket charges ÷ net new assets"
                        </th>
                        {nna}
                    </tr>
                </tfoot>
            </table>
        </div>
        <div class="form-row">
            <button type="button" data-testid="export-summary" on:click=move |_| {
                let _ = browser::download(&format!("{stem}-summary.csv"), "text/csv", &summary_csv);
            }>"Export summary (CSV)"</button>
            <button type="button" data-testid="export-trades" on:click=move |_| {
                let _ = browser::download(&format!("{stem2}-trades.csv"), "text/csv", &trades_csv);
            }>"Export trade list of path " {report.trades.path} " (CSV)"</button>
            <span class="muted">{format!("Trades on that path: {trade_counts}.")}</span>
        </div>
        <div class="charts" data-testid="charts">
            {Chart::ALL.map(|chart| view! { <ChartFigure chart report=shared.clone() /> }).collect_view()}
        </div>
        <h3>"Definitions"</h3>
        <ol class="footnotes" data-testid="definitions">{notes}</ol>
        <h3>"Assumptions"</h3>
        <ul class="assumptions">{assumptions}</ul>
    }
}

#[component]
fn TodayPanel(state: RunState) -> impl IntoView {
    let ws = ws();
    let policy = RwSignal::new(0usize);
    let names = Memo::new(move |_| {
        ws.checked.with(|c| {
            c.as_ref()
                .map(|s| {
                    s.policies
                        .iter()
                        .map(|p| p.name.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let ask = move |_| {
        if let Some(s) = ws.checked.with_untracked(|c| c.as_ref().ok().cloned()) {
            ask_today(state, &s, policy.get_untracked());
        }
    };
    view! {
        <h3>"Today's trades"</h3>
        <div class="form-row">
            <label>
                "Policy"
                <select data-testid="today-policy" on:change=move |ev| {
                    policy.set(event_target_value(&ev).parse().unwrap_or(0))
                }>
                    {move || names.get().into_iter().enumerate().map(|(i, n)| view! {
                        <option value=i.to_string() prop:selected=move || policy.get() == i>{n}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="button" data-testid="today-run" on:click=ask
                prop:disabled=move || state.today_busy.get()>"What would it trade today?"</button>
        </div>
        {move || state.today.get().map(|r| match r {
            Err(e) => view! { <p class="field-error" role="alert">{e}</p> }.into_any(),
            Ok(t) => {
                let csv = summary::today_csv(&t);
                let empty = t.trades.is_empty();
                let rows = t.trades.iter().map(|x| view! {
                    <tr>
                        <td>{x.account.clone()}</td>
                        <td>{x.symbol.clone()}</td>
                        <td>{x.side.clone()}</td>
                        <td class="num">{fmt_value("count", x.quantity)}</td>
                        <td class="num">{usd(x.notional)}</td>
                        <td class="num">{usd(x.cost)}</td>
                        <td class="num">{usd(x.tax_effect)}</td>
                        <td>{x.reason.replace('_', " ")}</td>
                        <td class="why">{x.explanation.clone()}</td>
                    </tr>
                }).collect_view();
                view! {
                    <p class="muted" data-testid="today-status">
                        {format!("{} on {}: {} ticket(s), solver status {}. {}", t.policy, t.as_of, t.trades.len(), t.status.replace('_', " "), t.messages.join(" "))}
                    </p>
                    {(!empty).then(|| view! {
                        <div class="table-scroll">
                            <table class="grid today" data-testid="today-table">
                                <thead><tr>
                                    <th scope="col">"Account"</th><th scope="col">"Security"</th><th scope="col">"Side"</th>
                                    <th scope="col" class="num">"Shares"</th><th scope="col" class="num">"Notional"</th>
                                    <th scope="col" class="num">"Ticket cost"</th><th scope="col" class="num">"Tax effect"</th>
                                    <th scope="col">"Reason"</th><th scope="col">"Why"</th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        </div>
                    })}
                    <button type="button" data-testid="export-today" on:click=move |_| {
                        let _ = browser::download("todays-trades.csv", "text/csv", &csv);
                    }>"Export today's trades (CSV)"</button>
                }.into_any()
            }
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_covers_every_path_once_small_chunks_first() {
        for paths in [1u64, 2, 7, 8, 50, 500] {
            for workers in 1..=8usize {
                let p = plan(paths, workers);
                let mut next = 0;
                for r in &p {
                    assert_eq!(r.start, next);
                    assert!(r.end > r.start);
                    next = r.end;
                }
                assert_eq!(next, paths);
                assert!(p[0].end - p[0].start <= 2);
            }
        }
        assert_eq!(whole(" 1,000 ", 1, 5000), Ok(1000));
        assert!(whole("0", 1, 5).is_err());
    }
}
