//! The command's own surface: version, help, unknown commands, unfinished commands.

use std::process::Command;

fn tollbooth(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tollbooth"))
        .args(args)
        .output()
        .expect("run tollbooth")
}

#[test]
fn version_names_the_engine() {
    let out = tollbooth(&["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("tollbooth "), "{text}");
    assert!(text.contains(tollbooth_engine::VERSION));
}

#[test]
fn unknown_command_is_a_usage_error() {
    let out = tollbooth(&["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command `frobnicate`"));
}

#[test]
fn no_command_prints_usage() {
    let out = tollbooth(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: tollbooth"));
}

/// Regression: `trades --help`, `solve --help` and `bench --help` said "unknown option
/// `--help`" and failed; every subcommand prints its usage and succeeds.
#[test]
fn every_subcommand_has_help() {
    for cmd in [
        "ledger",
        "solve",
        "bench",
        "simulate",
        "trades",
        "batch",
        "break-even",
    ] {
        let out = tollbooth(&[cmd, "--help"]);
        assert!(
            out.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(&format!("tollbooth {cmd}")), "{cmd}: {text}");
    }
}

/// Regression: `--paths 1 --paths 2` ran with one of them silently.
#[test]
fn an_option_given_twice_is_refused() {
    for args in [
        [
            "simulate",
            "--preset",
            "household",
            "--paths",
            "1",
            "--paths=2",
        ]
        .as_slice(),
        [
            "trades",
            "x.json",
            "--as-of",
            "2026-01-02",
            "--as-of",
            "2026-01-05",
        ]
        .as_slice(),
        [
            "batch",
            "--preset",
            "household",
            "--years",
            "1",
            "--years",
            "2",
        ]
        .as_slice(),
    ] {
        let out = tollbooth(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("given twice"), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}
