//! AMT004 明细金额计算错误 — a line's price, quantity or parts do not add up
//!
//! # What it finds
//! A fee line (of a settlement that is looked at) with
//! `|det_item_fee_sumamt − cnt × pric| > amount_tolerance`, or whose parts
//! (`fulamt_ownpay_amt + overlmt_amt + preselfpay_amt + inscp_scp_amt`) do not sum exactly
//! to `det_item_fee_sumamt`.
//!
//! # Why it matters
//! A line's amount is its price times its quantity, rounded to the fen; a line that
//! disagrees was keyed or computed wrongly, and its split between patient and fund is
//! then doubtful.
//!
//! # Example
//! 3 × 20.50 billed as 62.00: AMT004, flag.
//!
//! # Parameters
//! `amount_tolerance` (default 0.01) of the insured province.
//!
//! # 说明
//! 明细金额不等于数量×单价，或自费、超限、先行自付、范围内四部分之和不等于明细金额：提示。

use crate::model::prov;
use crate::rules::{Context, Finding, Rule};
use crate::units::{PRICE_SCALE, QTY_SCALE, format_money};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let lines = &ctx.model.fee_lines;
    // Fen to (price × quantity) units of 10^-10.
    let fen = 10_i128.pow(PRICE_SCALE + QTY_SCALE - 2);
    ctx.checked_lines()
        .filter_map(|(k, i)| {
            let s = &ctx.model.settlements[i];
            let tolerance = ctx
                .config
                .for_province(prov(&s.insuplc_admdvs))
                .amount_tolerance;
            let amount = lines.det_item_fee_sumamt[k];
            let product = i128::from(lines.cnt[k]) * i128::from(lines.pric[k]);
            let mut problems = Vec::new();
            if (i128::from(amount) * fen - product).abs() > i128::from(tolerance) * fen {
                problems.push(ctx.say(
                    format!("明细金额 {} ≠ 数量×单价", format_money(amount)),
                    format!("line amount {} ≠ cnt × pric", format_money(amount)),
                ));
            }
            let parts = lines.fulamt_ownpay_amt[k]
                + lines.overlmt_amt[k]
                + lines.preselfpay_amt[k]
                + lines.inscp_scp_amt[k];
            if parts != amount {
                problems.push(ctx.say(
                    format!(
                        "四部分之和 {} ≠ 明细金额 {}",
                        format_money(parts),
                        format_money(amount)
                    ),
                    format!(
                        "the line's parts sum to {}, not {}",
                        format_money(parts),
                        format_money(amount)
                    ),
                ));
            }
            (!problems.is_empty()).then(|| {
                let detail = problems.join(ctx.say("；".into(), "; ".into()).as_str());
                ctx.line_finding(rule, k, i, None, detail)
            })
        })
        .collect()
}
