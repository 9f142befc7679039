//! One broken file never stops the month (SPEC §3, §9, §10): a hospital directory that
//! cannot be read is set aside and the month cleared without it; a value too long or a late
//! NUL byte rejects its row only; physical line numbers on the streamed registry; a cut pipe
//! ends quietly; `query` streams to a unique temporary file.

use std::io::Read;
use std::process::Stdio;

use serde_json::Value;

use crate::util::{RESULT_TABLES, SAMPLE_MONTH, TempMonth, csv_rows, manifest, yidi};

/// Runs the month into `out`, expecting `code`.
fn run(month: &std::path::Path, out: &std::path::Path, extra: &[&str], code: i32) {
    yidi()
        .args(["run", month.to_str().unwrap(), "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .code(code);
}

/// A directory set aside leaves the month exactly as though it were absent, and every one
/// of its rows is a reject; the manifest lists it and the run exits 6.
fn assert_set_aside(month: &TempMonth, hospital: &str, why: &str) {
    let damaged_out = month.tmp.path().join("damaged");
    run(&month.dir, &damaged_out, &[], 6);
    let without = month.tmp.path().join("without").join(SAMPLE_MONTH);
    crate::util::copy_dir(&month.dir, &without);
    std::fs::remove_dir_all(without.join("exports").join(hospital)).unwrap();
    let without_out = month.tmp.path().join("without-out");
    run(&without, &without_out, &[], 0);
    let damaged = damaged_out.join(SAMPLE_MONTH);
    // The result tables must not depend on a set-aside directory.
    for table in RESULT_TABLES {
        for ext in ["csv", "parquet"] {
            let name = format!("{table}.{ext}");
            assert!(
                std::fs::read(damaged.join(&name)).unwrap()
                    == std::fs::read(without_out.join(SAMPLE_MONTH).join(&name)).unwrap(),
                "{name} differs from the month without exports/{hospital}"
            );
        }
    }
    let manifest = manifest(&damaged);
    assert_eq!(manifest["exit_code"], 6);
    assert_eq!(manifest["fail_on_status"], "success");
    let set_aside = manifest["set_aside"].as_array().unwrap();
    assert_eq!(set_aside.len(), 1, "{set_aside:?}");
    assert_eq!(set_aside[0]["hospital_dir"], hospital);
    let reason = set_aside[0]["reason"].as_str().unwrap();
    assert!(reason.contains(why), "{reason}");
    // Every row of the directory is a reject naming the problem; the counts add up.
    let rejects = csv_rows(&damaged.join("rejects.csv"));
    let prefix = format!("exports/{hospital}/");
    for input in manifest["inputs"].as_array().unwrap() {
        let path = input["path"].as_str().unwrap();
        let (read, accepted, rejected) = (
            input["read"].as_u64().unwrap(),
            input["accepted"].as_u64().unwrap(),
            input["rejected"].as_u64().unwrap(),
        );
        assert_eq!(read, accepted + rejected, "{path}");
        let listed = rejects.iter().filter(|r| r["file"] == path).count() as u64;
        assert_eq!(listed, rejected, "{path}");
        if path.starts_with(&prefix) {
            assert_eq!(accepted, 0, "{path}");
            let lines = std::fs::read(month.path(path)).unwrap();
            let non_blank = lines
                .split(|&b| b == b'\n')
                .skip(1)
                .filter(|l| !l.is_empty())
                .count() as u64;
            assert_eq!(read, non_blank, "{path}: one row a non-empty line");
            assert_eq!(input["set_aside"].as_str(), Some(reason));
        }
    }
    for reject in rejects.iter().filter(|r| r["file"].starts_with(&prefix)) {
        assert_eq!(reject["column"], "");
        assert!(reject["reason"].contains(why), "{:?}", reject);
    }
}

#[test]
fn a_missing_column_in_one_hospitals_export_sets_the_directory_aside() {
    let month = TempMonth::sample();
    let rel = "exports/H43010000001/feedetail.csv";
    let text = month
        .text(rel)
        .replacen("med_list_codg", "med_list_code", 1);
    month.write(rel, text);
    assert_set_aside(&month, "H43010000001", "med_list_codg");
}

#[test]
fn a_broken_optional_summary_sets_the_directory_aside_and_amt003_does_not_see_it() {
    let month = TempMonth::sample();
    month.write(
        "exports/H43010000001/summary.csv",
        b"fixmedins_code,\x00\x01binary",
    );
    assert_set_aside(&month, "H43010000001", "not a CSV text file");
}

#[test]
fn an_empty_or_missing_file_sets_its_directory_aside() {
    let month = TempMonth::sample();
    month.write("exports/H43040000001/setlinfo.csv", "");
    assert_set_aside(&month, "H43040000001", "setlinfo.csv: the file is empty");

    let month = TempMonth::sample();
    std::fs::remove_file(month.path("exports/H44030000001/feedetail.csv")).unwrap();
    assert_set_aside(&month, "H44030000001", "required file is missing");
}

#[test]
fn a_gbk_export_with_crlf_and_a_bad_header_counts_its_physical_lines() {
    let month = TempMonth::sample();
    // Hengyang's export is GBK: its header loses a column, CRLF line ends, a blank line.
    let rel = "exports/H43040000001/setlinfo.csv";
    let text = month.text(rel).replacen("psn_no", "person", 1);
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "");
    let crlf = lines.join("\r\n") + "\r\n";
    month.write(rel, encoding_rs::GB18030.encode(&crlf).0);
    assert_set_aside(&month, "H43040000001", "psn_no");
}

#[test]
fn strict_stops_the_month_and_validate_reports_the_set_aside_directory() {
    let month = TempMonth::sample();
    let rel = "exports/H43010000001/feedetail.csv";
    let text = month
        .text(rel)
        .replacen("med_list_codg", "med_list_code", 1);
    month.write(rel, text);
    let out = month.tmp.path().join("out");
    yidi()
        .args(["run", month.dir.to_str().unwrap(), "--strict", "--out"])
        .arg(&out)
        .assert()
        .code(3)
        .stderr(predicates::str::contains(
            "exports/H43010000001/feedetail.csv: required column 'med_list_codg' is missing",
        ));
    assert!(!out.join(SAMPLE_MONTH).exists());
    let assert = yidi()
        .args(["validate", month.dir.to_str().unwrap(), "--out"])
        .arg(&out)
        .assert()
        .code(6);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("exports/H43010000001: set aside"),
        "{stdout}"
    );
    let manifest = manifest(&out);
    assert_eq!(manifest["exit_code"], 6);
    assert_eq!(manifest["fail_on_status"], "findings");
    let rejects = csv_rows(&out.join("rejects.csv"));
    assert!(rejects.iter().any(|r| r["file"] == rel && r["line"] == "2"));
}

