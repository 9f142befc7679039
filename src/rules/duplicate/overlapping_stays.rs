//! DUP003 住院时间重叠 — overlapping inpatient stays
//!
//! # What it finds
//! Inpatient stays (med_type 21–24) of one `psn_no`, at any hospitals, that overlap:
//! `a.begndate < b.enddate` and `b.begndate < a.enddate` (a discharge on the day of the
//! next admission is no overlap). Each stay that overlaps one admitted before it (smaller
//! `begndate`, ties in order) is held, naming the earliest-admitted stay it overlaps.
//! Reversed settlements and DUP001 copies take no part.
//!
//! # Why it matters
//! A person cannot be admitted in two hospitals at once; the guide lists "still admitted
//! elsewhere" among the reasons a settlement fails (000 "在院状态、不能办理入院").
//!
//! # Example
//! Stay A 10-03 to 10-12 in Guangzhou, stay B 10-10 to 10-15 in Changsha: DUP003 on B,
//! naming A. A stay beginning 10-12 would be fine.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 同一参保人住院时间重叠（出院当日再入院不算）：后入院的一笔暂缓拨付。

use std::collections::BTreeMap;

use crate::model::SetlRow;
use crate::rules::{Context, Finding, Rule, day};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let mut stays: BTreeMap<&str, Vec<(SetlRow, usize)>> = BTreeMap::new();
    for (rank, &i) in ctx.scope.order.iter().enumerate() {
        let s = &ctx.model.settlements[i];
        if ctx.scope.is_checked_settlement(i) && !ctx.scope.reversed[i] && s.is_inpatient() {
            stays.entry(s.psn_no.as_str()).or_default().push((i, rank));
        }
    }
    let mut findings = Vec::new();
    for person in stays.values_mut() {
        let settlements = &ctx.model.settlements;
        person.sort_by_key(|&(i, rank)| (settlements[i].begndate, rank));
        for (k, &(b, _)) in person.iter().enumerate() {
            let later = &settlements[b];
            let overlapped = person[..k].iter().map(|&(a, _)| a).find(|&a| {
                let earlier = &settlements[a];
                earlier.begndate < later.enddate && later.begndate < earlier.enddate
            });
            if let Some(a) = overlapped {
                let earlier = &settlements[a];
                let detail = ctx.say(
                    format!(
                        "住院 {}~{} 与 {} 的住院 {}（{}~{}）时间重叠",
                        day(later.begndate),
                        day(later.enddate),
                        earlier.fixmedins_code,
                        earlier.setl_id,
                        day(earlier.begndate),
                        day(earlier.enddate)
                    ),
                    format!(
                        "stay {} to {} overlaps {} stay {} ({} to {})",
                        day(later.begndate),
                        day(later.enddate),
                        earlier.fixmedins_code,
                        earlier.setl_id,
                        day(earlier.begndate),
                        day(earlier.enddate)
                    ),
                );
                findings.push(Finding::settlement(rule, ctx, b, detail));
            }
        }
    }
    findings
}
