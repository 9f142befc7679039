//! The `yidi` binary end to end: the README's run on the sample month, `validate`, exit
//! statuses, the manifest, and bad input that must never panic.

use predicates::prelude::*;

use crate::util::{SAMPLE_MONTH, TempMonth, manifest, sample_dir, yidi};

#[test]
fn run_on_the_sample_month_writes_manifest_and_rejects() {
    let out = tempfile::tempdir().unwrap();
    yidi()
        .args(["run", sample_dir().to_str().unwrap(), "--out"])
        .arg(out.path())
        .assert()
        .code(0)
        .stderr(predicate::str::contains("\u{1b}").not());
    let results = out.path().join(SAMPLE_MONTH);
    let manifest = manifest(&results);
    assert_eq!(manifest["month"], SAMPLE_MONTH);
    assert_eq!(manifest["exit_code"], 0);
    let inputs = manifest["inputs"].as_array().unwrap();
    assert_eq!(
        inputs.len(),
        23,
        "8 reference and registry files, 7 hospitals x 2, one summary"
    );
    for input in inputs {
        let (read, accepted, rejected) = (
            input["read"].as_u64().unwrap(),
            input["accepted"].as_u64().unwrap(),
            input["rejected"].as_u64().unwrap(),
        );
        assert_eq!(read, accepted + rejected, "{input}");
        assert_eq!(input["sha256"].as_str().unwrap().len(), 64);
        assert!(input["size"].as_u64().unwrap() > 0);
    }
    let gbk = inputs
        .iter()
        .find(|i| i["path"] == "exports/H43040000001/setlinfo.csv")
        .unwrap();
    assert_eq!(gbk["encoding"], "gb18030");
    let rejects = std::fs::read(results.join("rejects.csv")).unwrap();
    assert!(rejects.starts_with(b"\xEF\xBB\xBFfile,line,column,reason"));
    assert!(manifest["config_hash"].as_str().unwrap().len() == 64);
    // Every output is listed with its hash, and personal data is masked in the inputs copy.
    for output in manifest["outputs"].as_array().unwrap() {
        assert!(
            results.join(output["path"].as_str().unwrap()).is_file(),
            "{output}"
        );
    }
    let filings = polars::prelude::ParquetReader::new(
        std::fs::File::open(results.join("inputs/filings.parquet")).unwrap(),
    );
    use polars::prelude::SerReader;
    let filings = filings.finish().unwrap();
    let certno = filings
        .column("certno")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_owned();
    assert_eq!(certno, "360102********1238");
    let name = filings
        .column("psn_name")
        .unwrap()
        .str()
        .unwrap()
        .get(0)
        .unwrap()
        .to_owned();
    assert_eq!(name, "张**");
}

#[test]
fn validate_reports_each_bad_row_and_the_counts_add_up() {
    let month = TempMonth::sample();
    month.set_field(
        "exports/H36010000001/setlinfo.csv",
        0,
        "medfee_sumamt",
        "1.001",
    );
    month.set_field(
        "exports/H43010000001/feedetail.csv",
        1,
        "fee_ocur_time",
        "2026-10-18",
    );
    month.set_field("filings.csv", 2, "insutype", "999");
    let out = month.tmp.path().join("validate");
    let output = yidi()
        .args([
            "validate",
            month.dir.to_str().unwrap(),
            "--lang",
            "en",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(output).unwrap();
    assert!(stdout.contains("exports/H36010000001/setlinfo.csv:2:medfee_sumamt: money '1.001' has more than 2 decimals"), "{stdout}");
    assert!(
        stdout.contains("exports/H43010000001/feedetail.csv:3:fee_ocur_time:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("filings.csv:4:insutype: code '999'"),
        "{stdout}"
    );
    let total = stdout.lines().find(|l| l.starts_with("total")).unwrap();
    let numbers: Vec<u64> = total
        .split_whitespace()
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect();
    assert_eq!(numbers[0], numbers[1] + numbers[2]);
    // Three bad values, and the two fee lines of the rejected settlement.
    assert!(
        stdout.contains("exports/H36010000001/feedetail.csv:2:setl_id:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("exports/H36010000001/feedetail.csv:3:setl_id:"),
        "{stdout}"
    );
    assert_eq!(numbers[2], 5);
    let manifest = manifest(&out);
    assert_eq!(manifest["rows"]["rejected"], 5);
    assert_eq!(manifest["exit_code"], 1);
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 6);
}

#[test]
fn validate_of_a_clean_month_exits_zero() {
    yidi()
        .args(["validate", sample_dir().to_str().unwrap(), "--quiet"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("total"));
}

#[test]
fn an_empty_hospital_file_sets_its_directory_aside_and_strict_stops_naming_it() {
    let month = TempMonth::sample();
    month.write("exports/H43010000001/setlinfo.csv", "");
    yidi()
        .args(["run", month.dir.to_str().unwrap(), "--strict", "--out"])
        .arg(month.out())
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "exports/H43010000001/setlinfo.csv: the file is empty",
        ));
    assert!(!month.out().join(SAMPLE_MONTH).exists());
    yidi()
        .args(["run", month.dir.to_str().unwrap(), "--out"])
        .arg(month.out())
        .assert()
        .code(6)
        .stderr(predicate::str::contains(
            "exports/H43010000001 set aside, not cleared this month: exports/H43010000001/setlinfo.csv: the file is empty",
        ));
    assert!(
        month
            .out()
            .join(SAMPLE_MONTH)
            .join("manifest.json")
            .is_file()
    );
}

#[test]
fn an_empty_common_file_is_an_input_error_naming_it() {
    let month = TempMonth::sample();
    month.write("reference/hospitals.csv", "");
    yidi()
        .args(["run", month.dir.to_str().unwrap(), "--out"])
        .arg(month.out())
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "reference/hospitals.csv: the file is empty",
        ));
    assert!(!month.out().join(SAMPLE_MONTH).exists());
}

