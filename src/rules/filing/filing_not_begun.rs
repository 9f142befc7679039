//! FIL003 备案尚未生效 — filing not yet begun
//!
//! # What it finds
//! A settlement whose filings for the treatment area begin after the admission and were
//! not back-dated to it (`begndate` of the filing later than the settlement's).
//!
//! # Why it matters
//! A filing may be back-dated to the admission when it is made before the discharge
//! settlement (000 Q6, 002 measure 6); one that starts later does not cover the stay.
//!
//! # Example
//! Admitted 2026-10-03, filing begins 2026-10-10: FIL003, hold, naming the filing.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 备案开始日期晚于入院/就诊日期且未追溯至入院：暂缓拨付。

use super::failed_with;
use crate::rules::{Context, Finding, Rule, day};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    failed_with(
        ctx,
        rule,
        crate::matching::NoValidFiling::NotBegun,
        |_, s, f| {
            let (sn, beg) = f
                .map(|f| (f.trt_dcla_detl_sn.as_str(), day(f.begndate)))
                .unwrap_or_default();
            ctx.say(
                format!(
                    "备案 {sn} 自 {beg} 起生效，晚于入院/就诊日期 {}",
                    day(s.begndate)
                ),
                format!(
                    "filing {sn} begins on {beg}, after the treatment began on {}",
                    day(s.begndate)
                ),
            )
        },
    )
}
