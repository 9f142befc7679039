//! `yidi query`: every table registered under its documented name, every output format,
//! and errors a person can act on.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use predicates::prelude::*;
use serde_json::Value;

use crate::util::{SAMPLE_MONTH, sample_dir, yidi};

/// One run of the sample month, shared by the tests of this module (they only read it).
fn run_dir() -> &'static Path {
    static RUN: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, dir) = RUN.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        yidi()
            .args(["run", sample_dir().to_str().unwrap(), "--quiet", "--out"])
            .arg(out.path())
            .assert()
            .code(0);
        let dir = out.path().join(SAMPLE_MONTH);
        (out, dir)
    });
    dir
}

fn query(sql: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    yidi()
        .arg("query")
        .arg(run_dir())
        .arg(sql)
        .args(extra)
        .assert()
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

#[test]
fn every_table_is_registered_with_the_rows_the_run_wrote() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir().join("manifest.json")).unwrap())
            .unwrap();
    // The rows of one output file, or of every part of a table written in parts.
    let rows_of = |path: &str| {
        let parts = format!("{}/", path.trim_end_matches(".parquet"));
        let files: Vec<&Value> = manifest["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| {
                let p = o["path"].as_str().unwrap();
                p == path || (p.starts_with(&parts) && p.ends_with(".parquet"))
            })
            .collect();
        assert!(!files.is_empty(), "{path} in the manifest");
        files
            .iter()
            .map(|o| o["rows"].as_u64().unwrap())
            .sum::<u64>()
    };
    // An optional input the month does not have (decisions.csv) is no table.
    let present = |source: &yidi::query::Source| {
        source.required
            || source.place != yidi::query::Place::Input
            || run_dir()
                .join(format!("inputs/{}.parquet", source.name))
                .exists()
    };
    for source in yidi::query::SOURCES.iter().filter(|s| present(s)) {
        let expected = match source.place {
            yidi::query::Place::Run => rows_of(&format!("{}.parquet", source.name)),
            yidi::query::Place::Input => rows_of(&format!("inputs/{}.parquet", source.name)),
            yidi::query::Place::Root => yidi::rules::RULES.len() as u64,
        };
        let assert = query(
            &format!("SELECT count(*) AS n FROM {}", source.name),
            &["--format", "csv"],
        )
        .code(0);
        let text = stdout(&assert);
        assert_eq!(
            text.trim_start_matches('\u{feff}').lines().nth(1),
            Some(expected.to_string().as_str()),
            "{}: {text}",
            source.name
        );
    }
}

#[test]
fn tables_lists_every_table_and_its_columns() {
    let assert = yidi()
        .arg("query")
        .arg(run_dir())
        .arg("--tables")
        .assert()
        .code(0);
    let text = stdout(&assert);
    for source in yidi::query::SOURCES
        .iter()
        .filter(|s| s.name != "decisions")
    {
        assert!(
            text.contains(&format!("{}  —", source.name)),
            "{}",
            source.name
        );
    }
    assert!(text.contains("    trt_dcla_detl_sn"), "{text}");
    assert!(
        text.contains("decimal[18,2]"),
        "money is exact decimal: {text}"
    );
}

const BY_RULE: &str = "SELECT rule, level, count(*) AS cnt, sum(amount) AS amount FROM findings \
     WHERE rule IN ('CAT001', 'FIL001') GROUP BY rule, level ORDER BY rule";

