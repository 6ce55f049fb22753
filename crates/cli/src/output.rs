//! Standard output for every subcommand: written through one lock, and a reader that
//! closes it early (`tollbooth simulate f.json | head`) ends the run quietly.
//!
//! Writes return [`Closed`] for a closed pipe (`io::ErrorKind::BrokenPipe`) instead of
//! panicking the way `println!` does; `main` turns a `Closed` anywhere in an error's chain
//! into exit status 0 with nothing on stderr. Any other write error is a real error.

use anyhow::Context;
use std::io::{self, Write};

/// The reader closed standard output: not a failure, the run ends quietly with status 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for Closed {}

/// True if `e` (or an error it wraps) is [`Closed`].
pub fn is_closed(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Closed>())
}

/// The result of a write: a closed pipe becomes [`Closed`], any other error carries `what`
/// (e.g. "writing the output").
pub fn check<T>(r: io::Result<T>, what: &str) -> anyhow::Result<T> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Closed.into()),
        r => r.with_context(|| what.to_string()),
    }
}

/// Writes `text` to standard output (locked) and flushes.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    check(
        out.write_all(text.as_bytes()).and_then(|()| out.flush()),
        "cannot write to standard output",
    )
}

/// Writes `text` and a newline to standard output (locked) and flushes.
pub fn println(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    check(
        out.write_all(text.as_bytes())
            .and_then(|()| out.write_all(b"\n"))
            .and_then(|()| out.flush()),
        "cannot write to standard output",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_closed_and_other_errors_keep_their_context() {
        let pipe = check::<()>(Err(io::ErrorKind::BrokenPipe.into()), "writing");
        let e = pipe.expect_err("an error");
        assert!(is_closed(&e));
        assert!(is_closed(&e.context("an outer layer")));
        let full = check::<()>(Err(io::Error::other("disk full")), "writing the output")
            .expect_err("an error");
        assert!(!is_closed(&full));
        assert_eq!(format!("{full:#}"), "writing the output: disk full");
    }
}
