//! `tollbooth bench [--dir DIR] [--repeat K] [--quick] [--json]`: the engine against the
//! established tools on the shared reference problems, in one run.
//!
//! For every file under `DIR/p1 … DIR/p4` (default `../shared/bench`) it times the
//! engine and checks its answer against the stored reference, and sets the time beside
//! the peer's recorded time:
//!
//! - **P1** (convex rebalance): the default method (build + solve), the warm re-solve
//!   (`set_current` over the `warm_start_w0` variants, on a built optimizer) and Clarabel
//!   from Rust (`Method::Clarabel`, solver built each time) vs Clarabel's call, full cvxpy
//!   and warm cvxpy as recorded in the README (N = 50 and N = 500 only); objective
//!   relative error vs the KKT-certified optimum.
//! - **P2** (fixed fee per traded name): our time, gap vs the proven optimum, SCIP's time
//!   and the speed-up.
//! - **P3** (five-year daily backtest): calendar and SPO times vs cvxportfolio's, NAV error
//!   (calendar) and turnover difference (SPO).
//! - **P4** (Ledoit–Wolf): our time, error vs scikit-learn.
//! - **Simulator, default scenario** ([`simulate::six_policies`]: 3 accounts, 21 ETFs,
//!   10 years of business days, 6 policies): 500 paths (`--quick`: 4; `--sim-paths N`) on one thread and on
//!   every core, time per path; both runs must give the same report hash.
//!
//! Times are medians over repeats: by default as many as give ≥ 0.2 s of measured time
//! per case (at least 5); `--repeat K` fixes K; `--quick` runs once and only N ≤ 50.
//! Parsing and set-up are never timed. Each problem family is a [`Section`] (a table, a
//! one-line summary and a JSON value), so a new comparison is one more section.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::output;
use anyhow::{bail, Context};
use serde::Deserialize;
use serde_json::{json, Value};
use tollbooth_engine::backtest::{run_calendar, run_spo, P3Instance};
use tollbooth_engine::market::ledoit_wolf;
use tollbooth_engine::optimize::instance::ReferenceInstance;
use tollbooth_engine::optimize::{Method, Optimizer, Settings, Status};
use tollbooth_engine::simulate::{self, SimOptions, Simulation};

const USAGE: &str =
    "usage: tollbooth bench [--dir DIR] [--repeat K] [--quick] [--sim-paths N] [--json]";

/// Measured time wanted per case when the repeat count is not fixed, seconds.
const BUDGET_S: f64 = 0.2;
/// Fewest repeats when the count is not fixed.
const MIN_REPEATS: usize = 5;
/// Most repeats when the count is not fixed (microsecond solves).
const MAX_REPEATS: usize = 20_000;
/// Largest N under `--quick`.
const QUICK_MAX_N: usize = 50;
/// Paths of the default scenario (the performance target's size).
const SIM_PATHS: u64 = 500;
/// Paths of the default scenario under `--quick`.
const SIM_QUICK_PATHS: u64 = 4;
/// Horizon of the default scenario, years.
const SIM_YEARS: u32 = 10;

/// Peer timings for P1 recorded in the README (median ms on this machine class; the P1
/// files carry none): (N, Clarabel's solve call, full cvxpy, warm cvxpy).
const P1_README_PEERS_MS: [(usize, f64, f64, f64); 2] =
    [(50, 1.0, 14.0, 1.8), (500, 9.5, 20.0, 9.9)];

/// Run the subcommand.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return output::println(USAGE);
    }
    let opts = Options::parse(args)?;
    if cfg!(debug_assertions) {
        eprintln!(
            "tollbooth bench: this is a debug build; times are not representative \
             (cargo run --release -p tollbooth-cli --bin tollbooth -- bench)"
        );
    }
    let sections = [
        p1(&opts).context("P1")?,
        p2(&opts).context("P2")?,
        p3(&opts).context("P3")?,
        p4(&opts).context("P4")?,
        simulator(&opts).context("simulator")?,
    ];
    if opts.json {
        let mut out = serde_json::Map::new();
        out.insert(
            "build".into(),
            json!(if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }),
        );
        out.insert("quick".into(), json!(opts.quick));
        out.insert(
            "repeat".into(),
            match opts.repeat {
                Repeat::Fixed(k) => json!(k),
                Repeat::Budget => json!("auto"),
            },
        );
        for s in sections {
            out.insert(
                s.key.into(),
                json!({ "rows": s.rows, "summary": s.summary, "summary_text": s.summary_text }),
            );
        }
        output::println(&serde_json::to_string_pretty(&Value::Object(out))?)
    } else {
        let text: Vec<String> = sections
            .iter()
            .map(|s| format!("{}\n{}{}\n", s.title, s.table.render(), s.summary_text))
            .collect();
        output::print(&text.join("\n"))
    }
}

