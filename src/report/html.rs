//! `report.html`: one self-contained page (inline CSS and SVG, no script, no network) with
//! the month's totals, the province-to-province flows, the largest held and disputed
//! amounts by rule and by hospital, and the rules that fired, explained.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::Lang;
use crate::config::Level;
use crate::rules::{self, Finding};
// People read amounts grouped by thousands (the CSV and Parquet tables keep plain text).
use crate::units::format_money_grouped as format_money;

/// What the page shows.
pub struct Page<'a> {
    pub month: &'a str,
    pub lang: Lang,
    pub rows_read: u64,
    pub rejected: u64,
    pub statuses: &'a BTreeMap<&'static str, u64>,
    /// (fund, cleared, held, disputed) over the clearing, fen.
    pub totals: (i64, i64, i64, i64),
    /// (insured province, treatment province) → cleared, fen; cross-province only.
    pub flows: Vec<((String, String), i64)>,
    /// province → (receivable, payable), fen.
    pub nets: &'a BTreeMap<String, (i64, i64)>,
    pub findings: &'a [Finding],
    /// Area code → name (provinces as `XX0000`).
    pub region_names: &'a BTreeMap<String, String>,
    pub hospital_names: &'a BTreeMap<String, String>,
    /// The ledger across months (SPEC §13).
    pub ledger: LedgerView,
}

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

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Page<'_> {
    fn t<'s>(&self, zh: &'s str, en: &'s str) -> &'s str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    fn province(&self, prov: &str) -> String {
        match self.region_names.get(&format!("{prov}0000")) {
            Some(name) => format!("{name}({prov})"),
            None => prov.to_owned(),
        }
    }
}

/// Horizontal bars, one per item, scaled to the largest absolute value; negative values
/// grow left of the axis.
fn bars(items: &[(String, i64)], color: &str) -> String {
    if items.is_empty() {
        return String::new();
    }
    let max = items.iter().map(|(_, v)| v.abs()).max().unwrap_or(1).max(1) as f64;
    let any_negative = items.iter().any(|(_, v)| *v < 0);
    let (label_w, bar_w, row_h) = (230.0, 420.0, 24.0);
    let axis = if any_negative {
        label_w + bar_w / 2.0
    } else {
        label_w
    };
    let span = if any_negative { bar_w / 2.0 } else { bar_w };
    let height = row_h * items.len() as f64 + 8.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" role="img">"#,
        label_w + bar_w + 110.0
    );
    for (k, (label, value)) in items.iter().enumerate() {
        let y = 4.0 + row_h * k as f64;
        let w = (value.abs() as f64 / max) * span;
        let x = if *value < 0 { axis - w } else { axis };
        let fill = if *value < 0 { "#c0392b" } else { color };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="l">{}</text><rect x="{x:.1}" y="{y}" width="{w:.1}" height="{}" fill="{fill}"/><text x="{}" y="{}" class="v">{}</text>"#,
            label_w - 8.0,
            y + 16.0,
            esc(label),
            row_h - 6.0,
            axis.max(x + w) + 6.0,
            y + 16.0,
            format_money(*value)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{axis}" y1="0" x2="{axis}" y2="{height}" stroke="#555"/></svg>"##
    );
    svg
}

