//! AMT002 明细与结算不符 — the fee lines do not add up to the settlement
//!
//! # What it finds
//! A settlement (not a reversal) whose fee lines' `det_item_fee_sumamt` do not sum to its
//! `medfee_sumamt`, or whose lines' `inscp_scp_amt` do not sum to its `inscp_scp_amt`; or
//! that has no fee lines; or some of whose fee lines were rejected at ingestion (its
//! details are incomplete, not empty).
//!
//! # Why it matters
//! The detail reconciliation (3202 对明细账) checks the settlement against what was
//! billed; the catalogue audit is only as good as the lines it sees.
//!
//! # Example
//! Lines summing to 11 900.00 for a settlement of 12 000.00: AMT002, hold.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 费用明细合计与结算单不一致、无明细或明细被拒收：暂缓拨付。

use crate::model::{Money, PerSettlement};
use crate::rules::{Context, Finding, Rule};
use crate::units::format_money;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let lines = &ctx.model.fee_lines;
    let n = ctx.model.settlements.len();
    let (mut count, mut total, mut inscp): (
        PerSettlement<u64>,
        PerSettlement<i64>,
        PerSettlement<i64>,
    ) = (vec![0; n].into(), vec![0; n].into(), vec![0; n].into());
    for (k, i) in ctx.checked_lines() {
        count[i] += 1;
        total[i] += lines.det_item_fee_sumamt[k];
        inscp[i] += lines.inscp_scp_amt[k];
    }
    ctx.checked_settlements()
        .filter_map(|(i, s)| {
            let rejected = ctx
                .model
                .rejected_fee_lines
                .contains(&(s.hospital_dir.to_string(), s.setl_id.to_string()));
            let mut problems = Vec::new();
            if rejected {
                problems.push(ctx.say(
                    "部分费用明细被拒收（见 rejects.csv）".into(),
                    "some fee lines were rejected (see rejects.csv)".into(),
                ));
            }
            if count[i] == 0 && !rejected {
                problems.push(ctx.say("无费用明细".into(), "no fee lines".into()));
            }
            if count[i] > 0 || rejected {
                if total[i] != s.amount(Money::MedfeeSumamt) {
                    problems.push(ctx.say(
                        format!(
                            "明细合计 {} ≠ 医疗费总额 {}",
                            format_money(total[i]),
                            format_money(s.amount(Money::MedfeeSumamt))
                        ),
                        format!(
                            "lines sum to {}, medfee_sumamt is {}",
                            format_money(total[i]),
                            format_money(s.amount(Money::MedfeeSumamt))
                        ),
                    ));
                }
                if inscp[i] != s.amount(Money::InscpScpAmt) {
                    problems.push(ctx.say(
                        format!(
                            "明细范围内合计 {} ≠ 结算范围内金额 {}",
                            format_money(inscp[i]),
                            format_money(s.amount(Money::InscpScpAmt))
                        ),
                        format!(
                            "lines' inscp_scp_amt sum to {}, the settlement's is {}",
                            format_money(inscp[i]),
                            format_money(s.amount(Money::InscpScpAmt))
                        ),
                    ));
                }
            }
            (!problems.is_empty()).then(|| {
                let detail = problems.join(ctx.say("；".into(), "; ".into()).as_str());
                Finding::settlement(rule, ctx, i, detail)
            })
        })
        .collect()
}
