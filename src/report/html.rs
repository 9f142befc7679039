//! `report.html`: one self-contained page (inline CSS and SVG, no script, no network) a
//! director reads in a minute: the month's totals first; the flows between provinces as a
//! shaded matrix with the largest flows as bars; the province nets as a diverging chart;
//! the money held and deducted by rule and the 20 hospitals with the most questioned, each
//! linking to its rule's explanation; the ledger across months; and, folded, the
//! explanations and the full tables. Everything else is in the workbook and the tables.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::charts::{bars, count, esc, matrix, table, table_with};
pub use super::ledger::{AGE_BUCKETS, LedgerView, age_bucket};
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
    /// Ledger releases by (insured province, treatment province): (count, fen).
    pub releases: &'a BTreeMap<(String, String), (u64, i64)>,
    /// Hospital directories set aside (SPEC §3).
    pub set_aside: usize,
    pub findings: &'a [Finding],
    /// Area code → name (provinces as `XX0000`).
    pub region_names: &'a BTreeMap<String, String>,
    pub hospital_names: &'a BTreeMap<String, String>,
    /// The ledger across months (SPEC §13).
    pub ledger: LedgerView,
}

impl Page<'_> {
    pub(super) fn t<'s>(&self, zh: &'s str, en: &'s str) -> &'s str {
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

/// The largest flows shown as bars beside the matrix.
const TOP_FLOWS: usize = 20;
/// Hospitals listed by money questioned.
const TOP_HOSPITALS: usize = 20;

const STYLE: &str = r#"body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:20px 28px;color:#222;max-width:1340px}
h1{font-size:22px;margin:0 0 6px}h2{font-size:17px;margin:26px 0 8px;border-bottom:2px solid #2c6fbb;padding-bottom:4px}
.cards{display:flex;flex-wrap:wrap;gap:8px}.card{border:1px solid #ccd;border-radius:6px;padding:6px 12px;min-width:120px}
.card b{display:block;font-size:18px;font-variant-numeric:tabular-nums}.card span{font-size:12px;color:#555}
.card.warn{border-color:#c0392b}.row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
table{border-collapse:collapse;font-size:13px;margin:6px 0}th,td{border:1px solid #ccd;padding:3px 8px}th{background:#eef3fa}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.m{font-size:11px}table.m td,table.m th{padding:1px 3px;min-width:22px}table.m td.tot{background:#f4f4f4;font-weight:bold}
svg text.l{font-size:12px}svg text.v{font-size:11px;fill:#333}svg text.t{font-size:13px;font-weight:bold}
.note{font-size:12px;color:#555;margin:4px 0}details{margin:8px 0}summary{cursor:pointer;color:#2c6fbb}
a{color:#2c6fbb}"#;

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
        r#"<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{}</title><style>{STYLE}</style></head><body><h1>{}</h1><p class="note">{}</p>"#,
        esc(&title),
        esc(&title),
        t(
            "金额单位：元（矩阵中为万元）。",
            "Amounts in 元 (yuan; the matrix in 万元, ten thousand yuan)."
        )
    );
    html.push_str(&totals_section(page));
    html.push_str(&flows_section(page));
    html.push_str(&nets_section(page));
    html.push_str(&problems_section(page));
    html.push_str(&super::ledger::ledger_section(page));
    html.push_str(&explanations_section(page));
    html.push_str("</body></html>\n");
    html
}

/// The month at a glance: money cleared, held, deducted; rows reversed and excluded;
/// rejected rows and set-aside hospitals.
fn totals_section(page: &Page) -> String {
    let t = |zh, en| page.t(zh, en);
    let (fund, cleared, held, disputed) = page.totals;
    let status = |s: &str| page.statuses.get(s).copied().unwrap_or(0);
    let released: i64 = page.releases.values().map(|v| v.1).sum();
    let cards = [
        (
            t("基金支付（元）", "fund payments (元)"),
            format_money(fund),
            false,
        ),
        (
            t("清算（元）", "cleared (元)"),
            format_money(cleared),
            false,
        ),
        (t("暂缓（元）", "held (元)"), format_money(held), false),
        (
            t("扣减（元）", "deducted (元)"),
            format_money(disputed),
            false,
        ),
        (
            t("台账补拨（元）", "released from the ledger (元)"),
            format_money(released),
            false,
        ),
        (
            t("清算笔数", "settlements cleared"),
            count(status("cleared")),
            false,
        ),
        (
            t("暂缓笔数", "settlements held"),
            count(status("held")),
            false,
        ),
        (t("冲销笔数", "reversed"), count(status("reversed")), false),
        (t("排除笔数", "excluded"), count(status("excluded")), false),
        (
            t("拒收行 / 读入行", "rows rejected / read"),
            format!("{} / {}", count(page.rejected), count(page.rows_read)),
            page.rejected > 0,
        ),
        (
            t("搁置的医院目录", "hospital directories set aside"),
            count(page.set_aside as u64),
            page.set_aside > 0,
        ),
    ];
    let mut html = format!(
        "<h2>{}</h2><div class=\"cards\">",
        t("本月概况", "The month")
    );
    for (label, value, warn) in cards {
        let class = if warn { "card warn" } else { "card" };
        let _ = write!(
            html,
            "<div class=\"{class}\"><b>{}</b><span>{}</span></div>",
            esc(&value),
            esc(label)
        );
    }
    let _ = write!(
        html,
        "</div><p class=\"note\">{}</p>",
        t(
            "清算 + 暂缓 + 扣减 = 基金支付（不含冲销与排除的结算）；台账补拨为往月暂缓或扣款本月支付的金额，不在本月清算中。",
            "cleared + held + deducted = fund payments (reversed and excluded rows aside); releases from the ledger pay earlier months' held or deducted money, outside this month's clearing."
        )
    );
    html
}

/// The flows between provinces: a matrix insured × treatment province, shaded, with totals;
/// the largest flows as bars.
fn flows_section(page: &Page) -> String {
    let t = |zh, en| page.t(zh, en);
    let cells: BTreeMap<(String, String), i64> = page.flows.iter().cloned().collect();
    let how = t(
        "行：参保省（付款方），列：就医省（收款方）；格内为清算金额（万元），颜色越深金额越大，悬停可见精确金额（元）。",
        "rows: insured province (pays), columns: treatment province (receives); each cell the amount cleared (万元), darker for more; hover for the exact 元.",
    );
    let mut html = format!(
        "<h2>{}</h2><p class=\"note\">{} {how}</p>",
        t("省际清算流向", "Flows between provinces"),
        page.month,
    );
    if cells.is_empty() {
        let _ = write!(
            html,
            "<p class=\"note\">{}</p>",
            t("本月无跨省清算。", "No cross-province clearing this month.")
        );
        return html;
    }
    let name = |prov: &str| page.province(prov);
    let _ = write!(
        html,
        "{}",
        matrix(
            &cells,
            &name,
            t("参保\\就医", "insured\\treatment"),
            t("合计", "total")
        )
    );
    let mut flows: Vec<(String, i64)> = page
        .flows
        .iter()
        .map(|((a, b), v)| (format!("{} → {}", page.province(a), page.province(b)), *v))
        .collect();
    flows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown = flows.len().min(TOP_FLOWS);
    let chart_title = format!(
        "{} {} {}（元，{}）",
        t("最大的", "The"),
        shown,
        t("条流向", "largest flows"),
        page.month
    );
    let _ = write!(html, "{}", bars(&chart_title, &flows[..shown], "#2c6fbb"));
    html
}

/// Province nets as a diverging bar chart, the table folded.
fn nets_section(page: &Page) -> String {
    let t = |zh, en| page.t(zh, en);
    let mut net: BTreeMap<String, [i64; 4]> = page
        .nets
        .iter()
        .map(|(p, (r, pay))| (p.clone(), [*r, *pay, 0, 0]))
        .collect();
    for ((insured, treatment), (_, amount)) in page.releases {
        if insured != treatment {
            net.entry(treatment.clone()).or_default()[2] += amount;
            net.entry(insured.clone()).or_default()[3] += amount;
        }
    }
    let mut items: Vec<(String, i64)> = net
        .iter()
        .map(|(p, v)| (page.province(p), v[0] - v[1] + v[2] - v[3]))
        .collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let rows: Vec<Vec<String>> = net
        .iter()
        .map(|(p, v)| {
            vec![
                page.province(p),
                format_money(v[0]),
                format_money(v[1]),
                format_money(v[0] - v[1]),
                format_money(v[2]),
                format_money(v[3]),
                format_money(v[0] - v[1] + v[2] - v[3]),
            ]
        })
        .collect();
    let chart_title = format!(
        "{}（元，{}）",
        t(
            "各省本月应结净额：正为应收，负为应付",
            "Each province's net due: receives (+) or pays (−)"
        ),
        page.month
    );
    format!(
        "<h2>{}</h2>{}<details><summary>{}</summary>{}</details>",
        t("各省轧差", "Province nets"),
        if items.is_empty() {
            String::new()
        } else {
            bars(&chart_title, &items, "#27ae60")
        },
        t("各省应收、应付明细", "Receivable and payable by province"),
        table(
            &[
                t("省份", "province"),
                t("应收", "receivable"),
                t("应付", "payable"),
                t("净额", "net"),
                t("补拨应收", "released receivable"),
                t("补拨应付", "released payable"),
                t("本月应结净额", "net due"),
            ],
            &rows,
            1
        )
    )
}

/// A hospital's findings and the money they question, in all and by rule (its main rule).
#[derive(Default)]
struct Questioned<'a> {
    findings: u64,
    held: i64,
    deducted: i64,
    by_rule: BTreeMap<&'a str, i64>,
}

/// Held and deducted money by rule, and the hospitals with the most questioned; rule codes
/// link to their explanations below.
fn problems_section(page: &Page) -> String {
    let t = |zh, en| page.t(zh, en);
    let mut by_rule: BTreeMap<&str, (u64, i64, i64)> = BTreeMap::new();
    let mut by_hospital: BTreeMap<&str, Questioned> = BTreeMap::new();
    for f in page.findings {
        let (held, deducted) = match f.level {
            Level::Hold => (f.amount.unwrap_or(0), 0),
            Level::Deduct => (0, f.amount.unwrap_or(0)),
            Level::Flag => (0, 0),
        };
        let rule = by_rule.entry(f.rule).or_default();
        rule.0 += 1;
        rule.1 += held;
        rule.2 += deducted;
        if let Some(code) = f.fixmedins_code.as_deref() {
            let h = by_hospital.entry(code).or_default();
            h.findings += 1;
            h.held += held;
            h.deducted += deducted;
            *h.by_rule.entry(f.rule).or_default() += held + deducted;
        }
    }
    let link = |code: &str| format!("<a href=\"#rule-{code}\">{code}</a>");
    let mut rules: Vec<(&str, (u64, i64, i64))> = by_rule.iter().map(|(k, v)| (*k, *v)).collect();
    rules.sort_by(|a, b| (b.1.1 + b.1.2).cmp(&(a.1.1 + a.1.2)).then(a.0.cmp(b.0)));
    let rule_rows: Vec<Vec<String>> = rules
        .iter()
        .map(|(code, v)| {
            vec![
                link(code),
                esc(&rule_name(code, page.lang)),
                count(v.0),
                format_money(v.1),
                format_money(v.2),
            ]
        })
        .collect();
    let bars_items: Vec<(String, i64)> = rules
        .iter()
        .filter(|(_, v)| v.1 + v.2 != 0)
        .take(10)
        .map(|(code, v)| (format!("{code} {}", rule_name(code, page.lang)), v.1 + v.2))
        .collect();
    let mut hospitals: Vec<(&str, &Questioned)> =
        by_hospital.iter().map(|(k, v)| (*k, v)).collect();
    let questioned = |q: &Questioned| q.held + q.deducted;
    hospitals.sort_by(|a, b| questioned(b.1).cmp(&questioned(a.1)).then(a.0.cmp(b.0)));
    hospitals.truncate(TOP_HOSPITALS);
    let hospital_rows: Vec<Vec<String>> = hospitals
        .iter()
        .map(|(code, v)| {
            let main = v
                .by_rule
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                .map(|(rule, _)| link(rule))
                .unwrap_or_default();
            vec![
                esc(code),
                // A hospital missing from the registry (HOS001) has no name there.
                esc(page.hospital_names.get(*code).map_or_else(
                    || t("（不在定点名单）", "(not in the registry)"),
                    String::as_str,
                )),
                main,
                count(v.findings),
                format_money(v.held),
                format_money(v.deducted),
            ]
        })
        .collect();
    let chart_title = format!(
        "{}（元，{}）",
        t(
            "暂缓与扣减金额最多的规则",
            "Rules holding and deducting the most"
        ),
        page.month
    );
    let mut html = format!(
        "<h2>{}</h2>",
        t(
            "问题金额：按规则与医院",
            "Money questioned: by rule and by hospital"
        )
    );
    if bars_items.is_empty() {
        let _ = write!(
            html,
            "<p class=\"note\">{}</p>",
            t("本月无暂缓或扣减。", "Nothing held or deducted this month.")
        );
    } else {
        html.push_str(&bars(&chart_title, &bars_items, "#e67e22"));
    }
    let _ = write!(
        html,
        "<div class=\"row\"><div>{}</div><div><p class=\"note\">{}</p>{}</div></div>",
        table_with(
            &[
                t("规则", "rule"),
                t("名称", "name"),
                t("笔数", "findings"),
                t("暂缓", "held"),
                t("扣减", "deducted"),
            ],
            &rule_rows,
            2,
            &[0, 1, 2, 3, 4],
        ),
        t(
            "问题金额最多的 20 家医院（主要规则为金额最多的规则）",
            "The 20 hospitals with the most money questioned (main rule: the one questioning the most)"
        ),
        table_with(
            &[
                t("机构编号", "code"),
                t("机构名称", "name"),
                t("主要规则", "main rule"),
                t("笔数", "findings"),
                t("暂缓", "held"),
                t("扣减", "deducted"),
            ],
            &hospital_rows,
            3,
            &[0, 1, 2, 3, 4, 5],
        )
    );
    html
}

/// A rule's name in the page's language, from the first line of its documentation
/// (`CODE 中文名 — English name`).
fn rule_name(code: &str, lang: Lang) -> String {
    let title = rules::find(code).map(|r| r.title()).unwrap_or_default();
    let mut names = title.trim_start_matches(code).split(" — ");
    let zh = names.next().unwrap_or("").trim();
    match (lang, names.next()) {
        (Lang::En, Some(en)) => en.trim().to_owned(),
        _ => zh.to_owned(),
    }
}

/// The rules that found something, each explained, folded.
fn explanations_section(page: &Page) -> String {
    let t = |zh, en| page.t(zh, en);
    let mut codes: Vec<&str> = page.findings.iter().map(|f| f.rule).collect();
    codes.sort_unstable();
    codes.dedup();
    let mut html = format!(
        "<h2>{}</h2><p class=\"note\">{}</p>",
        t("本月出现的规则说明", "The rules that found something"),
        t(
            "点击展开；全部规则见 `yidi rules`。",
            "Click to unfold; `yidi rules` lists every rule."
        )
    );
    for code in codes {
        let Some(rule) = rules::find(code) else {
            continue;
        };
        let _ = write!(
            html,
            "<details id=\"rule-{code}\"><summary>{code} {} [{}]</summary><p>{}</p></details>",
            esc(&rule_name(code, page.lang)),
            rule.level.name(),
            esc(&explanation(&rule.doc(), page.lang))
        );
    }
    html
}
