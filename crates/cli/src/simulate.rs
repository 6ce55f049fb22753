//! `tollbooth simulate SCENARIO.json [--paths N] [--seed S] [--years Y] [--threads T]
//! [--trades-csv FILE | --no-trade-list]`: simulate a scenario's policies and print the
//! report as JSON.
//!
//! `--threads T` (default: every core) runs the paths on T threads, in contiguous chunks
//! merged in order: the report is bit-identical for any T. `--paths` and `--years` stop
//! where the scenario file's `market.paths` and `market.horizon_years` do
//! ([`MAX_PATHS`], [`MAX_YEARS`]).
//!
//! `--preset household|zero_fee|seed_firm|six_policies` simulates a built-in preset instead of a file.
//! The report carries the engine version, the scenario's hash and the seed, and its own
//! hash (`report_hash`) so a run can be checked against another machine or the browser.
//!
//! `--no-trade-list` records no path's trades, as `tollbooth batch` does
//! ([`tollbooth_engine::firm::batch_options`]): the report's hash is then the one a batch
//! line carries for the same scenario, paths, years and seed (`tollbooth batch
//! --scenarios DIR` saves each household's scenario).

use crate::output;
use anyhow::{bail, Context};
use rayon::prelude::*;
use tollbooth_engine::firm::batch_options;
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::{presets, Accumulator, Report, SimOptions, Simulation};

/// Chunks per thread: enough to balance uneven paths, few enough to keep merging cheap.
const CHUNKS_PER_THREAD: u64 = 4;

/// The machine's core count (1 when unknown).
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Most threads `--threads` accepts: far above any machine this runs on, and below what
/// would exhaust the process's thread and memory limits (results are the same on any
/// count, so nothing is gained above the cores).
pub const MAX_THREADS: usize = 256;

/// Parses a `--threads` value: a whole number from 1 to [`MAX_THREADS`].
pub fn threads_arg(s: &str, flag: &str) -> anyhow::Result<usize> {
    match s.parse::<usize>() {
        Ok(t) if (1..=MAX_THREADS).contains(&t) => Ok(t),
        _ => bail!("`{flag}` must be a whole number from 1 to {MAX_THREADS}, got `{s}`"),
    }
}

/// Most paths `--paths` accepts: the scenario file's cap on `market.paths`.
pub const MAX_PATHS: u64 = tollbooth_engine::scenario::form::MAX_PATHS;

/// Most years `--years` accepts: the scenario file's cap on `market.horizon_years`.
pub const MAX_YEARS: u32 = tollbooth_engine::scenario::form::MAX_HORIZON_YEARS;

/// Parses a `--paths` value: a whole number up to [`MAX_PATHS`] (0 is left to the
/// engine, which names the lower bound).
pub fn paths_arg(s: &str, flag: &str) -> anyhow::Result<u64> {
    at_most(number(s, flag)?, MAX_PATHS, s, flag, "paths")
}

/// Parses a `--years` value: a whole number up to [`MAX_YEARS`] (0 is left to the
/// engine, which names the lower bound).
pub fn years_arg(s: &str, flag: &str) -> anyhow::Result<u32> {
    at_most(number(s, flag)?, MAX_YEARS, s, flag, "years")
}

fn at_most<T: PartialOrd + std::fmt::Display>(
    v: T,
    max: T,
    s: &str,
    flag: &str,
    unit: &str,
) -> anyhow::Result<T> {
    if v > max {
        bail!("`{flag} {s}` is above the limit of {max} {unit} (the most a scenario file allows)");
    }
    Ok(v)
}

/// Runs every path of `sim` on `threads` threads (path chunks on a rayon pool, each
/// chunk's accumulator merged as soon as it is done, so memory stays bounded) and builds
/// the report: bit-identical for any thread count and merge order.
pub fn run_parallel(sim: &Simulation<'_>, threads: usize) -> anyhow::Result<Report> {
    let threads = threads.max(1);
    let chunks = sim.chunks(threads as u64 * CHUNKS_PER_THREAD);
    let merge = |mut a: Accumulator, b: Accumulator| -> anyhow::Result<Accumulator> {
        a.merge(b)?;
        Ok(a)
    };
    let acc = if threads == 1 {
        chunks
            .into_iter()
            .try_fold(sim.accumulator(), |acc, r| merge(acc, sim.run_range(r)?))?
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("starting the thread pool")?;
        pool.install(|| {
            chunks
                .into_par_iter()
                .map(|r| sim.run_range(r).map_err(anyhow::Error::from))
                .try_reduce(|| sim.accumulator(), merge)
        })?
    };
    Ok(sim.report(&acc))
}

