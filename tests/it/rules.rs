//! Per-rule fixtures: `tests/fixtures/rules/<CODE>.txt` states at its top the findings the
//! rule must produce (`# expect:` lines) and holds the month's files after `== <path>`
//! lines. The month is the sample's reference tables plus these files; a short CSV names
//! only the columns it cares about and the rest take the defaults below (a settlement of
//! 1 000.00 in scope paying 500.00; a fee line of a 甲类 drug for 1 000.00). The test runs
//! that rule alone and compares rule, level, keys and amount. The registry meta-tests
//! check that every rule has its documentation sections and its fixture, and one code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use yidi::config::Config;
use yidi::progress::Progress;
use yidi::rules::{Finding, RULES};
use yidi::run::MonthOptions;

use crate::util::{SAMPLE_MONTH, sample_dir};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

/// Default values of the columns a short fixture CSV leaves out.
fn defaults(file: &str) -> Option<&'static [(&'static str, &'static str)]> {
    const SETLINFO: &[(&str, &str)] = &[
        ("setl_id", "S1"),
        ("mdtrt_id", "M1"),
        ("psn_no", "P1"),
        ("certno", ""),
        ("psn_name", ""),
        ("insutype", "310"),
        ("insuplc_admdvs", "360100"),
        ("fixmedins_code", "H44010000001"),
        ("mdtrtarea_admvs", "440100"),
        ("med_type", "21"),
        ("clr_type", "21"),
        ("emg_flag", "0"),
        ("begndate", "2026-10-03"),
        ("enddate", "2026-10-12"),
        ("setl_time", "2026-10-12 10:00:00"),
        ("dise_codg", ""),
        ("opsp_dise_code", ""),
        ("medfee_sumamt", "1000.00"),
        ("fulamt_ownpay_amt", "0.00"),
        ("overlmt_selfpay", "0.00"),
        ("preselfpay_amt", "0.00"),
        ("inscp_scp_amt", "1000.00"),
        ("act_pay_dedc", "0.00"),
        ("hifp_pay", "500.00"),
        ("cvlserv_pay", "0.00"),
        ("hifes_pay", "0.00"),
        ("hifmi_pay", "0.00"),
        ("hifob_pay", "0.00"),
        ("maf_pay", "0.00"),
        ("oth_pay", "0.00"),
        ("fund_pay_sumamt", "500.00"),
        ("psn_part_amt", "500.00"),
        ("acct_pay", "0.00"),
        ("psn_cash_pay", "500.00"),
        ("hosp_part_amt", "0.00"),
        ("refd_setl_flag", "0"),
        ("init_setl_id", ""),
    ];
    const FILINGS: &[(&str, &str)] = &[
        ("trt_dcla_detl_sn", "F1"),
        ("psn_no", "P1"),
        ("certno", ""),
        ("psn_name", ""),
        ("insutype", "310"),
        ("insu_admdvs", "360100"),
        ("rloc_rea", "11"),
        ("rloc_admdvs", "440000"),
        ("begndate", "2026-01-01"),
        ("enddate", ""),
        ("crte_time", "2025-12-20 09:00:00"),
        ("vali_flag", "1"),
        ("updt_time", "2025-12-20 09:00:00"),
    ];
    const ENROLLMENT: &[(&str, &str)] = &[
        ("psn_no", "P1"),
        ("insutype", "310"),
        ("insuplc_admdvs", "360100"),
        ("psn_insu_stas", "1"),
        ("begndate", "2010-01-01"),
        ("enddate", ""),
        ("wait_end", ""),
    ];
    const FEEDETAIL: &[(&str, &str)] = &[
        ("setl_id", "S1"),
        ("feedetl_sn", "1"),
        ("fee_ocur_time", "2026-10-03 09:00:00"),
        ("med_list_codg", "XA01ABD075A002010100483"),
        ("medins_list_codg", "HX1"),
        ("med_chrgitm_type", "09"),
        ("cnt", "10"),
        ("pric", "100"),
        ("det_item_fee_sumamt", "1000.00"),
        ("pric_uplmt_amt", ""),
        ("chrgitm_lv", "01"),
        ("selfpay_prop", "0"),
        ("fulamt_ownpay_amt", "0.00"),
        ("overlmt_amt", "0.00"),
        ("preselfpay_amt", "0.00"),
        ("inscp_scp_amt", "1000.00"),
    ];
    match file.rsplit('/').next()? {
        "setlinfo.csv" => Some(SETLINFO),
        "feedetail.csv" => Some(FEEDETAIL),
        "filings.csv" => Some(FILINGS),
        "enrollment.csv" => Some(ENROLLMENT),
        _ => None,
    }
}

