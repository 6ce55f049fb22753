//! `tollbooth batch`: a firm's households, one shared configuration.
//!
//! ```text
//! tollbooth batch (--config SCENARIO.json | --preset ID) [HOUSEHOLDS.ndjson | -]
//!                 [--out FILE.ndjson] [--summary FILE.csv] [--scenarios DIR]
//!                 [--paths N] [--years Y] [--seed S] [--threads T] [--fail-fast] [--quiet]
//! tollbooth batch generate [--households N] [--seed S] [--config SCENARIO.json | --preset ID]
//!                 [--out FILE.ndjson]
//! ```
//!
//! The configuration is a scenario file (the format `tollbooth simulate` reads): its
//! securities, target model and restrictions, fee schedules, regulatory tables, tax
//! profile, market assumptions, policies and baseline are shared by every household; its
//! own household, minimum cash and cash flows are ignored. Each line of the households
//! file is one household (see `tollbooth_engine::firm::FirmHousehold`):
//! `{"id": "HH-00001", "household": {"members": [...], "accounts": [...]}, "min_cash": [...],
//! "cash_flows": [...]}`. Blank lines are skipped.
//!
//! Output: one NDJSON line per household, in input order whatever the number of threads —
//! per policy the mean over paths of the key metrics, with the scenario and report hashes
//! and the report's warnings (withdrawals not met in full, cash flows after the horizon …)
//! — and, with `--summary`, the firm summary as CSV (one row per policy). Households run
//! in parallel; at most a few per thread are in flight or waiting to be written, so memory
//! does not grow with the size of the firm.
//!
//! A bad line (not UTF-8, malformed JSON, a missing or invalid field, a duplicate id) does
//! not stop the batch: it is reported on stderr with its line number, household and field,
//! written to the output as `{"status": "error", "error": ...}`, counted in the summary's
//! `households_failed`, and the command exits with status 1 at the end. `--fail-fast` stops
//! at the first bad line instead. An error reading the input itself still stops the batch.
//! When the reader of the output closes it (`tollbooth batch … | head`), the batch stops
//! quietly with status 0 and writes no summary (it would be partial).
//!
//! `--scenarios DIR` writes each simulated household's scenario, exactly as the batch
//! simulated it, to `DIR/<id>.json`: `tollbooth simulate DIR/<id>.json --paths P --years Y
//! --seed S --no-trade-list` (the batch's paths, years and seed) prints the line's
//! `report_hash`. DIR must be new or empty (a file from an earlier batch would pass for
//! this one's). An id that cannot name a file (characters other than letters and digits of
//! any script, `-`, `_` and `.`, a leading `.`, a Windows device name, a name that differs
//! from an earlier one only in case) is that line's error.
//!
//! Defaults: `--paths 20`, not the scenario's paths (usually 500, meant for one household
//! in a meeting). A household-path of 10 years costs about 17 ms of one core for the
//! seed-firm policies (generated households of ~29 lots), so a firm of 1,800 households
//! is about 4 core-hours at 500 paths and about 10 core-minutes at 20. Twenty paths put
//! the standard error of each household's mean at under a quarter of its spread over
//! paths (1/√20); every household sees the same market paths (one market for the firm),
//! so the firm totals compare the policies on equal terms. `--years` and `--seed` default
//! to the scenario's; `--threads` to the machine's cores.

use crate::output;
use crate::simulate::{all_cores, paths_arg, threads_arg, years_arg};
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;
use tollbooth_engine::firm::{
    batch_options, parse_line, FirmError, FirmGenerator, FirmSummary, HouseholdLine, LineStatus,
};
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::{presets, SimOptions, Simulation, SEED_FIRM_HOUSEHOLDS};
use tollbooth_engine::{Provenance, RunProvenance};

const USAGE: &str =
    "usage: tollbooth batch (--config SCENARIO.json | --preset ID) [HOUSEHOLDS.ndjson | -]
                       [--out FILE.ndjson] [--summary FILE.csv] [--scenarios DIR]
                       [--paths N] [--years Y] [--seed S] [--threads T] [--fail-fast]
                       [--quiet]
       tollbooth batch generate [--households N] [--seed S]
                       [--config SCENARIO.json | --preset ID] [--out FILE.ndjson]