#[test]
fn a_value_too_long_rejects_its_row_and_the_reason_quotes_40_characters() {
    let month = TempMonth::sample();
    let rel = "exports/H36010000001/setlinfo.csv";
    month.set_field(rel, 0, "psn_name", &"张".repeat(1_000_000));
    month.set_field(
        rel,
        1,
        "begndate",
        &format!("2026-10-01{}", "9".repeat(500)),
    );
    let read = month.ingest();
    let rejects: Vec<_> = read.rejects.iter().filter(|r| r.file == rel).collect();
    assert_eq!(rejects.len(), 2, "{rejects:?}");
    assert_eq!(rejects[0].line, 2);
    assert_eq!(rejects[0].column, Some("psn_name"));
    let text = rejects[0].reason.text(yidi::Lang::En);
    assert!(
        text.starts_with("value too long: 1000000 characters"),
        "{text}"
    );
    let text = rejects[1].reason.text(yidi::Lang::En);
    let quoted = format!("'2026-10-01{}…'", "9".repeat(30));
    assert!(text.contains(&quoted), "{text}");
    assert!(text.chars().count() < 120, "{text}");
    // And the whole run writes its workbook.
    run(&month.dir, &month.out(), &[], 0);
    assert!(month.out().join(SAMPLE_MONTH).join("report.xlsx").is_file());
}