#[derive(Debug, Clone)]
struct Options {
    dir: PathBuf,
    repeat: Repeat,
    quick: bool,
    /// Paths of the default scenario (`--sim-paths`; default 500, `--quick` 4).
    sim_paths: Option<u64>,
    json: bool,
}

impl Options {
    fn parse(args: &[String]) -> anyhow::Result<Options> {
        let mut dir = PathBuf::from("../shared/bench");
        let mut repeat = None;
        let mut quick = false;
        let mut sim_paths = None;
        let mut json = false;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let (flag, inline) = match a.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            let mut value = |name: &str| -> anyhow::Result<String> {
                match &inline {
                    Some(v) => Ok(v.clone()),
                    None => it
                        .next()
                        .cloned()
                        .with_context(|| format!("`{name}` needs a value\n{USAGE}")),
                }
            };
            match flag {
                "--dir" => dir = PathBuf::from(value("--dir")?),
                "--repeat" => {
                    let v = value("--repeat")?;
                    let k: usize =
                        v.parse().ok().filter(|&k| k > 0).with_context(|| {
                            format!("`--repeat {v}`: a positive integer expected")
                        })?;
                    repeat = Some(k);
                }
                "--sim-paths" => {
                    let v = value("--sim-paths")?;
                    let n: u64 = v.parse().ok().filter(|&n| n > 0).with_context(|| {
                        format!("`--sim-paths {v}`: a positive integer expected")
                    })?;
                    sim_paths = Some(n);
                }
                "--quick" if inline.is_none() => quick = true,
                "--json" if inline.is_none() => json = true,
                _ => bail!("unknown argument `{a}`\n{USAGE}"),
            }
        }
        if !dir.join("p1").is_dir() {
            bail!(
                "{}: no reference problems here (expected p1/ … p4/); pass `--dir`",
                dir.display()
            );
        }
        let repeat = match (repeat, quick) {
            (Some(k), _) => Repeat::Fixed(k),
            (None, true) => Repeat::Fixed(1),
            (None, false) => Repeat::Budget,
        };
        Ok(Options {
            dir,
            repeat,
            quick,
            sim_paths,
            json,
        })
    }

    fn keeps(&self, n: usize) -> bool {
        !self.quick || n <= QUICK_MAX_N
    }
}

/// How many times a case runs.
#[derive(Debug, Clone, Copy)]
enum Repeat {
    /// Exactly K passes.
    Fixed(usize),
    /// At least [`MIN_REPEATS`] passes and [`BUDGET_S`] of measured time.
    Budget,
}

/// Run `pass` (which times what it measures and pushes the samples, in seconds) until the
/// repeat rule is met; the samples.
fn repeat(
    rule: Repeat,
    mut pass: impl FnMut(&mut Vec<f64>) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<f64>> {
    let mut samples = Vec::new();
    let mut passes = 0;
    loop {
        pass(&mut samples)?;
        passes += 1;
        let done = match rule {
            Repeat::Fixed(k) => passes >= k,
            Repeat::Budget => {
                passes >= MAX_REPEATS
                    || (passes >= MIN_REPEATS && samples.iter().sum::<f64>() >= BUDGET_S)
            }
        };
        if done {
            return Ok(samples);
        }
    }
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        0.5 * (s[m - 1] + s[m])
    }
}

fn rel_err(x: f64, reference: f64) -> f64 {
    if reference == 0.0 {
        x.abs()
    } else {
        ((x - reference) / reference).abs()
    }
}

/// The JSON files of one family, sorted by name.
fn files(dir: &Path, family: &str) -> anyhow::Result<Vec<PathBuf>> {
    let sub = dir.join(family);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&sub).with_context(|| format!("reading {}", sub.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The fields every reference file starts with.
#[derive(Deserialize)]
struct Header {
    problem: String,
    n: usize,
}

/// Read one file if its size passes the `--quick` filter: its text.
fn read_kept(path: &Path, problem: &str, opts: &Options) -> anyhow::Result<Option<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let h: Header = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a reference problem", path.display()))?;
    if h.problem != problem {
        bail!(
            "{}: problem `{}`, expected `{problem}`",
            path.display(),
            h.problem
        );
    }
    Ok(opts.keeps(h.n).then_some(text))
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Optimal => "optimal",
        Status::Infeasible => "infeasible",
        Status::IterationLimit => "iteration_limit",
        Status::NodeLimit => "node_limit",
        Status::TimeLimit => "time_limit",
        Status::NumericalError => "numerical_error",
    }
}

