//! `yidi generate`: a tiny month gives exactly the findings, statuses and clearing written
//! beside it, plants every rule, has no rejects, and the same seed gives the same bytes.

use crate::util::yidi;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

fn generate(out: &Path, seed: u64) {
    yidi()
        .args([
            "generate", "--scale", "tiny", "--month", "2026-10", "--quiet",
        ])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(out)
        .assert()
        .code(0);
}

/// The rows of a CSV file (BOM dropped), with only `columns`, sorted.
fn projected(path: &Path, columns: &[&str]) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = crate::util::csv_rows(path)
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .map(|c| {
                    row.get(*c)
                        .unwrap_or_else(|| panic!("{}: no column {c}", path.display()))
                        .clone()
                })
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

const FINDING_COLUMNS: [&str; 10] = [
    "rule",
    "level",
    "fixmedins_code",
    "setl_id",
    "feedetl_sn",
    "trt_dcla_detl_sn",
    "psn_no",
    "insuplc_admdvs",
    "fix_blng_admdvs",
    "amount",
];
const SETTLEMENT_COLUMNS: [&str; 9] = [
    "fixmedins_code",
    "setl_id",
    "line",
    "status",
    "trt_dcla_detl_sn",
    "expected_hifp",
    "disputed_amount",
    "held_amount",
    "cleared_amount",
];

/// Rows only one side has, for a readable failure.
fn difference(expected: &[Vec<String>], actual: &[Vec<String>]) -> String {
    let only = |a: &[Vec<String>], b: &[Vec<String>]| -> Vec<String> {
        a.iter()
            .filter(|r| !b.contains(r))
            .take(20)
            .map(|r| r.join(","))
            .collect()
    };
    format!(
        "expected only:\n  {}\nactual only:\n  {}",
        only(expected, actual).join("\n  "),
        only(actual, expected).join("\n  ")
    )
}

#[test]
fn a_tiny_month_gives_exactly_its_expected_results() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 7);
    assert_run_gives_expected(dir.path());
}

