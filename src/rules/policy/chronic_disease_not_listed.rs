//! POL004 门诊慢特病种不在目录 — chronic disease not settled cross-province
//!
//! # What it finds
//! A cross-province chronic outpatient settlement (med_type 14) whose `opsp_dise_code` is
//! not listed for the insured province in opsp_diseases.csv.
//!
//! # Why it matters
//! Each insured province settles only the chronic diseases it lists cross-province
//! (Jiangxi 10, the national 5: 000, 002 measure 11); the disease range follows the
//! insured place's policy.
//!
//! # Example
//! A Jilin employee's chronic outpatient visit for M03500 (coronary heart disease, not on
//! Jilin's list of 5) in Nanchang: POL004, hold.
//!
//! # Parameters
//! None (the lists are opsp_diseases.csv).
//!
//! # 说明
//! 门诊慢特病病种不在参保省跨省直接结算病种范围内：暂缓拨付。

use super::cross_province;
use crate::codes::MedType;
use crate::model::prov;
use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.checked_settlements()
        .filter(|(i, s)| s.med_type == MedType::ChronicOutpatient && cross_province(s, &ctx.scope.treatment[*i]))
        .filter_map(|(i, s)| {
            let code = s.opsp_dise_code.as_deref().unwrap_or_default().to_owned();
            let insured = prov(&s.insuplc_admdvs).to_owned();
            (!ctx.model.opsp_diseases.contains(&(insured.clone(), code.clone()))).then(|| {
                let detail = ctx.say(
                    format!("病种 {code} 不在参保省 {insured} 的门诊慢特病跨省结算病种内"),
                    format!("disease {code} is not on province {insured}'s list of chronic diseases settled cross-province"),
                );
                Finding::settlement(rule, ctx, i, detail)
            })
        })
        .collect()
}
