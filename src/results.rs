//! "Running" and "Results": the comparison runs in a pool of Web Workers (never on the
//! page's thread); the page splits the paths into chunks, feeds the workers, merges the
//! accumulators in chunk order and shows partial results as chunks arrive.

use crate::browser;
use crate::charts::{Chart, ChartFigure};
use crate::fields::{ws, Workspace};
use crate::format::{self, usd};
use crate::jobs::{
    chunk_size, chunks, decode_accumulator, decode_trade_rows, join_parts, warm_up_options, Done,
    Job, RunSettings, TodayTrades, TradesJson,
};
use crate::ops;
use crate::summary::{self, fmt_value};
use crate::workers::{Bridge, Failure};
use leptos::prelude::*;
use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;
use tollbooth_engine::scenario::form::{self, plain_number};
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::confirm::{
    fee_scenario, BreakEvenCheck, BreakEvenSearch, PairSums, Trial,
};
use tollbooth_engine::simulate::report::TradeList;
use tollbooth_engine::simulate::{
    policy_parts, six_policies, Accumulator, BreakEvenSide, RecordedTrades, Report, SimOptions,
    Simulation, TradeRow,
};
use tollbooth_engine::types::Side;

/// The worker script Trunk emits (relative to the page, so a sub-path works).
const WORKER_LOADER: &str = "./worker_loader.js";

/// Where a comparison stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Nothing has run.
    Idle,
    /// Chunks are out.
    Running,
    /// Every path is in (milliseconds, workers, worker milliseconds per path).
    Done(f64, usize, f64),
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
    /// The hash of the scenario today's trades were asked for.
    today_hash: RwSignal<Option<String>>,
    today_busy: RwSignal<bool>,
    /// The policy chosen for today's trades (kept while the advisor moves between
    /// sections, as the answer on screen is).
    today_policy: RwSignal<usize>,
    /// The run settings as typed (kept while the advisor moves between sections).
    paths: RwSignal<String>,
    years: RwSignal<String>,
    /// Whether quick runs recompute as the inputs change.
    auto: RwSignal<bool>,
    /// Bumped by every edit and every Compare: a pending automatic run only starts if
    /// nothing happened since it was scheduled.
    edits: StoredValue<u64>,
    /// The break-even fee being confirmed by re-simulation, or the last confirmed.
    confirm: RwSignal<Option<Confirmation>>,
}

/// A break-even confirmation as the page shows it ([`confirm_break_even`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmation {
    /// The policy's index in the scenario.
    policy: usize,
    /// The hash of the scenario searched.
    scenario_hash: String,
    /// The run settings (the report's on screen when asked).
    settings: RunSettings,
    /// The trials so far.
    trials: Vec<Trial>,
    /// The search's result once it has ended, or why it stopped.
    result: Option<Result<BreakEvenCheck, String>>,
}

impl RunState {
    /// The paths, horizon in years and seed of the report on screen, if any (what a
    /// printout must state next to its numbers).
    pub fn shown_run(&self) -> Option<(u64, u32, u64)> {
        self.report
            .with(|r| r.as_ref().map(|r| (r.paths, r.horizon_years, r.seed)))
    }

    /// A fresh state whose run settings start at `paths` × `years`.
    pub fn new(paths: u64, years: u32) -> RunState {
        RunState {
            status: RwSignal::new(Status::Idle),
            done: RwSignal::new(0),
            total: RwSignal::new(0),
            report: RwSignal::new(None),
            today: RwSignal::new(None),
            today_hash: RwSignal::new(None),
            today_busy: RwSignal::new(false),
            today_policy: RwSignal::new(0),
            paths: RwSignal::new(paths.to_string()),
            years: RwSignal::new(years.to_string()),
            auto: RwSignal::new(true),
            edits: StoredValue::new(0),
            confirm: RwSignal::new(None),
        }
    }

    /// The run state of `ws`'s scenario (its paths and horizon; 500 × 10 while it is
    /// invalid), with the run settings this tab kept if any, saved again on every change
    /// ([`RUN_KEY`], session storage): a reload keeps the paths and years as typed while the
    /// scenario's own are those they were typed over (a reload that opens another
    /// scenario, from a link or another tab's autosave, takes that scenario's), and
    /// whether quick runs recompute.
    pub fn kept_in_tab(ws: Workspace) -> RunState {
        let scenario_run = move || {
            ws.checked.with(|c| {
                c.as_ref()
                    .ok()
                    .map(|s| (u64::from(s.market.paths), s.market.horizon_years))
            })
        };
        let own = untrack(scenario_run);
        let (paths, years) = own.unwrap_or((500, 10));
        let state = RunState::new(paths, years);
        if let Some(k) = browser::session_get::<KeptRun>(RUN_KEY) {
            if own.is_some() && k.scenario == own {
                state.paths.set(k.paths);
                state.years.set(k.years);
            }
            state.auto.set(k.auto);
        }
        Effect::new(move |_| {
            let k = KeptRun {
                paths: state.paths.get(),
                years: state.years.get(),
                auto: state.auto.get(),
                scenario: scenario_run(),
            };
            browser::session_put(RUN_KEY, &k);
        });
        state
    }

    /// The paths to run: the scenario's own limit, so a scenario file that asks for more
    /// than a page would usually run still runs as it is (the run can be cancelled).
    fn paths_ok(&self) -> Result<u64, String> {
        self.paths.with(|t| whole(t, 1, form::MAX_PATHS))
    }

    /// The horizon to run, within the scenario's own limit.
    fn years_ok(&self) -> Result<u64, String> {
        self.years
            .with(|t| whole(t, 1, u64::from(form::MAX_HORIZON_YEARS)))
    }
}

/// The session-storage key of the run settings.
pub const RUN_KEY: &str = "tollbooth.run.v1";

/// The stored run settings.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptRun {
    paths: String,
    years: String,
    auto: bool,
    /// The scenario's own paths and horizon then.
    scenario: Option<(u64, u32)>,
}

impl Default for RunState {
    fn default() -> Self {
        RunState::new(500, 10)
    }
}

/// Runs the comparison of the current scenario with the typed settings (if both are valid).
fn run_now(ws: Workspace, state: RunState) {
    let (Ok(p), Ok(y)) = (untrack(|| state.paths_ok()), untrack(|| state.years_ok())) else {
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
}

/// Recomputes quick runs by themselves once the inputs (scenario, paths, years) have been
/// still for a moment. Installed once for the page, so it works from every section.
pub fn watch_inputs(ws: Workspace, state: RunState) {
    // The run settings follow the scenario's own paths and horizon whenever those change
    // (an edit under Market, a loaded file or link); typed here, they hold until then.
    let scenario_run = Memo::new(move |_| {
        ws.checked.with(|c| {
            c.as_ref()
                .ok()
                .map(|s| (s.market.paths, s.market.horizon_years))
        })
    });
    Effect::new(move |seen: Option<Option<(u32, u32)>>| {
        let now = scenario_run.get();
        if let (Some(before), Some((paths, years))) = (seen, now) {
            if before != now {
                state.paths.set(paths.to_string());
                state.years.set(years.to_string());
            }
        }
        now.or(seen.flatten())
    });
    let hash = Memo::new(move |_| ws.checked.with(|c| c.as_ref().ok().map(Scenario::hash_hex)));
    Effect::new(move |first: Option<()>| {
        let scenario = hash.get();
        let (p, y, on) = (state.paths_ok(), state.years_ok(), state.auto.get());
        let policies = ws
            .checked
            .with_untracked(|c| c.as_ref().map_or(0, |s| s.policies.len() as u64));
        let (Some(_), Ok(p), Ok(y), true, Some(())) = (scenario, p, y, on, first) else {
            return;
        };
        if !is_quick(p, y, policies) {
            return;
        }
        state.edits.update_value(|e| *e += 1);
        let mine = state.edits.get_value();
        set_timeout(
            move || {
                if state.edits.get_value() == mine && state.auto.get_untracked() {
                    run_now(ws, state);
                }
            },
            AUTO_RUN_DELAY,
        );
    });
}

/// A comparison in flight.
struct Run {
    id: u64,
    scenario: Scenario,
    json: String,
    settings: RunSettings,
    chunks: Vec<Range<u64>>,
    next: usize,
    /// Chunks not in yet.
    pending: usize,
    /// Every path gathered so far, reduced (merging order does not matter).
    gathered: Accumulator,
    /// The paths in from the first on, without a gap: what a cancelled run reports.
    prefix: Prefix,
    started: f64,
    last_partial: f64,
    /// Milliseconds the workers spent simulating, summed over chunks.
    worker_ms: f64,
    /// The first chunk, while it runs in parts on several workers.
    parts: Option<Parts>,
    /// The recorded path's trade list while it is read, one policy per task.
    trades: Option<PendingTrades>,
    /// Jobs of workers that failed to load before starting them: the next idle worker
    /// takes them before any new chunk.
    handed_on: Vec<Job>,
}

/// The recorded path's trades as the worker sent them (one JSON text per policy) and the
/// policies read so far: a ten-year trade list read at once would hold the page's thread
/// for 40–60 ms; one policy at a time, each task stays short.
struct PendingTrades {
    path: u64,
    json: Vec<String>,
    rows: Vec<Vec<TradeRow>>,
}

impl PendingTrades {
    /// Reads the next policy's rows; `Ok(true)` once every policy is read.
    fn read_next(&mut self) -> Result<bool, String> {
        if let Some(j) = self.json.get(self.rows.len()) {
            let rows = browser::timed("tollbooth:decode", || decode_trade_rows(j))?;
            self.rows.push(rows);
        }
        Ok(self.rows.len() >= self.json.len())
    }
}

/// Puts the run's trade list into its accumulator once every policy is read (reading
/// what is left now, for the whole report at the end of a run).
fn finish_trades(run: &mut Run, now: bool) -> Result<(), String> {
    let Some(p) = run.trades.as_mut() else {
        return Ok(());
    };
    while !p.read_next()? {
        if !now {
            return Ok(());
        }
    }
    if let Some(p) = run.trades.take() {
        run.gathered.add_recorded(RecordedTrades {
            path: p.path,
            policies: p.rows,
        });
    }
    Ok(())
}

/// Reads one policy of run `id`'s trade list, then yields the page's thread before the
/// next.
fn read_trades(state: RunState, id: u64) {
    let more = RUN.with(|cell| {
        let mut guard = cell.borrow_mut();
        let run = guard.as_mut().filter(|r| r.id == id)?;
        match finish_trades(run, false) {
            Ok(()) => Some(Ok(run.trades.is_some())),
            Err(e) => Some(Err(e)),
        }
    });
    match more {
        Some(Ok(true)) => {
            set_timeout(move || read_trades(state, id), std::time::Duration::ZERO);
        }
        Some(Err(e)) => {
            state.status.set(Status::Failed(e));
            cancel(state, false);
        }
        _ => {}
    }
}

/// A one-path chunk run in parts (its policies split between workers): the first chunk of
/// a run, so that the first partial result waits for about half a path, not a whole one.
struct Parts {
    /// Parts sent.
    expected: usize,
    /// The parts in so far (JSON).
    got: Vec<String>,
    /// Milliseconds the workers spent on them.
    ms: f64,
}

/// The page's Web Workers, started once at load: `navigator.hardwareConcurrency`
/// simulation workers plus one for today's trades. Starting them at load means a
/// comparison makes no request, so the page also works offline once loaded. `None` marks
/// the slot of a worker that failed ([`worker_failed`]) or could not be created.
struct Pool {
    sims: Vec<Option<Bridge>>,
    /// The job each simulation worker has out, with its run (possibly a cancelled run's):
    /// kept so that a worker that fails to load hands it on ([`worker_failed`]).
    busy: Vec<Option<(u64, Job)>>,
    today: Option<Bridge>,
    /// The worker answering the latest request for today's trades.
    today_on: Option<Slot>,
    /// The simulation workers that answered their first ping, by slot.
    ready: Vec<bool>,
    /// Whether today's worker has.
    today_ready: bool,
    /// The latest worker failure.
    failure: Option<Failure>,
}

/// One of the pool's workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// Simulation worker `i`.
    Sim(usize),
    /// The worker for today's trades.
    Today,
}

