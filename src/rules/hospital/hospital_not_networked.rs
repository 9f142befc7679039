//! HOS001 医院未联网 — hospital not networked for direct settlement
//!
//! # What it finds
//! A settlement whose hospital is not in the registry (hospitals.csv; a rejected registry
//! row counts as absent), or whose settlement date is outside the hospital's networked
//! period [`ydjy_begndate`, `ydjy_enddate`].
//!
//! # Why it matters
//! Only networked institutions may settle directly across areas (000 "为什么…没办法结算");
//! a claim from any other is not cleared until the agency has verified it.
//!
//! # Example
//! `H44010000009` is not in hospitals.csv: each of its settlements gets HOS001, hold.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 医疗机构不在异地联网定点名单内，或结算日期不在其联网期间：暂缓拨付。

use super::networked_on_settlement_day;
use crate::rules::{Context, Finding, Rule, day, time};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.checked_settlements()
        .filter_map(|(i, s)| {
            let hospital = ctx.model.hospitals.get(s.fixmedins_code.as_str());
            if networked_on_settlement_day(hospital, s).is_some() {
                return None;
            }
            let detail = match hospital {
                None => ctx.say(
                    format!("医疗机构 {} 不在异地联网定点名单中", s.fixmedins_code),
                    format!(
                        "hospital {} is not in the registry of networked institutions",
                        s.fixmedins_code
                    ),
                ),
                Some(h) => {
                    let end = h.ydjy_enddate.map(day).unwrap_or_else(|| "—".into());
                    ctx.say(
                        format!(
                            "结算时间 {} 不在 {} 的联网期间 {} 至 {end} 内",
                            time(s.setl_time),
                            h.fixmedins_code,
                            day(h.ydjy_begndate)
                        ),
                        format!(
                            "settled at {}, outside {}'s networked period {} to {end}",
                            time(s.setl_time),
                            h.fixmedins_code,
                            day(h.ydjy_begndate)
                        ),
                    )
                }
            };
            Some(Finding::settlement(rule, ctx, i, detail))
        })
        .collect()
}