/// Many more cases and anomalies (one case in 7) at 60 hospitals: the planted anomalies
/// meet hospitals that leave the network, are not networked for chronic visits, export
/// their totals, and persons with year-to-date figures near their caps.
#[test]
fn a_larger_month_dense_with_anomalies_gives_exactly_its_expected_results() {
    let dir = tempfile::tempdir().unwrap();
    yidi()
        .args([
            "generate",
            "--scale",
            "city",
            "--settlements",
            "5000",
            "--hospitals",
            "60",
        ])
        .args(["--anomaly-every", "7", "--seed", "21", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    assert_run_gives_expected(dir.path());
}

/// Shorter bills (`--inpatient-lines`): every inpatient stay has between 5 and 8 fee
/// lines, and the month still gives exactly its expected results; a range outside
/// 5..=10000 is a usage error.
#[test]
fn a_month_of_shorter_bills_gives_exactly_its_expected_results() {
    let dir = tempfile::tempdir().unwrap();
    yidi()
        .args(["generate", "--scale", "tiny", "--inpatient-lines", "5-8"])
        .args(["--seed", "3", "--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    let month = dir.path().join("2026-10");
    let mut lines: BTreeMap<(PathBuf, String), usize> = BTreeMap::new();
    let mut inpatient: BTreeMap<(PathBuf, String), bool> = BTreeMap::new();
    for hospital in std::fs::read_dir(month.join("exports")).unwrap() {
        let hospital = hospital.unwrap().path();
        for row in projected(&hospital.join("feedetail.csv"), &["setl_id"]) {
            *lines.entry((hospital.clone(), row[0].clone())).or_default() += 1;
        }
        for row in projected(&hospital.join("setlinfo.csv"), &["setl_id", "med_type"]) {
            let stay = matches!(row[1].as_str(), "21" | "22" | "23" | "24");
            inpatient.insert((hospital.clone(), row[0].clone()), stay);
        }
    }
    let stays: Vec<usize> = lines
        .iter()
        .filter(|(key, _)| inpatient.get(*key) == Some(&true))
        .map(|(_, &n)| n)
        .collect();
    assert!(!stays.is_empty());
    // A planted anomaly may drop or copy a line.
    assert!(stays.iter().all(|n| (4..=9).contains(n)), "{stays:?}");
    assert_run_gives_expected(dir.path());
    for bad in ["4-8", "8-5", "5", "a-b", "5-10001"] {
        yidi()
            .args(["generate", "--inpatient-lines", bad, "--out"])
            .arg(dir.path().join("bad"))
            .assert()
            .code(2);
    }
}

/// Runs `<dir>/2026-10` and compares its results with `<dir>/2026-10.expected`.
fn assert_run_gives_expected(dir: &Path) {
    let month = dir.join("2026-10");
    let expected = dir.join("2026-10.expected");
    let out = dir.join("out");
    yidi()
        .arg("run")
        .arg(&month)
        .arg("--quiet")
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let results = out.join("2026-10");

    let rejects = std::fs::read_to_string(results.join("rejects.csv")).unwrap();
    assert_eq!(
        rejects.lines().count(),
        1,
        "a generated month has no rejects:\n{rejects}"
    );

    let want = projected(&expected.join("findings.csv"), &FINDING_COLUMNS);
    let got = projected(&results.join("findings.csv"), &FINDING_COLUMNS);
    assert!(want == got, "findings differ:\n{}", difference(&want, &got));

    let rules: std::collections::BTreeSet<&str> = want.iter().map(|r| r[0].as_str()).collect();
    let missing: Vec<&str> = yidi::rules::RULES
        .iter()
        .map(|r| r.code)
        // DUP004 needs an earlier month's ledger: a single generated month cannot plant it.
        .filter(|c| !rules.contains(c) && *c != "DUP004")
        .collect();
    assert!(
        missing.is_empty(),
        "rules the tiny month does not plant: {missing:?}"
    );

    let want = projected(&expected.join("settlements.csv"), &SETTLEMENT_COLUMNS);
    let got = projected(&results.join("settlements.csv"), &SETTLEMENT_COLUMNS);
    assert!(
        want == got,
        "settlements differ:\n{}",
        difference(&want, &got)
    );
    let statuses: std::collections::BTreeSet<&str> = want.iter().map(|r| r[3].as_str()).collect();
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        ["cleared", "excluded", "held", "reversed"]
    );

    for table in ["clearing_by_area", "clearing_by_province", "province_net"] {
        let want = std::fs::read_to_string(expected.join(format!("{table}.csv"))).unwrap();
        let got = std::fs::read_to_string(results.join(format!("{table}.csv"))).unwrap();
        assert!(
            want == got,
            "{table} differs:\nexpected:\n{want}\nactual:\n{got}"
        );
    }
}

fn hashes(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let hash: String = Sha256::digest(&bytes)
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                out.insert(path.strip_prefix(root).unwrap().to_owned(), hash);
            }
        }
    }
    out
}

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    generate(a.path(), 11);
    generate(b.path(), 11);
    generate(c.path(), 12);
    let (ha, hb, hc) = (hashes(a.path()), hashes(b.path()), hashes(c.path()));
    assert!(ha.len() > 30, "{ha:?}");
    assert_eq!(ha, hb);
    let filings = Path::new("2026-10/filings.csv");
    assert_ne!(ha[filings], hc[filings], "another seed, another month");
    // A month is not written over by accident.
    yidi()
        .args(["generate", "--scale", "tiny", "--quiet", "--out"])
        .arg(a.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
}

#[test]
fn generated_exports_come_in_utf8_with_and_without_bom_and_gbk() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 3);
    let mut kinds = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir.path().join("2026-10/exports")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path().join("setlinfo.csv")).unwrap();
        kinds.insert(if bytes.starts_with(b"\xEF\xBB\xBF") {
            "utf-8 bom"
        } else if std::str::from_utf8(&bytes).is_ok() {
            "utf-8"
        } else {
            let (_, had_errors) = encoding_rs::GBK.decode_without_bom_handling(&bytes);
            assert!(!had_errors);
            "gbk"
        });
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["gbk", "utf-8", "utf-8 bom"]
    );
}

