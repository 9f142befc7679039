//! Filing rules: a settlement that needs a filing and has none valid (FIL001–FIL006, one
//! reason each, decided by [`crate::matching`]), and single-use filings used twice (FIL007).

pub mod filed_after_settlement;
pub mod filing_cancelled;
pub mod filing_expired;
pub mod filing_for_other_area;
pub mod filing_not_begun;
pub mod no_filing;
pub mod single_use_filing_reused;

use super::{Context, Finding, Rule};
use crate::matching::{NoValidFiling, Outcome};
use crate::model::{Filing, SetlRow, Settlement};

/// The hold findings (of `rule`) of the settlements whose matching failed for `reason`.
fn failed_with(
    ctx: &Context,
    rule: &Rule,
    reason: NoValidFiling,
    detail: impl Fn(SetlRow, &Settlement, Option<&Filing>) -> String,
) -> Vec<Finding> {
    ctx.outcomes
        .iter_enumerated()
        .filter_map(|(i, outcome)| match outcome {
            Outcome::Failed {
                reason: why,
                filing,
            } if *why == reason => {
                let filing = filing.map(|f| &ctx.model.filings[f]);
                let s = &ctx.model.settlements[i];
                Some(Finding::settlement(rule, ctx, i, detail(i, s, filing)).with_filing(filing))
            }
            _ => None,
        })
        .collect()
}
