//! REV001 冲销原结算不在本月 — a reversal of a settlement of another month
//!
//! # What it finds
//! A reversal (`refd_setl_flag = 1`) whose original — same hospital, `setl_id` equal to
//! its `init_setl_id` — is not among the month's settlements that are not excluded and not
//! copies. It clears its (negative) amounts as an adjustment.
//!
//! # Why it matters
//! The original was cleared in an earlier month; this month's clearing gives the money
//! back through the reversal's negative amounts, which the agency should see.
//!
//! # Example
//! R1 reverses S9, settled in September: REV001, flag; R1 clears −500.00.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 冲销记录对应的原结算不在本月：作为以前月份的调整清算（负数），仅提示。

use crate::rules::{Context, Finding, Rule};
use crate::scope::ReversalProblem;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.model.settlements.keys()
        .filter(|&i| ctx.scope.reversal_problem[i] == Some(ReversalProblem::OriginalNotInMonth))
        .map(|i| {
            let s = &ctx.model.settlements[i];
            let original = s.init_setl_id.clone().unwrap_or_default();
            let detail = ctx.say(
                format!("冲销的原结算 {original} 不在本月，按调整清算"),
                format!("the reversed settlement {original} is not in the month: cleared as an adjustment"),
            );
            Finding::settlement(rule, ctx, i, detail)
        })
        .collect()
}