fn f64_at(v: &Value, path: &[&str]) -> Option<f64> {
    path.iter().try_fold(v, |v, k| v.get(k))?.as_f64()
}

// ---------------------------------------------------------------------------------------
// Output: one section per problem family.

/// One problem family's comparison.
struct Section {
    /// JSON key (`p1` …).
    key: &'static str,
    /// Heading above the table.
    title: String,
    /// The table.
    table: Table,
    /// Machine-readable rows.
    rows: Vec<Value>,
    /// Machine-readable summary.
    summary: Value,
    /// One line under the table.
    summary_text: String,
}

/// A plain-text table: the first column left-aligned, the others right-aligned.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    fn render(&self) -> String {
        let cols = self.header.len();
        let mut width = vec![0; cols];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |row: &[String]| {
            let mut s = String::new();
            for (c, (cell, &w)) in row.iter().zip(&width).enumerate() {
                let pad = w - cell.chars().count();
                if c > 0 {
                    s.push_str("  ");
                    s.push_str(&" ".repeat(pad));
                    s.push_str(cell);
                } else {
                    s.push_str(cell);
                    s.push_str(&" ".repeat(pad));
                }
            }
            s.trim_end().to_string() + "\n"
        };
        let mut out = line(&self.header);
        let total: usize = width.iter().sum::<usize>() + 2 * (cols.saturating_sub(1));
        out.push_str(&"-".repeat(total));
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

/// A duration in seconds, in the unit that reads best.
fn fmt_time(s: f64) -> String {
    if !s.is_finite() {
        "—".into()
    } else if s < 1e-3 {
        format!("{:.1} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{s:.2} s")
    }
}

fn fmt_opt_time(s: Option<f64>) -> String {
    s.map_or_else(|| "—".into(), fmt_time)
}

fn fmt_err(e: f64) -> String {
    if e == 0.0 {
        "0".into()
    } else {
        format!("{e:.1e}")
    }
}

fn fmt_ratio(r: Option<f64>) -> String {
    match r {
        Some(r) if r.is_finite() && r >= 100.0 => format!("{r:.0}×"),
        Some(r) if r.is_finite() => format!("{r:.1}×"),
        _ => "—".into(),
    }
}

fn ratio(peer: Option<f64>, ours: f64) -> Option<f64> {
    peer.filter(|_| ours > 0.0).map(|p| p / ours)
}

fn max_of(v: impl IntoIterator<Item = f64>) -> f64 {
    v.into_iter().fold(0.0, f64::max)
}