fn table(head: &[&str], rows: &[Vec<String>], numeric_from: usize) -> String {
    let mut html = String::from("<table><thead><tr>");
    for h in head {
        let _ = write!(html, "<th>{}</th>", esc(h));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for (k, cell) in row.iter().enumerate() {
            let class = if k >= numeric_from {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(html, "<td{class}>{}</td>", esc(cell));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// The section of a rule's documentation in the page's language.
fn explanation(doc: &str, lang: Lang) -> String {
    let heading = match lang {
        Lang::Zh => "# 说明",
        Lang::En => "# What it finds",
    };
    doc.split(heading)
        .nth(1)
        .map(|rest| {
            rest.split("\n# ")
                .next()
                .unwrap_or("")
                .trim()
                .replace('\n', " ")
        })
        .unwrap_or_default()
}

pub fn render(page: &Page) -> String {
    let t = |zh, en| page.t(zh, en);
    let mut html = String::new();
    let lang = if page.lang == Lang::Zh { "zh-CN" } else { "en" };
    let title = format!(
        "{} {}",
        t(
            "跨省异地就医直接结算 月度清算报告",
            "Cross-province direct settlement: monthly clearing"
        ),
        page.month
    );
    let _ = write!(
        html,
        r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{}</title><style>
body{{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px 32px;color:#222;max-width:1100px}}
h1{{font-size:22px}}h2{{font-size:17px;margin-top:28px;border-bottom:2px solid #2c6fbb;padding-bottom:4px}}
.cards{{display:flex;flex-wrap:wrap;gap:10px}}.card{{border:1px solid #ccd;border-radius:6px;padding:8px 14px;min-width:130px}}
.card b{{display:block;font-size:18px}}.card span{{font-size:12px;color:#555}}
table{{border-collapse:collapse;font-size:13px;margin:6px 0}}th,td{{border:1px solid #ccd;padding:3px 8px}}th{{background:#eef3fa}}
td.n{{text-align:right;font-variant-numeric:tabular-nums}}svg text.l{{font-size:12px}}svg text.v{{font-size:11px;fill:#333}}
.note{{font-size:12px;color:#555}}
</style></head><body><h1>{}</h1>"#,
        esc(&title),
        esc(&title)
    );

    let (fund, cleared, held, disputed) = page.totals;
    let status = |s: &str| page.statuses.get(s).copied().unwrap_or(0);
    let cards = [
        (
            t("读入结算行", "settlement rows"),
            page.statuses.values().sum::<u64>().to_string(),
        ),
        (t("清算", "cleared"), status("cleared").to_string()),
        (t("暂缓", "held"), status("held").to_string()),
        (t("冲销", "reversed"), status("reversed").to_string()),
        (t("排除", "excluded"), status("excluded").to_string()),
        (
            t("拒收行（全部文件）", "rows rejected (all files)"),
            format!("{} / {}", page.rejected, page.rows_read),
        ),
        (t("基金支付", "fund payments"), format_money(fund)),
        (t("清算金额", "cleared"), format_money(cleared)),
        (t("暂缓金额", "held"), format_money(held)),
        (t("扣减金额", "disputed"), format_money(disputed)),
    ];
    let _ = write!(
        html,
        "<h2>{}</h2><div class=\"cards\">",
        t("本月概况", "The month")
    );
    for (label, value) in cards {
        let _ = write!(
            html,
            "<div class=\"card\"><b>{}</b><span>{}</span></div>",
            esc(&value),
            esc(label)
        );
    }
    let _ = write!(
        html,
        "</div><p class=\"note\">{}</p>",
        t(
            "清算金额 + 暂缓金额 + 扣减金额 = 基金支付（不含冲销与排除的结算）。金额单位：元。",
            "cleared + held + disputed = fund payments (reversed and excluded rows aside). Amounts in yuan."
        )
    );

    let mut flows: Vec<(String, i64)> = page
        .flows
        .iter()
        .map(|((a, b), v)| (format!("{} → {}", page.province(a), page.province(b)), *v))
        .collect();
    flows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let _ = write!(
        html,
        "<h2>{}</h2><p class=\"note\">{}</p>{}",
        t("省际清算流向", "Flows between provinces"),
        t(
            "参保省 → 就医省：参保省应付给就医省的清算金额。",
            "insured province → treatment province: what the insured province owes."
        ),
        bars(&flows, "#2c6fbb")
    );
    let nets: Vec<(String, i64)> = page
        .nets
        .iter()
        .map(|(p, (r, pay))| (page.province(p), r - pay))
        .collect();
    let net_rows: Vec<Vec<String>> = page
        .nets
        .iter()
        .map(|(p, (r, pay))| {
            vec![
                page.province(p),
                format_money(*r),
                format_money(*pay),
                format_money(r - pay),
            ]
        })
        .collect();
    let _ = write!(
        html,
        "<h2>{}</h2>{}{}",
        t(
            "各省轧差（应收 − 应付）",
            "Province nets (receivable − payable)"
        ),
        bars(&nets, "#27ae60"),
        table(
            &[
                t("省份", "province"),
                t("应收", "receivable"),
                t("应付", "payable"),
                t("净额", "net")
            ],
            &net_rows,
            1
        )
    );

    // By rule: count, held, deducted.
    let mut by_rule: BTreeMap<&str, (u64, i64, i64)> = BTreeMap::new();
    let mut by_hospital: BTreeMap<&str, (u64, i64, i64)> = BTreeMap::new();
    for f in page.findings {
        let (held, deducted) = match f.level {
            Level::Hold => (f.amount.unwrap_or(0), 0),
            Level::Deduct => (0, f.amount.unwrap_or(0)),
            Level::Flag => (0, 0),
        };
        for entry in [
            Some(by_rule.entry(f.rule).or_default()),
            f.fixmedins_code
                .as_deref()
                .map(|c| by_hospital.entry(c).or_default()),
        ]
        .into_iter()
        .flatten()
        {
            entry.0 += 1;
            entry.1 += held;
            entry.2 += deducted;
        }
    }
    let mut rule_rows: Vec<(&str, (u64, i64, i64))> =
        by_rule.iter().map(|(k, v)| (*k, *v)).collect();
    rule_rows.sort_by(|a, b| (b.1.1 + b.1.2).cmp(&(a.1.1 + a.1.2)).then(a.0.cmp(b.0)));
    let rule_bars: Vec<(String, i64)> = rule_rows
        .iter()
        .filter(|(_, v)| v.1 + v.2 != 0)
        .map(|(k, v)| {
            (
                format!(
                    "{k} {}",
                    rules::find(k)
                        .map(|r| r.title())
                        .unwrap_or_default()
                        .split(" — ")
                        .next()
                        .unwrap_or("")
                        .trim_start_matches(k)
                        .trim()
                ),
                v.1 + v.2,
            )
        })
        .collect();
    let rows: Vec<Vec<String>> = rule_rows
        .iter()
        .map(|(k, v)| {
            let level = rules::find(k)
                .map(|r| r.level.name().to_owned())
                .unwrap_or_default();
            vec![
                k.to_string(),
                level,
                v.0.to_string(),
                format_money(v.1),
                format_money(v.2),
            ]
        })
        .collect();
    let _ = write!(
        html,
        "<h2>{}</h2>{}{}",
        t(
            "按规则：暂缓与扣减金额",
            "By rule: held and disputed amounts"
        ),
        bar_or_none(&rule_bars, "#e67e22", page.lang),
        table(
            &[
                t("规则", "rule"),
                t("级别", "level"),
                t("笔数", "findings"),
                t("暂缓金额", "held"),
                t("扣减金额", "deducted")
            ],
            &rows,
            2
        )
    );
    let mut hospital_rows: Vec<(&str, (u64, i64, i64))> =
        by_hospital.iter().map(|(k, v)| (*k, *v)).collect();
    hospital_rows.sort_by(|a, b| (b.1.1 + b.1.2).cmp(&(a.1.1 + a.1.2)).then(a.0.cmp(b.0)));
    hospital_rows.truncate(20);
    let rows: Vec<Vec<String>> = hospital_rows
        .iter()
        .map(|(code, v)| {
            vec![
                code.to_string(),
                page.hospital_names.get(*code).cloned().unwrap_or_default(),
                v.0.to_string(),
                format_money(v.1),
                format_money(v.2),
            ]
        })
        .collect();
    let _ = write!(
        html,
        "<h2>{}</h2>{}",
        t(
            "按医院：问题金额最多的 20 家",
            "By hospital: the 20 with the most money questioned"
        ),
        table(
            &[
                t("机构编号", "code"),
                t("机构名称", "name"),
                t("问题笔数", "findings"),
                t("暂缓金额", "held"),
                t("扣减金额", "deducted")
            ],
            &rows,
            2
        )
    );

    html.push_str(&ledger_section(page));

    let rows: Vec<Vec<String>> = by_rule
        .keys()
        .filter_map(|k| rules::find(k))
        .map(|r| {
            vec![
                r.code.to_owned(),
                r.title().trim_start_matches(r.code).trim().to_owned(),
                explanation(&r.doc(), page.lang),
            ]
        })
        .collect();
    let _ = write!(
        html,
        "<h2>{}</h2>{}<p class=\"note\">{}</p></body></html>",
        t("本月出现的规则说明", "The rules that found something"),
        table(
            &[
                t("规则", "rule"),
                t("名称", "name"),
                t("说明", "explanation")
            ],
            &rows,
            3
        ),
        t(
            "全部规则见 `yidi rules`。",
            "`yidi rules` lists every rule."
        )
    );
    html.push('\n');
    html
}

/// Pending money by kind and age, what is overdue, and the month's events.
fn ledger_section(page: &Page) -> String {
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

fn bar_or_none(items: &[(String, i64)], color: &str, lang: Lang) -> String {
    if items.is_empty() {
        match lang {
            Lang::Zh => "<p class=\"note\">本月无暂缓或扣减。</p>".into(),
            Lang::En => "<p class=\"note\">Nothing held or deducted this month.</p>".into(),
        }
    } else {
        bars(items, color)
    }
}