#[test]
fn a_table_for_people_aligns_columns_and_keeps_two_decimals() {
    let assert = query(BY_RULE, &[]).code(0);
    let text = stdout(&assert);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "rule   │ level  │ cnt │ amount");
    assert!(lines[1].starts_with("───────┼"), "{text}");
    assert_eq!(lines[2], "CAT001 │ deduct │   1 │  31.22");
    assert_eq!(lines[3], "FIL001 │ hold   │   1 │ 425.00");
    assert_eq!(lines[4], "(2 rows)");

    // Chinese text is aligned by its display width.
    let assert = query(
        "SELECT fixmedins_code, fixmedins_name FROM hospitals ORDER BY fixmedins_code LIMIT 2",
        &[],
    )
    .code(0);
    let text = stdout(&assert);
    let widths: Vec<usize> = text
        .lines()
        .take(4)
        .filter(|l| !l.starts_with('─'))
        .map(|l| unicode_width::UnicodeWidthStr::width(l.split('│').next().unwrap()))
        .collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{text}");

    let assert = query("SELECT * FROM feedetail", &["--max-rows", "3"]).code(0);
    let text = stdout(&assert);
    assert!(text.contains("the first 3 shown"), "{text}");
}

#[test]
fn csv_json_and_parquet_give_the_same_result() {
    let csv = stdout(&query(BY_RULE, &["--format", "csv"]).code(0));
    assert_eq!(
        csv,
        "\u{feff}rule,level,cnt,amount\nCAT001,deduct,1,31.22\nFIL001,hold,1,425.00\n"
    );

    let json = stdout(&query(BY_RULE, &["--format", "json"]).code(0));
    assert!(
        json.contains("\"amount\":31.22"),
        "money as an exact number: {json}"
    );
    let value: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value[1]["rule"], "FIL001");
    assert_eq!(value[1]["cnt"], 1);

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("by_rule.parquet");
    yidi()
        .arg("query")
        .arg(run_dir())
        .arg(BY_RULE)
        .args(["--format", "parquet", "--output"])
        .arg(&file)
        .assert()
        .code(0);
    use polars::prelude::*;
    let frame = ParquetReader::new(std::fs::File::open(&file).unwrap())
        .finish()
        .unwrap();
    assert_eq!(frame.height(), 2);
    assert!(
        matches!(
            frame.column("amount").unwrap().dtype(),
            DataType::Decimal(_, 2)
        ),
        "{frame}"
    );

    // Saved queries; --output writes the file instead of stdout.
    let sql = dir.path().join("by_rule.sql");
    std::fs::write(&sql, BY_RULE).unwrap();
    let out = dir.path().join("by_rule.csv");
    yidi()
        .arg("query")
        .arg(run_dir())
        .arg("--sql-file")
        .arg(&sql)
        .args(["--format", "csv", "--output"])
        .arg(&out)
        .assert()
        .code(0)
        .stdout("");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);
}

#[test]
fn errors_say_what_to_do() {
    query("SELECT * FROM findigs", &[])
        .code(2)
        .stderr(predicate::str::contains("no table named 'findigs'"))
        .stderr(predicate::str::contains("did you mean 'findings'"));
    query("SELECT amout FROM findings", &[])
        .code(2)
        .stderr(predicate::str::contains("no column named 'amout'"))
        .stderr(predicate::str::contains("'amount'"));
    query("SELECT rule FORM findings", &[])
        .code(2)
        .stderr(predicate::str::contains("SQL syntax error"))
        .stderr(predicate::str::contains("^ line 1, column"));
    yidi()
        .args(["query", "/nonexistent/2026-10", "SELECT 1"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no such directory"));
    // The output root instead of a month of it.
    yidi()
        .arg("query")
        .arg(run_dir().parent().unwrap())
        .arg("SELECT 1")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("not a finished run"))
        .stderr(predicate::str::contains(SAMPLE_MONTH));
    // A run with a table missing.
    let broken = tempfile::tempdir().unwrap();
    let copy = broken.path().join(SAMPLE_MONTH);
    std::fs::create_dir_all(copy.join("inputs")).unwrap();
    for entry in std::fs::read_dir(run_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && !path.ends_with("findings.parquet") {
            std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
        }
    }
    yidi()
        .arg("query")
        .arg(&copy)
        .arg("SELECT 1")
        .assert()
        .code(3)
        .stderr(predicate::str::contains("incomplete"))
        .stderr(predicate::str::contains("findings.parquet"));
    yidi()
        .arg("query")
        .arg(run_dir())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no SQL given"));
}
