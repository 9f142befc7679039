//! FIL002 备案已过期 — filing expired
//!
//! # What it finds
//! A settlement whose only filings for the treatment area had already ended before the
//! admission (`enddate < begndate` of the settlement) — after FIL004 is ruled out.
//!
//! # Why it matters
//! An expired filing no longer allows direct settlement; the person must file again
//! (000 Q6, Q7). The fund payment is withheld.
//!
//! # Example
//! A referral filing valid 2026-03-01 to 2026-08-31; the stay begins 2026-10-08: FIL002,
//! hold, naming the filing.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 备案有效期已过，就医日期晚于备案截止日期：暂缓拨付，请参保人重新备案。

use super::failed_with;
use crate::rules::{Context, Finding, Rule, day};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    failed_with(
        ctx,
        rule,
        crate::matching::NoValidFiling::Expired,
        |_, s, f| {
            let (sn, end) = f
                .map(|f| {
                    (
                        f.trt_dcla_detl_sn.as_str(),
                        f.enddate.map(day).unwrap_or_default(),
                    )
                })
                .unwrap_or_default();
            ctx.say(
                format!(
                    "备案 {sn} 已于 {end} 到期，就医日期 {} 在其之后",
                    day(s.begndate)
                ),
                format!(
                    "filing {sn} ended on {end}, before the treatment on {}",
                    day(s.begndate)
                ),
            )
        },
    )
}
