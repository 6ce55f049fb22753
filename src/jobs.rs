//! The work that runs off the main thread: simulation chunks and today's trades.
//!
//! [`job`] is a plain function (tested natively); [`crate::workers::serve`] answers it
//! in a Web Worker (started by `src/bin/worker.rs`). Results cross the worker boundary
//! as JSON text: `serde_json` with `float_roundtrip` restores every
//! `f64` bit for bit, so accumulators merged on the main thread give the same report as
//! a single-threaded run.

use serde::{Deserialize, Serialize};
use tollbooth_engine::date::Date;
use tollbooth_engine::household::{todays_trades, trade_list_csv, YearTaxChange};
use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::{
    six_policies, Accumulator, RecordedTrades, SimOptions, Simulation, TradeRow,
};
use tollbooth_engine::types::Side;

/// The run settings the page chose (paths, years, seed override the scenario's market).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Paths.
    pub paths: u64,
    /// Horizon in years.
    pub years: u32,
    /// Seed.
    pub seed: u64,
}

impl RunSettings {
    /// The engine's options for these settings.
    pub fn options(&self) -> SimOptions {
        SimOptions {
            paths: Some(self.paths),
            seed: Some(self.seed),
            years: Some(self.years),
            record_path: Some(0),
        }
    }
}

/// A message to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Job {
    /// Answer [`Done::Ready`]: the worker's script and WebAssembly are loaded.
    Ping,
    /// Run [`warm_up`] (sent once to each simulation worker after its ping), so the first
    /// comparison's paths run in the browser's optimised code; answer [`Done::Warm`].
    Warm,
    /// Simulate paths `start..end` of the scenario (JSON) with `settings`.
    Chunk {
        /// The run this chunk belongs to.
        run: u64,
        /// The chunk's index in the run.
        index: usize,
        /// The scenario as JSON.
        scenario: String,
        /// Paths, years, seed.
        settings: RunSettings,
        /// First path.
        start: u64,
        /// One past the last path.
        end: u64,
    },
    /// Simulate path `path` for the policies `policies` only (one part of a chunk of one
    /// path that several workers share, so that its result comes sooner).
    Part {
        /// The run this part belongs to.
        run: u64,
        /// The scenario as JSON.
        scenario: String,
        /// Paths, years, seed.
        settings: RunSettings,
        /// The path.
        path: u64,
        /// The policies (indices into the scenario's).
        policies: Vec<usize>,
    },
    /// One break-even trial's part: paths `start..end` of the scenario (JSON, its flat
    /// fees already set to the trial's) for policy `policy` and the baseline, summed
    /// ([`Simulation::pair_sums`]); answer [`Done::Pair`].
    Pair {
        /// The search this trial belongs to.
        run: u64,
        /// The scenario as JSON.
        scenario: String,
        /// Paths, years, seed.
        settings: RunSettings,
        /// The policy's index in the scenario.
        policy: usize,
        /// First path.
        start: u64,
        /// One past the last path.
        end: u64,
    },
    /// The household's trades today under policy `policy` (index).
    Today {
        /// The request's id.
        run: u64,
        /// The scenario as JSON.
        scenario: String,
        /// The policy's index in the scenario.
        policy: usize,
        /// The trade date, `YYYY-MM-DD`.
        as_of: String,
    },
}

/// The recorded path's trade list as JSON, one text per policy: ten years of one path's
/// trades are most of a chunk's JSON, and reading them at once took 41–61 ms on the page's
/// thread; the page reads one policy per task instead ([`decode_trade_rows`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradesJson {
    /// The recorded path.
    pub path: u64,
    /// Per policy, in scenario order, its trade rows as JSON.
    pub policies: Vec<String>,
}

/// Reads one policy's trade rows of a [`TradesJson`].
pub fn decode_trade_rows(json: &str) -> Result<Vec<TradeRow>, String> {
    decode(json)
}

/// Reads a chunk's answer whole, its trade list put back into the accumulator (as the page
/// ends up with it after reading the trades task by task).
pub fn chunk_accumulator(result: &str, trades: Option<&TradesJson>) -> Result<Accumulator, String> {
    let mut acc = decode_accumulator(result)?;
    if let Some(t) = trades {
        let policies = t
            .policies
            .iter()
            .map(|j| decode_trade_rows(j))
            .collect::<Result<Vec<_>, String>>()?;
        acc.add_recorded(RecordedTrades {
            path: t.path,
            policies,
        });
    }
    Ok(acc)
}

