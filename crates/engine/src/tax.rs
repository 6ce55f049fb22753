//! Taxes.
