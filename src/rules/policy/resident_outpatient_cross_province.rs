//! POL003 居民普通门诊跨省 — resident general outpatient across provinces
//!
//! # What it finds
//! A cross-province settlement (insured and treatment provinces differ) of resident
//! insurance (`insutype` 390) for general outpatient care (med_type 11), where the insured
//! province does not settle it cross-province (`resident_outpatient_cross_province`).
//!
//! # Why it matters
//! Jiangxi's guide: residents cannot settle general outpatient care directly in another
//! province (000 "我在老家鹰潭…"); the payment is withheld until the agency decides.
//!
//! # Example
//! A Hengyang resident's outpatient visit in Guangzhou: POL003, hold.
//!
//! # Parameters
//! `resident_outpatient_cross_province` (default false) of the insured province.
//!
//! # 说明
//! 城乡居民普通门诊费用跨省直接结算未开通（参保地配置）：暂缓拨付。

use super::cross_province;
use crate::codes::{Insutype, MedType};
use crate::model::prov;
use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.checked_settlements()
        .filter(|(i, s)| {
            s.insutype == Insutype::Resident
                && s.med_type == MedType::Outpatient
                && cross_province(s, &ctx.scope.treatment[*i])
                && !ctx
                    .config
                    .for_province(prov(&s.insuplc_admdvs))
                    .resident_outpatient_cross_province
        })
        .map(|(i, s)| {
            let detail = ctx.say(
                format!("参保地 {} 未开通城乡居民普通门诊跨省直接结算", s.insuplc_admdvs),
                format!(
                    "insured place {} does not settle resident general outpatient care across provinces",
                    s.insuplc_admdvs
                ),
            );
            Finding::settlement(rule, ctx, i, detail)
        })
        .collect()
}
