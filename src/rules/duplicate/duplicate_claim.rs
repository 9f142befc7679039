//! DUP002 疑似重复结算 — the same claim under another settlement id
//!
//! # What it finds
//! Settlements with different `setl_id` and the same `psn_no`, `fixmedins_code`,
//! `med_type`, `begndate`, `enddate` and `medfee_sumamt`: every one after the first in
//! order. Reversed settlements and DUP001 copies take no part.
//!
//! # Why it matters
//! A claim settled twice under two ids passes the id check; identical person, dates and
//! total are the sign of it.
//!
//! # Example
//! S1 and S2, both P1's outpatient visit on 10-20 at one hospital for 101.00: DUP002 on S2.
//!
//! # Parameters
//! None.
//!
//! # 说明
//! 同一参保人在同一医院同类就医、起止日期和总费用完全相同的两笔结算：疑似重复，提示。

use polars::prelude::PlHashMap as HashMap;

use crate::codes::MedType;
use crate::model::{Money, SetlRow};
use crate::rules::{Context, Finding, Rule};

pub fn check(ctx: &Context, rule: &'static Rule) -> Vec<Finding> {
    let mut first: HashMap<(&str, &str, MedType, i32, i32, i64), SetlRow> = HashMap::default();
    let mut findings = Vec::new();
    for &i in &ctx.scope.order {
        if !ctx.scope.is_checked_settlement(i) || ctx.scope.reversed[i] {
            continue;
        }
        let s = &ctx.model.settlements[i];
        let key = (
            s.psn_no.as_str(),
            s.fixmedins_code.as_str(),
            s.med_type,
            s.begndate,
            s.enddate,
            s.amount(Money::MedfeeSumamt),
        );
        match first.get(&key) {
            Some(&earlier) if ctx.model.settlements[earlier].setl_id != s.setl_id => {
                let e = &ctx.model.settlements[earlier];
                let detail = ctx.say(
                    format!("与结算 {} 的人员、医院、类别、日期和总费用均相同，疑似重复结算", e.setl_id),
                    format!(
                        "same person, hospital, med_type, dates and total as settlement {}: a likely duplicate",
                        e.setl_id
                    ),
                );
                findings.push(Finding::settlement(rule, ctx, i, detail));
            }
            Some(_) => {}
            None => {
                first.insert(key, i);
            }
        }
    }
    findings
}
