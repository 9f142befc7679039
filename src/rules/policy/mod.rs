//! Insured-place policy rules that decide whether a settlement may be settled at all:
//! resident outpatient care across provinces, chronic diseases listed, enrollment.
//! (The fund-payment recomputation, POL001, POL002 and POL006, lives with §6.)

pub mod chronic_disease_not_listed;
pub mod not_insured;
pub mod resident_outpatient_cross_province;

use crate::model::{Settlement, prov};

/// Insured province and treatment province differ.
pub fn cross_province(s: &Settlement, treatment: &str) -> bool {
    prov(&s.insuplc_admdvs) != prov(treatment)
}
