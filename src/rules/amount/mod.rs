//! Arithmetic reconciliation, as NHSA's 3201 (对总账) and 3202 (对明细账) do: the
//! settlement's own identities, its fee lines against it, the hospital's summary against
//! its settlements, and each line's price, quantity and parts.

pub mod details_disagree;
pub mod line_arithmetic;
pub mod settlement_identity;
pub mod summary_disagrees;
