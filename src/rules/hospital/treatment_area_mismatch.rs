//! HOS003 就医地区划不符 — reported treatment area differs from the registry
//!
//! # What it finds
//! A settlement at a hospital of the registry whose `mdtrtarea_admvs` (the treatment area
//! the hospital reported) differs from the registry's `fix_blng_admdvs`.
//!
//! # Why it matters
//! The clearing goes to the registry's area; a hospital reporting another one has a
//! misconfigured system, and its claims may be routed to the wrong treatment place.
//!
//! # Example
//! `H44010000001` belongs to 440100 but reports 440300: HOS003, flag.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 医院上传的就医地区划与定点名单所属统筹区不一致：仅提示，请核查医院系统配置。

use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.checked_settlements()
        .filter_map(|(i, s)| {
            let h = ctx.model.hospitals.get(s.fixmedins_code.as_str())?;
            (h.fix_blng_admdvs != s.mdtrtarea_admvs).then(|| {
                let detail = ctx.say(
                    format!(
                        "上传的就医地 {} 与定点名单所属统筹区 {} 不一致",
                        s.mdtrtarea_admvs, h.fix_blng_admdvs
                    ),
                    format!(
                        "reported treatment area {} differs from the registry's {}",
                        s.mdtrtarea_admvs, h.fix_blng_admdvs
                    ),
                );
                Finding::settlement(rule, ctx, i, detail)
            })
        })
        .collect()
}