Simulates every household of a firm (one JSON object per line, from a file or stdin) under
the configuration's shared securities, target, fees, tax profile, market and policies.
Writes one NDJSON line per household (stdout or --out) and the firm summary CSV (--summary).
A bad line is reported (line, household, field), skipped and counted; the exit status is 1
if any household failed (--fail-fast: stop at the first).

  --paths N      Monte Carlo paths per household (default 20, at most 1000000)
  --years Y      horizon in years (default: the scenario's, at most 100)
  --seed S       market seed, the same for every household (default: the scenario's)
  --threads T    households simulated in parallel (default: the machine's cores)
  --scenarios D  write each simulated household's scenario to D/<id>.json; `tollbooth
                 simulate D/<id>.json --paths N --years Y --seed S --no-trade-list`
                 prints its line's report_hash (D must be new or empty)

generate: a synthetic firm (default 1,800 households, seed 1) holding the configuration's
securities (default configuration: the demo household's).";

/// Households per thread in flight or waiting to be written (bounds memory).
const WINDOW_PER_THREAD: usize = 4;

/// The default number of paths per household.
pub const DEFAULT_PATHS: u64 = 20;

fn value<'a>(it: &mut std::slice::Iter<'a, String>, flag: &str) -> anyhow::Result<&'a str> {
    it.next()
        .map(String::as_str)
        .with_context(|| format!("`{flag}` needs a value\n{USAGE}"))
}

fn number<T: std::str::FromStr>(s: &str, flag: &str) -> anyhow::Result<T> {
    s.parse()
        .map_err(|_| anyhow::anyhow!("`{flag}` expects a whole number, got `{s}`"))
}

fn load_config(file: Option<&str>, preset: Option<&str>) -> anyhow::Result<Option<Scenario>> {
    Ok(match (file, preset) {
        (Some(f), None) => {
            let text = std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?;
            Some(Scenario::from_json(&text).with_context(|| format!("loading {f}"))?)
        }
        (None, Some(id)) => {
            let all = presets();
            let ids: Vec<&str> = all.iter().map(|p| p.id).collect();
            Some(
                all.into_iter()
                    .find(|p| p.id == id)
                    .map(|p| p.scenario)
                    .with_context(|| {
                        format!("no preset `{id}`; choose one of {}", ids.join(", "))
                    })?,
            )
        }
        (Some(_), Some(_)) => bail!("give --config or --preset, not both\n{USAGE}"),
        (None, None) => None,
    })
}

/// Where the NDJSON goes: standard output (`-`) or a file, created up front so a bad path
/// is reported before any work. [`Sink::writer`] opens it on the thread that writes.
enum Sink {
    Stdout,
    File(std::fs::File),
}

impl Sink {
    fn create(path: &str) -> anyhow::Result<Sink> {
        if path == "-" {
            return Ok(Sink::Stdout);
        }
        let f = std::fs::File::create(path).with_context(|| format!("creating {path}"))?;
        Ok(Sink::File(f))
    }

    /// A buffered writer; standard output stays locked while it lives. Write its errors
    /// through [`output::check`] so a closed pipe ends the run quietly.
    fn writer(self) -> Box<dyn Write> {
        match self {
            Sink::Stdout => Box::new(BufWriter::new(std::io::stdout().lock())),
            Sink::File(f) => Box::new(BufWriter::new(f)),
        }
    }
}

/// Run the subcommand.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    if args.first().map(String::as_str) == Some("generate") {
        return generate(&args[1..]);
    }
    let mut config_file = None;
    let mut preset = None;
    let mut input: Option<&str> = None;
    let mut out = "-";
    let mut summary_path = None;
    let mut scenarios = None;
    let mut threads = None;
    let mut fail_fast = false;
    let mut quiet = false;
    let mut options = SimOptions {
        paths: Some(DEFAULT_PATHS),
        ..batch_options()
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" => config_file = Some(value(&mut it, a)?),
            "--preset" => preset = Some(value(&mut it, a)?),
            "--out" => out = value(&mut it, a)?,
            "--summary" => summary_path = Some(value(&mut it, a)?),
            "--scenarios" => scenarios = Some(Path::new(value(&mut it, a)?)),
            "--paths" => options.paths = Some(paths_arg(value(&mut it, a)?, a)?),
            "--years" => options.years = Some(years_arg(value(&mut it, a)?, a)?),
            "--seed" => options.seed = Some(number(value(&mut it, a)?, a)?),
            "--threads" => threads = Some(threads_arg(value(&mut it, a)?, a)?),
            "--fail-fast" => fail_fast = true,
            "--quiet" | "-q" => quiet = true,
            "--help" | "-h" => return output::println(USAGE),
            "-" => set_input(&mut input, "-")?,
            s if s.starts_with('-') => bail!("unknown option `{s}`\n{USAGE}"),
            s => set_input(&mut input, s)?,
        }
    }
    let config = load_config(config_file, preset)?.with_context(|| {
        format!("give the shared configuration: --config SCENARIO.json or --preset ID\n{USAGE}")
    })?;
    // Check the options against the configuration once, before reading any household.
    Simulation::new(&config, &options).context("cannot simulate this configuration")?;
    let threads = threads.unwrap_or_else(all_cores);
    let reader: Box<dyn BufRead> = match input.unwrap_or("-") {
        "-" => Box::new(std::io::BufReader::new(std::io::stdin())),
        path => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {path}"))?,
        )),
    };
    // Before the output is created: a refused directory leaves an earlier run's file alone.
    if let Some(dir) = scenarios {
        scenarios_dir(dir)?;
    }
    let sink = Sink::create(out)?;
    let settings = Settings {
        config: &config,
        options: &options,
        scenarios,
        threads,
        fail_fast,
        quiet,
    };
    let started = Instant::now();
    let summary = run_batch(&settings, reader, sink)?;
    let total = summary.households + summary.households_failed;
    if total == 0 {
        bail!(
            "{}: no household line to simulate (an empty file?)",
            match input {
                None | Some("-") => "standard input",
                Some(path) => path,
            }
        );
    }
    if let Some(path) = summary_path {
        let provenance = Provenance {
            seed: options.seed.unwrap_or(config.market.seed),
            run: Some(RunProvenance {
                paths: options.paths.unwrap_or(DEFAULT_PATHS),
                years: options.years.unwrap_or(config.market.horizon_years),
                report_hash: None,
            }),
            ..Provenance::of_scenario(&config)
        };
        std::fs::write(path, summary.to_csv_with(&provenance))
            .with_context(|| format!("writing {path}"))?;
    }
    if !quiet {
        eprintln!(
            "tollbooth batch: {} households simulated, {} failed; {} paths of {} y each, {} threads, {:.1} s",
            summary.households,
            summary.households_failed,
            options.paths.unwrap_or(DEFAULT_PATHS),
            options.years.unwrap_or(config.market.horizon_years),
            threads,
            started.elapsed().as_secs_f64()
        );
    }
    if summary.households_failed > 0 {
        bail!(
            "{} of {total} households failed (their lines carry \"status\": \"error\")",
            summary.households_failed
        );
    }
    Ok(())
}

fn set_input<'a>(input: &mut Option<&'a str>, s: &'a str) -> anyhow::Result<()> {
    if input.replace(s).is_some() {
        bail!("one HOUSEHOLDS.ndjson expected\n{USAGE}");
    }
    Ok(())
}

struct Settings<'a> {
    config: &'a Scenario,
    options: &'a SimOptions,
    /// Where each household's scenario is saved (`--scenarios`).
    scenarios: Option<&'a Path>,
    threads: usize,
    fail_fast: bool,
    quiet: bool,
}

/// A household's result: its output line and, with `--scenarios`, the scenario it was
/// simulated from as a scenario file.
struct Done {
    line: HouseholdLine,
    scenario: Option<String>,
}

impl From<HouseholdLine> for Done {
    fn from(line: HouseholdLine) -> Done {
        Done {
            line,
            scenario: None,
        }
    }
}

/// Simulates one household line (never panics: a panic is reported as the line's error).
/// With `save`, the result carries the scenario simulated (see [`Done`]).
fn process(config: &Scenario, options: &SimOptions, line: u64, text: &str, save: bool) -> Done {
    let run = || -> Result<Done, (Option<String>, String)> {
        let h = parse_line(line, text)
            .map_err(|e| (e.household_id().map(str::to_string), e.to_string()))?;
        let fail = |what: String| (Some(h.id.clone()), what);
        if save {
            if let Err(why) = scenario_file_name(&h.id) {
                return Err(fail(cannot_save(line, &h.id, &why)));
            }
        }
        let scenario = h.scenario(config, line).map_err(|e| fail(e.to_string()))?;
        let cannot = |e: tollbooth_engine::simulate::SimError| {
            fail(format!(
                "line {line} (household `{}`): cannot simulate: {e}",
                h.id
            ))
        };
        let sim = Simulation::new(&scenario, options).map_err(cannot)?;
        let report = sim.run().map_err(cannot)?;
        Ok(Done {
            line: HouseholdLine::from_report(&h.id, line, &scenario, &report),
            // The very scenario simulated: read back, it is the same (same hash).
            scenario: save.then(|| scenario.to_json_pretty()),
        })
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(done)) => done,
        Ok(Err((id, msg))) => HouseholdLine::failed(id.as_deref(), line, msg).into(),
        Err(_) => HouseholdLine::failed(
            None,
            line,
            format!("line {line}: internal error while simulating this household"),
        )
        .into(),
    }
}

/// Creates `--scenarios DIR`, or checks that it is empty: a file left by an earlier batch
/// (a household since removed from the firm, or one whose line now fails) would be taken
/// for this batch's.
fn scenarios_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    if !entries.is_empty() {
        entries.sort();
        bail!(
            "--scenarios {}: the directory is not empty ({} entries, e.g. `{}`); a file from an \
             earlier batch could be taken for this one's: name a new or empty directory",
            dir.display(),
            entries.len(),
            entries[0]
        );
    }
    Ok(())
}

/// The message of a household whose scenario cannot be saved in `--scenarios`.
fn cannot_save(line: u64, id: &str, why: &str) -> String {
    format!("line {line} (household `{id}`): cannot save its scenario in --scenarios: {why}")
}

/// Windows device names: no file may be called so, whatever its extension.
const DEVICE_NAMES: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Longest id `--scenarios` can name a file after (255 bytes with `.json`).
const MAX_FILE_ID: usize = 250;

/// The file `--scenarios` writes household `id` to, `<id>.json`, or what makes the id
/// unsafe as a file name on any common file system: only letters and digits (of any
/// script: `Müller-01` is a file name), `-`, `_` and `.` (no path separator, no space), not
/// a leading `.` (a hidden file, `..`), not a Windows device name, at most
/// [`MAX_FILE_ID`] bytes of UTF-8.
fn scenario_file_name(id: &str) -> Result<String, String> {
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        let shown = if c.is_whitespace() || c.is_control() {
            format!("{c:?}")
        } else {
            format!("`{c}`")
        };
        return Err(format!(
            "the id holds {shown}, which is not safe in a file name \
             (use letters, digits, `-`, `_` and `.`)"
        ));
    }
    if id.starts_with('.') {
        return Err("the id starts with `.` (a hidden file, or a parent directory)".to_string());
    }
    if id.len() > MAX_FILE_ID {
        return Err(format!(
            "the id is {} bytes long in UTF-8, more than a file name allows ({MAX_FILE_ID})",
            id.len()
        ));
    }
    let stem = id.split('.').next().unwrap_or(id);
    if DEVICE_NAMES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        return Err(format!(
            "`{stem}` is a device name on Windows, not a file name"
        ));
    }
    Ok(format!("{id}.json"))
}

/// The error record of line `line`, whose `bytes` are not UTF-8 (e.g. a name saved in
/// Windows-1252): the first bad byte and its column (1-based, in characters), with the
/// household id when it can be read.
fn not_utf8(line: u64, bytes: &[u8], e: std::str::Utf8Error) -> HouseholdLine {
    // The prefix is valid UTF-8 by construction: nothing in it is replaced.
    let column = String::from_utf8_lossy(&bytes[..e.valid_up_to()])
        .chars()
        .count()
        + 1;
    let byte = bytes[e.valid_up_to()];
    // The id, if the line is JSON once the bad bytes are replaced.
    let id = serde_json::from_str::<serde_json::Value>(&String::from_utf8_lossy(bytes))
        .ok()
        .and_then(|v| v.get("id")?.as_str().map(str::to_string));
    let household = id
        .as_deref()
        .map(|id| format!(" (household `{id}`)"))
        .unwrap_or_default();
    HouseholdLine::failed(
        id.as_deref(),
        line,
        format!(
            "line {line}{household}: not UTF-8 (byte 0x{byte:02X} at column {column}): \
             save the file as UTF-8"
        ),
    )
}

/// Reads lines, simulates them on a pool of `threads`, writes them in input order and adds
/// them up. At most `threads × WINDOW_PER_THREAD` households are held at once.
fn run_batch(
    s: &Settings<'_>,
    mut reader: Box<dyn BufRead>,
    sink: Sink,
) -> anyhow::Result<FirmSummary> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.threads)
        .build()
        .context("starting the thread pool")?;
    let window = s.threads * WINDOW_PER_THREAD;
    let (permit_tx, permit_rx) = mpsc::sync_channel::<()>(window);
    for _ in 0..window {
        permit_tx.send(()).context("filling the window")?;
    }
    let (done_tx, done_rx) = mpsc::channel::<(u64, Done)>();
    let config = s.config;
    let options = s.options;
    let save = s.scenarios.is_some();
    let stopped = std::sync::atomic::AtomicBool::new(false);
    let stopped = &stopped;
    std::thread::scope(|scope| -> anyhow::Result<FirmSummary> {
        // The writer: puts lines back in input order, writes and adds them, and hands a
        // permit back for every line written.
        let writer_thread = scope.spawn(move || -> anyhow::Result<FirmSummary> {
            let result = write_in_order(s, done_rx, sink.writer(), &permit_tx);
            stopped.store(true, std::sync::atomic::Ordering::Relaxed);
            result
        });
        // The reader: one task per non-blank line, once a permit is free. Lines are read as
        // bytes: a line that is not UTF-8 is that line's error, not the end of the batch.
        let read = pool.in_place_scope(|tasks| -> anyhow::Result<()> {
            let mut bytes = Vec::new();
            let mut line_no = 0u64;
            let mut seq = 0u64;
            loop {
                bytes.clear();
                let n = reader
                    .read_until(b'\n', &mut bytes)
                    .with_context(|| format!("reading line {}", line_no + 1))?;
                if n == 0 {
                    return Ok(());
                }
                line_no += 1;
                let text = std::str::from_utf8(&bytes);
                if text.is_ok_and(|t| t.trim().is_empty()) {
                    continue;
                }
                if permit_rx.recv().is_err() || stopped.load(std::sync::atomic::Ordering::Relaxed) {
                    // The writer stopped (an error, or --fail-fast).
                    return Ok(());
                }
                let (this, line) = (seq, line_no);
                seq += 1;
                match text {
                    Ok(body) => {
                        let body = body.to_string();
                        let done = done_tx.clone();
                        tasks.spawn(move |_| {
                            let result = process(config, options, line, &body, save);
                            let _ = done.send((this, result));
                        });
                    }
                    // Nothing to simulate: straight to the writer, in its place.
                    Err(e) => {
                        let _ = done_tx.send((this, not_utf8(line, &bytes, e).into()));
                    }
                }
            }
        });
        drop(done_tx);
        let summary = writer_thread
            .join()
            .map_err(|_| anyhow::anyhow!("the output writer stopped unexpectedly"))??;
        read?;
        Ok(summary)
    })
}

/// The writer of [`run_batch`]: puts lines back in input order, writes and adds them, and
/// hands a permit back for every line written.
fn write_in_order(
    s: &Settings<'_>,
    done_rx: mpsc::Receiver<(u64, Done)>,
    mut writer: Box<dyn Write>,
    permit_tx: &mpsc::SyncSender<()>,
) -> anyhow::Result<FirmSummary> {
    let mut summary = FirmSummary::new(s.config);
    let mut pending: BTreeMap<u64, Done> = BTreeMap::new();
    let mut seen: BTreeMap<String, u64> = BTreeMap::new();
    // Scenario files written, by lowercase name: (household id, line).
    let mut saved: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut next = 0u64;
    let started = Instant::now();
    for (seq, line) in done_rx {
        pending.insert(seq, line);
        while let Some(Done { mut line, scenario }) = pending.remove(&next) {
            next += 1;
            if line.status == LineStatus::Ok {
                if let Some(&first) = seen.get(&line.id) {
                    let e = FirmError::DuplicateId {
                        line: line.line,
                        id: line.id.clone(),
                        first,
                    };
                    line = HouseholdLine::failed(Some(&line.id), line.line, e.to_string());
                } else {
                    seen.insert(line.id.clone(), line.line);
                }
            }
            if let (LineStatus::Ok, Some(dir), Some(json)) = (line.status, s.scenarios, scenario) {
                if let Err(e) = save_scenario(dir, &line, &json, &mut saved)? {
                    line = HouseholdLine::failed(Some(&line.id), line.line, e);
                }
            }
            if let Some(e) = &line.error {
                eprintln!("tollbooth batch: {e}");
                if s.fail_fast {
                    bail!("stopped at the first bad line (--fail-fast)");
                }
            }
            let mut bytes = serde_json::to_vec(&line).context("serializing a household")?;
            bytes.push(b'\n');
            // Line by line: the output can be followed (`tail -f`), and an interrupted run
            // keeps every household finished so far.
            output::check(
                writer.write_all(&bytes).and_then(|()| writer.flush()),
                "writing the output",
            )?;
            summary.add(&line)?;
            let n = summary.households + summary.households_failed;
            if !s.quiet && n.is_multiple_of(100) {
                eprintln!(
                    "tollbooth batch: {n} households done ({} failed), {:.0} s",
                    summary.households_failed,
                    started.elapsed().as_secs_f64()
                );
            }
            // The reader may have stopped already; a closed window is fine.
            let _ = permit_tx.try_send(());
        }
    }
    output::check(writer.flush(), "writing the output")?;
    Ok(summary)
}

/// Writes the scenario of the simulated household `line` to `dir`. `Ok(Err(why))` when
/// its file name would be another household's on a file system that ignores case (`saved`:
/// the files written so far, by lowercase name); `Err` when the file cannot be written.
fn save_scenario(
    dir: &Path,
    line: &HouseholdLine,
    json: &str,
    saved: &mut BTreeMap<String, (String, u64)>,
) -> anyhow::Result<Result<(), String>> {
    let name = match scenario_file_name(&line.id) {
        Ok(name) => name,
        Err(why) => return Ok(Err(cannot_save(line.line, &line.id, &why))),
    };
    let key = name.to_lowercase();
    if let Some((other, first)) = saved.get(&key) {
        let why = format!(
            "`{name}` differs only in case from household `{other}`'s file (line {first}), \
             the same file where case is ignored"
        );
        return Ok(Err(cannot_save(line.line, &line.id, &why)));
    }
    let path = dir.join(&name);
    let mut text = json.to_string();
    text.push('\n');
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    saved.insert(key, (line.id.clone(), line.line));
    Ok(Ok(()))
}

fn generate(args: &[String]) -> anyhow::Result<()> {
    let mut households = u64::from(SEED_FIRM_HOUSEHOLDS);
    let mut seed = 1u64;
    let mut config_file = None;
    let mut preset = None;
    let mut out = "-";
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--households" => households = number(value(&mut it, a)?, a)?,
            "--seed" => seed = number(value(&mut it, a)?, a)?,
            "--config" => config_file = Some(value(&mut it, a)?),
            "--preset" => preset = Some(value(&mut it, a)?),
            "--out" => out = value(&mut it, a)?,
            "--help" | "-h" => return output::println(USAGE),
            s => bail!("unexpected `{s}`\n{USAGE}"),
        }
    }
    let config = load_config(config_file, preset)?.unwrap_or_else(Scenario::demo);
    let gen = FirmGenerator::new(&config, seed)?;
    let mut w = Sink::create(out)?.writer();
    for h in gen.households(households) {
        let mut bytes = serde_json::to_vec(&h).context("serializing a household")?;
        bytes.push(b'\n');
        output::check(w.write_all(&bytes), "writing the households")?;
    }
    output::check(w.flush(), "writing the households")
}

#[cfg(test)]
mod tests {
    use super::scenario_file_name;

    #[test]
    fn only_ids_safe_as_file_names_name_a_scenario_file() {
        assert_eq!(scenario_file_name("HH-00001").unwrap(), "HH-00001.json");
        assert_eq!(
            scenario_file_name("smith_2026.b").unwrap(),
            "smith_2026.b.json"
        );
        for (id, why) in [
            ("../etc/x", "holds `/`"),
            ("a\\b", "holds `\\`"),
            ("Renée\u{301}", "holds `\u{301}`"),
            ("two words", "holds ' '"),
            ("tab\there", "holds '\\t'"),
            ("c:x", "holds `:`"),
            (".hidden", "starts with `.`"),
            ("..", "starts with `.`"),
            ("con", "`con` is a device name"),
            ("LPT1.old", "`LPT1` is a device name"),
        ] {
            let e = scenario_file_name(id).unwrap_err();
            assert!(e.contains(why), "{id}: {e}");
        }
        let long = "x".repeat(251);
        assert!(scenario_file_name(&long).unwrap_err().contains("251 bytes"));
        assert!(scenario_file_name(&long[..250]).is_ok());
        assert_eq!(scenario_file_name("Renée").unwrap(), "Renée.json");
    }
}