#[test]
fn a_binary_file_is_an_input_error() {
    let month = TempMonth::sample();
    month.write("reference/policy.csv", b"PK\x03\x04\x00\x00binary");
    yidi()
        .args(["validate", month.dir.to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "reference/policy.csv: not a CSV text file",
        ));
}

#[test]
fn a_header_only_file_is_accepted_with_no_rows() {
    let month = TempMonth::sample();
    let text = month.text("ytd.csv");
    month.write("ytd.csv", text.lines().next().unwrap());
    yidi()
        .args(["validate", month.dir.to_str().unwrap()])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"ytd\.csv\s+utf-8\s+0\s+0\s+0").unwrap());
}

#[test]
fn a_truncated_file_rejects_its_cut_row() {
    let month = TempMonth::sample();
    let rel = "exports/H44010000001/feedetail.csv";
    // Cut the file in the middle of its last row, as an interrupted transfer does.
    let text = month.text(rel);
    let last_row_start = text.trim_end().rfind('\n').unwrap() + 1;
    let cut = last_row_start + text[last_row_start..].match_indices(',').nth(4).unwrap().0;
    month.write(rel, &text[..cut]);
    let assert = yidi()
        .args(["validate", month.dir.to_str().unwrap(), "--lang", "en"])
        .assert()
        .code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains(&format!("{rel}:26:: wrong column count")),
        "{stdout}"
    );
}

#[test]
fn a_missing_column_exits_3_naming_it() {
    let month = TempMonth::sample();
    let text = month.text("filings.csv").replacen("vali_flag", "valid", 1);
    month.write("filings.csv", text);
    yidi()
        .args(["run", month.dir.to_str().unwrap(), "--out"])
        .arg(month.out())
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "filings.csv: required column 'vali_flag' is missing",
        ));
}

