//! Reversals (冲销): a reversal of the month is paired with its original by
//! [`crate::scope`]; these rules report those that are not clean.

pub mod bad_reversal;
pub mod original_not_in_month;