/// The run checks a month in parts by insured province (SPEC §11); checking the same month
/// whole, in memory, gives byte for byte the same tables.
#[test]
fn checking_a_month_in_parts_gives_what_checking_it_whole_gives() {
    let dir = tempfile::tempdir().unwrap();
    yidi()
        .args(["generate", "--scale", "city", "--settlements", "3000"])
        .args(["--hospitals", "40", "--anomaly-every", "5", "--seed", "5"])
        .args(["--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    let month_dir = dir.path().join("2026-10");
    let out = dir.path().join("out");
    yidi()
        .arg("run")
        .arg(&month_dir)
        .args(["--quiet", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let results = out.join("2026-10");
    let parts = std::fs::read_dir(results.join("inputs/setlinfo"))
        .unwrap()
        .count();
    assert!(parts > 10, "the month is checked in parts: {parts}");

    let options = yidi::run::MonthOptions {
        month_dir: month_dir.clone(),
        month: "2026-10".into(),
        config: yidi::config::Config::default(),
        lang: yidi::Lang::Zh,
        strict: false,
        budget: Default::default(),
    };
    let mut month = crate::util::ingest(&month_dir).unwrap();
    let mut whole = yidi::run::check(
        &mut month,
        &options,
        None,
        &yidi::progress::Progress::silent(),
        &yidi::ledger::Ledger::default(),
    );
    let csv = |frame: &polars::prelude::DataFrame, scale: yidi::output::table::ScaleOf| {
        let mut bytes = Vec::new();
        let masked = yidi::output::table::masked(frame).unwrap();
        yidi::output::table::write_csv(&masked, scale, &mut bytes).unwrap();
        bytes
    };
    let findings = yidi::output::findings_frame(&whole.findings).unwrap();
    let mut tables = vec![
        ("findings", csv(&findings, &yidi::output::findings_scale)),
        (
            "settlements",
            csv(
                &whole.settlements.take_all().unwrap(),
                &yidi::clearing::settlements_scale,
            ),
        ),
    ];
    for (name, frame) in &whole.clearing {
        let scale: yidi::output::table::ScaleOf = if *name == "problems_by_hospital" {
            &yidi::output::findings_scale
        } else {
            &yidi::clearing::clearing_scale
        };
        tables.push((name, csv(frame, scale)));
    }
    for (name, bytes) in tables {
        let written = std::fs::read(results.join(format!("{name}.csv"))).unwrap();
        assert!(
            written == bytes,
            "{name}: the run in parts and the whole month differ"
        );
    }
}

/// A large month's settlements table is put together from ranges of hospital codes written
/// to disk as the parts are checked; a small month's is held in memory. Forced to take the
/// large month's way, with ranges of a few dozen rows, a small month gives the same bytes.
#[test]
fn settlements_put_together_on_disk_by_ranges_are_the_table_held_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    yidi()
        .args(["generate", "--scale", "city", "--settlements", "2000"])
        .args(["--hospitals", "30", "--anomaly-every", "7", "--seed", "11"])
        .args(["--quiet", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    let month_dir = dir.path().join("2026-10");
    let run = |out: &Path, sizes: yidi::output::key_ranges::Sizes| {
        let options = yidi::run::Options {
            month: yidi::run::MonthOptions {
                month_dir: month_dir.clone(),
                month: "2026-10".into(),
                config: yidi::config::Config::default(),
                lang: yidi::Lang::Zh,
                strict: false,
                budget: Default::default(),
            },
            out_root: out.to_owned(),
            wait: false,
            fail_on: yidi::cli::FailOn::Never,
            arguments: Vec::new(),
            settlement_ranges: sizes,
            previous: Default::default(),
        };
        yidi::run::run(&options, &yidi::progress::Progress::silent())
            .unwrap()
            .results
    };
    let held = run(
        &dir.path().join("held"),
        yidi::output::key_ranges::Sizes::default(),
    );
    let ranged = run(
        &dir.path().join("ranged"),
        yidi::output::key_ranges::Sizes {
            range_rows: 40,
            held_rows: 0,
        },
    );
    let settlements = std::fs::read(held.join("settlements.csv")).unwrap();
    assert!(settlements.len() > 100_000, "a month of some size");
    for name in ["settlements.csv", "settlements.parquet", "findings.csv"] {
        assert!(
            std::fs::read(held.join(name)).unwrap() == std::fs::read(ranged.join(name)).unwrap(),
            "{name}: held and ranged differ"
        );
    }
    assert!(!ranged.join(yidi::output::key_ranges::RANGES_DIR).exists());
    let manifest = std::fs::read_to_string(ranged.join("manifest.json")).unwrap();
    assert!(!manifest.contains(yidi::output::key_ranges::RANGES_DIR));
}
