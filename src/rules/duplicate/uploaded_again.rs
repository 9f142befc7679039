//! DUP004 重复上传已挂账结算 — a settlement uploaded again in a later month
//!
//! # What it finds
//! A settlement of the month in scope (not excluded, not a reversal, not a DUP001 copy)
//! whose (`fixmedins_code`, `setl_id`) is an entry of the previous month's ledger that was
//! not reversed: it was cleared or held in an earlier month and is uploaded again. Held; like
//! a DUP001 copy, no other rule looks at it and it spends no deductible or cap (§6).
//!
//! # Why it matters
//! A settlement is paid once (no double settlement). The money of the first upload is
//! already in the ledger, waiting for the agency's decision or the hospital's appeal;
//! clearing the copy would pay it twice. A month sees only the ledger: a re-upload of a
//! settlement cleared in full earlier has no entry and is not caught.
//!
//! # Example
//! S1 held in 2026-10 (FIL001) and uploaded again in 2026-11: DUP004 on the November row,
//! hold; the October entry stays as it was.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 已在往月挂账（暂缓或扣款）的结算本月再次上传：暂缓拨付，以台账为准，避免重复结算。

use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.model.settlements.keys()
        .filter(|&i| ctx.scope.reupload[i])
        .filter_map(|i| {
            let s = &ctx.model.settlements[i];
            let entry = ctx.previous.get(&s.fixmedins_code, &s.setl_id)?;
            let detail = ctx.say(
                format!(
                    "结算 {} 已于 {} 清算或暂缓，在挂账台账中（{}）：本次为重复上传",
                    s.setl_id,
                    entry.first_month,
                    entry.kind.name()
                ),
                format!(
                    "settlement {} was cleared or held in {} and is in the ledger ({}): uploaded again",
                    s.setl_id,
                    entry.first_month,
                    entry.kind.name()
                ),
            );
            Some(Finding::settlement(rule, ctx, i, detail))
        })
        .collect()
}
