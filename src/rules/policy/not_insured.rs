//! POL005 参保状态异常 — not insured on the treatment date
//!
//! # What it finds
//! With enrollment.csv: a settlement with no row of its (`psn_no`, `insutype`) that has
//! `psn_insu_stas = 1`, covers its `begndate` ([`begndate`, `enddate`], null = open) and
//! whose waiting period (`wait_end`) ended before that day. Any one such row suffices;
//! enrollment's `insuplc_admdvs` is not compared.
//!
//! # Why it matters
//! Benefits need an active insurance status on the treatment date (000 "参保状态"): a
//! suspended, terminated or still-waiting person is not paid by the fund.
//!
//! # Example
//! Enrollment ended 2026-06-30 (status 4), treated 2026-10-03: POL005, hold.
//!
//! # Parameters
//! None; without enrollment.csv the rule does not run.
//!
//! # 说明
//! 就医当日参保状态非正常参保，或仍在待遇等待期内：暂缓拨付。

use crate::rules::{Context, Finding, Rule, day};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let Some(enrollment) = &ctx.model.enrollment else {
        return Vec::new();
    };
    ctx.checked_settlements()
        .filter_map(|(i, s)| {
            let d = s.begndate;
            let rows = enrollment.get(&(s.psn_no.clone(), s.insutype));
            let covered = rows.is_some_and(|rows| {
                rows.iter().any(|e| {
                    e.insured
                        && e.begndate <= d
                        && e.enddate.is_none_or(|end| d <= end)
                        && e.wait_end.is_none_or(|w| w < d)
                })
            });
            (!covered).then(|| {
                let detail = ctx.say(
                    format!(
                        "参保人 {} 在 {} 无正常参保记录（险种 {}）或处于待遇等待期",
                        s.psn_no,
                        day(d),
                        s.insutype
                    ),
                    format!(
                        "person {} has no active enrollment in insurance {} on {} (or is in a waiting period)",
                        s.psn_no,
                        s.insutype,
                        day(d)
                    ),
                );
                Finding::settlement(rule, ctx, i, detail)
            })
        })
        .collect()
}