fn mean_of(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

// ---------------------------------------------------------------------------------------
// P1: one convex rebalance.

fn p1(opts: &Options) -> anyhow::Result<Section> {
    let mut table = Table::new(&[
        "instance",
        "N",
        "ours",
        "ours warm",
        "Clarabel (Rust)",
        "Clarabel call",
        "cvxpy",
        "cvxpy warm",
        "vs cvxpy",
        "warm vs cvxpy",
        "max rel. err",
    ]);
    let mut rows = Vec::new();
    let mut worst = [0.0f64; 3];
    let mut notes = Vec::new();
    for path in files(&opts.dir, "p1")? {
        let Some(text) = read_kept(&path, "P1", opts)? else {
            continue;
        };
        let inst: ReferenceInstance = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid P1 instance", path.display()))?;
        inst.check()
            .with_context(|| format!("{}: not a valid P1 instance", path.display()))?;
        let id = inst.id.clone();
        let problem = inst.to_problem();
        let n = problem.n();
        let reference = f64_at(&inst.reference, &["objective"])
            .with_context(|| format!("{id}: no reference.objective"))?;
        let base = Settings::builder()
            .trade_tol(inst.trade_tol.unwrap_or(1e-9))
            .build()?;
        let clarabel = Settings::builder()
            .trade_tol(inst.trade_tol.unwrap_or(1e-9))
            .method(Method::Clarabel)
            .build()?;

        // Cold: build + solve, as `tollbooth solve` does.
        let mut cold_sol = None;
        let cold = repeat(opts.repeat, |t| {
            let settings = base.clone();
            let start = Instant::now();
            let mut opt = Optimizer::new(&problem, settings).with_context(|| id.clone())?;
            let sol = opt.solve();
            t.push(start.elapsed().as_secs_f64());
            cold_sol.get_or_insert(sol);
            Ok(())
        })?;
        let cold_sol = cold_sol.context("no solve")?;

        // Clarabel from Rust, solver built each time.
        let mut cl_sol = None;
        let cl = repeat(opts.repeat, |t| {
            let settings = clarabel.clone();
            let start = Instant::now();
            let mut opt = Optimizer::new(&problem, settings).with_context(|| id.clone())?;
            let sol = opt.solve();
            t.push(start.elapsed().as_secs_f64());
            cl_sol.get_or_insert(sol);
            Ok(())
        })?;
        let cl_sol = cl_sol.context("no solve")?;

        // Warm: one built optimizer, re-solved after `set_current` for each variant.
        let warm_refs: Vec<f64> = (0..inst.warm_start_w0.len())
            .map(|j| {
                inst.reference
                    .get("warm_start")
                    .and_then(|w| w.get(j))
                    .and_then(|w| w.get("objective"))
                    .and_then(Value::as_f64)
                    .with_context(|| format!("{id}: no reference.warm_start[{j}].objective"))
            })
            .collect::<anyhow::Result<_>>()?;
        let mut warm_err = 0.0f64;
        let mut warm_status_ok = true;
        let warm = if inst.warm_start_w0.is_empty() {
            Vec::new()
        } else {
            let mut opt = Optimizer::new(&problem, base.clone()).with_context(|| id.clone())?;
            opt.solve();
            let mut first_pass = true;
            repeat(opts.repeat, |t| {
                for (j, w0) in inst.warm_start_w0.iter().enumerate() {
                    let start = Instant::now();
                    opt.set_current(w0)
                        .with_context(|| format!("{id}: warm_start_w0[{j}]"))?;
                    let sol = opt.solve();
                    t.push(start.elapsed().as_secs_f64());
                    if first_pass {
                        warm_err = warm_err.max(rel_err(sol.objective, warm_refs[j]));
                        warm_status_ok &= sol.status == Status::Optimal;
                    }
                }
                first_pass = false;
                Ok(())
            })?
        };

        let errs = [
            rel_err(cold_sol.objective, reference),
            warm_err,
            rel_err(cl_sol.objective, reference),
        ];
        for (w, e) in worst.iter_mut().zip(errs) {
            *w = w.max(e);
        }
        let all_optimal = cold_sol.status == Status::Optimal
            && cl_sol.status == Status::Optimal
            && warm_status_ok;
        if !all_optimal {
            notes.push(format!(
                "{id}: default {}, Clarabel {}",
                status_name(cold_sol.status),
                status_name(cl_sol.status)
            ));
        }
        let peers = p1_peers(n);
        let (t_cold, t_warm, t_cl) = (median(&cold), median(&warm), median(&cl));
        table.push(vec![
            id.clone(),
            n.to_string(),
            fmt_time(t_cold),
            fmt_time(t_warm),
            fmt_time(t_cl),
            fmt_opt_time(peers.clarabel_call),
            fmt_opt_time(peers.cvxpy),
            fmt_opt_time(peers.cvxpy_warm),
            fmt_ratio(ratio(peers.cvxpy, t_cold)),
            fmt_ratio(ratio(peers.cvxpy_warm, t_warm)),
            fmt_err(max_of(errs)),
        ]);
        rows.push(json!({
            "id": id,
            "n": n,
            "status": status_name(cold_sol.status),
            "all_optimal": all_optimal,
            "repeats": cold.len(),
            "ours_s": t_cold,
            "ours_warm_s": if warm.is_empty() { Value::Null } else { json!(t_warm) },
            "warm_resolves": warm.len(),
            "clarabel_rust_s": t_cl,
            "peer_clarabel_call_s": peers.clarabel_call,
            "peer_cvxpy_s": peers.cvxpy,
            "peer_cvxpy_warm_s": peers.cvxpy_warm,
            "objective": cold_sol.objective,
            "reference_objective": reference,
            "objective_rel_err": errs[0],
            "warm_objective_rel_err": if warm.is_empty() { Value::Null } else { json!(errs[1]) },
            "clarabel_objective_rel_err": errs[2],
        }));
    }
    let speedups: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let cold = ratio(r["peer_cvxpy_s"].as_f64(), r["ours_s"].as_f64()?);
            let warm = ratio(r["peer_cvxpy_warm_s"].as_f64(), r["ours_warm_s"].as_f64()?);
            cold.or(warm)?;
            Some(format!(
                "N={} {} cold, {} warm",
                r["n"],
                fmt_ratio(cold),
                fmt_ratio(warm)
            ))
        })
        .collect();
    let mut summary_text = format!(
        "P1: worst objective rel. error {} (default), {} (warm), {} (Clarabel); speed-up vs cvxpy {}",
        fmt_err(worst[0]),
        fmt_err(worst[1]),
        fmt_err(worst[2]),
        if speedups.is_empty() { "—".into() } else { speedups.join(", ") },
    );
    if !notes.is_empty() {
        summary_text.push_str(&format!("; not optimal: {}", notes.join("; ")));
    }
    Ok(Section {
        key: "p1",
        title: "P1 — one rebalance, proportional costs (peers: cvxpy + Clarabel)".into(),
        table,
        summary: json!({
            "instances": rows.len(),
            "worst_rel_err": worst[0],
            "worst_warm_rel_err": worst[1],
            "worst_clarabel_rel_err": worst[2],
            "not_optimal": notes,
        }),
        rows,
        summary_text,
    })
}

