//! The bundled sample month: its findings are exactly the ones its README documents, its
//! clearing adds up (SPEC §7), and two runs give byte-identical tables.

use crate::util::{RESULT_TABLES, SAMPLE_MONTH, csv_rows, sample_dir};

fn documented_findings() -> Vec<String> {
    let readme = std::fs::read_to_string(sample_dir().join("README.md")).unwrap();
    let block = readme
        .split("```findings\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a findings block in sample_data/2026-10/README.md");
    let mut lines: Vec<String> = block
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.sort();
    lines
}

fn run(out: &std::path::Path) {
    assert_cmd::Command::cargo_bin("yidi")
        .unwrap()
        .args(["run", sample_dir().to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .assert()
        .code(0);
}

#[test]
fn the_sample_month_gives_exactly_its_documented_findings() {
    let out = tempfile::tempdir().unwrap();
    run(out.path());
    let text = std::fs::read_to_string(out.path().join(SAMPLE_MONTH).join("findings.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let dash = |v: &str| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.to_owned()
        }
    };
    let mut found: Vec<String> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            [0, 1, 2, 3, 4, 5, 6, 9]
                .iter()
                .map(|&k| dash(&r[k]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    found.sort();
    assert_eq!(found, documented_findings());
}

#[test]
fn two_runs_give_byte_identical_tables() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(a.path());
    run(b.path());
    for table in [
        "findings.csv",
        "findings.parquet",
        "rejects.csv",
        "inputs/filings.parquet",
        "inputs/setlinfo/36.parquet",
        "inputs/feedetail/36.parquet",
    ] {
        let read = |dir: &tempfile::TempDir| {
            std::fs::read(dir.path().join(SAMPLE_MONTH).join(table)).unwrap()
        };
        assert_eq!(read(&a), read(&b), "{table}");
    }
}

fn fen(text: &str) -> i64 {
    yidi::units::parse_fixed(text, 2).unwrap()
}

#[test]
fn the_clearing_of_the_sample_month_adds_up() {
    let out = tempfile::tempdir().unwrap();
    run(out.path());
    let dir = out.path().join(SAMPLE_MONTH);
    for table in ["clearing_by_area", "clearing_by_province"] {
        let rows = csv_rows(&dir.join(format!("{table}.csv")));
        assert!(!rows.is_empty());
        for row in rows {
            assert_eq!(
                fen(&row["cleared_amount"])
                    + fen(&row["held_amount"])
                    + fen(&row["disputed_amount"]),
                fen(&row["fund_pay_sumamt"]),
                "{table}: {row:?}"
            );
        }
    }
    let nets = csv_rows(&dir.join("province_net.csv"));
    assert_eq!(nets.iter().map(|r| fen(&r["net"])).sum::<i64>(), 0);
    for row in &nets {
        assert_eq!(
            fen(&row["net"]),
            fen(&row["receivable"]) - fen(&row["payable"])
        );
    }
    // Every settlement row read is in exactly one status.
    let settlements = csv_rows(&dir.join("settlements.csv"));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let read: u64 = manifest["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["table"] == "setlinfo")
        .map(|i| i["accepted"].as_u64().unwrap())
        .sum();
    assert_eq!(settlements.len() as u64, read);
    let statuses: u64 = manifest["settlement_statuses"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(statuses, read);
    // Guangdong's hospitals are owed what Jiangxi's and Hunan's insured cleared there.
    let guangdong = nets.iter().find(|r| r["prov"] == "44").unwrap();
    assert_eq!(guangdong["receivable"], "9156.78");
}

#[test]
fn the_reports_are_self_contained_and_masked() {
    let out = tempfile::tempdir().unwrap();
    run(out.path());
    let dir = out.path().join(SAMPLE_MONTH);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for outside in ["<script", "<link", "https://", "src=\"http", "@import"] {
        assert!(
            !html.contains(outside),
            "the report must open offline: {outside}"
        );
    }
    assert!(html.contains("2026-10") && html.contains("<svg"));
    assert!(
        html.contains("江西省(36) → 广东省(44)"),
        "the flows name provinces"
    );
    assert!(
        html.contains("8,400.78"),
        "Jiangxi → Guangdong cleared, grouped"
    );
    assert!(
        html.contains("FIL001") && html.contains("需要备案的异地结算"),
        "rules explained"
    );
    assert!(
        html.contains("<td>H44010000009</td><td>（不在定点名单）</td>"),
        "the hospital missing from the registry (HOS001) is said to be"
    );
    let xlsx = std::fs::read(dir.join("report.xlsx")).unwrap();
    assert!(xlsx.starts_with(b"PK"), "an xlsx is a zip");
    // Personal data never leaves unmasked: the sample's names and ids appear nowhere.
    let filings = std::fs::read_to_string(crate::util::sample_dir().join("filings.csv")).unwrap();
    let mut secrets = Vec::new();
    for line in filings.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        secrets.push(fields[2].to_owned());
        secrets.push(fields[3].to_owned());
    }
    let mut files = vec![dir.join("report.html")];
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv" || e == "json") {
            files.push(path);
        }
    }
    let mut texts: Vec<(String, String)> = files
        .iter()
        .map(|path| {
            let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
            (path.display().to_string(), text)
        })
        .collect();
    texts.extend(crate::util::xlsx_sheets(&dir.join("report.xlsx")));
    for (name, text) in texts {
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            assert!(!text.contains(secret.as_str()), "{name} shows {secret}");
        }
    }
}

/// The workbook has a sheet for each table of SPEC §9, in the tables' order, holding its
/// rows (a header row, then the table's): the settlements' sheet too, whose rows are taken
/// ahead of the table's writing.
#[test]
fn the_workbook_holds_every_tables_rows() {
    let out = tempfile::tempdir().unwrap();
    run(out.path());
    let dir = out.path().join(SAMPLE_MONTH);
    let sheets = crate::util::xlsx_sheets(&dir.join("report.xlsx"));
    let tables: Vec<&str> = RESULT_TABLES
        .into_iter()
        .chain([
            "ledger",
            "ledger_events",
            "releases_by_area",
            "releases_by_province",
            "rejects",
        ])
        .collect();
    let names: Vec<&str> = sheets.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.len(), tables.len(), "{names:?}");
    for ((name, xml), table) in sheets.iter().zip(&tables) {
        assert!(name.ends_with(&format!(" {table}")), "{name} for {table}");
        let rows = csv_rows(&dir.join(format!("{table}.csv")));
        assert_eq!(
            xml.matches("<row ").count(),
            rows.len() + 1,
            "the sheet {name} holds the header and the {} rows of {table}.csv",
            rows.len()
        );
    }
    let settlements = csv_rows(&dir.join("settlements.csv"));
    assert!(settlements.len() > 20, "the sample has its settlements");
    for row in &settlements {
        assert!(
            sheets[1].1.contains(&format!("<t>{}</t>", row["setl_id"])),
            "the settlements' sheet shows {}",
            row["setl_id"]
        );
    }
}