const USAGE: &str =
    "usage: tollbooth simulate SCENARIO.json [--paths N] [--seed S] [--years Y] [--threads T]
                          [--trades-csv FILE | --no-trade-list]
       tollbooth simulate --preset household|zero_fee|seed_firm|six_policies [options]

  --no-trade-list  record no path's trades, as `tollbooth batch` does: the report_hash is
                   then a batch line's for the same scenario, --paths, --years and --seed";

fn value<'a>(it: &mut std::slice::Iter<'a, String>, flag: &str) -> anyhow::Result<&'a str> {
    it.next()
        .map(String::as_str)
        .with_context(|| format!("`{flag}` needs a value\n{USAGE}"))
}

/// Parses a whole-number option value.
pub(crate) fn number<T: std::str::FromStr>(s: &str, flag: &str) -> anyhow::Result<T> {
    s.parse()
        .map_err(|_| anyhow::anyhow!("`{flag}` expects a whole number, got `{s}`"))
}

/// The scenario of a SCENARIO.json argument or a `--preset` id (exactly one of them);
/// `usage` is the subcommand's, for the messages.
pub fn load(file: Option<&str>, preset: Option<&str>, usage: &str) -> anyhow::Result<Scenario> {
    Ok(match (file, preset) {
        (Some(f), None) => {
            let text = std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?;
            Scenario::from_json(&text).with_context(|| format!("loading {f}"))?
        }
        (None, Some(id)) => {
            let all = presets();
            let ids: Vec<&str> = all.iter().map(|p| p.id).collect();
            all.into_iter()
                .find(|p| p.id == id)
                .map(|p| p.scenario)
                .with_context(|| format!("no preset `{id}`; choose one of {}", ids.join(", ")))?
        }
        (Some(_), Some(_)) => bail!("give a SCENARIO.json or --preset, not both\n{usage}"),
        (None, None) => bail!("{usage}"),
    })
}

/// Run the subcommand.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut file: Option<&str> = None;
    let mut preset: Option<&str> = None;
    let mut csv: Option<&str> = None;
    let mut no_trade_list = false;
    let mut options = SimOptions::default();
    let mut threads = all_cores();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--paths" => options.paths = Some(paths_arg(value(&mut it, a)?, a)?),
            "--seed" => options.seed = Some(number(value(&mut it, a)?, a)?),
            "--years" => options.years = Some(years_arg(value(&mut it, a)?, a)?),
            "--threads" => threads = threads_arg(value(&mut it, a)?, a)?,
            "--trades-csv" => csv = Some(value(&mut it, a)?),
            "--no-trade-list" => no_trade_list = true,
            "--preset" => preset = Some(value(&mut it, a)?),
            "--help" | "-h" => return output::println(USAGE),
            s if s.starts_with('-') => bail!("unknown option `{s}`\n{USAGE}"),
            s => {
                if file.replace(s).is_some() {
                    bail!("one SCENARIO.json expected\n{USAGE}");
                }
            }
        }
    }
    let scenario = load(file, preset, USAGE)?;
    if no_trade_list {
        if csv.is_some() {
            bail!("`--trades-csv` writes the trade list that `--no-trade-list` leaves out: give one of them\n{USAGE}");
        }
        // The batch's record setting, so the report (and its hash) is a batch line's.
        options.record_path = batch_options().record_path;
    }
    let sim = Simulation::new(&scenario, &options).context("cannot simulate this scenario")?;
    let report = run_parallel(&sim, threads).context("simulation failed")?;
    if let Some(path) = csv {
        std::fs::write(path, report.trades_csv()).with_context(|| format!("writing {path}"))?;
    }
    let mut json = serde_json::to_value(&report).context("serializing the report")?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("report_hash".into(), report.hash_hex().into());
    }
    output::println(&serde_json::to_string_pretty(&json)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_years_stop_at_the_scenario_file_limits() {
        assert_eq!(paths_arg("1000000", "--paths").unwrap(), MAX_PATHS);
        assert_eq!(years_arg("100", "--years").unwrap(), MAX_YEARS);
        let e = paths_arg("1000001", "--paths").unwrap_err().to_string();
        assert_eq!(
            e,
            "`--paths 1000001` is above the limit of 1000000 paths (the most a scenario file allows)"
        );
        let e = years_arg("101", "--years").unwrap_err().to_string();
        assert!(
            e.contains("`--years 101`") && e.contains("limit of 100 years"),
            "{e}"
        );
        // Zero is the engine's to refuse, with its own message.
        assert_eq!(paths_arg("0", "--paths").unwrap(), 0);
    }
}
