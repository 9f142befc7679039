//! FIL006 备案地与就医地不符 — valid filing for another area
//!
//! # What it finds
//! A settlement whose person holds a filing valid on the admission date, but for another
//! area than the treatment place or its province.
//!
//! # Why it matters
//! A filing lets the person settle directly in the area it names (`rloc_admdvs`), not
//! elsewhere; the agency must decide whether the stay is covered.
//!
//! # Example
//! Filed for Guangdong (440000), treated in Changsha (430100): FIL006, hold, naming the
//! Guangdong filing.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 有有效备案，但备案就医地与实际就医地不一致：暂缓拨付。

use super::failed_with;
use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    failed_with(
        ctx,
        rule,
        crate::matching::NoValidFiling::OtherArea,
        |i, _, f| {
            let (sn, area) = f
                .map(|f| (f.trt_dcla_detl_sn.as_str(), f.rloc_admdvs.as_str()))
                .unwrap_or_default();
            let place = &ctx.scope.treatment[i];
            ctx.say(
                format!("备案 {sn} 的就医地为 {area}，与实际就医地 {place} 不符"),
                format!("filing {sn} is for area {area}, not the treatment place {place}"),
            )
        },
    )
}
