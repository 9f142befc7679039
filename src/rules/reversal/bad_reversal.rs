//! REV002 冲销异常 — a reversal that does not cleanly reverse its original
//!
//! # What it finds
//! A reversal with no `init_setl_id`; one whose original an earlier line of the hospital's
//! setlinfo already reversed; or one whose money columns are not exactly the negatives of
//! the original's (an empty amount counts as 0). Held, with its own (negative) fund payment.
//!
//! # Why it matters
//! A reversal gives money back; one that names nothing, reverses twice or gives back a
//! different amount would move money the original never moved.
//!
//! # Example
//! S1 paid 500.00; R1 reverses it with `fund_pay_sumamt` −400.00: REV002, hold.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 冲销记录缺少原结算号、重复冲销或金额与原结算不相反：暂缓清算。

use crate::rules::{Context, Finding, Rule};
use crate::scope::ReversalProblem;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let settlements = &ctx.model.settlements;
    settlements
        .keys()
        .filter_map(|i| {
            let detail = match ctx.scope.reversal_problem[i].as_ref()? {
                ReversalProblem::OriginalNotInMonth => return None,
                ReversalProblem::EntryAlreadyReversed => ctx.say(
                    "原结算在挂账台账中已被冲销".into(),
                    "the original's ledger entry was already reversed".into(),
                ),
                ReversalProblem::EntryAmountDiffers { entry_fund } => ctx.say(
                    format!(
                        "冲销的基金支付 {} 与挂账台账中原结算的 {} 不相反",
                        crate::units::format_money(settlements[i].fund_pay_sumamt()),
                        crate::units::format_money(*entry_fund)
                    ),
                    format!(
                        "fund_pay_sumamt {} is not the negative of the ledger entry's {}",
                        crate::units::format_money(settlements[i].fund_pay_sumamt()),
                        crate::units::format_money(*entry_fund)
                    ),
                ),
                ReversalProblem::NoOriginalId => ctx.say(
                    "冲销记录缺少原结算号 init_setl_id".into(),
                    "the reversal has no init_setl_id".into(),
                ),
                ReversalProblem::AlreadyReversed { original, by } => {
                    let (o, b) = (&settlements[*original], &settlements[*by]);
                    ctx.say(
                        format!(
                            "原结算 {} 已被第 {} 行的冲销 {} 冲销",
                            o.setl_id, b.line, b.setl_id
                        ),
                        format!(
                            "settlement {} was already reversed by {} on line {}",
                            o.setl_id, b.setl_id, b.line
                        ),
                    )
                }
                ReversalProblem::AmountsDiffer { original, columns } => ctx.say(
                    format!(
                        "冲销金额与原结算 {} 不相反：{}",
                        settlements[*original].setl_id,
                        columns.join("、")
                    ),
                    format!(
                        "amounts are not the negatives of settlement {}'s: {}",
                        settlements[*original].setl_id,
                        columns.join(", ")
                    ),
                ),
            };
            Some(Finding::settlement(rule, ctx, i, detail))
        })
        .collect()
}
