//! The bundled sample month: its findings are exactly the ones its README documents, and
//! two runs give byte-identical tables.

use crate::util::{SAMPLE_MONTH, sample_dir};

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
        "inputs/setlinfo.parquet",
    ] {
        let read = |dir: &tempfile::TempDir| {
            std::fs::read(dir.path().join(SAMPLE_MONTH).join(table)).unwrap()
        };
        assert_eq!(read(&a), read(&b), "{table}");
    }
}
