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

use crate::model::Money;
use crate::rules::{Context, Finding, Gathered, MonthFacts, Rule};
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

/// What AMT003 needs of a hospital directory's settlements: their totals by group and day,
/// and the area of the first row (the hospital's area when it is not in the registry).
/// Parts of a month each tally their rows; the tallies add up to the month's.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
struct Tally {
    /// By (directory, group, day of `setl_time`).
    sums: BTreeMap<(String, Group, i32), Totals>,
    /// By directory: the first row's `line` and `mdtrtarea_admvs`.
    first: BTreeMap<String, (i64, String)>,
}

impl Tally {
    /// The settlements of the directories in `dirs`, DUP001 copies and excluded rows too.
    fn of<'a>(
        settlements: impl IntoIterator<Item = &'a crate::model::Settlement>,
        dirs: &PlHashSet<&str>,
    ) -> Tally {
        let mut tally = Tally::default();
        for s in settlements {
            if !dirs.contains(s.hospital_dir.as_str()) {
                continue;
            }
            let day = units::days_since_epoch(units::time_from_millis(s.setl_time).date());
            let group = (
                s.insutype.to_string(),
                s.clr_type.to_string(),
                if s.reversal { "1" } else { "0" }.to_owned(),
            );
            let t = tally
                .sums
                .entry((s.hospital_dir.to_string(), group, day))
                .or_default();
            *t = add(
                *t,
                (
                    1,
                    s.amount(Money::MedfeeSumamt),
                    s.fund_pay_sumamt(),
                    s.amount(Money::AcctPay),
                ),
            );
            let first = tally
                .first
                .entry(s.hospital_dir.to_string())
                .or_insert((s.line, s.mdtrtarea_admvs.to_string()));
            if s.line < first.0 {
                *first = (s.line, s.mdtrtarea_admvs.to_string());
            }
        }
        tally
    }

    /// Adds another part's tally.
    fn merge(&mut self, other: Tally) {
        for (key, totals) in other.sums {
            let t = self.sums.entry(key).or_default();
            *t = add(*t, totals);
        }
        for (dir, first) in other.first {
            let mine = self.first.entry(dir).or_insert_with(|| first.clone());
            if first.0 < mine.0 {
                *mine = first;
            }
        }
    }
}

fn add(a: Totals, b: Totals) -> Totals {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3)
}

/// The directories a summary frame covers.
fn summary_dirs(summary: &DataFrame) -> PlHashSet<&str> {
    summary
        .column("hospital_dir")
        .ok()
        .and_then(|c| c.str().ok())
        .map(|dirs| dirs.iter().flatten().collect())
        .unwrap_or_default()
}

/// A part's rows of the directories with a summary, tallied.
pub fn gather(ctx: &Context) -> Gathered {
    Gathered::of(&Tally::of(
        &ctx.model.settlements,
        &summary_dirs(&ctx.model.summary),
    ))
}

/// Each summary row against the tally of its directory's settlements over every part.
pub fn decide(
    rule: &'static Rule,
    month: &MonthFacts,
    parts: &[Gathered],
) -> Result<Vec<Finding>, String> {
    let mut tally = Tally::default();
    for part in parts {
        tally.merge(part.read()?);
    }
    Ok(findings(rule, month, &tally))
}

fn findings(rule: &Rule, month: &MonthFacts, tally: &Tally) -> Vec<Finding> {
    let (summary, hospitals) = (month.summary, month.hospitals);
    let say = |zh: String, en: String| month.say(zh, en);
    let rows = summary_rows(summary);
    let mut by_dir: BTreeMap<&str, Vec<&SummaryRow>> = BTreeMap::new();
    for row in &rows {
        by_dir.entry(row.dir.as_str()).or_default().push(row);
    }
    let mut findings = Vec::new();
    for (dir, summary) in by_dir {
        let settlements: Vec<(&Group, i32, Totals)> = tally
            .sums
            .range((dir.to_owned(), Group::default(), i32::MIN)..)
            .take_while(|((d, _, _), _)| d == dir)
            .map(|((_, group, day), totals)| (group, *day, *totals))
            .collect();
        let sum = |group: &Group, begin: i32, end: i32| {
            settlements
                .iter()
                .filter(|(g, day, _)| *g == group && begin <= *day && *day <= end)
                .fold((0, 0, 0, 0), |a, (_, _, t)| add(a, *t))
        };
        let hospital = hospitals.get(dir);
        let area = hospital
            .map(|h| h.fix_blng_admdvs.clone())
            .or_else(|| tally.first.get(dir).map(|(_, area)| area.clone()));
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
            let detail = say(
                format!(
                    "险种 {} 清算类别 {} 冲销标志 {}：汇总 {}，明细 {}（笔数/医疗费总额/基金支付/个人账户）",
                    group.0,
                    group.1,
                    group.2,
                    show(said),
                    show(found)
                ),
                format!(
                    "insutype {} clr_type {} refd_setl_flag {}: summary {}, settlements {} (count / medfee / fund / account)",
                    group.0,
                    group.1,
                    group.2,
                    show(said),
                    show(found)
                ),
            );
            findings.push(Finding {
                rule: rule.code,
                level: rule.level,
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
            .map(|(g, _, _)| *g)
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
