//! # Tollbooth engine
//!
//! What a rebalancing policy really costs a household: ticket charges, regulatory fees,
//! spreads and taxes, against the tax alpha and risk control it buys.
//!
//! The engine is pure Rust with no web dependency; it builds natively (the `tollbooth`
//! command) and for `wasm32-unknown-unknown` (the browser app). Modules:
//!
//! - [`date`]: calendar dates (civil, proleptic Gregorian) and business days;
//! - [`fees`]: fee schedules, regulatory fee tables and ticket costs;
//! - [`lots`]: tax lots and the one lot-relief routine (FIFO, LIFO, HIFO, min-tax, specific);
//! - [`ledger`]: the household ledger: sales, household-wide wash sales, holding periods;
//! - [`tax`]: the tax profile, yearly netting of gains and losses, after-tax values;
//! - [`optimize`]: the rebalancing optimizer (factor-form risk, proportional costs, fixed
//!   fees per traded name; exact active-set method, Clarabel reference, branch-and-bound);
//! - [`backtest`]: replay backtests of the calendar and daily-optimisation (SPO) policies
//!   on a stored return history (cvxportfolio's accounting conventions);
//! - [`types`]: the shared vocabulary (sides, security and account kinds, lot methods).
#![warn(missing_docs)]

pub mod backtest;
pub mod date;
pub mod fees;
pub mod ledger;
pub mod lots;
pub mod optimize;
pub mod tax;

pub mod types;

/// The engine's version, carried in every report for reproducibility.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