/// A worker's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Done {
    /// The answer to [`Job::Ping`].
    Ready,
    /// The answer to [`Job::Warm`].
    Warm {
        /// The warm-up path's accumulator (JSON), or why it failed.
        result: Result<String, String>,
        /// Milliseconds spent (0 when not timed).
        ms: f64,
    },
    /// A chunk's accumulator (JSON) or the error that stopped it.
    Chunk {
        /// The run.
        run: u64,
        /// The chunk's index.
        index: usize,
        /// Paths `start..end` simulated.
        paths: u64,
        /// The accumulator as JSON, or why the chunk failed.
        result: Result<String, String>,
        /// The recorded path's trades when the chunk holds that path (taken out of the
        /// accumulator: see [`TradesJson`]).
        trades: Option<TradesJson>,
        /// Milliseconds the worker spent on the chunk (0 when not timed).
        ms: f64,
    },
    /// A part of a one-path chunk: the policies' outcomes (a `PathPart` as JSON), or the
    /// error that stopped it.
    Part {
        /// The run.
        run: u64,
        /// The part as JSON, or why it failed.
        result: Result<String, String>,
        /// Milliseconds the worker spent on the part (0 when not timed).
        ms: f64,
    },
    /// Today's trades, or why there are none.
    Today {
        /// The request's id.
        run: u64,
        /// The trades.
        result: Result<TodayTrades, String>,
    },
    /// A break-even trial's part: its `PairSums` as JSON, or why it failed.
    Pair {
        /// The search.
        run: u64,
        /// The sums as JSON, or the error.
        result: Result<String, String>,
    },
}

/// One proposed trade of today, as shown and exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TodayRow {
    /// Account id.
    pub account: String,
    /// Symbol.
    pub symbol: String,
    /// "buy" or "sell".
    pub side: String,
    /// Shares.
    pub quantity: f64,
    /// Price.
    pub price: f64,
    /// Notional.
    pub notional: f64,
    /// Reason code (snake case).
    pub reason: String,
    /// One sentence for the advisor.
    pub explanation: String,
    /// Tax of the lots relieved (negative: a saving).
    pub tax_effect: f64,
    /// The ticket's total cost (commission, regulatory fees, spread, impact).
    pub cost: f64,
    /// Of which SEC and FINRA fees.
    pub regulatory: f64,
    /// The regulatory rates applied ([`tollbooth_engine::fees::TicketCost::rates_applied`]).
    pub rates: String,
    /// Lots relieved by a sale, in relief order: "label: shares (short-term|long-term)".
    pub lots: String,
}

/// The household's trades today under one policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TodayTrades {
    /// The scenario the trades were worked out for, and the engine that did (boxed: the
    /// worker's replies stay small).
    pub provenance: Box<tollbooth_engine::Provenance>,
    /// The policy.
    pub policy: String,
    /// The trade date.
    pub as_of: String,
    /// How the solve ended (snake case).
    pub status: String,
    /// Notes and problems.
    pub messages: Vec<String>,
    /// The tickets.
    pub trades: Vec<TodayRow>,
    /// What the list does to this year's tax once netted (the rows' tax effects are at the
    /// marginal rates, each sale on its own).
    pub year_tax: YearTaxChange,
    /// The list as the engine writes it ([`tollbooth_engine::household::trade_list_csv`]:
    /// the CLI's `trades --csv` without its provenance line, which the page adds).
    pub csv: String,
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

/// The last scenario a worker parsed, kept for the run's next chunks: every chunk of a
/// run carries the same scenario text, which is then compared, not parsed again.
#[derive(Default)]
pub struct ScenarioCache {
    last: Option<(String, Scenario)>,
}

impl ScenarioCache {
    /// The scenario of `json`, parsed only if it differs from the last one.
    fn get(&mut self, json: String) -> Result<&Scenario, String> {
        let hit = self.last.as_ref().is_some_and(|(text, _)| *text == json);
        if !hit {
            self.last = None;
            let s = Scenario::from_json(&json).map_err(|e| e.to_string())?;
            self.last = Some((json, s));
        }
        self.last
            .as_ref()
            .map(|(_, s)| s)
            .ok_or_else(|| "no scenario".to_string())
    }
}

