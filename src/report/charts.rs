//! The report's building blocks, inline and without script: escaped text, tables, SVG bar
//! charts (negative values grow left of the axis) and a shaded matrix.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::units::format_money_grouped as money;

pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A count grouped by thousands (`1,234,567`).
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Horizontal bars titled `title`, one per item, scaled to the largest absolute value;
/// negative values grow left of the axis (a diverging chart). Values in fen, shown in 元.
pub fn bars(title: &str, items: &[(String, i64)], color: &str) -> String {
    if items.is_empty() {
        return String::new();
    }
    let max = items.iter().map(|(_, v)| v.abs()).max().unwrap_or(1).max(1) as f64;
    let any_negative = items.iter().any(|(_, v)| *v < 0);
    let (label_w, bar_w, row_h, value_w) = (230.0, 440.0, 22.0, 130.0);
    let axis = if any_negative {
        label_w + bar_w / 2.0
    } else {
        label_w
    };
    let span = if any_negative { bar_w / 2.0 } else { bar_w };
    let top = 22.0;
    let height = top + row_h * items.len() as f64 + 6.0;
    let width = label_w + bar_w + value_w;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{t}"><text x="0" y="14" class="t">{t}</text>"#,
        t = esc(title)
    );
    for (k, (label, value)) in items.iter().enumerate() {
        let y = top + row_h * k as f64;
        let w = (value.abs() as f64 / max) * span;
        let x = if *value < 0 { axis - w } else { axis };
        let fill = if *value < 0 { "#c0392b" } else { color };
        // Values sit right of the bars, or right of the axis for a negative one.
        let value_x = if *value < 0 { axis + 6.0 } else { x + w + 6.0 };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="l">{}</text><rect x="{x:.1}" y="{y}" width="{w:.1}" height="{}" fill="{fill}"><title>{}: {} 元</title></rect><text x="{value_x:.1}" y="{}" class="v">{}</text>"#,
            label_w - 8.0,
            y + 15.0,
            esc(label),
            row_h - 6.0,
            esc(label),
            money(*value),
            y + 15.0,
            money(*value)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{axis}" y1="{top}" x2="{axis}" y2="{height}" stroke="#555"/></svg>"##
    );
    svg
}

/// A table; cells from column `numeric_from` on are right-aligned numbers. Cells are
/// escaped, but for those `raw` marks (already HTML, such as a link).
pub fn table(head: &[&str], rows: &[Vec<String>], numeric_from: usize) -> String {
    table_with(head, rows, numeric_from, &[])
}

pub fn table_with(
    head: &[&str],
    rows: &[Vec<String>],
    numeric_from: usize,
    raw: &[usize],
) -> String {
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
            let text = if raw.contains(&k) {
                cell.clone()
            } else {
                esc(cell)
            };
            let _ = write!(html, "<td{class}>{text}</td>");
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

/// A matrix of money by (row, column) key — insured province by treatment province —
/// each cell shaded by its amount and shown in 万元 (the exact 元 in its tooltip), with row
/// and column totals. `name` labels a key.
pub fn matrix(
    cells: &BTreeMap<(String, String), i64>,
    name: &dyn Fn(&str) -> String,
    corner: &str,
    total: &str,
) -> String {
    let rows: Vec<&String> = {
        let mut r: Vec<&String> = cells.keys().map(|k| &k.0).collect();
        r.dedup();
        r.sort();
        r.dedup();
        r
    };
    let columns: Vec<&String> = {
        let mut c: Vec<&String> = cells.keys().map(|k| &k.1).collect();
        c.sort();
        c.dedup();
        c
    };
    let max = cells.values().map(|v| v.abs()).max().unwrap_or(1).max(1) as f64;
    let wan = |fen: i64| {
        // 万元 with no decimals: a cell is a glance, the tooltip the figure. (HTML text:
        // the `<` escaped.)
        let yuan_wan = (fen as f64 / 1_000_000.0).round() as i64;
        if yuan_wan == 0 && fen != 0 {
            if fen < 0 { "−&lt;1" } else { "&lt;1" }.to_owned()
        } else {
            let sign = if yuan_wan < 0 { "−" } else { "" };
            format!("{sign}{}", count(yuan_wan.unsigned_abs()))
        }
    };
    let mut html = String::from("<table class=\"m\"><thead><tr>");
    let _ = write!(html, "<th>{}</th>", esc(corner));
    for c in &columns {
        let _ = write!(html, "<th title=\"{}\">{}</th>", esc(&name(c)), esc(c));
    }
    let _ = write!(html, "<th>{}</th></tr></thead><tbody>", esc(total));
    let mut column_totals = vec![0i64; columns.len()];
    for r in &rows {
        let _ = write!(html, "<tr><th title=\"{}\">{}</th>", esc(&name(r)), esc(r));
        let mut row_total = 0;
        for (k, c) in columns.iter().enumerate() {
            match cells.get(&((*r).clone(), (*c).clone())) {
                Some(&v) => {
                    row_total += v;
                    column_totals[k] += v;
                    let alpha = 0.08 + 0.82 * (v.abs() as f64 / max);
                    let _ = write!(
                        html,
                        "<td class=\"n\" style=\"background:rgba(44,111,187,{alpha:.2})\" title=\"{} → {}: {} 元\">{}</td>",
                        esc(&name(r)),
                        esc(&name(c)),
                        money(v),
                        wan(v)
                    );
                }
                None => html.push_str("<td></td>"),
            }
        }
        let _ = write!(
            html,
            "<td class=\"n tot\" title=\"{} 元\">{}</td></tr>",
            money(row_total),
            wan(row_total)
        );
    }
    let _ = write!(html, "<tr><th>{}</th>", esc(total));
    for v in &column_totals {
        let _ = write!(
            html,
            "<td class=\"n tot\" title=\"{} 元\">{}</td>",
            money(*v),
            wan(*v)
        );
    }
    let all: i64 = column_totals.iter().sum();
    let _ = write!(
        html,
        "<td class=\"n tot\" title=\"{} 元\">{}</td></tr></tbody></table>",
        money(all),
        wan(all)
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(13_825_464), "13,825,464");
    }

    /// A cell under half a 万元 shows `<1`, escaped as HTML text; the tooltip has the 元.
    #[test]
    fn a_small_cell_of_the_matrix_is_escaped_text() {
        let cells = BTreeMap::from([
            (("36".to_owned(), "44".to_owned()), 84_007_800),
            (("43".to_owned(), "44".to_owned()), 75_600),
            (("44".to_owned(), "43".to_owned()), -23_503),
        ]);
        let html = matrix(&cells, &|code| format!("省{code}"), "参保\\就医", "合计");
        assert!(
            html.contains("title=\"省43 → 省44: 756.00 元\">&lt;1</td>"),
            "{html}"
        );
        assert!(html.contains(">−&lt;1</td>"), "{html}");
        assert!(
            html.contains("title=\"省36 → 省44: 840,078.00 元\">84</td>"),
            "{html}"
        );
        assert!(!html.contains("><1<") && !html.contains("−<1"), "{html}");
    }
}