struct P1Peers {
    clarabel_call: Option<f64>,
    cvxpy: Option<f64>,
    cvxpy_warm: Option<f64>,
}

/// The peer's P1 times in seconds. The P1 files carry no timings; the README records
/// them for N = 50 and N = 500 ([`P1_README_PEERS_MS`]); other sizes have none.
fn p1_peers(n: usize) -> P1Peers {
    match P1_README_PEERS_MS.iter().find(|p| p.0 == n) {
        Some(&(_, call, full, warm)) => P1Peers {
            clarabel_call: Some(call / 1e3),
            cvxpy: Some(full / 1e3),
            cvxpy_warm: Some(warm / 1e3),
        },
        None => P1Peers {
            clarabel_call: None,
            cvxpy: None,
            cvxpy_warm: None,
        },
    }
}

// ---------------------------------------------------------------------------------------
// P2: one rebalance with a fixed fee per traded name.

/// The fee regime of a P2 file (`small` … `prohibitive`).
#[derive(Deserialize)]
struct P2Regime {
    #[serde(default)]
    fee_regime: Option<String>,
}

fn p2(opts: &Options) -> anyhow::Result<Section> {
    let mut table = Table::new(&[
        "instance", "N", "regime", "ours", "SCIP", "speed-up", "traded", "exact", "gap",
    ]);
    let mut rows = Vec::new();
    let mut gaps = Vec::new();
    let mut speedups = Vec::new();
    let mut notes = Vec::new();
    for path in files(&opts.dir, "p2")? {
        let Some(text) = read_kept(&path, "P2", opts)? else {
            continue;
        };
        let inst: ReferenceInstance = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid P2 instance", path.display()))?;
        inst.check()
            .with_context(|| format!("{}: not a valid P2 instance", path.display()))?;
        let id = inst.id.clone();
        let regime = serde_json::from_str::<P2Regime>(&text)
            .ok()
            .and_then(|r| r.fee_regime);
        let problem = inst.to_problem();
        let n = problem.n();
        let exact = f64_at(&inst.reference, &["exact", "objective"])
            .with_context(|| format!("{id}: no reference.exact.objective"))?;
        let exact_traded = inst
            .reference
            .get("exact")
            .and_then(|e| e.get("n_traded"))
            .and_then(Value::as_u64);
        let scip = f64_at(&inst.reference, &["miqp", "solve_time_s"]);
        let scip_wall = f64_at(&inst.reference, &["miqp", "wall_s"]);
        let settings = Settings::builder()
            .trade_tol(inst.trade_tol.unwrap_or(1e-9))
            .build()?;
        let mut first = None;
        let times = repeat(opts.repeat, |t| {
            let s = settings.clone();
            let start = Instant::now();
            let mut opt = Optimizer::new(&problem, s).with_context(|| id.clone())?;
            let sol = opt.solve();
            t.push(start.elapsed().as_secs_f64());
            first.get_or_insert(sol);
            Ok(())
        })?;
        let sol = first.context("no solve")?;
        let ours = median(&times);
        // Signed: negative would mean better than the proven optimum (rounding only).
        let gap = (sol.objective - exact) / exact.abs();
        gaps.push(gap);
        let speedup = ratio(scip, ours);
        if let Some(s) = speedup {
            speedups.push(s);
        }
        if sol.status != Status::Optimal {
            notes.push(format!("{id}: {}", status_name(sol.status)));
        }
        table.push(vec![
            id.clone(),
            n.to_string(),
            regime.clone().unwrap_or_else(|| "—".into()),
            fmt_time(ours),
            fmt_opt_time(scip),
            fmt_ratio(speedup),
            sol.n_traded.to_string(),
            exact_traded.map_or_else(|| "—".into(), |k| k.to_string()),
            fmt_err(gap),
        ]);
        rows.push(json!({
            "id": id,
            "n": n,
            "fee_regime": regime,
            "status": status_name(sol.status),
            "repeats": times.len(),
            "ours_s": ours,
            "peer_scip_s": scip,
            "peer_scip_wall_s": scip_wall,
            "speedup": speedup,
            "n_traded": sol.n_traded,
            "exact_n_traded": exact_traded,
            "objective": sol.objective,
            "exact_objective": exact,
            "gap": gap,
            "nodes": sol.nodes,
        }));
    }
    let worst = gaps.iter().copied().reduce(f64::max).unwrap_or(f64::NAN);
    let mean_abs = if gaps.is_empty() {
        f64::NAN
    } else {
        mean_of(&gaps.iter().map(|g| g.abs()).collect::<Vec<_>>())
    };
    let med_speedup = median(&speedups);
    let mut summary_text = format!(
        "P2: worst gap above the proven optimum {} (negative: below it by rounding), mean |gap| {} over {} instances; median speed-up vs SCIP {}",
        fmt_err(worst),
        fmt_err(mean_abs),
        gaps.len(),
        fmt_ratio(Some(med_speedup)),
    );
    if !notes.is_empty() {
        summary_text.push_str(&format!("; not optimal: {}", notes.join("; ")));
    }
    Ok(Section {
        key: "p2",
        title: "P2 — one rebalance with a fixed fee per traded name (peer: SCIP, proven optimum)"
            .into(),
        table,
        summary: json!({
            "instances": gaps.len(),
            "worst_gap": worst,
            "mean_abs_gap": mean_abs,
            "median_speedup": if speedups.is_empty() { Value::Null } else { json!(med_speedup) },
            "not_optimal": notes,
        }),
        rows,
        summary_text,
    })
}

