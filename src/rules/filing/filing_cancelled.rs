//! FIL004 备案已撤销 — filing cancelled
//!
//! # What it finds
//! A settlement whose filing for the treatment area covers its dates but was cancelled
//! (`vali_flag = 0`) on or before the admission (`date(updt_time) ≤ begndate`).
//!
//! # Why it matters
//! A cancelled filing no longer allows direct settlement (000 Q2); a filing cancelled
//! after the admission still covers that stay.
//!
//! # Example
//! A long-term filing cancelled on 2026-09-30, a stay begun 2026-10-03: FIL004, hold.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 备案已于入院/就诊前撤销（vali_flag=0）：暂缓拨付。

use super::failed_with;
use crate::rules::{Context, Finding, Rule, day, time};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    failed_with(
        ctx,
        rule,
        crate::matching::NoValidFiling::Cancelled,
        |_, s, f| {
            let (sn, when) = f
                .map(|f| (f.trt_dcla_detl_sn.as_str(), time(f.updt_time)))
                .unwrap_or_default();
            ctx.say(
                format!(
                    "备案 {sn} 已于 {when} 撤销，早于入院/就诊日期 {}",
                    day(s.begndate)
                ),
                format!(
                    "filing {sn} was cancelled at {when}, before the treatment began on {}",
                    day(s.begndate)
                ),
            )
        },
    )
}