/// Runs one job (in a worker; natively in tests) without a cache.
pub fn job(input: Job) -> Done {
    job_with(&mut ScenarioCache::default(), input)
}

/// Runs one job, reusing the scenario parsed for an earlier chunk of the same scenario.
pub fn job_with(cache: &mut ScenarioCache, input: Job) -> Done {
    match input {
        Job::Ping => Done::Ready,
        Job::Warm => Done::Warm {
            result: warm_up(),
            ms: 0.0,
        },
        Job::Chunk {
            run,
            index,
            scenario,
            settings,
            start,
            end,
        } => {
            let mut trades = None;
            let result = simulate_json(cache, scenario, settings.options(), |sim| {
                let mut acc = sim.run_range(start..end).map_err(|e| e.to_string())?;
                if let Some(r) = acc.take_recorded() {
                    let policies = r
                        .policies
                        .iter()
                        .map(serde_json::to_string)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| e.to_string())?;
                    trades = Some(TradesJson {
                        path: r.path,
                        policies,
                    });
                }
                Ok(acc)
            });
            Done::Chunk {
                run,
                index,
                paths: end.saturating_sub(start),
                result,
                trades,
                ms: 0.0,
            }
        }
        Job::Part {
            run,
            scenario,
            settings,
            path,
            policies,
        } => Done::Part {
            run,
            result: simulate_json(cache, scenario, settings.options(), |sim| {
                sim.run_path_part(path, &policies)
                    .map_err(|e| e.to_string())
            }),
            ms: 0.0,
        },
        Job::Pair {
            run,
            scenario,
            settings,
            policy,
            start,
            end,
        } => Done::Pair {
            run,
            // A trial records no trade list.
            result: simulate_json(
                cache,
                scenario,
                SimOptions {
                    record_path: Some(u64::MAX),
                    ..settings.options()
                },
                |sim| sim.pair_sums(policy, start..end).map_err(|e| e.to_string()),
            ),
        },
        Job::Today {
            run,
            scenario,
            policy,
            as_of,
        } => Done::Today {
            run,
            result: today(&scenario, policy, &as_of),
        },
    }
}

