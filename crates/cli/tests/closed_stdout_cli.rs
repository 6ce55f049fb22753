//! Regression: a reader that closes stdout early (`tollbooth simulate f.json | head -c 10`,
//! `tollbooth trades f.json | true`) made every command but `ledger` panic with "failed
//! printing to stdout: Broken pipe" (exit 101). A closed pipe is a quiet, successful end:
//! exit 0, nothing on stderr.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const DEMO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../engine/testdata/scenarios/household.json"
);

fn shared(rel: &str) -> String {
    format!(
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/{}"),
        rel
    )
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tollbooth-closed-stdout-{name}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tollbooth")
}

/// Runs `tollbooth args` with stdout a pipe whose read end is closed before the command
/// has written anything, so its first write fails.
fn with_stdout_closed(args: &[&str]) -> Output {
    let mut child = spawn(args);
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for tollbooth")
}

/// Asserts exit 0 and an empty stderr (no panic, no error message).
fn assert_quiet_success(args: &[&str], out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    assert!(stderr.is_empty(), "{args:?} wrote to stderr: {stderr}");
}

fn check(args: &[&str]) {
    assert_quiet_success(args, &with_stdout_closed(args));
}

#[test]
fn simulate_ends_quietly_when_stdout_closes() {
    check(&["simulate", DEMO, "--paths", "2", "--years", "1"]);
}

#[test]
fn trades_ends_quietly_when_stdout_closes() {
    check(&["trades", DEMO]);
    check(&["trades", DEMO, "--csv"]);
}

#[test]
fn solve_and_ledger_end_quietly_when_stdout_closes() {
    check(&["solve", &shared("bench/p1/p1_n005_s0.json")]);
    check(&[
        "ledger",
        &shared("testdata/ledger/pub550-basic-replacement-after-sale.json"),
    ]);
}

#[test]
fn help_and_version_end_quietly_when_stdout_closes() {
    check(&["--help"]);
    check(&["--version"]);
    check(&["simulate", "--help"]);
    check(&["batch", "--help"]);
}

#[test]
fn bench_ends_quietly_when_stdout_closes() {
    // One small P1 file and empty families: the text table, then the JSON.
    let dir = temp_dir("bench");
    for family in ["p1", "p2", "p3", "p4"] {
        std::fs::create_dir_all(dir.join(family)).expect("family dir");
    }
    std::fs::copy(
        shared("bench/p1/p1_n005_s0.json"),
        dir.join("p1/p1_n005_s0.json"),
    )
    .expect("copy a P1 file");
    let dir = dir.to_str().expect("utf-8 path");
    let args = ["bench", "--dir", dir, "--quick", "--sim-paths", "1"];
    let out = with_stdout_closed(&args);
    // A debug build warns on stderr that its times are not representative.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("tollbooth:"), "{stderr}");
    let mut json = args.to_vec();
    json.push("--json");
    let out = with_stdout_closed(&json);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn batch_generate_ends_quietly_when_stdout_closes_mid_stream() {
    check(&["batch", "generate", "--households", "3"]);
    // The default firm is megabytes: read the start, then hang up.
    let args = ["batch", "generate"];
    let mut child = spawn(&args);
    let mut start = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut start)
        .expect("the first bytes");
    assert!(start.starts_with(b"{\"id\":"), "{start:?}");
    let out = child.wait_with_output().expect("wait for tollbooth");
    assert_quiet_success(&args, &out);
}

#[test]
fn batch_ends_quietly_when_stdout_closes() {
    let dir = temp_dir("batch");
    let firm = dir.join("firm.ndjson");
    let summary = dir.join("summary.csv");
    let _ = std::fs::remove_file(&summary);
    let made = Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(["batch", "generate", "--households", "6", "--out"])
        .arg(&firm)
        .output()
        .expect("run tollbooth");
    assert!(made.status.success());
    let args = [
        "batch",
        "--preset",
        "household",
        firm.to_str().expect("utf-8 path"),
        "--paths",
        "1",
        "--years",
        "1",
        "--threads",
        "2",
        "--summary",
        summary.to_str().expect("utf-8 path"),
    ];
    check(&args);
    // The run stopped early: a summary would be partial, so none is written.
    assert!(!summary.exists());
}
