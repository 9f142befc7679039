//! REG001 重复长期备案 — two long-term filings at once
//!
//! # What it finds
//! Two filings of one `psn_no`, both long-term (`rloc_rea` 11–13) and valid
//! (`vali_flag = 1`), for different provinces (of `rloc_admdvs`), whose periods overlap
//! (inclusive dates; a null `enddate` is open). One finding per pair, on the filing with
//! the later `crte_time` (ties: the larger `trt_dcla_detl_sn`), naming the other.
//!
//! # Why it matters
//! A person may hold one long-term filing at a time (000 Q3, Q7); a second one in another
//! province means an old filing was not cancelled, and settlements may be matched to the
//! wrong one.
//!
//! # Example
//! F1 (11, 440000, from 2024-03-01, open) and F2 (12, 430000, from 2026-05-01, open), F2
//! created later: REG001 on F2, naming F1.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 同一参保人同时存在两条跨省份、期间重叠的有效长期备案：提示，请核实并撤销多余备案。

use std::collections::BTreeMap;

use crate::model::{Filing, prov};
use crate::rules::{Context, Finding, Rule, day};

fn overlap(a: &Filing, b: &Filing) -> bool {
    a.begndate <= b.enddate.unwrap_or(i32::MAX) && b.begndate <= a.enddate.unwrap_or(i32::MAX)
}

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let mut by_person: BTreeMap<&str, Vec<&Filing>> = BTreeMap::new();
    for f in ctx
        .model
        .filings
        .iter()
        .filter(|f| f.is_long_term() && f.valid)
    {
        by_person.entry(f.psn_no.as_str()).or_default().push(f);
    }
    let mut findings = Vec::new();
    for filings in by_person.values() {
        for (k, a) in filings.iter().enumerate() {
            for b in &filings[k + 1..] {
                if prov(&a.rloc_admdvs) == prov(&b.rloc_admdvs) || !overlap(a, b) {
                    continue;
                }
                let later_first =
                    (b.crte_time, &b.trt_dcla_detl_sn) > (a.crte_time, &a.trt_dcla_detl_sn);
                let (later, other) = if later_first { (b, a) } else { (a, b) };
                let period = |f: &Filing| {
                    format!(
                        "{}~{}",
                        day(f.begndate),
                        f.enddate.map(day).unwrap_or_default()
                    )
                };
                let detail = ctx.say(
                    format!(
                        "与长期备案 {}（{}，{}）期间重叠且备案省份不同",
                        other.trt_dcla_detl_sn,
                        other.rloc_admdvs,
                        period(other)
                    ),
                    format!(
                        "overlaps long-term filing {} ({}, {}) for another province",
                        other.trt_dcla_detl_sn,
                        other.rloc_admdvs,
                        period(other)
                    ),
                );
                findings.push(Finding::filing(rule, later, detail));
            }
        }
    }
    findings
}
