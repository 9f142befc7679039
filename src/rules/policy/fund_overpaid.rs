//! POL001 基金多付 — the fund paid more than the insured place's policy gives
//!
//! # What it finds
//! A settlement whose `hifp_pay` exceeds the expected basic-pool payment of SPEC §6 by more
//! than `amount_tolerance`: the insured place's deductible (per stay, or what is left of
//! the year's), its payment ratio and what is left of its annual cap, year-to-date figures
//! carried forward. Deducted: the excess `hifp_pay − expected_hifp`.
//!
//! # Why it matters
//! "二看参保地政策": the deductible, ratio and cap are the insured place's, whatever the
//! treatment place's are (000 "两看"). Paying more is money the insured place does not owe.
//!
//! # Example
//! A Nanchang employee's stay, 10 800.00 in scope, 800 deductible, 85%: expected 8 500.00;
//! paid 8 600.00: POL001, deduct 100.00.
//!
//! # Parameters
//! `amount_tolerance` (default 0.01) of the insured province.
//!
//! # 说明
//! 统筹基金支付高于按参保地政策（起付线、支付比例、封顶线）计算的应付金额：扣减多付部分。

use super::{recomputed, tolerance};
use crate::rules::{Context, Finding, Rule};
use crate::units::format_money;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    recomputed(ctx)
        .filter(|&(i, expected, paid)| paid - expected > tolerance(ctx, i))
        .map(|(i, expected, paid)| {
            let detail = ctx.say(
                format!(
                    "统筹基金支付 {}，按参保地政策应付 {}，多付 {}",
                    format_money(paid),
                    format_money(expected),
                    format_money(paid - expected)
                ),
                format!(
                    "basic pool paid {}, the insured place's policy gives {}: {} overpaid",
                    format_money(paid),
                    format_money(expected),
                    format_money(paid - expected)
                ),
            );
            let mut f = Finding::settlement(rule, ctx, i, detail);
            f.amount = Some(paid - expected);
            f
        })
        .collect()
}
