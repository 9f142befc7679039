//! Reports a person reads: `report.html` (self-contained, charts inline) and
//! `report.xlsx` (one sheet per table, Chinese and English headers).

pub mod charts;
pub mod html;
pub mod labels;
pub mod ledger;
pub mod xlsx;