thread_local! {
    static RUN: RefCell<Option<Run>> = const { RefCell::new(None) };
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
    static NEXT_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
    static SEARCH: RefCell<Option<Search>> = const { RefCell::new(None) };
}

/// A break-even search in flight: one trial at a time, its paths split between the
/// workers.
struct Search {
    id: u64,
    scenario: Scenario,
    settings: RunSettings,
    policy: usize,
    search: BreakEvenSearch,
    /// The workers the trial's parts are on.
    on: Vec<Slot>,
    /// The trial's parts not in yet, and the sums of those in (exact: any split gives the
    /// same sums).
    pending: usize,
    sums: PairSums,
}

/// Confirms policy `policy`'s break-even ticket fee by re-simulation on the paths of the
/// report on screen (`settings`): the engine's [`BreakEvenSearch`], one trial after the
/// other, each trial's paths split between every worker while no comparison runs (only
/// the worker for today's trades while one does, so it is not held up; a comparison
/// started during a trial waits for that trial's parts on the simulation workers).
fn confirm_break_even(state: RunState, scenario: Scenario, settings: RunSettings, policy: usize) {
    start_workers(state);
    let name = scenario
        .policies
        .get(policy)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut c = Confirmation {
        policy,
        scenario_hash: scenario.hash_hex(),
        settings,
        trials: Vec::new(),
        result: None,
    };
    match BreakEvenSearch::new(&scenario, &name, settings.paths) {
        Ok(search) => {
            SEARCH.with(|s| {
                *s.borrow_mut() = Some(Search {
                    id: next_id(),
                    scenario,
                    settings,
                    policy,
                    search,
                    on: Vec::new(),
                    pending: 0,
                    sums: PairSums::default(),
                })
            });
            state.confirm.set(Some(c));
            send_trial(state);
        }
        Err(e) => {
            c.result = Some(Err(sentence(&e.to_string())));
            state.confirm.set(Some(c));
        }
    }
}

/// Sends the search's next trial to the workers, or ends the search when none is left.
fn send_trial(state: RunState) {
    let comparing = state.status.get_untracked() == Status::Running;
    let sent = SEARCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let s = guard.as_mut()?;
        let scenario = match s.search.next_fee() {
            Some(fee) => fee_scenario(&s.scenario, fee),
            None => s.scenario.clone(),
        };
        let json = scenario.to_json_pretty();
        let on = POOL.with(|p| {
            let guard = p.borrow();
            let pool = guard.as_ref()?;
            let live: Vec<(Slot, &Bridge)> = std::iter::once((Slot::Today, pool.today.as_ref()))
                .chain(
                    pool.sims
                        .iter()
                        .enumerate()
                        .map(|(i, b)| (Slot::Sim(i), b.as_ref())),
                )
                .filter_map(|(slot, b)| Some((slot, b?)))
                .take(if comparing { 1 } else { usize::MAX })
                .collect();
            let parts = live.len().max(1) as u64;
            let ranges = chunks(s.settings.paths, s.settings.paths.div_ceil(parts).max(1));
            let mut on = Vec::new();
            for (range, (slot, bridge)) in ranges.into_iter().zip(live) {
                let job = Job::Pair {
                    run: s.id,
                    scenario: json.clone(),
                    settings: s.settings,
                    policy: s.policy,
                    start: range.start,
                    end: range.end,
                };
                if !bridge.send(&job) {
                    return None;
                }
                on.push(slot);
            }
            (!on.is_empty()).then_some(on)
        })?;
        s.pending = on.len();
        s.on = on;
        s.sums = PairSums::default();
        Some(())
    });
    if sent.is_none() {
        let failure = POOL.with(|p| p.borrow().as_ref().and_then(|p| p.failure.clone()));
        end_search(state, Err(sentence(&none_left(failure.as_ref()))));
    }
}

/// Ends the search with `result` (an error, or the search's own result).
fn end_search(state: RunState, result: Result<BreakEvenCheck, String>) {
    SEARCH.with(|s| *s.borrow_mut() = None);
    state.confirm.update(|c| {
        if let Some(c) = c.as_mut() {
            c.result = Some(result);
        }
    });
}

/// Stops the search in flight (its trial's answer is then ignored).
fn cancel_search(state: RunState) {
    if SEARCH.with(|s| s.borrow().is_some()) {
        end_search(state, Err("Stopped before the search ended.".into()));
    }
}

