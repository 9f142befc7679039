//! PER001 结算时间不在本月 — settled outside the month
//!
//! # What it finds
//! A settlement or reversal whose `setl_time` is outside the month being cleared
//! (`--month`, or the month directory's name). The row is excluded: no other rule looks at
//! it and it takes no part in the clearing.
//!
//! # Why it matters
//! Each month clears what was settled in it; a row of another month belongs to that
//! month's clearing, and counting it here would clear it twice or early.
//!
//! # Example
//! Clearing 2026-10, a row settled 2026-09-30 23:59:59: PER001, flag, excluded.
//!
//! # Parameters
//! None (the month comes from the command line).
//!
//! # 说明
//! 结算时间不在本清算月份内：不参与本月审核与清算，仅提示。

use crate::rules::{Context, Finding, Rule, time};
use crate::scope::Class;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.model
        .settlements
        .keys()
        .filter(|&i| ctx.scope.class[i] == Class::OutsideMonth)
        .map(|i| {
            let when = time(ctx.model.settlements[i].setl_time);
            let detail = ctx.say(
                format!(
                    "结算时间 {when} 不在清算月份 {} 内，不纳入本月清算",
                    ctx.month
                ),
                format!(
                    "settled at {when}, outside the month {}: excluded",
                    ctx.month
                ),
            );
            Finding::settlement(rule, ctx, i, detail)
        })
        .collect()
}
