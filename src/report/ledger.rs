//! The report's ledger section (SPEC §13): pending money by kind and months open, what is
//! overdue, and the month's events.

use std::collections::BTreeMap;

use super::charts::table;
use super::html::Page;
use crate::units::format_money_grouped as format_money;

/// Months open, as the report groups pending money (SPEC §13).
pub const AGE_BUCKETS: [&str; 5] = ["0", "1", "2", "3–5", "6+"];

/// The bucket of [`AGE_BUCKETS`] of an entry open `months` months.
pub fn age_bucket(months: i64) -> usize {
    match months {
        ..=0 => 0,
        1 => 1,
        2 => 2,
        3..=5 => 3,
        _ => 4,
    }
}

/// What the report shows of the ledger.
#[derive(Debug, Default)]
pub struct LedgerView {
    /// (kind, age bucket) → (entries, fen pending).
    pub pending: BTreeMap<(&'static str, usize), (u64, i64)>,
    /// Overdue entries: (count, fen pending).
    pub overdue: (u64, i64),
    /// Event → (count, fen settled, fen released).
    pub events: BTreeMap<&'static str, (u64, i64, i64)>,
}

/// Pending money by kind and age, what is overdue, and the month's events.
pub(super) fn ledger_section(page: &Page) -> String {
    let t = |zh, en| page.t(zh, en);
    let view = &page.ledger;
    let mut rows = Vec::new();
    for (kind, zh, en) in [
        ("hold", "暂缓（待核实）", "hold"),
        ("deduct", "扣款（可申诉）", "deduct"),
    ] {
        let mut row = vec![t(zh, en).to_owned()];
        let mut total = (0u64, 0i64);
        for bucket in 0..AGE_BUCKETS.len() {
            let (n, fen) = view
                .pending
                .get(&(kind, bucket))
                .copied()
                .unwrap_or_default();
            total = (total.0 + n, total.1 + fen);
            row.push(format!("{} ({n})", format_money(fen)));
        }
        row.push(format!("{} ({})", format_money(total.1), total.0));
        rows.push(row);
    }
    let mut head = vec![t("类别", "kind").to_owned()];
    head.extend(
        AGE_BUCKETS
            .iter()
            .map(|b| format!("{b} {}", t("个月", "months"))),
    );
    head.push(t("合计", "total").to_owned());
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let events: Vec<Vec<String>> = view
        .events
        .iter()
        .map(|(event, (n, settled, released))| {
            vec![
                (*event).to_owned(),
                n.to_string(),
                format_money(*settled),
                format_money(*released),
            ]
        })
        .collect();
    let overdue = format!(
        "{} {} ({})",
        t("逾期未结：", "Overdue:"),
        format_money(view.overdue.1),
        view.overdue.0
    );
    format!(
        "<h2>{}</h2><p class=\"note\">{}</p>{}<p>{}</p>{}",
        t(
            "挂账台账：未结金额（元）按挂账月数",
            "Ledger: pending money (元) by months open"
        ),
        t(
            "括号内为笔数；暂缓待核实后补拨或拒付，扣款可由医院申诉。",
            "Entries in brackets; a hold waits for verification, a deduction for the hospital's appeal."
        ),
        table(&head, &rows, 1),
        overdue,
        if events.is_empty() {
            format!(
                "<p class=\"note\">{}</p>",
                t("本月无台账事项。", "No ledger events this month.")
            )
        } else {
            table(
                &[
                    t("本月事项", "event this month"),
                    t("笔数", "entries"),
                    t("了结金额", "settled"),
                    t("补拨金额", "released"),
                ],
                &events,
                1,
            )
        }
    )
}