// ---------------------------------------------------------------------------------------
// P3: five-year daily backtests.

fn p3(opts: &Options) -> anyhow::Result<Section> {
    let mut table = Table::new(&[
        "instance",
        "N",
        "calendar",
        "cvxportfolio",
        "speed-up",
        "NAV err",
        "spo",
        "cvxportfolio",
        "speed-up",
        "turnover",
        "peer",
        "diff",
    ]);
    let mut rows = Vec::new();
    let mut worst_nav = 0.0f64;
    let mut worst_turn = 0.0f64;
    let mut speedups = Vec::new();
    for path in files(&opts.dir, "p3")? {
        let Some(text) = read_kept(&path, "P3", opts)? else {
            continue;
        };
        let inst: P3Instance = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid P3 instance", path.display()))?;
        let id = inst.id.clone();
        let peer = inst
            .reference
            .as_ref()
            .with_context(|| format!("{id}: no reference"))?;

        let mut cal = None;
        let cal_t = repeat(opts.repeat, |t| {
            let start = Instant::now();
            let r = run_calendar(&inst).with_context(|| format!("{id}: calendar"))?;
            t.push(start.elapsed().as_secs_f64());
            cal.get_or_insert(r);
            Ok(())
        })?;
        let cal = cal.context("no run")?;
        let mut spo = None;
        let spo_t = repeat(opts.repeat, |t| {
            let start = Instant::now();
            let r = run_spo(&inst).with_context(|| format!("{id}: spo"))?;
            t.push(start.elapsed().as_secs_f64());
            spo.get_or_insert(r);
            Ok(())
        })?;
        let spo = spo.context("no run")?;

        let nav_err = |ours: &[f64], theirs: &[f64]| -> anyhow::Result<f64> {
            if ours.len() != theirs.len() {
                bail!(
                    "{id}: NAV has {} values, the peer's {}",
                    ours.len(),
                    theirs.len()
                );
            }
            Ok(max_of(
                ours.iter().zip(theirs).map(|(&x, &y)| rel_err(x, y)),
            ))
        };
        let cal_nav = nav_err(&cal.nav, &peer.calendar.nav)?;
        let spo_nav = nav_err(&spo.nav, &peer.spo.nav)?;
        let turn_diff = spo.turnover_total - peer.spo.turnover_total;
        let turn_rel = rel_err(spo.turnover_total, peer.spo.turnover_total);
        worst_nav = worst_nav.max(cal_nav);
        worst_turn = worst_turn.max(turn_rel);
        let (tc, ts) = (median(&cal_t), median(&spo_t));
        let (pc, ps) = (
            peer.calendar.total_wall_s_median,
            peer.spo.total_wall_s_median,
        );
        for s in [ratio(pc, tc), ratio(ps, ts)].into_iter().flatten() {
            speedups.push(s);
        }
        table.push(vec![
            id.clone(),
            inst.n.to_string(),
            fmt_time(tc),
            fmt_opt_time(pc),
            fmt_ratio(ratio(pc, tc)),
            fmt_err(cal_nav),
            fmt_time(ts),
            fmt_opt_time(ps),
            fmt_ratio(ratio(ps, ts)),
            format!("{:.6}", spo.turnover_total),
            format!("{:.6}", peer.spo.turnover_total),
            format!("{turn_diff:+.1e}"),
        ]);
        rows.push(json!({
            "id": id,
            "n": inst.n,
            "periods": inst.returns.len().saturating_sub(1),
            "repeats": cal_t.len(),
            "calendar_s": tc,
            "peer_calendar_s": pc,
            "calendar_speedup": ratio(pc, tc),
            "calendar_nav_max_rel_err": cal_nav,
            "calendar_turnover_total": cal.turnover_total,
            "peer_calendar_turnover_total": peer.calendar.turnover_total,
            "spo_s": ts,
            "peer_spo_s": ps,
            "spo_speedup": ratio(ps, ts),
            "spo_nav_max_rel_err": spo_nav,
            "spo_turnover_total": spo.turnover_total,
            "peer_spo_turnover_total": peer.spo.turnover_total,
            "spo_turnover_diff": turn_diff,
            "spo_turnover_rel_diff": turn_rel,
        }));
    }
    let summary_text = format!(
        "P3: worst calendar NAV rel. error {}, worst SPO turnover rel. diff {}; speed-up vs cvxportfolio {}–{}",
        fmt_err(worst_nav),
        fmt_err(worst_turn),
        fmt_ratio(speedups.iter().copied().reduce(f64::min)),
        fmt_ratio(speedups.iter().copied().reduce(f64::max)),
    );
    Ok(Section {
        key: "p3",
        title: "P3 — five-year daily backtests (peer: cvxportfolio)".into(),
        table,
        summary: json!({
            "instances": rows.len(),
            "worst_calendar_nav_rel_err": worst_nav,
            "worst_spo_turnover_rel_diff": worst_turn,
        }),
        rows,
        summary_text,
    })
}