/// The sample's province nets, computed by hand from its README's cases: Jiangxi's insured
/// cleared 8 400.78 in Guangdong (the Nanchang example's 8 500.00, two more stays of
/// 374.00 and 153.00 − 31.22, and the reversal of an August stay, −595.00) and 1 076.00 in
/// Hunan (two chronic visits, 668.00 and 488.00 − 80.00); Hunan's insured 756.00 in
/// Guangdong (two referred stays of 378.00, one of them paid 388.00 − 10.00); Guangdong's
/// 235.03 in Hunan (the emergency stay's 246.50 − 11.47); Jilin's nothing in Jiangxi (all
/// three held).
#[test]
fn the_province_nets_equal_the_hand_computed_ones() {
    let out = tempfile::tempdir().unwrap();
    run(out.path());
    let nets = csv_rows(&out.path().join(SAMPLE_MONTH).join("province_net.csv"));
    let got: Vec<[String; 4]> = nets
        .iter()
        .map(|r| {
            [
                r["prov"].clone(),
                r["receivable"].clone(),
                r["payable"].clone(),
                r["net"].clone(),
            ]
        })
        .collect();
    let expected = [
        ["22", "0.00", "0.00", "0.00"],
        ["36", "0.00", "9476.78", "-9476.78"],
        ["43", "1311.03", "756.00", "555.03"],
        ["44", "9156.78", "235.03", "8921.75"],
    ];
    assert_eq!(got, expected.map(|r| r.map(str::to_owned)).to_vec());
}

#[test]
fn text_cells_that_look_like_formulas_are_neutralised_and_numbers_stay_numbers() {
    let month = crate::util::TempMonth::sample();
    // A psn_no a spreadsheet would run, on a settlement that gets a finding (FIL001).
    month.set_field(
        "exports/H44010000001/setlinfo.csv",
        3,
        "psn_no",
        "=HYPERLINK(1)",
    );
    let out = month.out();
    assert_cmd::Command::cargo_bin("yidi")
        .unwrap()
        .args(["run", month.dir.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let findings = std::fs::read_to_string(out.join(SAMPLE_MONTH).join("findings.csv")).unwrap();
    assert!(findings.contains(",'=HYPERLINK(1),"), "{findings}");
    assert!(!findings.contains(",=HYPERLINK"));
    let settlements =
        std::fs::read_to_string(out.join(SAMPLE_MONTH).join("settlements.csv")).unwrap();
    assert!(
        settlements.contains(",-595.00"),
        "a negative amount is written as a number"
    );
    assert!(!settlements.contains("'-595.00"));
}