#[test]
fn usage_and_configuration_errors_exit_2() {
    let month = TempMonth::sample();
    let odd = month.tmp.path().join("october");
    std::fs::rename(&month.dir, &odd).unwrap();
    yidi()
        .args(["run", odd.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--month"));
    let config = month.tmp.path().join("bad.toml");
    std::fs::write(
        &config,
        "[defaults]\nintra_province_filing = \"sometimes\"\n",
    )
    .unwrap();
    yidi()
        .args([
            "validate",
            odd.to_str().unwrap(),
            "--month",
            "2026-10",
            "--config",
        ])
        .arg(&config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("defaults.intra_province_filing"));
    yidi().args(["run"]).assert().code(2);
}

#[test]
fn a_memory_budget_too_small_or_unreadable_is_a_usage_error() {
    let month = TempMonth::sample();
    for (limit, says) in [("10MiB", "at least 256MiB"), ("lots", "expected a size")] {
        yidi()
            .args([
                "validate",
                month.dir.to_str().unwrap(),
                "--memory-limit",
                limit,
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--memory-limit").and(predicate::str::contains(says)));
    }
    yidi()
        .args([
            "validate",
            month.dir.to_str().unwrap(),
            "--memory-limit",
            "512MiB",
        ])
        .assert()
        .code(predicate::in_iter([0, 1]));
}

#[test]
fn a_missing_month_directory_exits_3() {
    yidi()
        .args(["validate", "/nonexistent/2026-10"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("month directory not found"));
}

#[test]
fn a_failed_run_leaves_the_previous_results_intact() {
    let month = TempMonth::sample();
    yidi()
        .args(["run", month.dir.to_str().unwrap(), "--quiet", "--out"])
        .arg(month.out())
        .assert()
        .code(0);
    let results = month.out().join(SAMPLE_MONTH);
    let before = std::fs::read(results.join("manifest.json")).unwrap();
    month.write("reference/regions.csv", "");
    yidi()
        .args(["run", month.dir.to_str().unwrap(), "--quiet", "--out"])
        .arg(month.out())
        .assert()
        .code(3);
    assert_eq!(
        std::fs::read(results.join("manifest.json")).unwrap(),
        before
    );
    let mut leftovers: Vec<_> = std::fs::read_dir(month.out())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        [
            ".2026-10.lock",
            ".history.lock",
            "2026-10",
            "history.csv",
            "history.parquet"
        ],
        "no temporary directory left (the lock files stay, unlocked), the history of the first run only"
    );
    let history = std::fs::read_to_string(month.out().join("history.csv")).unwrap();
    let runs: std::collections::BTreeSet<&str> = history
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    assert_eq!(runs.len(), 1, "the failed run added nothing to the history");
}

#[test]
fn help_documents_the_exit_statuses() {
    yidi()
        .args(["run", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("5  another run holds the lock"))
        .stdout(predicate::str::contains("--wait"));
}

#[test]
fn the_shipped_configuration_is_valid_and_recorded_in_the_manifest() {
    let out = tempfile::tempdir().unwrap();
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data/yidi.toml");
    yidi()
        .args(["run", sample_dir().to_str().unwrap(), "--quiet", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(0);
    let manifest = manifest(&out.path().join(SAMPLE_MONTH));
    assert_eq!(
        manifest["config"]["province"]["22"]["intra_province_filing"],
        "inpatient"
    );
    assert_eq!(
        manifest["config"]["province"]["36"]["long_term_lock_months"]["11"],
        12
    );
    let default_hash = yidi::config::Config::default().hash();
    assert_ne!(manifest["config_hash"].as_str().unwrap(), default_hash);
}

#[test]
fn fail_on_decides_when_findings_exit_1() {
    // The sample month has hold and flag findings: every level at or below them fails.
    for (level, code) in [("never", 0), ("hold", 1), ("deduct", 1), ("flag", 1)] {
        let out = tempfile::tempdir().unwrap();
        yidi()
            .args([
                "run",
                sample_dir().to_str().unwrap(),
                "--quiet",
                "--fail-on",
                level,
                "--out",
            ])
            .arg(out.path())
            .assert()
            .code(code);
        let manifest = manifest(&out.path().join(SAMPLE_MONTH));
        assert_eq!(manifest["exit_code"], code, "--fail-on {level}");
    }
    // A month whose only findings are flags: Jilin city's export without its duplicated
    // row leaves CAT003 (a 乙类 drug billed as 甲类), beside the registry's REG flags.
    let month = TempMonth::sample();
    for dir in std::fs::read_dir(month.path("exports")).unwrap() {
        let dir = dir.unwrap().path();
        if dir.file_name().unwrap() != "H22020000001" {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
    let rel = "exports/H22020000001/setlinfo.csv";
    let text = month.text(rel);
    let without_copy: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(k, _)| *k != 2)
        .map(|(_, l)| l)
        .collect();
    month.write(rel, without_copy.join("\n") + "\n");
    let run = |level: &str| {
        yidi()
            .args([
                "run",
                month.dir.to_str().unwrap(),
                "--quiet",
                "--fail-on",
                level,
                "--out",
            ])
            .arg(month.out())
            .assert()
    };
    run("hold").code(0);
    run("deduct").code(0);
    run("flag").code(1);
}

#[test]
fn each_finished_run_appends_its_rule_counts_to_the_history() {
    let out = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        yidi()
            .args(["run", sample_dir().to_str().unwrap(), "--quiet", "--out"])
            .arg(out.path())
            .assert()
            .code(0);
    }
    let text = std::fs::read_to_string(out.path().join("history.csv")).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let rules = manifest(&out.path().join(SAMPLE_MONTH))["findings"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(rows.len(), 2 * rules, "one row per rule per run");
    let fil004: Vec<&&str> = rows.iter().filter(|r| r.contains(",FIL004,")).collect();
    assert_eq!(fil004.len(), 2);
    assert!(
        fil004[0].starts_with("2026-10,") && fil004[0].ends_with(",1,816.00"),
        "{}",
        fil004[0]
    );
    assert!(out.path().join("history.parquet").is_file());
}
