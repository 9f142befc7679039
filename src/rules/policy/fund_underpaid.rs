//! POL002 基金少付 — the fund paid less than the insured place's policy gives
//!
//! # What it finds
//! A settlement whose expected basic-pool payment (SPEC §6) exceeds its `hifp_pay` by more
//! than `amount_tolerance`. Amount: `expected_hifp − hifp_pay`; no money moves.
//!
//! # Why it matters
//! The patient paid what the fund owed; the insured place may owe a refund through manual
//! reimbursement (002 measure 15).
//!
//! # Example
//! Expected 8 500.00, paid 8 000.00: POL002, flag, amount 500.00.
//!
//! # Parameters
//! `amount_tolerance` (default 0.01) of the insured province.
//!
//! # 说明
//! 统筹基金支付低于按参保地政策计算的应付金额：提示，可能需参保地手工补报。

use super::{recomputed, tolerance};
use crate::rules::{Context, Finding, Rule};
use crate::units::format_money;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    recomputed(ctx)
        .filter(|&(i, expected, paid)| expected - paid > tolerance(ctx, i))
        .map(|(i, expected, paid)| {
            let detail = ctx.say(
                format!(
                    "统筹基金支付 {}，按参保地政策应付 {}，少付 {}",
                    format_money(paid),
                    format_money(expected),
                    format_money(expected - paid)
                ),
                format!(
                    "basic pool paid {}, the insured place's policy gives {}: {} underpaid",
                    format_money(paid),
                    format_money(expected),
                    format_money(expected - paid)
                ),
            );
            let mut f = Finding::settlement(rule, ctx, i, detail);
            f.amount = Some(expected - paid);
            f
        })
        .collect()
}
