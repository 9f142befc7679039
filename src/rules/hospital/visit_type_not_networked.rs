//! HOS002 该类就医未开通 — networked, but not for this kind of visit
//!
//! # What it finds
//! A settlement at a networked hospital (HOS001 does not apply) whose kind of visit the
//! hospital is not networked for: med_type 21–24 needs `ip_flag = 1`, 11 and 13 `op_flag`,
//! 14 `opsp_flag`.
//!
//! # Why it matters
//! Inpatient, general outpatient and chronic outpatient direct settlement are opened
//! separately (000); a hospital may settle only the kinds it is networked for.
//!
//! # Example
//! A chronic outpatient visit (14) at a hospital with `opsp_flag = 0`: HOS002, hold.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 医疗机构已联网，但未开通该类就医（住院、普通门诊、门诊慢特病）的直接结算：暂缓拨付。

use super::networked_on_settlement_day;
use crate::codes::MedGrp;
use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.checked_settlements()
        .filter_map(|(i, s)| {
            let h =
                networked_on_settlement_day(ctx.model.hospitals.get(s.fixmedins_code.as_str()), s)?;
            let (open, zh, en) = match s.med_grp() {
                MedGrp::Op => (h.op, "普通门诊", "general outpatient"),
                MedGrp::Opsp => (h.opsp, "门诊慢特病", "chronic outpatient"),
                MedGrp::Ip => (h.ip, "住院", "inpatient"),
            };
            (!open).then(|| {
                let detail = ctx.say(
                    format!(
                        "{} 未开通{zh}异地直接结算（med_type {}）",
                        h.fixmedins_code, s.med_type
                    ),
                    format!(
                        "{} is not networked for {en} settlement (med_type {})",
                        h.fixmedins_code, s.med_type
                    ),
                );
                Finding::settlement(rule, ctx, i, detail)
            })
        })
        .collect()
}
