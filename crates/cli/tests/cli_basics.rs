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