#[test]
fn a_nul_byte_past_the_first_8_kib_rejects_only_its_row() {
    let month = TempMonth::sample();
    let rel = "exports/H44010000001/feedetail.csv";
    let mut text = month.text(rel);
    // Padding rows make the file longer than 8 KiB; the NUL goes into its last row.
    let header = text.lines().next().unwrap().to_owned();
    let last = text.trim_end().rfind('\n').unwrap() + 1;
    let last_row = text[last..].trim_end().to_owned();
    let padding = "\n".repeat(9000);
    text = format!("{header}{padding}{}", &text[header.len()..]);
    let at = text.len() - 3;
    text.insert(at, '\0');
    month.write(rel, text);
    let read = month.ingest();
    let rejects: Vec<_> = read.rejects.iter().filter(|r| r.file == rel).collect();
    assert_eq!(rejects.len(), 1, "{rejects:?} {last_row}");
    assert_eq!(rejects[0].column, None);
    assert!(rejects[0].reason.text(yidi::Lang::En).contains("NUL"));
    crate::util::assert_counts_add_up(&read);
}

#[test]
fn a_gb18030_registry_with_crlf_quotes_and_blank_lines_names_physical_lines() {
    let month = TempMonth::sample();
    let text = month.text("filings.csv");
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // A quoted name (so the registry goes through the CSV reader), a blank line, and a
    // bad date on the row after them.
    let name = lines[0].split(',').position(|h| h == "psn_name").unwrap();
    let begin = lines[0].split(',').position(|h| h == "begndate").unwrap();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    fields[name] = "\"张,三\"".into();
    lines[1] = fields.join(",");
    lines.insert(2, String::new());
    let mut fields: Vec<String> = lines[3].split(',').map(str::to_owned).collect();
    fields[begin] = "2026-13-01".into();
    lines[3] = fields.join(",");
    let crlf = lines.join("\r\n") + "\r\n";
    month.write("filings.csv", encoding_rs::GB18030.encode(&crlf).0);
    let read = month.ingest();
    let rejects: Vec<_> = read
        .rejects
        .iter()
        .filter(|r| r.file == "filings.csv")
        .collect();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].line, 4, "the bad row is on physical line 4");
    assert_eq!(rejects[0].column, Some("begndate"));
}

/// Spawns `yidi` with its stdout (or stderr) a pipe whose reader is already gone.
fn with_closed_pipe(args: &[&str], stdout: bool) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("yidi"));
    command.args(args).arg("--quiet").stdin(Stdio::null());
    if stdout {
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
    } else {
        command.stdout(Stdio::null()).stderr(Stdio::piped());
    }
    let mut child = command.spawn().unwrap();
    let mut other = if stdout {
        drop(child.stdout.take());
        child.stderr.take().unwrap()
    } else {
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        return (status.code(), String::new());
    };
    let mut message = String::new();
    other.read_to_string(&mut message).unwrap();
    (child.wait().unwrap().code(), message)
}

#[test]
fn a_cut_pipe_ends_every_command_quietly() {
    let month = TempMonth::sample();
    run(&month.dir, &month.out(), &[], 0);
    let results = month.out().join(SAMPLE_MONTH);
    let results = results.to_str().unwrap();
    for args in [
        vec!["rules"],
        vec!["rules", "FIL001"],
        vec!["validate", month.dir.to_str().unwrap()],
        vec![
            "query",
            results,
            "SELECT * FROM feedetail",
            "--format",
            "csv",
        ],
        vec![
            "query",
            results,
            "SELECT * FROM settlements",
            "--format",
            "json",
        ],
        vec!["query", results, "SELECT * FROM findings"],
        vec!["query", results, "--tables"],
    ] {
        let (code, message) = with_closed_pipe(&args, true);
        assert!(
            matches!(code, Some(0) | Some(141)),
            "{args:?}: exit {code:?}, {message}"
        );
        assert_eq!(message, "", "{args:?}");
    }
}