// ---------------------------------------------------------------------------------------
// P4: Ledoit–Wolf shrinkage.

#[derive(Deserialize)]
struct P4File {
    id: String,
    #[serde(rename = "T")]
    t: usize,
    n: usize,
    returns: Vec<Vec<f64>>,
    reference: P4Reference,
}

#[derive(Deserialize)]
struct P4Reference {
    sklearn_ledoit_wolf: P4Sklearn,
}

#[derive(Deserialize)]
struct P4Sklearn {
    covariance: Vec<Vec<f64>>,
    shrinkage: f64,
}

fn p4(opts: &Options) -> anyhow::Result<Section> {
    let mut table = Table::new(&[
        "instance",
        "T",
        "N",
        "ours",
        "max |Δ|",
        "rel. to max |Σ|",
        "Δ shrinkage",
    ]);
    let mut rows = Vec::new();
    let mut worst = 0.0f64;
    let mut worst_shrink = 0.0f64;
    for path in files(&opts.dir, "p4")? {
        let Some(text) = read_kept(&path, "P4", opts)? else {
            continue;
        };
        let f: P4File = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid P4 instance", path.display()))?;
        let id = f.id.clone();
        let mut first = None;
        let times = repeat(opts.repeat, |t| {
            let start = Instant::now();
            let r = ledoit_wolf(&f.returns).with_context(|| id.clone())?;
            t.push(start.elapsed().as_secs_f64());
            first.get_or_insert(r);
            Ok(())
        })?;
        let (cov, shrink) = first.context("no run")?;
        let want = &f.reference.sklearn_ledoit_wolf;
        if cov.len() != want.covariance.len() {
            bail!(
                "{id}: covariance is {}×…, sklearn's {}×…",
                cov.len(),
                want.covariance.len()
            );
        }
        let max_abs = max_of(
            cov.iter()
                .zip(&want.covariance)
                .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs())),
        );
        let scale = max_of(want.covariance.iter().flatten().map(|x| x.abs()));
        let rel = if scale > 0.0 {
            max_abs / scale
        } else {
            max_abs
        };
        let dshrink = (shrink - want.shrinkage).abs();
        worst = worst.max(rel);
        worst_shrink = worst_shrink.max(dshrink);
        let ours = median(&times);
        table.push(vec![
            id.clone(),
            f.t.to_string(),
            f.n.to_string(),
            fmt_time(ours),
            fmt_err(max_abs),
            fmt_err(rel),
            fmt_err(dshrink),
        ]);
        rows.push(json!({
            "id": id,
            "t": f.t,
            "n": f.n,
            "repeats": times.len(),
            "ours_s": ours,
            "max_abs_err": max_abs,
            "max_rel_err": rel,
            "shrinkage": shrink,
            "shrinkage_abs_err": dshrink,
        }));
    }
    let summary_text = format!(
        "P4: worst covariance error {} (relative to the largest entry), worst shrinkage error {} (the files record no sklearn time)",
        fmt_err(worst),
        fmt_err(worst_shrink),
    );
    Ok(Section {
        key: "p4",
        title: "P4 — Ledoit–Wolf shrinkage covariance (peer: scikit-learn)".into(),
        table,
        summary: json!({
            "instances": rows.len(),
            "worst_rel_err": worst,
            "worst_shrinkage_err": worst_shrink,
        }),
        rows,
        summary_text,
    })
}

