//! FIL005 结算后补备案 — filed after the settlement
//!
//! # What it finds
//! A settlement whose filing for the treatment area would cover it, but was created after
//! the settlement (`crte_time > setl_time`).
//!
//! # Why it matters
//! Back-dating is allowed only for a filing made before the discharge settlement (000 Q6,
//! 002 measure 6); one made afterwards did not exist when the hospital settled directly.
//!
//! # Example
//! Settled 2026-10-12 10:00:00, filing created 2026-10-13 09:00:00 with `begndate`
//! 2026-10-01: FIL005, hold.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 备案在结算之后才办理：出院结算前补办的备案可追溯，结算后办理的不可。暂缓拨付。

use super::failed_with;
use crate::rules::{Context, Finding, Rule, time};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    failed_with(
        ctx,
        rule,
        crate::matching::NoValidFiling::FiledAfter,
        |_, s, f| {
            let (sn, made) = f
                .map(|f| (f.trt_dcla_detl_sn.as_str(), time(f.crte_time)))
                .unwrap_or_default();
            ctx.say(
                format!(
                    "备案 {sn} 于 {made} 办理，晚于结算时间 {}",
                    time(s.setl_time)
                ),
                format!(
                    "filing {sn} was made at {made}, after the settlement at {}",
                    time(s.setl_time)
                ),
            )
        },
    )
}
