//! AMT001 结算金额不平 — a settlement's identities do not hold
//!
//! # What it finds
//! A settlement (not a reversal) for which one of SPEC §2's identities fails, to the fen:
//! `medfee_sumamt = fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt + inscp_scp_amt`;
//! `fund_pay_sumamt = hifp_pay + cvlserv_pay + hifes_pay + hifmi_pay + hifob_pay + maf_pay + oth_pay`;
//! `psn_part_amt = acct_pay + psn_cash_pay`;
//! `medfee_sumamt = fund_pay_sumamt + psn_part_amt + hosp_part_amt`.
//!
//! # Why it matters
//! A settlement whose parts do not add up cannot be cleared: which of its figures is
//! right is unknown (3201/3202).
//!
//! # Example
//! `fund_pay_sumamt` 8 500.00 but `hifp_pay` 8 400.00 and no other fund: AMT001, hold.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 结算单内各金额之间的勾稽关系不成立：暂缓拨付。

use crate::model::Money;
use crate::rules::{Context, Finding, Rule};
use crate::units::format_money;

/// The identities of SPEC §2: (left side, the parts that must sum to it).
const IDENTITIES: [(Money, &[Money]); 4] = [
    (
        Money::MedfeeSumamt,
        &[
            Money::FulamtOwnpayAmt,
            Money::OverlmtSelfpay,
            Money::PreselfpayAmt,
            Money::InscpScpAmt,
        ],
    ),
    (
        Money::FundPaySumamt,
        &[
            Money::HifpPay,
            Money::CvlservPay,
            Money::HifesPay,
            Money::HifmiPay,
            Money::HifobPay,
            Money::MafPay,
            Money::OthPay,
        ],
    ),
    (Money::PsnPartAmt, &[Money::AcctPay, Money::PsnCashPay]),
    (
        Money::MedfeeSumamt,
        &[Money::FundPaySumamt, Money::PsnPartAmt, Money::HospPartAmt],
    ),
];

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.checked_settlements()
        .filter_map(|(i, s)| {
            let broken: Vec<String> = IDENTITIES
                .iter()
                .filter_map(|(total, parts)| {
                    let sum: i64 = parts.iter().map(|&p| s.amount(p)).sum();
                    (sum != s.amount(*total)).then(|| {
                        let names: Vec<&str> = parts.iter().map(|p| p.name()).collect();
                        format!(
                            "{} {} ≠ {} {}",
                            total.name(),
                            format_money(s.amount(*total)),
                            names.join("+"),
                            format_money(sum)
                        )
                    })
                })
                .collect();
            (!broken.is_empty()).then(|| {
                let detail = ctx.say(
                    format!("结算金额不平：{}", broken.join("；")),
                    format!("settlement identities fail: {}", broken.join("; ")),
                );
                Finding::settlement(rule, ctx, i, detail)
            })
        })
        .collect()
}