/// The default scenario (six policies, 10 years daily) on one thread and on every core.
fn simulator(opts: &Options) -> anyhow::Result<Section> {
    let scenario = simulate::six_policies();
    let paths = opts.sim_paths.unwrap_or(if opts.quick {
        SIM_QUICK_PATHS
    } else {
        SIM_PATHS
    });
    let sim = Simulation::new(
        &scenario,
        &SimOptions {
            paths: Some(paths),
            years: Some(SIM_YEARS),
            ..SimOptions::default()
        },
    )
    .context("the default scenario")?;
    let cores = crate::simulate::all_cores();
    let mut counts = vec![1];
    if cores > 1 {
        counts.push(cores);
    }
    let mut table = Table::new(&[
        "scenario",
        "paths",
        "threads",
        "total",
        "per path",
        "report hash",
    ]);
    let mut rows = Vec::new();
    let mut hashes = Vec::new();
    for &threads in &counts {
        let start = Instant::now();
        let report = crate::simulate::run_parallel(&sim, threads)?;
        let total = start.elapsed().as_secs_f64();
        let per_path = total / paths as f64;
        let hash = report.hash_hex();
        table.push(vec![
            "default (6 policies, 10 y daily)".into(),
            paths.to_string(),
            threads.to_string(),
            fmt_time(total),
            fmt_time(per_path),
            hash.clone(),
        ]);
        rows.push(json!({
            "id": "default_scenario",
            "policies": scenario.policies.len(),
            "years": SIM_YEARS,
            "paths": paths,
            "threads": threads,
            "total_s": total,
            "per_path_s": per_path,
            "report_hash": hash,
        }));
        hashes.push(hash);
    }
    if hashes.windows(2).any(|w| w[0] != w[1]) {
        bail!("the default scenario's report differs between thread counts: {hashes:?}");
    }
    let best = rows
        .iter()
        .filter_map(|r| r["total_s"].as_f64())
        .fold(f64::INFINITY, f64::min);
    let summary_text = format!(
        "Simulator: {paths} paths × {SIM_YEARS} y × {} policies in {} at best ({} cores), the same report on every thread count",
        scenario.policies.len(),
        fmt_time(best),
        cores,
    );
    Ok(Section {
        key: "simulate",
        title: "Simulator — the default scenario (Rivera household, six policies, 10 years daily)"
            .into(),
        table,
        rows,
        summary: json!({ "paths": paths, "best_total_s": best, "cores": cores, "same_hash": true }),
        summary_text,
    })
}
