//! CAT002 丙类项目计入范围内 — a fully self-paid (丙类) item billed in scope
//!
//! # What it finds
//! A fee line with `inscp_scp_amt > 0` whose catalogue row (treatment province, valid on
//! its date) has class 03 (丙类, fully self-paid). Disallowed: the line's `inscp_scp_amt`,
//! deducted at the settlement's effective fund ratio. Reported even when it rounds to 0.
//!
//! # Why it matters
//! 丙类 items are paid by the patient in full; billing them in scope makes the fund pay
//! for them.
//!
//! # Example
//! A dressing of class 03, 200.00 billed in scope: CAT002, deduct 200.00 × the fund ratio.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 就医地目录中为丙类（全自费）的项目被计入政策范围内费用：按实际基金支付比例扣减。

use super::deducted;
use crate::codes::ChrgitmLv;
use crate::rules::{Context, Finding, Rule};
use crate::units::format_money;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let lines = &ctx.model.fee_lines;
    ctx.checked_lines()
        .filter(|&(k, _)| {
            lines.inscp_scp_amt[k] > 0 && ctx.line_item[k].is_some_and(|item| item.chrgitm_lv == ChrgitmLv::SelfPaid)
        })
        .map(|(k, i)| {
            let disallowed = lines.inscp_scp_amt[k];
            let detail = ctx.say(
                format!(
                    "项目 {} 在就医地目录中为丙类（全自费），政策范围内金额 {} 不予支付",
                    &lines.med_list_codg[k],
                    format_money(disallowed)
                ),
                format!(
                    "item {} is class 03 (fully self-paid) in the catalogue; {} in scope disallowed",
                    &lines.med_list_codg[k],
                    format_money(disallowed)
                ),
            );
            ctx.line_finding(rule, k, i, Some(deducted(ctx, i, disallowed)), detail)
        })
        .collect()
}
