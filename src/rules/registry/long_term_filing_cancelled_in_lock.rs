//! REG002 长期备案锁定期内撤销 — long-term filing cancelled within its lock
//!
//! # What it finds
//! A long-term filing (`rloc_rea` 11–13) cancelled (`vali_flag = 0`) before its lock
//! ends: `date(updt_time) < begndate + long_term_lock_months` calendar months (a day past
//! the month's end becomes its last day).
//!
//! # Why it matters
//! A long-term filing may not be changed or cancelled within its lock: 6 months in the
//! national rules and the Jiangxi guide (000 Q2), 12 months for resettled retirees in
//! Jiangxi's 2017 procedure (001 art. 7).
//!
//! # Example
//! A filing beginning 2026-01-31, lock 6 months (ends 2026-07-31), cancelled 2026-07-30:
//! REG002, flag.
//!
//! # Parameters
//! `long_term_lock_months` of the filing's insured province: a number (default 6) or a
//! table by `rloc_rea` (`{ "11" = 12, "12" = 6, "13" = 6 }`).
//!
//! # 说明
//! 长期备案在锁定期内被撤销：提示，请核实撤销是否合规。

use chrono::Months;

use crate::model::prov;
use crate::rules::{Context, Finding, Rule, day};
use crate::units;

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    ctx.model
        .filings
        .iter()
        .filter(|f| f.is_long_term() && !f.valid)
        .filter_map(|f| {
            let months = ctx
                .config
                .for_province(prov(&f.insu_admdvs))
                .long_term_lock_months
                .months(f.rloc_rea.code());
            let lock_end = units::date_from_days(f.begndate).checked_add_months(Months::new(months))?;
            let cancelled = units::time_from_millis(f.updt_time).date();
            (cancelled < lock_end).then(|| {
                let detail = ctx.say(
                    format!(
                        "长期备案自 {} 起锁定 {months} 个月（至 {lock_end}），却于 {cancelled} 撤销",
                        day(f.begndate)
                    ),
                    format!(
                        "long-term filing from {} is locked for {months} months (until {lock_end}) but was cancelled on {cancelled}",
                        day(f.begndate)
                    ),
                );
                Finding::filing(rule, f, detail)
            })
        })
        .collect()
}
