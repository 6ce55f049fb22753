//! `tollbooth break-even (SCENARIO.json | --preset ID) --policy NAME [--paths N] [--seed S]
//! [--years Y] [--threads T]`: confirm a policy's break-even ticket fee by re-simulation
//! and print the search as JSON ([`tollbooth_engine::simulate::confirm`]), with its
//! `conclusion` in words.
//!
//! The report's break-even fee holds the trades fixed; this re-runs the policy and the
//! baseline on the same paths with every fee row's flat fee set to each trial fee, until
//! the mean net benefit's change of sign is bracketed within a cent or 0.1 % of the fee.
//! Each trial's paths run on `--threads` threads; the result is the same for any thread
//! count.

use crate::output;
use crate::simulate::{all_cores, load, number, paths_arg, threads_arg, years_arg};
use anyhow::{bail, Context};
use rayon::prelude::*;
use tollbooth_engine::simulate::confirm::{confirm_break_even_with, PairSums};
use tollbooth_engine::simulate::{SimOptions, Simulation};

const USAGE: &str = "usage: tollbooth break-even SCENARIO.json --policy NAME [--paths N] [--seed S] [--years Y]
                            [--threads T]
       tollbooth break-even --preset household|zero_fee|seed_firm|six_policies --policy NAME [options]

  Re-runs NAME and the baseline on the same paths with every ticket's flat fee set to trial
  fees until the fee at which NAME's mean net benefit vs the baseline changes sign is
  bracketed within a cent or 0.1 % of the fee (the report's figure holds the trades fixed).";

fn value<'a>(it: &mut std::slice::Iter<'a, String>, flag: &str) -> anyhow::Result<&'a str> {
    it.next()
        .map(String::as_str)
        .with_context(|| format!("`{flag}` needs a value\n{USAGE}"))
}

/// One trial's paths of `sim` on `threads` threads, merged (exact sums: any split, same
/// result).
fn trial(sim: &Simulation<'_>, policy: usize, threads: usize) -> anyhow::Result<PairSums> {
    let chunks = sim.chunks(threads as u64 * 4);
    let merge = |mut a: PairSums, b: PairSums| -> anyhow::Result<PairSums> {
        a.merge(&b);
        Ok(a)
    };
    if threads == 1 {
        return chunks.into_iter().try_fold(PairSums::default(), |acc, r| {
            merge(acc, sim.pair_sums(policy, r)?)
        });
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("starting the thread pool")?;
    pool.install(|| {
        chunks
            .into_par_iter()
            .map(|r| sim.pair_sums(policy, r).map_err(anyhow::Error::from))
            .try_reduce(PairSums::default, merge)
    })
}

/// Run the subcommand.
pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut file: Option<&str> = None;
    let mut preset: Option<&str> = None;
    let mut policy: Option<&str> = None;
    let mut options = SimOptions::default();
    let mut threads = all_cores();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--policy" => policy = Some(value(&mut it, a)?),
            "--paths" => options.paths = Some(paths_arg(value(&mut it, a)?, a)?),
            "--seed" => options.seed = Some(number(value(&mut it, a)?, a)?),
            "--years" => options.years = Some(years_arg(value(&mut it, a)?, a)?),
            "--threads" => threads = threads_arg(value(&mut it, a)?, a)?,
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
    let Some(policy) = policy else {
        bail!("`--policy NAME` is required\n{USAGE}");
    };
    let result = confirm_break_even_with(&scenario, policy, &options, |sim, pi| {
        trial(sim, pi, threads)
    })
    .context("cannot confirm a break-even fee")?;
    let mut json = serde_json::to_value(&result).context("serializing the search")?;
    if let Some(obj) = json.as_object_mut() {
        obj.insert("conclusion".into(), result.conclusion().into());
    }
    output::println(&serde_json::to_string_pretty(&json)?)
}
