//! DUP001 结算流水号重复 — the same settlement id more than once
//!
//! # What it finds
//! A (`fixmedins_code`, `setl_id`) that appears more than once among the month's rows that
//! are not excluded: the row with the smallest (hospital directory, line) stands for the
//! claim, each other copy is held, and no other rule looks at it.
//!
//! # Why it matters
//! The settlement detail reconciliation (3202 对明细账) pays one claim once; a repeated
//! row would clear it twice.
//!
//! # Example
//! `S1` on lines 2 and 7 of a hospital's setlinfo: DUP001 on line 7, hold.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 同一医院同一结算流水号重复上传：保留首条，其余暂缓拨付。

use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.model
        .settlements
        .keys()
        .filter_map(|i| {
            let first = ctx.scope.copy_of[i]?;
            let kept = &ctx.model.settlements[first];
            let s = &ctx.model.settlements[i];
            let detail = ctx.say(
                format!(
                    "结算流水号 {} 重复（exports/{} 第 {} 行），以 exports/{} 第 {} 行为准",
                    s.setl_id, s.hospital_dir, s.line, kept.hospital_dir, kept.line
                ),
                format!(
                    "setl_id {} repeated (exports/{} line {}); exports/{} line {} stands",
                    s.setl_id, s.hospital_dir, s.line, kept.hospital_dir, kept.line
                ),
            );
            Some(Finding::settlement(rule, ctx, i, detail))
        })
        .collect()
}
