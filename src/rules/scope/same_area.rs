//! RTE001 非异地就医 — not off-site
//!
//! # What it finds
//! A settlement or reversal of the month whose insured place (`insuplc_admdvs`) equals the
//! treatment place (the hospital's `fix_blng_admdvs`, or the row's `mdtrtarea_admvs` for a
//! hospital not in the registry). The row is excluded from the checks and the clearing; it
//! still spends the person's deductible and cap (SPEC §6).
//!
//! # Why it matters
//! Settlements inside the insured pooling area are local business, not cross-area
//! clearing; they should not be in an off-site export.
//!
//! # Example
//! A Nanchang (360100) employee settled at a Nanchang hospital: RTE001, flag, excluded.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 参保地与就医地为同一统筹区，不属于异地就医：不纳入异地清算，仅提示。

use crate::rules::{Context, Finding, Rule};
use crate::scope::Class;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.model
        .settlements
        .keys()
        .filter(|&i| ctx.scope.class[i] == Class::SameArea)
        .map(|i| {
            let area = &ctx.scope.treatment[i];
            let detail = ctx.say(
                format!("参保地与就医地同为 {area}，非异地就医，不纳入异地清算"),
                format!(
                    "insured place and treatment place are both {area}: not off-site, excluded"
                ),
            );
            Finding::settlement(rule, ctx, i, detail)
        })
        .collect()
}