/// A trial's answer: recorded, and the next trial sent (or the result shown).
fn on_pair(state: RunState, run: u64, result: Result<String, String>) {
    let outcome = SEARCH.with(|cell| {
        let mut guard = cell.borrow_mut();
        let s = guard.as_mut().filter(|s| s.id == run)?;
        let sums = result
            .and_then(|json| serde_json::from_str::<PairSums>(&json).map_err(|e| e.to_string()));
        Some(sums.map(|sums| {
            s.sums.merge(&sums);
            s.pending = s.pending.saturating_sub(1);
            if s.pending > 0 {
                return None;
            }
            let trial = std::mem::take(&mut s.sums);
            s.search.record(&trial);
            Some((s.search.result(), s.search.is_done()))
        }))
    });
    match outcome {
        None | Some(Ok(None)) => {}
        Some(Err(e)) => end_search(state, Err(sentence(&format!("A re-run failed: {e}")))),
        Some(Ok(Some((check, done)))) => {
            state.confirm.update(|c| {
                if let Some(c) = c.as_mut() {
                    c.trials = check.trials.clone();
                }
            });
            if done {
                end_search(state, Ok(check));
            } else {
                send_trial(state);
            }
        }
    }
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

/// Starts the worker for `slot`. Its failure is handled in a task of its own (the bridge
/// reporting it cannot be dropped from its own listener).
fn spawn(state: RunState, slot: Slot) -> Result<Bridge, String> {
    let name = match slot {
        Slot::Sim(i) => format!("tollbooth-simulation-{i}"),
        Slot::Today => "tollbooth-today".to_string(),
    };
    Bridge::spawn(
        WORKER_LOADER,
        &name,
        move |out| match slot {
            Slot::Sim(i) => on_output(state, i, out),
            Slot::Today => on_today(state, out),
        },
        move |f| {
            set_timeout(
                move || worker_failed(state, slot, f),
                std::time::Duration::ZERO,
            )
        },
    )
}

/// An answer of the worker for today's trades.
fn on_today(state: RunState, out: Done) {
    match out {
        Done::Today { run, result } if TODAY_ASKED.with(|t| t.get()) == run => {
            state.today.set(Some(result));
            state.today_busy.set(false);
        }
        Done::Pair { run, result } => on_pair(state, run, result),
        Done::Ready => worker_ready(Slot::Today),
        _ => {}
    }
}

/// Starts the worker pool (once; later calls do nothing). The workers fetch their script
/// and WebAssembly now, while the page loads, not when the first comparison starts.
pub fn start_workers(state: RunState) {
    if POOL.with(|p| p.borrow().is_some()) {
        return;
    }
    let n = worker_count();
    let mut failure = None;
    let mut started = |slot| match spawn(state, slot) {
        Ok(b) => Some(b),
        Err(message) => {
            failure.get_or_insert(Failure {
                message,
                loaded: false,
            });
            None
        }
    };
    let sims: Vec<Option<Bridge>> = (0..n).map(|i| started(Slot::Sim(i))).collect();
    let today = started(Slot::Today);
    for b in sims.iter().chain(std::iter::once(&today)).flatten() {
        b.send(&Job::Ping);
    }
    // Each simulation worker runs a short path once it has answered, and the page reads
    // worker 0's when idle (`warm_page`), so the first comparison runs in compiled,
    // optimised code on both sides (a chunk sent meanwhile waits behind the warm-up).
    for b in sims.iter().flatten() {
        b.send(&Job::Warm);
    }
    let pool = Pool {
        sims,
        busy: vec![None; n],
        today,
        today_on: None,
        ready: vec![false; n],
        today_ready: false,
        failure,
    };
    pool.show_state();
    POOL.with(|p| *p.borrow_mut() = Some(pool));
}

impl Pool {
    /// The simulation workers running.
    fn live(&self) -> usize {
        self.sims.iter().flatten().count()
    }

    /// `<html data-workers>`: "ready" once every worker running has loaded (the page then
    /// needs no further request), "failed" when no simulation worker is left, "starting"
    /// before.
    fn show_state(&self) {
        let live = self.sims.iter().zip(&self.ready);
        let state = if self.live() == 0 {
            "failed"
        } else if live.clone().all(|(b, r)| b.is_none() || *r)
            && (self.today.is_none() || self.today_ready)
        {
            "ready"
        } else {
            "starting"
        };
        browser::set_root_attribute("data-workers", state);
    }
}

/// Marks the worker of `slot` loaded.
fn worker_ready(slot: Slot) {
    POOL.with(|p| {
        if let Some(pool) = p.borrow_mut().as_mut() {
            match slot {
                Slot::Sim(i) => {
                    if let Some(r) = pool.ready.get_mut(i) {
                        *r = true;
                    }
                }
                Slot::Today => pool.today_ready = true,
            }
            pool.show_state();
        }
    });
}

/// A worker failed (see [`crate::workers`]): it is terminated and its slot left empty.
/// No replacement is started: it would fetch the worker's files again, and once loaded the
/// page makes no request. Comparisons go on with the simulation workers left (today's
/// trades move to one of them when their own worker is gone). A job queued on a worker
/// that fails to load never started: the workers left take it over. A comparison that had
/// a chunk on a worker that failed once loaded stops with the reason (the chunk is not run
/// again elsewhere: a chunk that made the engine panic would do so there too), as does a
/// request for today's trades the worker was answering; with no simulation worker left,
/// the page asks for a reload.
fn worker_failed(state: RunState, slot: Slot, f: Failure) {
    let which = match slot {
        Slot::Sim(_) => "a simulation worker",
        Slot::Today => "the worker for today's trades",
    };
    let what = if f.loaded {
        format!("{which} stopped ({})", f.message)
    } else {
        format!("{which} could not load ({})", f.message)
    };
    let Some((lost_run, lost_today, left)) = POOL.with(|p| {
        let mut guard = p.borrow_mut();
        let pool = guard.as_mut()?;
        // Dropping the bridge terminates its worker.
        let lost_run = match slot {
            Slot::Sim(i) => {
                if let Some(s) = pool.sims.get_mut(i) {
                    *s = None;
                }
                pool.busy.get_mut(i).and_then(Option::take)
            }
            Slot::Today => {
                pool.today = None;
                None
            }
        };
        let lost_today = pool.today_on == Some(slot);
        let left = pool.live();
        pool.failure = Some(f.clone());
        pool.show_state();
        Some((lost_run, lost_today, left))
    }) else {
        return;
    };
    let after = if left == 0 {
        "No simulation worker is left: reload the page.".to_string()
    } else {
        format!("The page goes on with {left} worker(s); reload it to start all again.")
    };
    if SEARCH.with(|s| s.borrow().as_ref().is_some_and(|s| s.on.contains(&slot))) {
        end_search(
            state,
            Err(sentence(&format!(
                "{what} during the search. Confirm again{}",
                if left == 0 {
                    ": reload the page first"
                } else {
                    ""
                }
            ))),
        );
    }
    if lost_today && state.today_busy.get_untracked() {
        let again = if left == 0 {
            after.clone()
        } else {
            "Ask again: a simulation worker answers now.".to_string()
        };
        state.today.set(Some(Err(sentence(&format!(
            "{what} while working them out. {again}"
        )))));
        state.today_busy.set(false);
    }
    let current = RUN.with(|r| r.borrow().as_ref().map(|r| r.id));
    let Some(id) = current else {
        return;
    };
    match lost_run {
        // A worker that never loaded never started its job: the others take it over.
        Some((run, job)) if run == id && !f.loaded && left > 0 => {
            let idle = idle_workers();
            RUN.with(|r| {
                if let Some(run) = r.borrow_mut().as_mut() {
                    run.handed_on.push(job);
                    for w in idle {
                        send_next(run, w);
                    }
                }
            });
        }
        Some((run, _)) if run == id => fail_run(state, &what, &after),
        _ if left == 0 => fail_run(state, &what, &after),
        _ => {}
    }
}

/// Stops the current comparison because a worker failed.
fn fail_run(state: RunState, what: &str, after: &str) {
    state.status.set(Status::Failed(format!(
        "{what} while running paths of this comparison. {after}"
    )));
    cancel(state, false);
}

/// The live simulation workers with no job out.
fn idle_workers() -> Vec<usize> {
    POOL.with(|p| {
        p.borrow().as_ref().map_or(Vec::new(), |p| {
            (0..p.sims.len())
                .filter(|&i| p.sims[i].is_some() && p.busy[i].is_none())
                .collect()
        })
    })
}

/// `text` with its first letter capitalised (a message shown on its own).
fn sentence(text: &str) -> String {
    let mut c = text.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// Why no simulation worker is running (`failure`: the last one's), for a comparison
/// asked for then.
fn none_left(failure: Option<&Failure>) -> String {
    match failure {
        Some(f) if !f.loaded => format!(
            "the simulation workers could not load ({}). Reload the page.",
            f.message
        ),
        Some(f) => format!(
            "the simulation workers have stopped (the last: {}). Reload the page.",
            f.message
        ),
        None => "the simulation workers could not be started. Reload the page.".into(),
    }
}

thread_local! {
    /// The id of the latest "today's trades" request (older answers are ignored).
    static TODAY_ASKED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The largest run that recomputes by itself as inputs change: paths × years × policies.
pub const QUICK_WORK: u64 = 3_000;

/// How long the inputs must be still before a quick run recomputes.
const AUTO_RUN_DELAY: std::time::Duration = std::time::Duration::from_millis(600);

/// Whether a run of `paths` × `years` × `policies` is quick enough to recompute as the
/// advisor types.
fn is_quick(paths: u64, years: u64, policies: u64) -> bool {
    paths.saturating_mul(years).saturating_mul(policies) <= QUICK_WORK
}

/// The chunk plan: one single-path chunk per worker first (the fastest first result; the
/// first of them runs in parts on two workers, see [`send_first_in_parts`]),
/// then chunks of the regular size. Path 0, the recorded path whose trade list makes its
/// chunk the largest to read, follows the first single-path chunks, so reading it never
/// holds up the first partial result. Any split and any order give the same report.
fn plan(paths: u64, workers: usize) -> Vec<Range<u64>> {
    if paths <= 1 {
        return chunks(paths, 1);
    }
    let size = chunk_size(paths, workers as u64);
    let head = (workers as u64).min(paths - 1);
    let mut v: Vec<Range<u64>> = chunks(head, 1)
        .into_iter()
        .map(|r| r.start + 1..r.end + 1)
        .collect();
    v.push(0..1);
    v.extend(
        chunks(paths - 1 - head, size)
            .into_iter()
            .map(|r| r.start + 1 + head..r.end + 1 + head),
    );
    v
}

/// Sends run `run`'s `job` to simulation worker `worker` and marks it busy with the run;
/// false when there is no such worker or it has failed.
fn send_job(worker: usize, run: u64, job: Job) -> bool {
    POOL.with(|p| {
        let mut guard = p.borrow_mut();
        let Some(pool) = guard.as_mut() else {
            return false;
        };
        let (Some(Some(b)), Some(busy)) = (pool.sims.get(worker), pool.busy.get_mut(worker)) else {
            return false;
        };
        if !b.send(&job) {
            return false;
        }
        *busy = Some((run, job));
        true
    })
}

/// Gives worker `worker` the run's next chunk, if any is left.
fn send_next(run: &mut Run, worker: usize) {
    if let Some(job) = run.handed_on.pop() {
        if !send_job(worker, run.id, job.clone()) {
            run.handed_on.push(job);
        }
        return;
    }
    if run.next >= run.chunks.len() {
        return;
    }
    let index = run.next;
    let r = run.chunks[index].clone();
    let job = Job::Chunk {
        run: run.id,
        index,
        scenario: run.json.clone(),
        settings: run.settings,
        start: r.start,
        end: r.end,
    };
    if send_job(worker, run.id, job) {
        run.next += 1;
    }
}

/// Runs the run's first chunk, when it is a single path, in parts on the first two of
/// the `idle` workers (the policies split by [`policy_parts`]); returns the workers it
/// used (none when the chunk is not split: one idle worker, one policy, a longer chunk).
fn send_first_in_parts(run: &mut Run, idle: &[usize]) -> Vec<usize> {
    let (Some(first), [a, b, ..]) = (run.chunks.first().cloned(), idle) else {
        return Vec::new();
    };
    if run.next != 0 || first.end - first.start != 1 {
        return Vec::new();
    }
    let groups = policy_parts(&run.scenario, 2);
    if groups.len() != 2 {
        return Vec::new();
    }
    let mut used = Vec::new();
    for (&worker, policies) in [*a, *b].iter().zip(groups) {
        let job = Job::Part {
            run: run.id,
            scenario: run.json.clone(),
            settings: run.settings,
            path: first.start,
            policies,
        };
        if send_job(worker, run.id, job) {
            used.push(worker);
        }
    }
    // (A part that could not be sent leaves its policies missing: joining the parts then
    // fails the run with a message instead of waiting for it.)
    if !used.is_empty() {
        run.next = 1;
        run.parts = Some(Parts {
            expected: used.len(),
            got: Vec::new(),
            ms: 0.0,
        });
    }
    used
}

/// The report of the paths gathered so far: while the run goes on, without the chart
/// series (the partial view shows means only); complete, the whole report.
fn partial_report(run: &mut Run, complete: bool) -> Result<Report, String> {
    if complete {
        // The trade list is usually read long before the last chunk; if not, now.
        finish_trades(run, true)?;
    }
    let sim = Simulation::new(&run.scenario, &run.settings.options()).map_err(|e| e.to_string())?;
    Ok(if complete {
        sim.report(&run.gathered)
    } else {
        sim.summary(&run.gathered)
    })
}

/// The report of a cancelled run: paths `0..N` as a run of `N` paths reports them (`None`
/// before path 0 is in).
fn cancelled_report(run: &mut Run) -> Result<Option<Report>, String> {
    if run.prefix.end == 0 {
        return Ok(None);
    }
    finish_trades(run, true)?;
    let recorded = run.gathered.take_recorded();
    let prefix = std::mem::take(&mut run.prefix);
    prefix
        .report(&run.scenario, run.settings.options(), recorded)
        .map(Some)
}

/// Paths `0..end` of a run, reduced: chunks finish out of order, and the report of a
/// cancelled run is that of the paths from the first on without a gap — the same figures,
/// and the same report hash, as a run of `end` paths.
#[derive(Default)]
struct Prefix {
    acc: Accumulator,
    end: u64,
    /// Chunks in beyond `end`, by first path: their end and accumulator.
    held: std::collections::BTreeMap<u64, (u64, Accumulator)>,
}

impl Prefix {
    /// Adds chunk `range`'s accumulator, merged once every path before it is in.
    fn add(&mut self, range: Range<u64>, acc: Accumulator) -> Result<(), String> {
        self.held.insert(range.start, (range.end, acc));
        while let Some((end, acc)) = self.held.remove(&self.end) {
            self.acc.merge(acc).map_err(|e| e.to_string())?;
            self.end = end;
        }
        Ok(())
    }

    /// The report of paths `0..end` as a run of `end` paths with `options` otherwise, with
    /// the recorded path's trades when the prefix holds that path.
    fn report(
        mut self,
        scenario: &Scenario,
        mut options: SimOptions,
        recorded: Option<RecordedTrades>,
    ) -> Result<Report, String> {
        if let Some(r) = recorded.filter(|r| r.path < self.end) {
            self.acc.add_recorded(r);
        }
        options.paths = Some(self.end);
        let sim = Simulation::new(scenario, &options).map_err(|e| e.to_string())?;
        Ok(sim.report(&self.acc))
    }
}

/// Starts a comparison of `scenario` with `settings` (cancelling any run in flight).
fn start(state: RunState, scenario: Scenario, settings: RunSettings) {
    cancel(state, false);
    start_workers(state);
    let (workers, failure) = POOL.with(|p| {
        p.borrow()
            .as_ref()
            .map_or((0, None), |p| (p.live(), p.failure.clone()))
    });
    if workers == 0 {
        state
            .status
            .set(Status::Failed(none_left(failure.as_ref())));
        return;
    }
    let plan = plan(settings.paths, workers);
    let mut run = Run {
        id: next_id(),
        json: scenario.to_json_pretty(),
        scenario,
        settings,
        pending: plan.len(),
        chunks: plan,
        next: 0,
        gathered: Accumulator::new(),
        prefix: Prefix::default(),
        started: {
            // The benchmark times the first partial result from here.
            browser::mark("tollbooth:run-start");
            now()
        },
        last_partial: 0.0,
        worker_ms: 0.0,
        parts: None,
        trades: None,
        handed_on: Vec::new(),
    };
    // Idle workers start now; a worker still busy with a cancelled run's chunk picks up
    // this run's next chunk as soon as it answers.
    let idle = idle_workers();
    let used = send_first_in_parts(&mut run, &idle);
    for w in idle.into_iter().filter(|w| !used.contains(w)) {
        send_next(&mut run, w);
    }
    state.done.set(0);
    state.total.set(settings.paths);
    state.report.set(None);
    state.status.set(Status::Running);
    RUN.with(|r| *r.borrow_mut() = Some(run));
}

/// Stops feeding chunks; the partial result stays on the page. Chunks already out finish
/// in their workers and are ignored.
fn cancel(state: RunState, mark: bool) {
    let old = RUN.with(|r| r.borrow_mut().take());
    if let (Some(mut run), true) = (old, mark) {
        // The figures become the whole report of paths 0..N, the longest run of paths
        // from the first that is in (chunks finish out of order): the same report, hash
        // included, as a run of N paths, with the trade list if its reading had begun; the
        // count follows the report. Cancelled before path 0 is in (the first tens of
        // milliseconds), no run of any number of paths has those figures: none are shown.
        match cancelled_report(&mut run) {
            Ok(Some(r)) => {
                state.done.set(r.paths);
                state.report.set(Some(r));
            }
            Ok(None) => {
                state.done.set(0);
                state.report.set(None);
            }
            Err(_) => {}
        }
        state.status.set(Status::Cancelled);
    }
}

fn on_output(state: RunState, worker: usize, out: Done) {
    if out == Done::Ready {
        worker_ready(Slot::Sim(worker));
        return;
    }
    if let Done::Warm {
        result: Ok(json), ..
    } = out
    {
        if worker == 0 {
            browser::when_idle(move || browser::timed("tollbooth:warm-page", || warm_page(&json)));
        }
        return;
    }
    let (id, arrived) = match out {
        Done::Chunk {
            run,
            index,
            result,
            ms,
            paths,
            trades,
        } => (run, Arrived::Chunk(result, ms, paths, trades, index)),
        Done::Part {
            run, result, ms, ..
        } => (run, Arrived::Part(result, ms)),
        // Today's trades and break-even trials, asked of this worker when their own is
        // gone.
        other @ (Done::Today { .. } | Done::Pair { .. }) => return on_today(state, other),
        _ => return,
    };
    POOL.with(|p| {
        if let Some(b) = p.borrow_mut().as_mut().and_then(|p| p.busy.get_mut(worker)) {
            *b = None;
        }
    });
    let next = RUN.with(|cell| {
        let mut guard = cell.borrow_mut();
        let run = guard.as_mut()?;
        if run.id != id {
            // A cancelled run's chunk: the worker is free for the current run.
            send_next(run, worker);
            return None;
        }
        let (acc, paths, ms, range) = match arrived {
            Arrived::Chunk(result, ms, paths, trades, index) => {
                // The worker gets its next chunk before this one is read: it computes while
                // the page decodes and merges (a 10–15 ms task it would otherwise idle
                // through, a tenth of a chunk's time). A failed chunk stops the run instead.
                if result.is_ok() {
                    send_next(run, worker);
                }
                // The recorded path's trades are read in tasks of their own (the lowest
                // recorded path's, as a merge keeps).
                if let Some(t) = trades {
                    let lower = run.trades.as_ref().is_none_or(|p| t.path < p.path)
                        && run.gathered.recorded_path().is_none_or(|p| t.path < p);
                    if lower {
                        run.trades = Some(PendingTrades {
                            path: t.path,
                            json: t.policies,
                            rows: Vec::new(),
                        });
                        set_timeout(move || read_trades(state, id), std::time::Duration::ZERO);
                    }
                }
                (
                    browser::timed("tollbooth:decode", || {
                        result.and_then(|j| decode_accumulator(&j))
                    }),
                    paths,
                    ms,
                    run.chunks.get(index).cloned(),
                )
            }
            Arrived::Part(result, ms) => {
                let Some(parts) = run.parts.as_mut() else {
                    // Not expected: the worker is free for the run's next chunk.
                    send_next(run, worker);
                    return None;
                };
                parts.ms += ms;
                match result {
                    Ok(json) => parts.got.push(json),
                    Err(e) => {
                        state.status.set(Status::Failed(e));
                        return Some(After::Stop);
                    }
                }
                if parts.got.len() < parts.expected {
                    send_next(run, worker);
                    return None;
                }
                let parts = run.parts.take()?;
                let acc = browser::timed("tollbooth:decode", || {
                    Simulation::new(&run.scenario, &run.settings.options())
                        .map_err(|e| e.to_string())
                        .and_then(|sim| join_parts(&sim, &parts.got))
                });
                // The first chunk: one path. Its last part's worker takes the next chunk.
                send_next(run, worker);
                (acc, 1, parts.ms, run.chunks.first().cloned())
            }
        };
        let acc = match acc {
            Ok(a) => a,
            Err(e) => {
                state.status.set(Status::Failed(e));
                return Some(After::Stop);
            }
        };
        let held = match range {
            Some(r) => run.prefix.add(r, acc.clone()),
            None => Err("a chunk the run did not plan came back".to_string()),
        };
        if let Err(e) = held.and_then(|()| run.gathered.merge(acc).map_err(|e| e.to_string())) {
            state.status.set(Status::Failed(e));
            return Some(After::Stop);
        }
        run.worker_ms += ms;
        run.pending = run.pending.saturating_sub(1);
        state.done.update(|d| *d += paths);
        let complete = run.pending == 0;
        if complete {
            // The benchmark tells the tasks of the run from the final rendering by this.
            browser::mark("tollbooth:last-chunk");
        }
        // Partial results: the first at once, in this task (a single path's chunk is
        // small to read), then at most about once a second, built and shown in a task of
        // their own, so reading a chunk and redrawing the table never add up to one long
        // task on the page's thread.
        if !complete && run.last_partial == 0.0 {
            run.last_partial = now();
            return Some(After::Publish);
        }
        if complete || now() - run.last_partial > 1000.0 {
            run.last_partial = now();
            set_timeout(move || publish(state, id), std::time::Duration::ZERO);
        }
        None
    });
    match next {
        Some(After::Stop) => cancel(state, false),
        Some(After::Publish) => {
            browser::mark("tollbooth:first-chunk");
            browser::timed("tollbooth:first-partial", || publish(state, id));
        }
        None => {}
    }
}

/// What a worker sent back for the current run.
enum Arrived {
    /// A chunk's accumulator (JSON), the worker's milliseconds, the chunk's paths, the
    /// recorded path's trades if the chunk holds it, and the chunk's index in the plan.
    Chunk(Result<String, String>, f64, u64, Option<TradesJson>, usize),
    /// A part of the first chunk (JSON) and the worker's milliseconds.
    Part(Result<String, String>, f64),
}

/// Reads worker 0's warm-up path and builds its summary, once, when the page is idle
/// after loading: the page's first partial result then runs in compiled code too.
fn warm_page(json: &str) {
    let s = six_policies();
    if let (Ok(sim), Ok(acc)) = (
        Simulation::new(&s, &warm_up_options(&s)),
        decode_accumulator(json),
    ) {
        let mut gathered = Accumulator::new();
        if gathered.merge(acc).is_ok() {
            let _ = sim.summary(&gathered);
        }
    }
}

/// What the page does once a chunk is read.
enum After {
    /// Show the report so far now.
    Publish,
    /// The run failed: stop it.
    Stop,
}

/// Shows the report of run `id` so far; when every chunk is in, the whole report and the
/// end of the run.
fn publish(state: RunState, id: u64) {
    let finished = RUN.with(|cell| {
        let mut guard = cell.borrow_mut();
        let run = guard.as_mut().filter(|r| r.id == id)?;
        let complete = run.pending == 0;
        match browser::timed("tollbooth:report", || partial_report(run, complete)) {
            Ok(r) => state.report.set(Some(r)),
            Err(e) => {
                state.status.set(Status::Failed(e));
                return Some(());
            }
        }
        if complete {
            let workers = POOL.with(|p| p.borrow().as_ref().map_or(0, Pool::live));
            state.status.set(Status::Done(
                now() - run.started,
                workers,
                run.worker_ms / run.settings.paths.max(1) as f64,
            ));
            return Some(());
        }
        None
    });
    if finished.is_some() {
        cancel(state, false);
    }
}

/// Asks the pool's "today" worker for the household's trades today under policy `policy`.
fn ask_today(state: RunState, scenario: &Scenario, policy: usize) {
    start_workers(state);
    let id = next_id();
    TODAY_ASKED.with(|t| t.set(id));
    state.today_busy.set(true);
    state.today_hash.set(Some(scenario.hash_hex()));
    let sent = POOL.with(|p| {
        let mut guard = p.borrow_mut();
        let pool = guard.as_mut()?;
        // Today's own worker, or, when it is gone (or has just failed, before the page
        // has dropped it), a simulation worker.
        let job = Job::Today {
            run: id,
            scenario: scenario.to_json_pretty(),
            policy,
            as_of: scenario.as_of.to_string(),
        };
        let candidates = std::iter::once((Slot::Today, pool.today.as_ref())).chain(
            pool.sims
                .iter()
                .enumerate()
                .map(|(i, b)| (Slot::Sim(i), b.as_ref())),
        );
        let (slot, _) = candidates
            .filter_map(|(slot, b)| Some((slot, b?)))
            .find(|(_, b)| b.send(&job))?;
        pool.today_on = Some(slot);
        Some(())
    });
    if sent.is_none() {
        let failure = POOL.with(|p| p.borrow().as_ref().and_then(|p| p.failure.clone()));
        state
            .today
            .set(Some(Err(sentence(&none_left(failure.as_ref())))));
        state.today_busy.set(false);
    }
}

/// A whole number from `lo` to `hi` typed by the user (the paths and years settings), or a
/// message saying what is wrong with it. Commas are read by the scenario form's rule
/// ([`plain_number`]): `1,000` is a thousand, while `1,0` is refused rather than read as 10.
fn whole(text: &str, lo: u64, hi: u64) -> Result<u64, String> {
    let typed = text.trim();
    let Some(t) = plain_number(typed) else {
        return Err(format!(
            "a whole number from {lo} to {hi}: a comma may only separate thousands (1,000)"
        ));
    };
    match t.parse::<u64>() {
        Ok(v) if (lo..=hi).contains(&v) => Ok(v),
        _ => Err(format!("a whole number from {lo} to {hi}")),
    }
}

/// The results section of the overview.
#[component]
pub fn Results() -> impl IntoView {
    let ws = ws();
    let state = expect_context::<RunState>();
    let (paths, years, auto) = (state.paths, state.years, state.auto);
    let paths_ok = Memo::new(move |_| state.paths_ok());
    let years_ok = Memo::new(move |_| state.years_ok());
    let hash = Memo::new(move |_| ws.checked.with(|c| c.as_ref().ok().map(Scenario::hash_hex)));
    let compare = move |_| {
        // A pending automatic run is superseded.
        state.edits.update_value(|e| *e += 1);
        run_now(ws, state);
    };
    // The recorded path's trades do not change as later chunks arrive: the table is only
    // rebuilt when they do.
    let path_trades =
        Memo::new(move |_| state.report.with(|r| r.as_ref().map(|r| r.trades.clone())));
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
                <button type="button" data-testid="cancel" on:click=move |_| {
                        cancel(state, true);
                        // Cancel is disabled now: Compare takes the focus.
                        set_timeout(|| browser::focus_test_id("compare"), std::time::Duration::ZERO);
                    }
                    prop:disabled=move || !running()>"Cancel"</button>
                <label class="check">
                    <input type="checkbox" data-testid="auto-run" prop:checked=auto
                        on:change=move |ev| auto.set(event_target_checked(&ev)) />
                    {format!("Recompute quick runs as I edit (up to {} paths × years × policies)", fmt_value("count", QUICK_WORK as f64))}
                </label>
            </div>
            <RunProgress state />
            {move || match state.report.get() {
                None => view! {
                    <p class="muted" data-testid="results-empty">
                        "Results appear here once a comparison of the policies has run. Nothing has been computed yet."
                    </p>
                }.into_any(),
                // While paths are still coming in, only the table (means) is shown: the
                // page's thread stays free; the charts and the rest follow at the end.
                Some(r) if running() => view! { <PartialView report=r /> }.into_any(),
                Some(r) => {
                    let stale = match hash.get() {
                        Some(h) if h == r.scenario_hash => None,
                        Some(_) => Some("The scenario has changed since this comparison ran: compare again to update."),
                        None => Some("The scenario has problems to fix (see the list at the top): these results are from the scenario as it was when they ran."),
                    };
                    view! { <ReportView report=r stale /> }.into_any()
                }
            }}
            {move || (!running()).then(|| path_trades.get().map(|trades| {
                // Presentation mode masks names from the scenario on screen: rows of another
                // (or of none valid) cannot be masked, so they are not shown.
                let current = move || {
                    let report = state.report.with(|r| r.as_ref().map(|r| r.scenario_hash.clone()));
                    report.is_some() && report == hash.get()
                };
                let hidden = Signal::derive(move || ws.presenting.get() && !current());
                view! { <PathTrades trades hidden /> }
            }))}
            {move || (!running() && state.report.with(|r| r.is_some())).then(|| view! { <ConfirmPanel state hash /> })}
            <TodayPanel state hash />
        </section>
    }
}

/// Confirms a policy's break-even ticket fee by re-simulation ([`confirm_break_even`]) on
/// the paths of the report on screen, and shows the trials and the conclusion.
#[component]
fn ConfirmPanel(state: RunState, hash: Memo<Option<String>>) -> impl IntoView {
    let ws = ws();
    // The report's non-baseline policies (scenario order) with their estimates.
    let policies = Memo::new(move |_| {
        state.report.with(|r| {
            r.as_ref().map_or_else(Vec::new, |r| {
                r.policies
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| !p.baseline)
                    .map(|(i, p)| (i, p.name.clone()))
                    .collect::<Vec<_>>()
            })
        })
    });
    // The policy of the search on screen, if any (the panel is drawn again with every
    // new report).
    let chosen = RwSignal::new(
        state
            .confirm
            .with_untracked(|c| c.as_ref().map(|c| c.policy)),
    );
    let pick = move || {
        let list = policies.get();
        chosen
            .get()
            .filter(|c| list.iter().any(|(i, _)| i == c))
            .or_else(|| list.first().map(|(i, _)| *i))
    };
    let current = move || {
        let report = state
            .report
            .with(|r| r.as_ref().map(|r| r.scenario_hash.clone()));
        report.is_some() && report == hash.get()
    };
    let busy = move || {
        state
            .confirm
            .with(|c| c.as_ref().is_some_and(|c| c.result.is_none()))
    };
    let start = move |_| {
        let Some(policy) = pick() else { return };
        let Some(settings) = state.report.with_untracked(|r| {
            r.as_ref().map(|r| RunSettings {
                paths: r.paths,
                years: r.horizon_years,
                seed: r.seed,
            })
        }) else {
            return;
        };
        if let Some(s) = ws.checked.with_untracked(|c| c.as_ref().ok().cloned()) {
            confirm_break_even(state, s, settings, policy);
        }
    };
    let options = move || {
        policies
            .get()
            .into_iter()
            .map(|(i, name)| view! { <option value=i.to_string() selected=move || pick() == Some(i)>{name}</option> })
            .collect_view()
    };
    let shown = move || {
        state.confirm.get().map(|c| {
            let stale = hash.get().as_deref() != Some(c.scenario_hash.as_str());
            let n = c.trials.len();
            let rows = c
                .trials
                .iter()
                .map(|t| {
                    let fee = t.fee.map_or_else(|| "today's schedules".to_string(), usd);
                    view! {
                        <tr>
                            <td class="num">{fee}</td>
                            <td class="num">{usd(t.net_benefit)}</td>
                            <td class="num">{format!("{:+.1}", t.extra_tickets).replacen('-', "−", 1)}</td>
                            <td class="num">{t.estimate.map_or_else(|| "n/a".to_string(), usd)}</td>
                        </tr>
                    }
                })
                .collect_view();
            let settings = c.settings;
            let status = match &c.result {
                None => view! {
                    <p role="status" data-testid="confirm-status">
                        {format!("Re-simulating: {n} of at most {} runs done…", tollbooth_engine::simulate::confirm::MAX_TRIALS)}
                    </p>
                }
                .into_any(),
                Some(Err(e)) => view! { <p class="notice problem" data-testid="confirm-result">{e.clone()}</p> }.into_any(),
                Some(Ok(check)) => view! {
                    <p role="status" data-testid="confirm-result">
                        <strong>{check.conclusion()}</strong>
                        {format!(
                            " The table's estimate, with the trades held: {}. {} re-runs of the same {} paths × {} years (seed {}), every fee row's flat fee set to the trial fee.",
                            check.estimate.map_or_else(|| "n/a".to_string(), usd),
                            check.trials.len(),
                            settings.paths,
                            settings.years,
                            settings.seed,
                        )}
                    </p>
                }
                .into_any(),
            };
            view! {
                {stale.then(|| view! {
                    <p class="notice problem prints" data-testid="confirm-stale">"The scenario has changed since this search ran."</p>
                })}
                {status}
                <div class="table-scroll" tabindex="0" role="region" aria-label="Break-even re-runs">
                    <table class="grid" data-testid="confirm-trials">
                        <thead><tr>
                            <th scope="col">"Flat fee a ticket"</th>
                            <th scope="col">"Mean net benefit vs baseline"</th>
                            <th scope="col">"Extra tickets (mean)"</th>
                            <th scope="col">"Its linear estimate"</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
        })
    };
    view! {
        <div class="confirm" data-testid="confirm-panel">
            <h3>"Confirm a break-even fee"</h3>
            <p class="muted">
                "The break-even fees in the table hold each policy's trades fixed, but trades react to the fee. "
                "Re-simulating the policy and the baseline on the same paths, with every ticket's flat fee set to trial fees, finds where the mean net benefit really changes sign."
            </p>
            <div class="form-row">
                <label>
                    "Policy "
                    <select data-testid="confirm-policy" prop:disabled=busy
                        on:change=move |ev| chosen.set(event_target_value(&ev).parse().ok())>
                        {options}
                    </select>
                </label>
                <button type="button" data-testid="confirm-run" on:click=start
                    prop:disabled=move || busy() || !current() || pick().is_none()
                    title=move || (!current()).then_some("Compare again first: the scenario has changed since the results on screen.")>
                    "Re-simulate"
                </button>
                <button type="button" data-testid="confirm-cancel" on:click=move |_| {
                        cancel_search(state);
                        set_timeout(|| browser::focus_test_id("confirm-run"), std::time::Duration::ZERO);
                    }
                    prop:disabled=move || !busy()>"Stop"</button>
            </div>
            {shown}
        </div>
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
            Status::Done(ms, w, per_path) => format!(
                "Done: {total} paths in {:.1} s on {w} worker(s); {per_path:.1} ms per path in one worker.",
                ms / 1000.0
            ),
            Status::Cancelled => format!(
                "Cancelled after {done} of {total} paths; the figures below cover those paths."
            ),
            Status::Failed(e) => format!("The comparison stopped: {e}"),
        };
        Some(view! {
            <div class="run-status" role="status">
                <progress data-testid="run-progress" aria-hidden="true" max=total.to_string() value=done.to_string()>
                    {format!("{done} / {total}")}
                </progress>
                <span data-testid="run-status">{text}</span>
            </div>
        })
    }
}

/// The partial result of a run in progress: the side-by-side means so far.
#[component]
fn PartialView(report: Report) -> impl IntoView {
    let rows = summary::rows(&report);
    let heads = report
        .policies
        .iter()
        .map(|p| view! { <th scope="col" data-testid="policy-col">{p.name.clone()}</th> })
        .collect_view();
    let body = rows
        .iter()
        .map(|r| {
            let cells = r
                .cells
                .iter()
                .map(|s| view! { <td class="num">{fmt_value(&r.unit, s.mean)}</td> })
                .collect_view();
            view! {
                <tr data-metric=r.key.clone()>
                    <th scope="row" title=r.definition.clone()>{r.label.clone()}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <p class="muted" data-testid="partial-meta">
            {format!("So far: means over the first {} paths. Percentile ranges, charts and the trade list follow when the run ends.", report.paths)}
        </p>
        <div class="table-scroll" tabindex="0" role="region" aria-label="Comparison of the policies">
            <table class="grid compare" data-testid="compare-table">
                <thead><tr><th scope="col">"Metric"</th>{heads}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[component]
fn ReportView(report: Report, stale: Option<&'static str>) -> impl IntoView {
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
                            title="Trades more often than quarterly — trades of its own choosing (not investing contributions, raising withdrawals or paying taxes) on more than 4 days a year, on average over the paths — and its mean net benefit vs the baseline is negative.">
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
                    let best = r.best.contains(&i);
                    if !r.defined {
                        return view! {
                            <td class="num" title=summary::undefined_reason(&r.key)>
                                <span class="mean">"n/a"</span>
                            </td>
                        }
                        .into_any();
                    }
                    view! {
                        <td class="num" class:best=best>
                            <span class="mean">{fmt_value(&r.unit, s.mean)}</span>
                            {best.then(|| view! { <span class="best-mark" title="Best in this row">" ★"<span class="sr-only">" (best in row)"</span></span> })}
                            <span class="range">{format!("{} – {}", fmt_value(&r.unit, s.p5), fmt_value(&r.unit, s.p95))}</span>
                        </td>
                    }
                    .into_any()
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
            let v = break_even_text(p.break_even_ticket_fee, p.break_even_wins);
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
        .map(|(n, t)| format!("{n}: {}", trade_count(t)))
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
        {stale.map(|why| view! {
            <p class="notice problem prints" data-testid="results-stale">{why}" A printout's assumptions describe the scenario as it is now."</p>
        })}
        <p class="muted" data-testid="report-meta">
            {format!("{} paths × {} years from {}, seed {}, engine {}, scenario ", report.paths, report.horizon_years, report.start, report.seed, report.engine_version)}
            <code>{report.scenario_hash.clone()}</code>", report "
            <code data-testid="report-hash">{report.hash_hex()}</code>
            ". Each cell: mean, and the 5th–95th percentile range over paths."
        </p>
        <div class="table-scroll" tabindex="0" role="region" aria-label="Comparison of the policies">
            <table class="grid compare" data-testid="compare-table">
                <thead><tr><th scope="col">"Metric"</th>{heads}</tr></thead>
                <tbody>{body}</tbody>
                <tfoot>
                    <tr>
                        <th scope="row" title={BREAK_EVEN_DEFINITION}>
                            "Break-even ticket fee"
                        </th>
                        {break_even}
                    </tr>
                    <tr>
                        <th scope="row" title="Mean ticket charges (commissions; regulatory fees are their own row) ÷ mean net new assets (contributions less withdrawals); n/a without net new assets.">
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
        <ul class="assumptions" data-testid="assumptions">{assumptions}</ul>
    }
}

#[component]
fn TodayPanel(state: RunState, hash: Memo<Option<String>>) -> impl IntoView {
    let ws = ws();
    let policy = state.today_policy;
    // An answer for another scenario is marked as such; a policy index past the current
    // scenario's list falls back to its first policy.
    let stale = move || state.today.with(|t| t.is_some()) && state.today_hash.get() != hash.get();
    // Presenting, names are masked from the scenario on screen: an answer of another (or
    // of none valid) cannot be.
    let hidden = move || ws.presenting.get() && (stale() || hash.get().is_none());
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
    Effect::new(move |_| {
        let n = names.with(Vec::len);
        if policy.get_untracked() >= n && n > 0 {
            policy.set(0);
        }
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
        {move || stale().then(|| view! {
            <p class="notice problem prints" data-testid="today-stale">
                "The scenario has changed since these trades were worked out: ask again to update them."
            </p>
        })}
        {move || (hidden() && state.today.with(|t| t.is_some())).then(|| view! {
            <p class="muted" data-testid="today-hidden">"Hidden in presentation mode: these trades are of another scenario, whose names cannot be masked."</p>
        })}
        {move || (!hidden()).then(|| state.today.get().map(|r| match r {
            Err(e) => view! { <p class="field-error" role="alert" data-testid="today-error">{e}</p> }.into_any(),
            Ok(t) => {
                let csv = summary::today_csv(&t);
                let empty = t.trades.is_empty();
                let sum = |f: &dyn Fn(&crate::jobs::TodayRow) -> f64| t.trades.iter().map(f).sum::<f64>();
                let buys = sum(&|x| if x.side == "buy" { x.notional } else { 0.0 });
                let sells = sum(&|x| if x.side == "sell" { x.notional } else { 0.0 });
                let (cost, regulatory) = (sum(&|x| x.cost), sum(&|x| x.regulatory));
                let year = t.year_tax;
                // Presentation mode masks the client's names on screen (not in the export).
                let mask = ws.presenting.get().then(|| ws.checked.with(|c| c.as_ref().ok().cloned())).flatten();
                let shown = |text: &str| mask.as_ref().map_or_else(|| text.to_string(), |s| ops::mask_names(s, text));
                let account = |id: &str| mask.as_ref().map_or_else(|| id.to_string(), |s| ops::masked_account(s, id));
                let rows = t.trades.iter().map(|x| view! {
                    <tr>
                        <td>{account(&x.account)}</td>
                        <td>{x.symbol.clone()}</td>
                        <td>{x.side.clone()}</td>
                        <td class="num">{format::shares(x.quantity)}</td>
                        <td class="num">{usd(x.notional)}</td>
                        <td class="num">{usd(x.cost)}</td>
                        <td class="num" title=x.rates.clone()>{usd(x.regulatory)}</td>
                        <td class="num">{usd(x.tax_effect)}</td>
                        <td class="lots">{x.lots.clone()}</td>
                        <td>{x.reason.replace('_', " ")}</td>
                        <td class="why">{shown(&x.explanation)}</td>
                    </tr>
                }).collect_view();
                view! {
                    <p class="muted" data-testid="today-status">
                        {shown(&if t.status == "rules" {
                            format!("{} on {}: {} ticket(s) by the policy's own rules. {}", t.policy, t.as_of, t.trades.len(), t.messages.join(" "))
                        } else {
                            format!("{} on {}: {} ticket(s) from the household optimizer, solver status {}. {}", t.policy, t.as_of, t.trades.len(), t.status.replace('_', " "), t.messages.join(" "))
                        })}
                    </p>
                    {(!empty).then(|| view! {
                        <div class="table-scroll" tabindex="0" role="region" aria-label="Today's trades">
                            <table class="grid today" data-testid="today-table">
                                <thead><tr>
                                    <th scope="col">"Account"</th><th scope="col">"Security"</th><th scope="col">"Side"</th>
                                    <th scope="col" class="num">"Shares"</th><th scope="col" class="num">"Notional"</th>
                                    <th scope="col" class="num" title="Everything the ticket costs: commission, SEC + FINRA fees, half-spread and market impact">"Trading cost"</th>
                                    <th scope="col" class="num" title="SEC Section 31 and FINRA TAF; hover a value for the rates applied">"Of which SEC + FINRA"</th>
                                    <th scope="col" class="num" title="The sale's gain as the ledger recognizes it (proceeds net of the ticket's costs, a loss washed by a purchase disallowed) at the profile's marginal rates, as if the year's other gains absorbed it (negative: a saving). The total nets the list for the year">"Tax effect"</th>
                                    <th scope="col">"Lots relieved"</th>
                                    <th scope="col">"Reason"</th><th scope="col">"Why"</th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                                <tfoot>
                                    <tr data-testid="today-totals">
                                        <th scope="row" colspan="3">{format!("Total, {} ticket(s)", t.trades.len())}</th>
                                        <td></td>
                                        <td class="num" title="Traded: bought plus sold">{usd(buys + sells)}</td>
                                        <td class="num">{usd(cost)}</td>
                                        <td class="num">{usd(regulatory)}</td>
                                        <td class="num" data-testid="today-year-tax"
                                            title="This year's tax with the list minus without it: its gains and losses netted with each other and the loss carried in; a net loss offsets ordinary income up to the yearly limit, the rest carries forward">{usd(year.tax)}</td>
                                        <td colspan="3" class="muted">{format!("bought {}, sold {}", usd(buys), usd(sells))}</td>
                                    </tr>
                                    {(year.carried_forward.abs() > 0.005).then(|| view! {
                                        <tr data-testid="today-carried">
                                            <td colspan="11" class="muted">{if year.carried_forward > 0.0 {
                                                format!(
                                                    "This year's tax is netted: {} of the list's loss is over the yearly limit on offsetting ordinary income and carries forward to later years.",
                                                    usd(year.carried_forward)
                                                )
                                            } else {
                                                format!(
                                                    "This year's tax is netted: the list's gains use {} of the loss carried in, which later years no longer have.",
                                                    usd(-year.carried_forward)
                                                )
                                            }}</td>
                                        </tr>
                                    })}
                                </tfoot>
                            </table>
                        </div>
                    })}
                    <button type="button" data-testid="export-today" on:click=move |_| {
                        let _ = browser::download("todays-trades.csv", "text/csv", &csv);
                    }>"Export today's trades (CSV)"</button>
                }.into_any()
            }
        }))}
    }
}

/// Rows per page of the recorded path's trade table.
const TRADES_PAGE: usize = 50;

/// The recorded path's trades, one policy at a time, a page at a time (the CSV export
/// has them all).
/// A policy's orders on the recorded path, counted as the report counts trades: "151
/// trades and 293 dividend reinvestments" (reinvestments are orders, not trades).
fn trade_count(rows: &[TradeRow]) -> String {
    let drip = rows
        .iter()
        .filter(|r| r.reason == tollbooth_engine::simulate::Reason::DividendReinvestment)
        .count();
    if drip > 0 {
        format!(
            "{} trades and {drip} dividend reinvestments",
            rows.len() - drip
        )
    } else {
        format!("{} trades", rows.len())
    }
}

#[component]
fn PathTrades(trades: TradeList, hidden: Signal<bool>) -> impl IntoView {
    let policy = RwSignal::new(0usize);
    let page = RwSignal::new(0usize);
    let path = trades.path;
    let trades = StoredValue::new(trades);
    let names = trades.with_value(|t| {
        t.policies
            .iter()
            .enumerate()
            .map(|(i, (n, rows))| {
                view! {
                    <option value=i.to_string()>{format!("{n} ({})", trade_count(rows))}</option>
                }
            })
            .collect_view()
    });
    let count =
        move || trades.with_value(|t| t.policies.get(policy.get()).map_or(0, |p| p.1.len()));
    let pages = move || count().div_ceil(TRADES_PAGE).max(1);
    let ws = ws();
    let rows = move || {
        let first = page.get() * TRADES_PAGE;
        // Presentation mode masks the accounts on screen (not in the export).
        let mask = ws
            .presenting
            .get()
            .then(|| ws.checked.with(|c| c.as_ref().ok().cloned()))
            .flatten();
        let account = |id: &str| {
            mask.as_ref()
                .map_or_else(|| id.to_string(), |s| ops::masked_account(s, id))
        };
        trades.with_value(|t| {
            t.policies
                .get(policy.get())
                .map(|(_, rows)| {
                    rows.iter()
                        .skip(first)
                        .take(TRADES_PAGE)
                        .map(|r| {
                            let reason = serde_json::to_string(&r.reason)
                                .unwrap_or_default()
                                .trim_matches('"')
                                .replace('_', " ");
                            view! {
                                <tr>
                                    <td>{r.date.to_string()}</td>
                                    <td>{account(&r.account)}</td>
                                    <td>{r.symbol.clone()}</td>
                                    <td>{if r.side == Side::Buy { "buy" } else { "sell" }}</td>
                                    <td class="num">{format::shares(r.quantity)}</td>
                                    <td class="num">{usd(r.price)}</td>
                                    <td class="num">{usd(r.commission)}</td>
                                    <td class="num" title=r.rates.clone()>{usd(r.regulatory)}</td>
                                    <td class="num">{usd(r.spread)}</td>
                                    <td class="num">{usd(r.realized_gain)}</td>
                                    <td class="num">{usd(r.disallowed)}</td>
                                    <td class="lots">{r.lots.iter().map(|l| if l.label.is_empty() { format!("{} sh of {}", format::shares(l.quantity), l.acquired) } else { format!("{}: {} sh of {}", l.label, format::shares(l.quantity), l.acquired) }).collect::<Vec<_>>().join("; ")}</td>
                                    <td>{reason}</td>
                                </tr>
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    };
    let shown = move || {
        let n = count();
        let first = (page.get() * TRADES_PAGE).min(n);
        let last = (first + TRADES_PAGE).min(n);
        if n == 0 {
            "No trades on this path.".to_string()
        } else {
            let of = trades.with_value(|t| {
                t.policies
                    .get(policy.get())
                    .map_or_else(String::new, |(_, rows)| trade_count(rows))
            });
            format!(
                "Orders {} to {last} of {n} on path {path} ({of}).",
                first + 1
            )
        }
    };
    view! {
        <h3>"Trades on one path"</h3>
        <div class="form-row">
            <label>
                "Policy"
                <select data-testid="path-trades-policy" on:change=move |ev| {
                    policy.set(event_target_value(&ev).parse().unwrap_or(0));
                    page.set(0);
                }>{names}</select>
            </label>
            <button type="button" data-testid="path-trades-prev"
                prop:disabled=move || page.get() == 0
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"Previous"</button>
            <button type="button" data-testid="path-trades-next"
                prop:disabled={move || page.get() + 1 >= pages()}
                on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
            <span class="muted" role="status" data-testid="path-trades-shown">{shown}</span>
        </div>
        {move || hidden.get().then(|| view! {
            <p class="muted" data-testid="path-trades-hidden">"Hidden in presentation mode: these trades are of another scenario, whose names cannot be masked."</p>
        })}
        <div class="table-scroll" tabindex="0" role="region" aria-label="Trades on one path" class:hidden=move || hidden.get()>
            <table class="grid trades" data-testid="path-trades">
                <thead><tr>
                    <th scope="col">"Date"</th><th scope="col">"Account"</th><th scope="col">"Security"</th>
                    <th scope="col">"Side"</th><th scope="col" class="num">"Shares"</th>
                    <th scope="col" class="num">"Price"</th><th scope="col" class="num" title="This order's part of its ticket's commission: a second order of the same account, security, side and day adds no flat fee, so it can show $0.00.">"Commission"</th>
                    <th scope="col" class="num" title="SEC Section 31 and FINRA TAF; hover a value for the rates applied">"SEC + FINRA"</th><th scope="col" class="num">"Spread + impact"</th>
                    <th scope="col" class="num" title=REALIZED_GAIN_DEFINITION>"Realized gain"</th><th scope="col" class="num" title="Loss disallowed by the wash-sale rule: added to the replacement shares' basis, or lost for good when they were bought in an IRA, Roth or 401(k)">"Disallowed loss"</th>
                    <th scope="col">"Lots relieved (shares of the purchase date)"</th>
                    <th scope="col">"Reason"</th>
                </tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// The trade list's realized gain (the column's tooltip), as the engine books a sale: its
/// proceeds at the mid price net of the whole cost the order incurred, spread and impact
/// included, less the basis relieved (a purchase's basis carries its costs the same way).
pub const REALIZED_GAIN_DEFINITION: &str = "The sale's recognized gain as the ledger books it: proceeds at the mid price net of all of this order's trading costs (commission, SEC + FINRA fees, half-spread and market impact), less the basis relieved (which includes what its purchases cost the same way), plus any disallowed loss (final: net of washes by purchases up to 30 days after the sale)";

/// The break-even row's definition (the header's tooltip).
pub const BREAK_EVEN_DEFINITION: &str = "The flat ticket fee at which the policy's mean net benefit vs the baseline would be zero with its trades unchanged, if every ticket that pays a flat fee today paid that fee instead (a side the schedule does not charge stays free; a ticket at the schedule's minimum starts paying more once the fee passes its minimum, one at its maximum does not move). Each extra ticket counts at what a dollar of fee costs in after-tax wealth at the horizon: less its tax deduction (a taxable account's gain is lower; a traditional IRA's value is taxed), plus the growth it forgoes at the target model's expected return. \"up to $X\": it buys more such tickets than the baseline and beats it at fees up to $X (\"never\": not even at no fee); \"from $X\": it buys fewer and beats the baseline at fees from $X (\"at any fee\": already at no fee). An estimate: trades react to the fee (the cost-aware optimizer weighs it; every policy sizes its buys to the cash left after the ticket and skips a sale smaller than its ticket), so far from today's fee the true crossing can differ a lot — \"Confirm a break-even fee\" under the table finds it by re-simulation. n/a: the baseline, or a policy with as many such tickets as the baseline.";

/// A break-even cell: the fee and the side of it on which the policy wins.
pub fn break_even_text(fee: Option<f64>, wins: Option<BreakEvenSide>) -> String {
    match (fee, wins) {
        (Some(f), Some(BreakEvenSide::Above)) if f <= 0.0 => "at any fee".to_string(),
        (Some(f), Some(BreakEvenSide::Above)) => format!("from {}", usd(f)),
        (Some(f), _) if f <= 0.0 => "never".to_string(),
        (Some(f), _) => format!("up to {}", usd(f)),
        (None, _) => "n/a".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn break_even_cells_say_which_side_wins() {
        let below = Some(BreakEvenSide::Below);
        let above = Some(BreakEvenSide::Above);
        assert_eq!(break_even_text(Some(29.125), below), "up to $29.13");
        assert_eq!(break_even_text(Some(181.1), above), "from $181.10");
        assert_eq!(break_even_text(Some(-1.48), below), "never");
        assert_eq!(break_even_text(Some(-4.0), above), "at any fee");
        assert_eq!(break_even_text(None, None), "n/a");
    }

    /// Regression: a cancelled run's assumptions said the paths asked for (200) where the
    /// table had 33, and its report hash matched no run: its paths were whichever chunks
    /// had come back. It reports paths 0..N, the report of a run of N paths.
    #[test]
    fn a_cancelled_run_reports_its_paths_from_the_first_as_a_run_of_as_many() {
        let s = tollbooth_engine::scenario::Scenario::demo();
        let settings = RunSettings {
            paths: 12,
            years: 1,
            seed: 7,
        };
        let sim = Simulation::new(&s, &settings.options()).unwrap();
        let plan = plan(settings.paths, 2);
        let mut prefix = Prefix::default();
        let mut recorded = None;
        // Chunks back out of order, the one after path 3's still out.
        let gap = plan.iter().position(|r| r.start == 3).unwrap();
        for (i, r) in plan.iter().enumerate().rev() {
            if i == gap {
                continue;
            }
            let mut acc = sim.run_range(r.clone()).unwrap();
            if let Some(t) = acc.take_recorded() {
                recorded = Some(t);
            }
            prefix.add(r.clone(), acc).unwrap();
        }
        assert_eq!(prefix.end, 3);
        let report = prefix.report(&s, settings.options(), recorded).unwrap();
        let alone = tollbooth_engine::simulate::simulate(
            &s,
            &SimOptions {
                paths: Some(3),
                ..settings.options()
            },
        )
        .unwrap();
        assert_eq!(report.paths, 3);
        assert!(
            report.assumptions[0].starts_with("3 paths of "),
            "{:?}",
            report.assumptions[0]
        );
        assert!(!report.trades.policies.is_empty());
        assert_eq!(report.hash_hex(), alone.hash_hex());
    }

    #[test]
    fn the_plan_covers_every_path_once_small_chunks_first() {
        for paths in [1u64, 2, 7, 8, 50, 500] {
            for workers in 1..=8usize {
                let p = plan(paths, workers);
                let mut sorted = p.clone();
                sorted.sort_by_key(|r| r.start);
                let mut next = 0;
                for r in &sorted {
                    assert_eq!(r.start, next);
                    assert!(r.end > r.start);
                    next = r.end;
                }
                assert_eq!(next, paths);
                // One path per worker first; the recorded path 0 is not among them
                // (unless it is the only path).
                let head = workers.min(paths as usize - 1).max(1);
                for r in &p[..head] {
                    assert_eq!(r.end - r.start, 1);
                    assert!(paths == 1 || r.start != 0, "{paths} {workers} {p:?}");
                }
            }
        }
        assert_eq!(whole(" 1,000 ", 1, 5000), Ok(1000));
        assert!(is_quick(100, 10, 3));
        assert!(!is_quick(500, 10, 3));
        assert!(!is_quick(u64::MAX, 2, 2));
        assert!(whole("0", 1, 5).is_err());
    }

    #[test]
    fn the_realized_gain_tooltip_names_every_cost_the_engine_nets_from_proceeds() {
        // The engine nets the order's whole incurred cost (`TicketCost::total`) from a
        // sale's proceeds, spread and impact included, not only the billed fees.
        for cost in ["commission", "SEC + FINRA", "spread", "market impact"] {
            assert!(REALIZED_GAIN_DEFINITION.contains(cost), "{cost}");
        }
    }

    #[test]
    fn a_paths_or_years_comma_that_is_not_a_thousands_separator_is_refused_not_dropped() {
        // "1,0" was read as 10 and "1,2,3" as 123.
        assert_eq!(whole("1,250", 1, 5000), Ok(1250));
        for typed in ["1,0", "1,2,3", "12,5"] {
            let err = whole(typed, 1, 5000).unwrap_err();
            assert!(
                err.contains("comma may only separate thousands"),
                "{typed}: {err}"
            );
        }
    }
}