/// A short CSV with the defaults filled in, columns in the full order.
fn expand(file: &str, text: &str) -> String {
    let Some(defaults) = defaults(file) else {
        return text.to_owned();
    };
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let mut out = defaults
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for line in lines {
        let values: Vec<&str> = line.split(',').collect();
        assert_eq!(values.len(), header.len(), "{file}: {line}");
        let row: Vec<&str> = defaults
            .iter()
            .map(|(column, default)| {
                header
                    .iter()
                    .position(|h| h == column)
                    .map_or(*default, |k| values[k])
            })
            .collect();
        out += &(row.join(",") + "\n");
    }
    out
}

/// What a fixture expects: rule, level, fixmedins_code, setl_id, feedetl_sn,
/// trt_dcla_detl_sn, psn_no, amount — `-` for null.
type Expected = Vec<[String; 8]>;

struct Fixture {
    expected: Expected,
    /// `# rejects: N`: rows the fixture means ingestion to reject (default 0).
    rejects: usize,
    config: Option<String>,
    files: BTreeMap<String, String>,
}

fn parse(text: &str) -> Fixture {
    let mut expected = Vec::new();
    let mut rejects = 0;
    let mut files = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# expect:") {
            let parts: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
            expected.push(parts.try_into().expect("8 fields after '# expect:'"));
        } else if let Some(n) = line.strip_prefix("# rejects:") {
            rejects = n.trim().parse().expect("a count after '# rejects:'");
        } else if let Some(path) = line.strip_prefix("== ") {
            if let Some((p, t)) = current.take() {
                files.insert(p, t);
            }
            current = Some((path.trim().to_owned(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some((p, t)) = current.take() {
        files.insert(p, t);
    }
    let config = files.remove("config.toml");
    Fixture {
        expected,
        rejects,
        config,
        files,
    }
}

/// The fixture's month in a temporary directory.
fn build(fixture: &Fixture) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(SAMPLE_MONTH);
    std::fs::create_dir_all(dir.join("reference")).unwrap();
    for entry in std::fs::read_dir(sample_dir().join("reference")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join("reference").join(entry.file_name())).unwrap();
    }
    std::fs::write(
        dir.join("filings.csv"),
        expand("filings.csv", "trt_dcla_detl_sn\n"),
    )
    .unwrap();
    let mut files = fixture.files.clone();
    if !files.keys().any(|p| p.starts_with("exports/")) {
        // A month has at least one hospital: an empty export.
        files.insert(
            "exports/H44010000001/setlinfo.csv".into(),
            "setl_id\n".into(),
        );
    }
    // The previous month's ledger is no file of the month (see `run_fixture`).
    files.remove("ledger.csv");
    for (path, text) in &files {
        let target = dir.join(path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, expand(path, text)).unwrap();
        if path.ends_with("setlinfo.csv") {
            let fees = target.with_file_name("feedetail.csv");
            if !fees.exists() {
                let header = yidi::ingest::Table::Feedetail
                    .columns()
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(",");
                std::fs::write(fees, header + "\n").unwrap();
            }
        }
    }
    (tmp, dir)
}

fn key(f: &Finding) -> [String; 8] {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    [
        f.rule.to_owned(),
        f.level.name().to_owned(),
        or_dash(&f.fixmedins_code),
        or_dash(&f.setl_id),
        or_dash(&f.feedetl_sn),
        or_dash(&f.trt_dcla_detl_sn),
        or_dash(&f.psn_no),
        f.amount
            .map(yidi::units::format_money)
            .unwrap_or_else(|| "-".into()),
    ]
}

/// Runs one rule on its fixture, its texts in `lang`; returns (expected, found), both
/// sorted, and the findings' details, one a line, in the findings' order.
fn run_fixture_in(code: &str, lang: yidi::Lang) -> (Expected, Expected, String) {
    let text = std::fs::read_to_string(fixtures_dir().join(format!("{code}.txt")))
        .unwrap_or_else(|_| panic!("no fixture for {code}"));
    let fixture = parse(&text);
    let (_tmp, dir) = build(&fixture);
    let config = match &fixture.config {
        Some(toml) => Config::parse(toml).unwrap(),
        None => Config::default(),
    };
    let mut month = yidi::ingest::read_month(&dir, &config, &Progress::silent()).unwrap();
    assert_eq!(
        month.rejects.len(),
        fixture.rejects,
        "{code}: fixture rows rejected: {:#?}",
        month.rejects
    );
    let options = MonthOptions {
        month_dir: dir.clone(),
        month: SAMPLE_MONTH.into(),
        config,
        lang,
        strict: false,
        budget: Default::default(),
    };
    // `== ledger.csv`: the previous month's ledger the fixture's month continues.
    let previous = match fixture.files.get("ledger.csv") {
        Some(text) => {
            yidi::ledger::previous::parse(std::path::Path::new("ledger.csv"), text.as_bytes())
                .unwrap()
        }
        None => yidi::ledger::Ledger::default(),
    };
    let findings = yidi::run::check(
        &mut month,
        &options,
        Some(code),
        &Progress::silent(),
        &previous,
    )
    .findings;
    for f in &findings {
        assert!(!f.detail.is_empty(), "{code}: a finding without detail");
    }
    let mut expected = fixture.expected.clone();
    expected.sort();
    let mut found: Expected = findings.iter().map(key).collect();
    found.sort();
    let details = findings
        .iter()
        .map(|f| format!("{} {}: {}", f.rule, key(f)[2..8].join(" "), f.detail))
        .collect::<Vec<_>>()
        .join("\n");
    (expected, found, details)
}

/// A rule's fixture: exactly the findings it states, and their texts (Chinese and English)
/// as the snapshot `tests/it/snapshots/it__rules__<CODE>.snap` holds them.
fn check_fixture(code: &str) {
    let (expected, found, zh) = run_fixture_in(code, yidi::Lang::Zh);
    assert!(
        !expected.is_empty(),
        "{code}: the fixture expects no finding"
    );
    assert_eq!(expected, found, "{code}: the fixture's findings");
    let (_, _, en) = run_fixture_in(code, yidi::Lang::En);
    insta::assert_snapshot!(code, format!("{zh}\n\n{en}\n"));
}

/// One test a rule, named by its code: `cargo test --release FIL002` runs one.
macro_rules! fixture_tests {
    ($($code:ident),* $(,)?) => {
        const FIXTURE_TESTS: &[&str] = &[$(stringify!($code)),*];
        $(
            #[test]
            #[allow(non_snake_case)]
            fn $code() {
                check_fixture(stringify!($code));
            }
        )*
    };
}

fixture_tests!(
    AMT001, AMT002, AMT003, AMT004, CAT001, CAT002, CAT003, CAT004, DUP001, DUP002, DUP003, DUP004,
    FIL001, FIL002, FIL003, FIL004, FIL005, FIL006, FIL007, HOS001, HOS002, HOS003, PER001, POL001,
    POL002, POL003, POL004, POL005, POL006, REG001, REG002, REG003, REV001, REV002, RTE001,
);

#[test]
fn every_rule_has_a_fixture_test_of_its_name() {
    let mut codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    codes.sort_unstable();
    let mut tested = FIXTURE_TESTS.to_vec();
    tested.sort_unstable();
    assert_eq!(codes, tested);
}

/// The rule codes of SPEC §5 and §13, as the SPEC lists them.
const SPEC_CODES: &[&str] = &[
    "FIL001", "FIL002", "FIL003", "FIL004", "FIL005", "FIL006", "FIL007", "REG001", "REG002",
    "REG003", "HOS001", "HOS002", "HOS003", "CAT001", "CAT002", "CAT003", "CAT004", "DUP001",
    "DUP002", "DUP003", "DUP004", "REV001", "REV002", "POL001", "POL002", "POL003", "POL004",
    "POL005", "POL006", "AMT001", "AMT002", "AMT003", "AMT004", "PER001", "RTE001",
];

#[test]
fn every_rule_is_documented_in_fixed_sections_with_one_code() {
    assert_eq!(
        RULES.len(),
        SPEC_CODES.len(),
        "every rule of the SPEC is registered"
    );
    let mut codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    codes.sort_unstable();
    let before = codes.len();
    codes.dedup();
    assert_eq!(before, codes.len(), "a rule code is registered twice");
    for rule in RULES {
        let doc = rule.doc();
        assert!(
            doc.starts_with(rule.code),
            "{}: the doc's title starts with its code",
            rule.code
        );
        for section in [
            "# What it finds",
            "# Why it matters",
            "# Example",
            "# Parameters",
            "# 说明",
        ] {
            assert!(
                doc.contains(section),
                "{}: no '{section}' section",
                rule.code
            );
        }
        assert!(
            SPEC_CODES.contains(&rule.code),
            "{} is not a rule of SPEC §5",
            rule.code
        );
        assert!(
            fixtures_dir().join(format!("{}.txt", rule.code)).is_file(),
            "{}: no fixture",
            rule.code
        );
    }
}

#[test]
fn yidi_rules_prints_each_rules_documentation() {
    let mut out = Vec::new();
    yidi::rules::explain(Some("fil002"), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("FIL002 [hold] (filing)"));
    assert!(text.contains(&yidi::rules::find("FIL002").unwrap().doc()));
    let mut out = Vec::new();
    yidi::rules::explain(None, &mut out).unwrap();
    let list = String::from_utf8(out).unwrap();
    for rule in RULES {
        assert!(list.contains(&rule.title()), "{}", rule.code);
    }
    assert!(yidi::rules::explain(Some("XYZ999"), &mut Vec::new()).is_err());
}