/// Runs `f` on the (cached) scenario's simulation with `settings` and returns its answer
/// as JSON, or the error as text.
fn simulate_json<T: Serialize>(
    cache: &mut ScenarioCache,
    scenario: String,
    options: SimOptions,
    f: impl FnOnce(&Simulation<'_>) -> Result<T, String>,
) -> Result<String, String> {
    let s = cache.get(scenario)?;
    let sim = Simulation::new(s, &options).map_err(|e| e.to_string())?;
    let out = f(&sim)?;
    serde_json::to_string(&out).map_err(|e| e.to_string())
}

/// [`WARM_UP_PATHS`] ten-year paths of the six-policy example (read from its JSON),
/// thrown away. A freshly loaded worker runs its WebAssembly in the browser's baseline
/// code, several times slower than the optimised code the browser compiles for functions
/// once they have run a while; running paths while the page loads means the first
/// comparison's paths do not pay for that (release bundle: a one-year path left the first
/// ten-year chunk at 105–150 ms, one ten-year path at 74–82 ms; with the first chunk in two
/// parts, one ten-year path left it at 47–75 ms and three at 43–48 ms). Returns the
/// paths' accumulator as JSON (the page reads it likewise, see [`warm_up_options`]).
pub fn warm_up() -> Result<String, String> {
    // Through the scenario's JSON, as a run's chunks arrive, so reading it is warm too.
    let s = Scenario::from_json(&six_policies().to_json_pretty()).map_err(|e| e.to_string())?;
    let sim = Simulation::new(&s, &warm_up_options(&s)).map_err(|e| e.to_string())?;
    let acc = sim
        .run_range(1..WARM_UP_PATHS + 1)
        .map_err(|e| e.to_string())?;
    serde_json::to_string(&acc).map_err(|e| e.to_string())
}

/// Paths [`warm_up`] runs.
pub const WARM_UP_PATHS: u64 = 3;

/// The settings of [`warm_up`]'s paths of `scenario` (the six-policy example).
pub fn warm_up_options(scenario: &Scenario) -> SimOptions {
    SimOptions {
        paths: Some(WARM_UP_PATHS + 1),
        seed: Some(scenario.market.seed),
        years: Some(10),
        record_path: Some(0),
    }
}

fn today(scenario: &str, policy: usize, as_of: &str) -> Result<TodayTrades, String> {
    let s = Scenario::from_json(scenario).map_err(|e| e.to_string())?;
    let date: Date = as_of.parse().map_err(|e| format!("trade date: {e}"))?;
    let p = s
        .policies
        .get(policy)
        .ok_or_else(|| format!("policy {policy} does not exist"))?;
    let sol = todays_trades(&s, p, date);
    Ok(TodayTrades {
        year_tax: sol.year_tax(&s.tax),
        csv: trade_list_csv(&sol, &p.name, date, &s.tax),
        provenance: Box::new(tollbooth_engine::Provenance::of_scenario(&s)),
        policy: p.name.clone(),
        as_of: date.to_string(),
        status: snake(&sol.status),
        messages: sol.messages.clone(),
        trades: sol
            .trades
            .iter()
            .map(|t| TodayRow {
                account: t.account.clone(),
                symbol: t.symbol.clone(),
                side: if t.side == Side::Buy { "buy" } else { "sell" }.into(),
                quantity: t.quantity,
                price: t.price,
                notional: t.notional,
                reason: t.reason.code().into(),
                explanation: t.explanation.clone(),
                tax_effect: t.tax_effect,
                cost: t.fees.total(),
                regulatory: t.fees.regulatory(),
                rates: t.fees.rates_applied(),
                lots: t
                    .lots
                    .iter()
                    .map(|l| {
                        let term = if l.long_term {
                            "long-term"
                        } else {
                            "short-term"
                        };
                        format!(
                            "{}: {} sh ({term})",
                            l.label,
                            crate::format::shares(l.shares)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect(),
    })
}

/// Decodes a chunk's accumulator.
pub fn decode_accumulator(json: &str) -> Result<Accumulator, String> {
    decode(json)
}

/// Reads a worker's JSON answer.
fn decode<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| format!("a worker's result could not be read: {e}"))
}

/// Puts the parts of a one-path chunk (each a [`Done::Part`]'s JSON) together into the
/// chunk's accumulator: the same accumulator as the whole chunk's.
pub fn join_parts(sim: &Simulation<'_>, parts: &[String]) -> Result<Accumulator, String> {
    let parts = parts
        .iter()
        .map(|j| decode(j))
        .collect::<Result<Vec<_>, String>>()?;
    let outcome = sim.join_parts(parts).map_err(|e| e.to_string())?;
    let mut acc = sim.accumulator();
    acc.push(outcome).map_err(|e| e.to_string())?;
    Ok(acc)
}

/// The path ranges of a run of `paths` paths in chunks of at most `size` paths.
pub fn chunks(paths: u64, size: u64) -> Vec<std::ops::Range<u64>> {
    let size = size.max(1);
    (0..paths.div_ceil(size))
        .map(|i| i * size..((i + 1) * size).min(paths))
        .collect()
}

/// The chunk size for a run: small first results, few messages on long runs.
pub fn chunk_size(paths: u64, workers: u64) -> u64 {
    // About four chunks per worker, between 2 and 6 paths each: a cancelled run's chunk
    // keeps its worker busy only briefly (six ten-year paths of six policies: about 75 ms),
    // and reading a chunk's result on the page's thread stays well under 50 ms (about
    // 15 ms for six). Each chunk costs its worker a setup and its JSON (0.5–0.7 ms a path
    // in chunks of three), so long runs take the largest chunks.
    (paths / (4 * workers.max(1))).clamp(2, 6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollbooth_engine::simulate::policy_parts;

    #[test]
    fn chunks_cover_the_paths_in_order() {
        assert_eq!(chunks(7, 3), vec![0..3, 3..6, 6..7]);
        assert_eq!(chunks(6, 3), vec![0..3, 3..6]);
        assert_eq!(chunks(1, 25), vec![0..1]);
        assert!(chunks(0, 5).is_empty());
        assert_eq!(chunk_size(500, 2), 6);
        assert_eq!(chunk_size(8, 8), 2);
        assert_eq!(chunk_size(100, 1), 6);
        assert_eq!(chunk_size(40, 2), 5);
        assert_eq!(chunk_size(16, 2), 2);
    }

    /// Chunks run as workers run them (JSON in, JSON out) and merged in chunk order give
    /// the report of a single run bit for bit.
    #[test]
    fn chunked_json_round_trip_matches_a_single_run() {
        let s = Scenario::demo();
        let settings = RunSettings {
            paths: 3,
            years: 1,
            seed: s.market.seed,
        };
        let json = s.to_json_pretty();
        let mut acc = Accumulator::new();
        // One worker's cache across the run's chunks, as in the browser.
        let mut cache = ScenarioCache::default();
        for (index, r) in chunks(3, 2).into_iter().enumerate() {
            let chunk = Job::Chunk {
                run: 1,
                index,
                scenario: json.clone(),
                settings,
                start: r.start,
                end: r.end,
            };
            let fresh = job(chunk.clone());
            match job_with(&mut cache, chunk) {
                Done::Chunk {
                    result: Ok(text),
                    paths,
                    trades,
                    ..
                } => {
                    assert_eq!(paths, r.end - r.start);
                    // The cached scenario gives the chunk a fresh parse gives, byte for byte.
                    assert!(matches!(&fresh, Done::Chunk { result: Ok(t), .. } if *t == text));
                    // Path 0, recorded, sends its trades apart, one text per policy.
                    assert_eq!(trades.is_some(), r.start == 0);
                    if let Some(t) = &trades {
                        assert_eq!((t.path, t.policies.len()), (0, s.policies.len()));
                    }
                    acc.merge(chunk_accumulator(&text, trades.as_ref()).unwrap())
                        .unwrap();
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        let sim = Simulation::new(&s, &settings.options()).unwrap();
        let whole = sim.run().unwrap();
        assert_eq!(sim.report(&acc).hash_hex(), whole.hash_hex());
    }

    /// A one-path chunk run in parts on two workers (JSON in, JSON out) and joined is the
    /// chunk's accumulator, and merged with the other chunks gives the single run's report.
    #[test]
    fn a_chunk_run_in_parts_matches_the_whole_chunk() {
        let s = six_policies();
        let settings = RunSettings {
            paths: 3,
            years: 1,
            seed: s.market.seed,
        };
        let json = s.to_json_pretty();
        let sim = Simulation::new(&s, &settings.options()).unwrap();
        let mut acc = Accumulator::new();
        for (index, path) in [1u64, 0, 2].into_iter().enumerate() {
            let whole = match job(Job::Chunk {
                run: 1,
                index,
                scenario: json.clone(),
                settings,
                start: path,
                end: path + 1,
            }) {
                Done::Chunk {
                    result: Ok(text),
                    trades,
                    ..
                } => chunk_accumulator(&text, trades.as_ref()).unwrap(),
                other => panic!("unexpected {other:?}"),
            };
            let parts: Vec<String> = policy_parts(&s, 2)
                .into_iter()
                .map(|policies| {
                    match job(Job::Part {
                        run: 1,
                        scenario: json.clone(),
                        settings,
                        path,
                        policies,
                    }) {
                        Done::Part {
                            result: Ok(text), ..
                        } => text,
                        other => panic!("unexpected {other:?}"),
                    }
                })
                .collect();
            let joined = join_parts(&sim, &parts).unwrap();
            assert_eq!(joined, whole, "path {path}");
            acc.merge(joined).unwrap();
        }
        assert_eq!(sim.report(&acc).hash_hex(), sim.run().unwrap().hash_hex());
        // A part of another path, or a policy missing, is an error.
        assert!(join_parts(&sim, &[]).is_err());
        let bad = job(Job::Part {
            run: 1,
            scenario: json,
            settings,
            path: 0,
            policies: vec![0, 0],
        });
        assert!(matches!(bad, Done::Part { result: Err(_), .. }));
    }

    /// A break-even trial split in two parts sums what the engine sums in one.
    #[test]
    fn a_pair_trial_in_parts_matches_the_engine() {
        use tollbooth_engine::simulate::confirm::PairSums;
        let s = Scenario::demo();
        let settings = RunSettings {
            paths: 3,
            years: 1,
            seed: 9,
        };
        let sums = |start, end| match job(Job::Pair {
            run: 4,
            scenario: s.to_json_pretty(),
            settings,
            policy: 1,
            start,
            end,
        }) {
            Done::Pair { run: 4, result } => decode::<PairSums>(&result.unwrap()).unwrap(),
            other => panic!("{other:?}"),
        };
        let mut merged = sums(0, 1);
        merged.merge(&sums(1, 3));
        let whole = Simulation::new(&s, &settings.options())
            .unwrap()
            .pair_sums(1, 0..3)
            .unwrap();
        assert_eq!(merged.net.value(), whole.net.value());
        assert_eq!(merged.slope.value(), whole.slope.value());
        assert_eq!(merged.offset.value(), whole.offset.value());
        assert_eq!(merged.tickets.value(), whole.tickets.value());
        assert_eq!(merged.paths, 3);
    }

    /// A worker's cache holds the last scenario only while the text is the same: another
    /// scenario is parsed (and a bad one is an error, not the previous scenario).
    #[test]
    fn the_scenario_cache_follows_the_text() {
        let a = Scenario::demo();
        let mut b = Scenario::demo();
        b.name = "Another household".into();
        let mut cache = ScenarioCache::default();
        assert_eq!(cache.get(a.to_json_pretty()).unwrap().name, a.name);
        assert_eq!(cache.get(a.to_json_pretty()).unwrap().name, a.name);
        assert_eq!(cache.get(b.to_json_pretty()).unwrap().name, b.name);
        assert!(cache.get("{".into()).is_err());
        assert_eq!(cache.get(b.to_json_pretty()).unwrap().name, b.name);
    }

    #[test]
    fn warming_up_runs_a_real_path() {
        let json = warm_up().unwrap();
        let acc = decode_accumulator(&json).unwrap();
        let s = six_policies();
        let sim = Simulation::new(&s, &warm_up_options(&s)).unwrap();
        assert_eq!(sim.summary(&acc).paths, WARM_UP_PATHS);
        assert!(matches!(
            job(Job::Warm),
            Done::Warm { result: Ok(j), .. } if j == json
        ));
    }

    /// The browser test (`tests/web.rs`) compares the in-browser report with this value,
    /// pinned by the engine in `crates/engine/tests/simulate_repro.rs`.
    #[test]
    fn pinned_report_hash_matches_the_engine() {
        let pinned = include_str!("../crates/engine/tests/simulate_repro.rs");
        let web = include_str!("../tests/web.rs");
        let value = |text: &str| {
            let at = text
                .find("DEMO_REPORT_HASH_8_PATHS_2_YEARS: &str = \"")
                .unwrap();
            text[at..].split('"').nth(1).unwrap().to_string()
        };
        assert_eq!(value(web), value(pinned));
    }

    #[test]
    fn a_bad_scenario_is_an_error_not_a_panic() {
        let d = job(Job::Chunk {
            run: 2,
            index: 0,
            scenario: "{".into(),
            settings: RunSettings {
                paths: 1,
                years: 1,
                seed: 1,
            },
            start: 0,
            end: 1,
        });
        assert!(matches!(d, Done::Chunk { result: Err(_), .. }));
        let t = job(Job::Today {
            run: 3,
            scenario: Scenario::demo().to_json_pretty(),
            policy: 99,
            as_of: "2026-01-05".into(),
        });
        assert!(matches!(t, Done::Today { result: Err(e), .. } if e.contains("99")));
    }

    #[test]
    fn todays_trades_carry_reasons() {
        let s = Scenario::demo();
        let t = today(&s.to_json_pretty(), 0, &s.as_of.to_string()).unwrap();
        assert_eq!(t.policy, s.policies[0].name);
        assert!(!t.status.is_empty());
        for r in &t.trades {
            assert!(!r.reason.is_empty() && !r.explanation.is_empty());
            assert!(r.quantity > 0.0);
        }
        // The page's export is the engine's list, a line per row shown, after the
        // provenance line.
        let csv = crate::summary::today_csv(&t);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], t.provenance.csv_line().trim_end());
        assert_eq!(lines[1], tollbooth_engine::household::TRADE_LIST_CSV_HEADER);
        assert_eq!(lines.len(), t.trades.len() + 3);
        for (line, r) in lines[2..].iter().zip(&t.trades) {
            let lead = format!(
                "{},{},{},{},{},",
                tollbooth_engine::csv_text(&t.policy),
                t.as_of,
                r.account,
                r.symbol,
                r.side
            );
            assert!(line.starts_with(&lead), "{line}");
        }
        assert!(lines[lines.len() - 1].starts_with("# year_tax,"));
    }
}
