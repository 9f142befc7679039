//! Insured-place policy rules (参保地政策): the fund payment against the policy
//! (POL001, POL002, POL006, from [`crate::payment`]), and whether the settlement may be
//! settled at all — resident outpatient care across provinces, chronic diseases listed,
//! enrollment.

pub mod chronic_disease_not_listed;
pub mod fund_overpaid;
pub mod fund_underpaid;
pub mod no_policy;
pub mod not_insured;
pub mod resident_outpatient_cross_province;

use crate::payment::Expected;
use crate::rules::Context;

/// Checked settlements with §6's expected payment: (row, expected, paid).
pub fn recomputed<'c>(ctx: &'c Context) -> impl Iterator<Item = (SetlRow, i64, i64)> + 'c {
    ctx.checked_settlements()
        .filter_map(|(i, s)| match ctx.expected[i] {
            Expected::Hifp(expected) => Some((i, expected, s.amount(Money::HifpPay))),
            _ => None,
        })
}

/// The `amount_tolerance` of a settlement's insured province, fen.
pub fn tolerance(ctx: &Context, i: SetlRow) -> i64 {
    let s = &ctx.model.settlements[i];
    ctx.config
        .for_province(crate::model::prov(&s.insuplc_admdvs))
        .amount_tolerance
}

use crate::model::Money;
use crate::model::{SetlRow, Settlement, prov};

/// Insured province and treatment province differ.
pub fn cross_province(s: &Settlement, treatment: &str) -> bool {
    prov(&s.insuplc_admdvs) != prov(treatment)
}
