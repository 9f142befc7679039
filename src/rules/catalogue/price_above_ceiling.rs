//! CAT004 超限价 — unit price above the catalogue's ceiling
//!
//! # What it finds
//! A fee line whose catalogue row has class 01 or 02 and a price ceiling, billed at a unit
//! price `pric` above that ceiling (the catalogue's ceiling, not the billed one).
//! Disallowed: `min(inscp_scp_amt, round((pric − ceiling) × cnt, 2))`, deducted at the
//! settlement's effective fund ratio; reported when the disallowed amount is above 0.
//!
//! # Why it matters
//! Above the ceiling the excess is the patient's (`overlmt_selfpay`), not the fund's; a
//! line that keeps it in scope makes the fund pay it.
//!
//! # Example
//! A bed at 80.00 a day for 7 days, ceiling 60.00, all 560.00 in scope: disallowed 140.00,
//! deducted at the fund ratio. A price exactly at the ceiling is fine.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 单价超过就医地目录限价，超出部分计入了政策范围内费用：按实际基金支付比例扣减超出金额。

use super::deducted;
use crate::codes::ChrgitmLv;
use crate::rules::{Context, Finding, Rule};
use crate::units::{PRICE_SCALE, QTY_SCALE, div_round, format_fixed, format_money};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let lines = &ctx.model.fee_lines;
    // Ceiling in fen to price units (10^-6), and (price × quantity) units (10^-10) to fen.
    let fen_to_price = 10_i64.pow(PRICE_SCALE - 2);
    let product_to_fen = 10_i128.pow(PRICE_SCALE + QTY_SCALE - 2);
    ctx.checked_lines()
        .filter_map(|(k, i)| {
            let item = ctx.line_item[k]?;
            let ceiling = item
                .pric_uplmt_amt
                .filter(|_| matches!(item.chrgitm_lv, ChrgitmLv::ClassA | ChrgitmLv::ClassB))?;
            let excess = lines.pric[k] - ceiling * fen_to_price;
            if excess <= 0 {
                return None;
            }
            let over = div_round(
                i128::from(excess) * i128::from(lines.cnt[k]),
                product_to_fen,
            ) as i64;
            let disallowed = over.min(lines.inscp_scp_amt[k]);
            (disallowed > 0).then(|| {
                let detail = ctx.say(
                    format!(
                        "项目 {} 单价 {} 超过目录限价 {}，超出部分 {} 不予支付",
                        &lines.med_list_codg[k],
                        format_fixed(lines.pric[k], PRICE_SCALE),
                        format_money(ceiling),
                        format_money(disallowed)
                    ),
                    format!(
                        "item {} priced {} above the catalogue's ceiling {}; {} disallowed",
                        &lines.med_list_codg[k],
                        format_fixed(lines.pric[k], PRICE_SCALE),
                        format_money(ceiling),
                        format_money(disallowed)
                    ),
                );
                ctx.line_finding(rule, k, i, Some(deducted(ctx, i, disallowed)), detail)
            })
        })
        .collect()
}