#[test]
fn a_run_whose_log_pipe_closes_still_finishes_and_commits() {
    let month = TempMonth::sample();
    let out = month.out();
    let (code, _) = with_closed_pipe(
        &[
            "run",
            month.dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        false,
    );
    assert_eq!(code, Some(0));
    assert_eq!(manifest(&out.join(SAMPLE_MONTH))["exit_code"], 0);
}

#[test]
fn query_output_streams_to_a_unique_temporary_file_and_renames_it() {
    let month = TempMonth::sample();
    run(&month.dir, &month.out(), &[], 0);
    let results = month.out().join(SAMPLE_MONTH);
    let target = month.tmp.path().join("lines.csv");
    yidi()
        .args([
            "query",
            results.to_str().unwrap(),
            "SELECT * FROM feedetail",
        ])
        .args(["--format", "csv", "--output"])
        .arg(&target)
        .assert()
        .code(0);
    let rows = csv_rows(&target);
    let lines: u64 = manifest(&results)["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["table"] == "feedetail")
        .map(|i| i["accepted"].as_u64().unwrap())
        .sum();
    assert_eq!(rows.len() as u64, lines);
    let leftovers: Vec<_> = std::fs::read_dir(month.tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("yidi-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A query that fails leaves no file behind, and the earlier result intact.
    yidi()
        .args([
            "query",
            results.to_str().unwrap(),
            "SELECT nope FROM feedetail",
        ])
        .args(["--format", "csv", "--output"])
        .arg(&target)
        .assert()
        .code(2);
    assert_eq!(csv_rows(&target).len() as u64, lines);
    let leftovers: Vec<_> = std::fs::read_dir(month.tmp.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("yidi-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_last_log_line_tells_how_the_month_went() {
    let month = TempMonth::sample();
    month.write("exports/H22020000001/feedetail.csv", "");
    let assert = yidi()
        .args(["run", month.dir.to_str().unwrap(), "--out"])
        .arg(month.out())
        .assert()
        .code(6);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let last = stderr.lines().last().unwrap_or_default();
    for part in [
        "cleared ",
        " 元), held ",
        "findings: ",
        " hold, ",
        " rows rejected",
        "1 hospital directories set aside (H22020000001)",
        "exit 6",
    ] {
        assert!(last.contains(part), "{part:?} in {last}");
    }
    // Amounts for people are grouped by thousands.
    let report =
        std::fs::read_to_string(month.out().join(SAMPLE_MONTH).join("report.html")).unwrap();
    let grouped = report.as_bytes().windows(6).any(|w| {
        w[0] == b','
            && w[1..4].iter().all(u8::is_ascii_digit)
            && w[4] == b'.'
            && w[5].is_ascii_digit()
    });
    assert!(grouped, "grouped money in the report");
}

#[test]
fn the_last_json_log_line_carries_the_outcome_as_fields() {
    let month = TempMonth::sample();
    let assert = yidi()
        .args([
            "run",
            month.dir.to_str().unwrap(),
            "--log-format",
            "json",
            "--out",
        ])
        .arg(month.out())
        .assert()
        .code(0);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    let last: Value = serde_json::from_str(stderr.lines().last().unwrap()).unwrap();
    assert_eq!(last["stage"], "outcome");
    let outcome = &last["outcome"];
    let statuses = &manifest(&month.out().join(SAMPLE_MONTH))["settlement_statuses"];
    assert_eq!(outcome["cleared"]["settlements"], statuses["cleared"]);
    assert_eq!(outcome["held"]["settlements"], statuses["held"]);
    assert_eq!(outcome["exit_code"], 0);
    assert!(outcome["cleared"]["amount"].as_str().unwrap().contains('.'));
}
