//! `tollbooth batch` and `tollbooth batch generate` end to end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn tollbooth(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(args)
        .output()
        .expect("run tollbooth")
}

fn tollbooth_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tollbooth");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait for tollbooth")
}

fn household_file() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../engine/testdata/scenarios/household.json"
    )
    .to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tollbooth-batch-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// A fresh temporary directory and, in it, the path of a `--scenarios` directory that
/// does not exist yet.
fn scenarios_dir(name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    let saved = dir.join("households");
    let _ = std::fs::remove_dir_all(&saved);
    (dir, saved)
}

fn generate(n: u32, seed: u32) -> String {
    let out = tollbooth(&[
        "batch",
        "generate",
        "--households",
        &n.to_string(),
        "--seed",
        &seed.to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn lines(out: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(out)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect()
}

/// Each output line's `(status, line)`.
fn statuses(got: &[serde_json::Value]) -> Vec<(&str, u64)> {
    got.iter()
        .map(|l| {
            (
                l["status"].as_str().expect("status"),
                l["line"].as_u64().expect("line"),
            )
        })
        .collect()
}

/// The summary CSV as rows of (column → cell).
fn csv_rows(text: &str) -> Vec<Vec<(String, String)>> {
    let mut it = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<String> = it
        .next()
        .expect("header")
        .split(',')
        .map(str::to_string)
        .collect();
    it.map(|l| {
        let cells: Vec<String> = l.split(',').map(str::to_string).collect();
        assert_eq!(cells.len(), header.len(), "{l}");
        header.iter().cloned().zip(cells).collect()
    })
    .collect()
}

fn cell<'a>(row: &'a [(String, String)], col: &str) -> &'a str {
    &row.iter()
        .find(|(k, _)| k == col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .1
}

fn f(row: &[(String, String)], col: &str) -> f64 {
    cell(row, col)
        .parse()
        .unwrap_or_else(|_| panic!("{col} = `{}`", cell(row, col)))
}

#[test]
fn the_generator_is_deterministic() {
    let a = generate(3, 7);
    assert_eq!(a.lines().count(), 3);
    assert_eq!(a, generate(3, 7));
    assert_ne!(a, generate(3, 8));
    // A firm generated in one go starts with the households of a smaller one.
    assert!(generate(5, 7).starts_with(&a));
}

#[test]
fn a_firm_of_five_households_adds_up_and_does_not_depend_on_threads() {
    let dir = temp_dir("five");
    let firm = dir.join("firm.ndjson");
    std::fs::write(&firm, generate(5, 7)).expect("write firm");
    let run = |threads: &str, summary: &Path| {
        let out = tollbooth(&[
            "batch",
            "--config",
            &household_file(),
            s(&firm),
            "--paths",
            "2",
            "--years",
            "1",
            "--threads",
            threads,
            "--summary",
            s(summary),
            "--quiet",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let (sum1, sum3) = (dir.join("one.csv"), dir.join("three.csv"));
    let one = run("1", &sum1);
    let three = run("3", &sum3);
    assert_eq!(one, three, "output depends on the number of threads");
    let csv = std::fs::read_to_string(&sum1).expect("summary");
    assert_eq!(csv, std::fs::read_to_string(&sum3).expect("summary"));

    let households = lines(&one);
    assert_eq!(households.len(), 5);
    for (i, h) in households.iter().enumerate() {
        assert_eq!(h["status"], "ok", "{h}");
        assert_eq!(h["id"], format!("HH-{:05}", i + 1));
        assert_eq!(h["line"], i as u64 + 1);
        assert_eq!(h["paths"], 2);
        assert_eq!(h["horizon_years"], 1);
        assert_eq!(h["report_hash"].as_str().expect("hash").len(), 16);
        assert_eq!(h["policies"].as_array().expect("policies").len(), 3);
    }
    // The households differ.
    assert_ne!(households[0]["start_value"], households[1]["start_value"]);

    // The summary opens with the run's provenance: the configuration, seed, paths, years.
    let first = csv.lines().next().expect("a first line");
    assert!(
        first.starts_with("# scenario,") && first.contains(",paths,2,years,1,engine,"),
        "{first}"
    );
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 3);
    let total = |k: usize, key: &str| -> f64 {
        households
            .iter()
            .map(|h| h["policies"][k][key].as_f64().expect(key))
            .sum()
    };
    let start: f64 = households
        .iter()
        .map(|h| h["start_value"].as_f64().expect("start"))
        .sum();
    let baseline = rows
        .iter()
        .position(|r| cell(r, "baseline") == "true")
        .expect("a baseline row");
    // The horizon's span in years, as the households' reports count it (one horizon).
    let span = households[0]["years_span"].as_f64().expect("years_span");
    assert!(households.iter().all(|h| h["years_span"] == span));
    assert!(span > 0.9 && span < 1.1, "{span}");
    let mut traded = 0.0;
    for (k, row) in rows.iter().enumerate() {
        assert_eq!(cell(row, "policy"), households[0]["policies"][k]["name"]);
        assert_eq!(cell(row, "households"), "5");
        assert_eq!(cell(row, "households_failed"), "0");
        assert_eq!(f(row, "start_value"), start);
        for key in [
            "tickets",
            "ticket_charges",
            "regulatory_fees",
            "spread_impact",
            "taxes_paid",
            "harvested_gross",
            "after_tax_wealth",
            "net_benefit_usd",
        ] {
            assert_eq!(f(row, key), total(k, key), "{key} of row {k}");
        }
        // The yearly bill is the total over the horizon's span.
        let per_year = f(row, "ticket_charges") / span;
        assert!((f(row, "ticket_charges_per_year") - per_year).abs() <= 1e-12 * per_year.abs());
        assert_eq!(
            f(row, "tickets_vs_baseline"),
            total(k, "tickets") - total(baseline, "tickets")
        );
        // Firm net benefit in bps/yr is the firm's dollars over the firm's value and years.
        let bps = f(row, "net_benefit_bps");
        assert!((bps - 1e4 * total(k, "net_benefit_usd") / start / span).abs() < 1e-9);
        // The value-weighted turnover lies within the households' range.
        let tv: Vec<f64> = households
            .iter()
            .map(|h| h["policies"][k]["turnover"].as_f64().expect("turnover"))
            .collect();
        let t = f(row, "turnover");
        assert!(tv.iter().any(|&x| x <= t + 1e-12) && tv.iter().any(|&x| x >= t - 1e-12));
        traded += f(row, "tickets");
    }
    assert!(
        traded > 0.0,
        "no policy traded: the test would prove nothing"
    );
    assert_eq!(cell(&rows[baseline], "net_benefit_usd"), "0");
}

#[test]
fn bad_lines_are_reported_skipped_and_fail_the_run() {
    let firm = generate(3, 9);
    let mut input: Vec<String> = firm.lines().map(str::to_string).collect();
    // Line 2: an impossible acquisition date; line 4: not JSON; line 6: a duplicate id;
    // line 5 is blank (skipped, not counted).
    let mut bad: serde_json::Value = serde_json::from_str(&input[1]).expect("json");
    bad["household"]["accounts"][0]["lots"][0]["acquired"] = "2026-02-30".into();
    input[1] = bad.to_string();
    input.push("{\"id\": \"HH-9\", \"household\": ".to_string());
    input.push(String::new());
    input.push(input[0].clone());
    let text = input.join("\n") + "\n";
    let out = tollbooth_stdin(
        &[
            "batch",
            "--preset",
            "household",
            "-",
            "--paths",
            "1",
            "--years",
            "1",
            "--threads",
            "2",
        ],
        text.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 2 (household `HH-00002`): household.accounts[0].lots[0].acquired"),
        "{stderr}"
    );
    assert!(stderr.contains("line 4: not valid JSON"), "{stderr}");
    assert!(
        stderr.contains("line 6: household id `HH-00001` was already used on line 1"),
        "{stderr}"
    );
    assert!(stderr.contains("3 of 5 households failed"), "{stderr}");
    let got = lines(&out.stdout);
    let status = statuses(&got);
    assert_eq!(
        status,
        [
            ("ok", 1),
            ("error", 2),
            ("ok", 3),
            ("error", 4),
            ("error", 6)
        ]
    );
    assert!(got[1]["error"]
        .as_str()
        .expect("error")
        .contains("household.accounts[0].lots[0].acquired"));
    assert_eq!(got[1]["id"], "HH-00002");
}

#[test]
fn fail_fast_stops_at_the_first_bad_line() {
    let firm = generate(2, 3);
    let text = format!("{{\"id\": \"x\"}}\n{firm}");
    let out = tollbooth_stdin(
        &[
            "batch",
            "--preset",
            "household",
            "--paths",
            "1",
            "--years",
            "1",
            "--fail-fast",
        ],
        text.as_bytes(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("line 1 (household `x`): household: this field is missing"),
        "{stderr}"
    );
    assert!(stderr.contains("--fail-fast"), "{stderr}");
    assert!(lines(&out.stdout).iter().all(|l| l["status"] != "ok"));
}

#[test]
fn the_configuration_is_required_and_checked() {
    let out = tollbooth_stdin(&["batch"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--config"));
    let out = tollbooth_stdin(&["batch", "--preset", "household", "--paths", "0"], b"");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 1"));
}

/// Regression: one line that is not UTF-8 (a name saved in Windows-1252) aborted the whole
/// batch ("stream did not contain valid UTF-8"): later lines were never simulated and no
/// summary was written. It is now that line's error record, like any other bad line.
#[test]
fn a_line_that_is_not_utf8_is_reported_and_the_batch_goes_on() {
    let firm = generate(3, 4);
    let lines_in: Vec<&str> = firm.lines().collect();
    let name = "HH-00002 member 1";
    let at = lines_in[1].find(name).expect("a member name");
    let mut input = Vec::new();
    input.extend_from_slice(lines_in[0].as_bytes());
    input.push(b'\n');
    // "Renée" in Windows-1252: é is the single byte 0xE9.
    input.extend_from_slice(&lines_in[1].as_bytes()[..at]);
    input.extend_from_slice(b"Ren\xE9e");
    input.extend_from_slice(&lines_in[1].as_bytes()[at + name.len()..]);
    input.push(b'\n');
    input.extend_from_slice(lines_in[2].as_bytes());
    input.push(b'\n');
    let dir = temp_dir("not-utf8");
    let file = dir.join("firm.ndjson");
    std::fs::write(&file, &input).expect("write the firm");
    let summary = dir.join("summary.csv");
    let _ = std::fs::remove_file(&summary);
    let run = |extra: &[&str]| {
        let mut args = vec![
            "batch",
            "--preset",
            "household",
            s(&file),
            "--paths",
            "1",
            "--years",
            "1",
            "--threads",
            "2",
        ];
        args.extend_from_slice(extra);
        tollbooth(&args)
    };

    let out = run(&["--summary", s(&summary)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    // The column counts characters; everything before the bad byte is ASCII here.
    let message = format!(
        "line 2 (household `HH-00002`): not UTF-8 (byte 0xE9 at column {}): save the file as UTF-8",
        at + "Ren".len() + 1
    );
    assert!(stderr.contains(&message), "{stderr}");
    assert!(stderr.contains("1 of 3 households failed"), "{stderr}");
    let got = lines(&out.stdout);
    let status = statuses(&got);
    assert_eq!(status, [("ok", 1), ("error", 2), ("ok", 3)]);
    assert_eq!(got[1]["id"], "HH-00002");
    assert_eq!(got[1]["error"], message.as_str());
    let rows = csv_rows(&std::fs::read_to_string(&summary).expect("the summary is written"));
    assert!(!rows.is_empty());
    for row in &rows {
        assert_eq!(cell(row, "households"), "2");
        assert_eq!(cell(row, "households_failed"), "1");
    }

    // --fail-fast stops there.
    let out = run(&["--fail-fast"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--fail-fast"), "{stderr}");
    let status: Vec<String> = lines(&out.stdout)
        .iter()
        .map(|l| format!("{} {}", l["line"], l["status"].as_str().expect("status")))
        .collect();
    assert_eq!(status, ["1 ok"]);
}

/// Regression: `--paths` had no upper bound and `--years 101` ran, although a scenario
/// file allows at most 1,000,000 paths and 100 years.
#[test]
fn paths_and_years_above_the_scenario_file_limits_are_refused() {
    for (flag, value, limit) in [
        ("--paths", "1000001", "limit of 1000000 paths"),
        ("--years", "101", "limit of 100 years"),
    ] {
        let out = tollbooth_stdin(&["batch", "--preset", "household", flag, value], b"");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(&format!("`{flag} {value}`")), "{stderr}");
        assert!(stderr.contains(limit), "{stderr}");
    }
}

/// Runs `tollbooth simulate FILE` with the batch's settings and returns the report.
fn simulate(file: &Path, settings: &[&str]) -> serde_json::Value {
    let mut args = vec!["simulate", s(file), "--threads", "1"];
    args.extend_from_slice(settings);
    let out = tollbooth(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// Regression: a batch line's `report_hash` could not be reproduced: the batch's report
/// records no trade list where `tollbooth simulate` always recorded one, and the
/// household's scenario was nowhere to be had. `--scenarios` saves it, and `simulate
/// --no-trade-list` with the batch's paths, years and seed prints the line's hash.
#[test]
fn a_saved_household_scenario_reproduces_its_lines_report_hash() {
    let (dir, saved) = scenarios_dir("scenarios");
    let mut input: Vec<String> = generate(2, 5).lines().map(str::to_string).collect();
    // A name that validation trims: the file holds the scenario simulated, trimmed.
    let mut v: serde_json::Value = serde_json::from_str(&input[1]).expect("json");
    v["household"]["members"][0]["name"] = "  padded  ".into();
    input[1] = v.to_string();
    let firm = dir.join("firm.ndjson");
    std::fs::write(&firm, input.join("\n") + "\n").expect("write the firm");
    let settings = ["--paths", "2", "--years", "1", "--seed", "17"];
    let mut args = vec!["batch", "--preset", "household", s(&firm), "--threads", "2"];
    args.extend_from_slice(&settings);
    args.extend_from_slice(&["--scenarios", s(&saved), "--quiet"]);
    let out = tollbooth(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = lines(&out.stdout);
    assert_eq!(statuses(&got), [("ok", 1), ("ok", 2)]);
    let no_trades: Vec<&str> = settings
        .iter()
        .copied()
        .chain(["--no-trade-list"])
        .collect();
    for line in &got {
        let file = saved.join(format!("{}.json", line["id"].as_str().expect("id")));
        let report = simulate(&file, &no_trades);
        assert_eq!(report["scenario_hash"], line["scenario_hash"], "{file:?}");
        assert_eq!(report["report_hash"], line["report_hash"], "{file:?}");
    }
    // With a trade list it is another report.
    let file = saved.join("HH-00001.json");
    assert_ne!(
        simulate(&file, &settings)["report_hash"],
        got[0]["report_hash"]
    );
}

/// `--scenarios` names each file after its household: an id that cannot be a file name
/// (a path, a name another id's file has where case is ignored) is that line's error.
#[test]
fn an_id_unsafe_as_a_file_name_is_refused_with_scenarios() {
    let (dir, saved) = scenarios_dir("unsafe-ids");
    let mut input: Vec<String> = generate(2, 5).lines().map(str::to_string).collect();
    let mut v: serde_json::Value = serde_json::from_str(&input[0]).expect("json");
    v["id"] = "../escape".into();
    input[0] = v.to_string();
    let mut w: serde_json::Value = serde_json::from_str(&input[1]).expect("json");
    w["id"] = "hh-00002".into();
    input.push(w.to_string());
    let text = input.join("\n") + "\n";
    let run = |extra: &[&str]| {
        let mut args = vec![
            "batch",
            "--preset",
            "household",
            "--paths",
            "1",
            "--years",
            "1",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        tollbooth_stdin(&args, text.as_bytes())
    };
    let out = run(&["--scenarios", s(&saved)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let escape = "line 1 (household `../escape`): cannot save its scenario in --scenarios: \
                  the id holds `/`, which is not safe in a file name";
    assert!(stderr.contains(escape), "{stderr}");
    let case = "line 3 (household `hh-00002`): cannot save its scenario in --scenarios: \
                `hh-00002.json` differs only in case from household `HH-00002`'s file (line 2)";
    assert!(stderr.contains(case), "{stderr}");
    let got = lines(&out.stdout);
    assert_eq!(statuses(&got), [("error", 1), ("ok", 2), ("error", 3)]);
    assert!(got[0]["error"].as_str().expect("error").starts_with(escape));
    let files: Vec<String> = std::fs::read_dir(&saved)
        .expect("the directory")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(files, ["HH-00002.json"]);
    assert!(!dir.join("escape.json").exists());
    // Without --scenarios no file is named after the ids: every line runs.
    let out = run(&[]);
    assert_eq!(
        statuses(&lines(&out.stdout)),
        [("ok", 1), ("ok", 2), ("ok", 3)]
    );
    // The directory now holds an earlier batch's file: refused before any household runs,
    // and before the output file is opened (an earlier run's lines are left alone).
    let earlier = dir.join("earlier.ndjson");
    std::fs::write(&earlier, "{\"earlier\": true}\n").expect("write");
    let out = run(&["--scenarios", s(&saved), "--out", s(&earlier)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("the directory is not empty (1 entries, e.g. `HH-00002.json`)"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&earlier).expect("kept"),
        "{\"earlier\": true}\n"
    );
}

/// An id in another script than Latin names its file as it is.
#[test]
fn a_non_ascii_id_names_its_scenario_file() {
    let (_, saved) = scenarios_dir("unicode-ids");
    let mut v: serde_json::Value =
        serde_json::from_str(generate(1, 5).lines().next().expect("a line")).expect("json");
    v["id"] = "Müller-Ōta_01".into();
    let args = [
        "batch",
        "--preset",
        "household",
        "--paths",
        "1",
        "--years",
        "1",
        "--quiet",
        "--scenarios",
        s(&saved),
    ];
    let out = tollbooth_stdin(&args, format!("{v}\n").as_bytes());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(saved.join("Müller-Ōta_01.json").is_file());
}

/// Regression: an empty firm file exited 0 with a summary of zeros whose provenance said
/// `years,0`; a batch with no household line is an error, and the summary's provenance
/// gives the years run.
#[test]
fn an_empty_firm_is_an_error_and_the_summary_names_the_years_run() {
    let dir = temp_dir("empty-firm");
    let empty = dir.join("empty.ndjson");
    std::fs::write(&empty, "\n\n").expect("write");
    let summary = dir.join("empty.csv");
    let _ = std::fs::remove_file(&summary);
    let out = tollbooth(&[
        "batch",
        "--preset",
        "household",
        s(&empty),
        "--paths",
        "1",
        "--years",
        "1",
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no household line to simulate"), "{err}");
    assert!(!summary.exists());
    // Every line failing still writes the summary, with the years asked for.
    let bad = dir.join("bad.ndjson");
    std::fs::write(&bad, "null\n").expect("write");
    let out = tollbooth(&[
        "batch",
        "--preset",
        "household",
        s(&bad),
        "--paths",
        "1",
        "--years",
        "3",
        "--summary",
        s(&summary),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let csv = std::fs::read_to_string(&summary).expect("a summary");
    assert!(csv.lines().next().unwrap().contains(",years,3,"), "{csv}");
}
