//! The household's tax profile: the engine's one tax profile type lives in
//! [`crate::tax`]; this module re-exports it for the scenario's users.

pub use crate::tax::{Carryforward, FilingStatus, HorizonTreatment, TaxProfile, NIIT_RATE};
