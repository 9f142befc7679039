//! CAT001 目录外项目 — billed in scope, but not in the treatment place's catalogue
//!
//! # What it finds
//! A fee line with `inscp_scp_amt > 0` whose `med_list_codg` has no row of the treatment
//! province's catalogue valid on `date(fee_ocur_time)`. Disallowed: the line's
//! `inscp_scp_amt`; deducted: that amount times the settlement's effective fund ratio
//! `hifp_pay / inscp_scp_amt`, rounded once to the fen. Reported even when it rounds to 0.
//!
//! # Why it matters
//! "一看就医地医保目录": what the fund pays for is decided by the treatment place's
//! catalogue, even when the insured place's lists the item (000 "两看").
//!
//! # Example
//! A line of 300.00 in scope for a drug Guangdong does not list, in a settlement paying
//! 8 500.00 of 10 800.00 in scope: CAT001, deduct 300.00 × 8500/10800 = 236.11.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 按就医地目录，该项目不在目录内却计入了政策范围内费用：按实际基金支付比例扣减。

use super::deducted;
use crate::rules::{Context, Finding, Rule, day};
use crate::units::format_money;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let lines = &ctx.model.fee_lines;
    ctx.checked_lines()
        .filter(|&(k, _)| lines.inscp_scp_amt[k] > 0 && ctx.line_item[k].is_none())
        .map(|(k, i)| {
            let disallowed = lines.inscp_scp_amt[k];
            let province = crate::model::prov(&ctx.scope.treatment[i]);
            let detail = ctx.say(
                format!(
                    "项目 {} 在 {} 不在就医地（{province}）目录内，政策范围内金额 {} 不予支付",
                    &lines.med_list_codg[k],
                    day(lines.fee_ocur_day[k]),
                    format_money(disallowed)
                ),
                format!(
                    "item {} is not in province {province}'s catalogue on {}; {} in scope disallowed",
                    &lines.med_list_codg[k],
                    day(lines.fee_ocur_day[k]),
                    format_money(disallowed)
                ),
            );
            ctx.line_finding(rule, k, i, Some(deducted(ctx, i, disallowed)), detail)
        })
        .collect()
}
