//! FIL001 无备案 — no filing at all
//!
//! # What it finds
//! A settlement that needs a filing (across provinces; inside one when the insured
//! province's `intra_province_filing` says so), is not an emergency, and whose person has no
//! filing that explains it: none of FIL002–FIL006 applies.
//!
//! # Why it matters
//! Direct settlement away from the insured place requires a filing (备案) first; without
//! one the fund payment has no basis and is withheld (000 Q2, "为什么…没办法结算").
//!
//! # Example
//! A Nanchang employee (360100) settles an inpatient stay in Guangzhou (440100) and has no
//! filing at all: FIL001, hold, amount = the stay's `fund_pay_sumamt`.
//!
//! # Parameters
//! `intra_province_filing` (none | inpatient | all) of the insured province.
//!
//! # 说明
//! 需要备案的异地结算，参保人没有任何可说明的备案记录：暂缓拨付该笔基金支付。

use super::failed_with;
use crate::rules::{Context, Finding, Rule, day};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    failed_with(
        ctx,
        rule,
        crate::matching::NoValidFiling::None,
        |_, s, _| {
            ctx.say(
            format!(
                "参保人 {} 在 {} 入院/就诊，参保地 {} 无任何备案记录；请核实备案后再清算",
                s.psn_no,
                day(s.begndate),
                s.insuplc_admdvs
            ),
            format!(
                "person {} treated from {} has no filing with insured place {}; check the filing before clearing",
                s.psn_no,
                day(s.begndate),
                s.insuplc_admdvs
            ),
        )
        },
    )
}
