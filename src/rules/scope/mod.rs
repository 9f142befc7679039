//! Scope rules: rows excluded from the month's checks and clearing (SPEC §4 "Scope").

pub mod outside_month;
pub mod same_area;
