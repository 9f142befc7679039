//! AMT003 对总账不符 — the hospital's summary disagrees with its settlements
//!
//! # What it finds
//! Where a hospital exports summary.csv: a (`insutype`, `clr_type`, `refd_setl_flag`)
//! group whose count (`fixmedins_setl_cnt`) or sums (`medfee_sumamt`, `fund_pay_sumamt`,
//! `acct_pay`) differ between the summary row and all the hospital directory's accepted
//! setlinfo rows (DUP001 copies and excluded rows too) with `date(setl_time)` in
//! [`stmt_begndate`, `stmt_enddate`]. A group on one side only differs (a group only in
//! setlinfo is counted over the summary's whole period). One finding per group, with the
//! hospital's area in both area columns and no `setl_id`.
//!
//! # Why it matters
//! The total reconciliation (3201 对总账) is the first check between a hospital and the
//! agency: if the totals disagree, the detail cannot be trusted.
//!
//! # Example
//! The summary says 12 employee inpatient settlements for 98 000.00; the export holds 11:
//! AMT003, flag.
//!
//! # Parameters
//! None (the `[defaults]` tolerance is not used: totals must match to the fen).
//!
//! # 说明
//! 医院上报的月度汇总（对总账）与其结算明细的笔数或金额不一致：提示。

use std::collections::BTreeMap;

use polars::prelude::*;

use crate::config::Level;
use crate::rules::{Context, Finding};
use crate::units::{self, format_money};

/// (count, medfee_sumamt, fund_pay_sumamt, acct_pay)
type Totals = (i64, i64, i64, i64);
type Group = (String, String, String);

struct SummaryRow {
    dir: String,
    code: String,
    group: Group,
    begin: i32,
    end: i32,
    totals: Totals,
}

fn summary_rows(frame: &DataFrame) -> Vec<SummaryRow> {
    let text = |name: &str| -> Vec<String> {
        frame
            .column(name)
            .and_then(|c| c.str().cloned())
            .map(|c| c.iter().map(|v| v.unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    };
    let int = |name: &str| -> Vec<i64> {
        crate::model::column_ints(frame.column(name).expect("a summary column"))
    };
    let (dir, code, insutype, clr, refd) = (
        text("hospital_dir"),
        text("fixmedins_code"),
        text("insutype"),
        text("clr_type"),
        text("refd_setl_flag"),
    );
    let (begin, end, cnt, medfee, fund, acct) = (
        int("stmt_begndate"),
        int("stmt_enddate"),
        int("fixmedins_setl_cnt"),
        int("medfee_sumamt"),
        int("fund_pay_sumamt"),
        int("acct_pay"),
    );
    (0..frame.height())
        .map(|k| SummaryRow {
            dir: dir[k].clone(),
            code: code[k].clone(),
            group: (insutype[k].clone(), clr[k].clone(), refd[k].clone()),
            begin: begin[k] as i32,
            end: end[k] as i32,
            totals: (cnt[k], medfee[k], fund[k], acct[k]),
        })
        .collect()
}

pub fn check(ctx: &Context) -> Vec<Finding> {
    let rows = summary_rows(&ctx.model.summary);
    let mut by_dir: BTreeMap<&str, Vec<&SummaryRow>> = BTreeMap::new();
    for row in &rows {
        by_dir.entry(row.dir.as_str()).or_default().push(row);
    }
    // Each summarised directory's settlements, in one pass over them all.
    let mut of_dir: PlHashMap<&str, Vec<&crate::model::Settlement>> =
        by_dir.keys().map(|&dir| (dir, Vec::new())).collect();
    for s in &ctx.model.settlements {
        if let Some(rows) = of_dir.get_mut(s.hospital_dir.as_str()) {
            rows.push(s);
        }
    }
    let mut findings = Vec::new();
    for (dir, summary) in by_dir {
        let of_dir = &of_dir[dir];
        let settlements: Vec<(Group, i32, Totals)> = of_dir
            .iter()
            .map(|s| {
                let day = units::days_since_epoch(units::time_from_millis(s.setl_time).date());
                let group = (
                    s.insutype.to_string(),
                    s.clr_type.to_string(),
                    if s.reversal { "1" } else { "0" }.to_owned(),
                );
                let totals = (
                    1,
                    s.amount("medfee_sumamt"),
                    s.fund_pay_sumamt(),
                    s.amount("acct_pay"),
                );
                (group, day, totals)
            })
            .collect();
        let sum = |group: &Group, begin: i32, end: i32| {
            settlements
                .iter()
                .filter(|(g, day, _)| g == group && begin <= *day && *day <= end)
                .fold((0, 0, 0, 0), |a, (_, _, t)| {
                    (a.0 + t.0, a.1 + t.1, a.2 + t.2, a.3 + t.3)
                })
        };
        let hospital = ctx.model.hospitals.get(dir);
        let area = hospital
            .map(|h| h.fix_blng_admdvs.clone())
            .or_else(|| of_dir.first().map(|s| s.mdtrtarea_admvs.to_string()));
        let mut report = |code: &str, group: &Group, said: Totals, found: Totals| {
            if said == found {
                return;
            }
            let show = |t: Totals| {
                format!(
                    "{} / {} / {} / {}",
                    t.0,
                    format_money(t.1),
                    format_money(t.2),
                    format_money(t.3)
                )
            };
            let detail = ctx.say(
                format!(
                    "险种 {} 清算类别 {} 冲销标志 {}：汇总 {}，明细 {}（笔数/医疗费总额/基金支付/个人账户）",
                    group.0, group.1, group.2, show(said), show(found)
                ),
                format!(
                    "insutype {} clr_type {} refd_setl_flag {}: summary {}, settlements {} (count / medfee / fund / account)",
                    group.0, group.1, group.2, show(said), show(found)
                ),
            );
            findings.push(Finding {
                rule: "AMT003",
                level: Level::Flag,
                fixmedins_code: Some(code.to_owned()),
                setl_id: None,
                feedetl_sn: None,
                trt_dcla_detl_sn: None,
                psn_no: None,
                insuplc_admdvs: area.clone(),
                fix_blng_admdvs: area.clone(),
                amount: None,
                detail,
                row: None,
            });
        };
        for row in &summary {
            report(
                &row.code,
                &row.group,
                row.totals,
                sum(&row.group, row.begin, row.end),
            );
        }
        let begin = summary.iter().map(|r| r.begin).min().unwrap_or_default();
        let end = summary.iter().map(|r| r.end).max().unwrap_or_default();
        let mut only_in_setlinfo: Vec<&Group> = settlements
            .iter()
            .map(|(g, _, _)| g)
            .filter(|g| summary.iter().all(|r| &r.group != *g))
            .collect();
        only_in_setlinfo.sort();
        only_in_setlinfo.dedup();
        for group in only_in_setlinfo {
            let found = sum(group, begin, end);
            if found.0 > 0 {
                report(dir, group, (0, 0, 0, 0), found);
            }
        }
    }
    findings
}
