//! Ingestion through the library: malformed values, rejects and their counts, and
//! hospital order not mattering (encodings and Parquet files: `ingest_files`).

use polars::prelude::*;
use proptest::prelude::*;
use yidi::error::InputError;
use yidi::ingest::{Encoding, Month, Reason};
use yidi::units::NumberError;

use crate::util::{TempMonth, assert_counts_add_up, ingest};

pub(crate) const NANCHANG: &str = "exports/H36010000001";
pub(crate) const HENGYANG_GBK: &str = "exports/H43040000001";
pub(crate) const GUANGZHOU_BOM: &str = "exports/H44010000001";

pub(crate) fn encoding_of(month: &Month, path: &str) -> Encoding {
    month
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("{path} not read"))
        .encoding
}

pub(crate) fn string_at(
    frame: &DataFrame,
    column: &str,
    key_column: &str,
    key: &str,
) -> Option<String> {
    let keys = frame.column(key_column).unwrap().str().unwrap().clone();
    let values = frame.column(column).unwrap().str().unwrap().clone();
    keys.iter()
        .zip(values.iter())
        .find(|(k, _)| *k == Some(key))
        .and_then(|(_, v)| v.map(str::to_owned))
}

pub(crate) fn i64_at(frame: &DataFrame, column: &str, key_column: &str, key: &str) -> Option<i64> {
    let keys = frame.column(key_column).unwrap().str().unwrap().clone();
    let values = frame.column(column).unwrap().i64().unwrap().clone();
    keys.iter()
        .zip(values.iter())
        .find(|(k, _)| *k == Some(key))
        .and_then(|(_, v)| v)
}

/// The one reject of a month, asserting there is exactly one.
pub(crate) fn only_reject(month: &Month) -> &yidi::ingest::Reject {
    assert_eq!(month.rejects.len(), 1, "{:#?}", month.rejects);
    &month.rejects[0]
}

#[test]
fn the_sample_month_is_accepted_whole_and_typed() {
    let month = TempMonth::sample().ingest();
    assert!(month.rejects.is_empty(), "{:#?}", month.rejects);
    assert_counts_add_up(&month);
    assert_eq!(month.setlinfo.height(), 32);
    assert_eq!(month.feedetail.height(), 58);
    assert!(month.dir_mismatches.is_empty());
    // Money is exact fen: the Nanchang example's 10 800.00 in scope and 8 500.00 paid.
    assert_eq!(
        i64_at(
            &month.setlinfo,
            "inscp_scp_amt",
            "setl_id",
            "S4401202610001"
        ),
        Some(1_080_000)
    );
    assert_eq!(
        i64_at(&month.setlinfo, "hifp_pay", "setl_id", "S4401202610001"),
        Some(850_000)
    );
    // Codes stay strings with their leading zeros; dates are dates.
    assert_eq!(
        month.hospitals.column("hosp_lv").unwrap().dtype(),
        &DataType::String
    );
    assert_eq!(
        string_at(
            &month.hospitals,
            "hosp_lv",
            "fixmedins_code",
            "H44030000001"
        )
        .as_deref(),
        Some("05")
    );
    assert_eq!(
        month.setlinfo.column("begndate").unwrap().dtype(),
        &DataType::Date
    );
    assert!(matches!(
        month.setlinfo.column("setl_time").unwrap().dtype(),
        DataType::Datetime(TimeUnit::Milliseconds, None)
    ));
    // An empty optional field is null.
    assert_eq!(
        string_at(&month.setlinfo, "init_setl_id", "setl_id", "S4401202610001"),
        None
    );
}

/// One malformed value in the Nanchang export's first settlement row gives exactly one
/// reject, on line 2, naming the column and the reason.
fn assert_one_reject(column: &str, value: &str, expect: impl Fn(&Reason) -> bool) {
    assert_one_reject_at(column, value, column, expect);
}

fn assert_one_reject_at(
    column: &str,
    value: &str,
    rejected_column: &str,
    expect: impl Fn(&Reason) -> bool,
) {
    let month = TempMonth::sample();
    let rel = format!("{NANCHANG}/setlinfo.csv");
    month.set_field(&rel, 0, column, value);
    let month = month.ingest();
    // The settlement's own reject; its fee lines then have no settlement to attach to.
    let (own, orphans): (Vec<_>, Vec<_>) = month.rejects.iter().partition(|r| r.file == rel);
    assert_eq!(own.len(), 1, "{own:#?}");
    assert!(
        orphans
            .iter()
            .all(|r| matches!(r.reason, Reason::NoSettlement { .. }))
    );
    assert_eq!(orphans.len(), 2);
    let reject = own[0];
    assert_eq!(reject.file, rel);
    assert_eq!(reject.line, 2);
    assert_eq!(reject.column, Some(rejected_column));
    assert!(
        expect(&reject.reason),
        "{column}={value:?}: {:?}",
        reject.reason
    );
    assert!(!reject.reason.text(yidi::Lang::Zh).is_empty());
    assert_counts_add_up(&month);
    assert_eq!(month.setlinfo.height(), 31);
}

#[test]
fn a_bad_date_is_a_reject() {
    assert_one_reject("begndate", "2026-02-30", |r| {
        matches!(r, Reason::BadDate { .. })
    });
    assert_one_reject("begndate", "2026/10/20", |r| {
        matches!(r, Reason::BadDate { .. })
    });
    assert_one_reject("setl_time", "2026-10-20T11:05:00", |r| {
        matches!(r, Reason::BadTime { .. })
    });
}

#[test]
fn bad_money_is_a_reject_never_a_rounding() {
    assert_one_reject("medfee_sumamt", "101.000", |r| {
        matches!(
            r,
            Reason::BadNumber {
                error: NumberError::TooManyDecimals { max: 2 },
                ..
            }
        )
    });
    assert_one_reject("hifp_pay", "4e1", |r| {
        matches!(
            r,
            Reason::BadNumber {
                error: NumberError::Malformed,
                ..
            }
        )
    });
    assert_one_reject("acct_pay", " 50.00", |r| {
        matches!(
            r,
            Reason::BadNumber {
                error: NumberError::Malformed,
                ..
            }
        )
    });
}

#[test]
fn a_code_outside_its_set_is_a_reject() {
    assert_one_reject("insutype", "320", |r| matches!(r, Reason::BadCode { .. }));
    assert_one_reject("med_type", "99", |r| matches!(r, Reason::BadCode { .. }));
    assert_one_reject("emg_flag", "Y", |r| matches!(r, Reason::BadCode { .. }));
}

#[test]
fn an_unknown_area_or_a_missing_value_is_a_reject() {
    assert_one_reject("insuplc_admdvs", "999999", |r| {
        matches!(r, Reason::UnknownArea { .. })
    });
    assert_one_reject("psn_no", "", |r| matches!(r, Reason::Empty));
    assert_one_reject_at("med_type", "14", "opsp_dise_code", |r| {
        matches!(r, Reason::OpspDiseaseMissing)
    });
}

#[test]
fn the_first_failing_column_in_file_order_is_the_reason() {
    let month = TempMonth::sample();
    let rel = format!("{NANCHANG}/setlinfo.csv");
    month.set_field(&rel, 0, "hifp_pay", "x");
    month.set_field(&rel, 0, "begndate", "x");
    month.set_field(&rel, 0, "insuplc_admdvs", "999999");
    let month = month.ingest();
    let own: Vec<_> = month.rejects.iter().filter(|r| r.file == rel).collect();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].column, Some("begndate"));
}

#[test]
fn an_empty_money_field_counts_as_zero() {
    let month = TempMonth::sample();
    month.set_field(&format!("{NANCHANG}/setlinfo.csv"), 0, "hosp_part_amt", "");
    let month = month.ingest();
    assert!(month.rejects.is_empty());
    assert_eq!(
        i64_at(
            &month.setlinfo,
            "hosp_part_amt",
            "setl_id",
            "S3601202610001"
        ),
        Some(0)
    );
}

#[test]
fn a_wrong_column_count_is_a_row_reject() {
    let month = TempMonth::sample();
    let rel = format!("{NANCHANG}/feedetail.csv");
    let text = month.text(&rel);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[2].push_str(",surplus");
    month.write(&rel, lines.join("\n") + "\n");
    let month = month.ingest();
    let reject = only_reject(&month);
    assert_eq!((reject.line, reject.column), (3, None));
    assert!(matches!(
        reject.reason,
        Reason::ColumnCount {
            expected: 16,
            found: 17
        }
    ));
    // The rejected line still counts against its settlement (AMT002).
    assert_eq!(
        month.rejected_fee_lines,
        vec![("H36010000001".to_owned(), "S3601202610001".to_owned())]
    );
}

#[test]
fn a_missing_column_stops_the_run_naming_file_and_column() {
    let month = TempMonth::sample();
    let rel = "reference/catalogue.csv";
    let text = month.text(rel).replacen("chrgitm_lv", "chrgitm_level", 1);
    month.write(rel, text);
    match ingest(&month.dir) {
        Err(error @ InputError::MissingColumn { .. }) => {
            let message = error.to_string();
            assert!(
                message.contains(rel) && message.contains("'chrgitm_lv'"),
                "{message}"
            );
        }
        other => panic!("expected a missing column, got {other:?}"),
    }
}

#[test]
fn a_missing_required_file_stops_the_run_and_optional_ones_do_not() {
    let month = TempMonth::sample();
    std::fs::remove_file(month.path("ytd.csv")).unwrap();
    std::fs::remove_file(month.path("enrollment.csv")).unwrap();
    let read = month.ingest();
    assert!(read.ytd.is_none() && read.enrollment.is_none());
    // In a hospital's directory, the directory is set aside (SPEC §3).
    std::fs::remove_file(month.path(&format!("{NANCHANG}/feedetail.csv"))).unwrap();
    let read = ingest(&month.dir).unwrap();
    assert_eq!(read.set_aside.len(), 1);
    assert_eq!(read.set_aside[0].hospital_dir, "H36010000001");
    assert!(
        read.set_aside[0]
            .reason
            .contains("exports/H36010000001/feedetail: required file is missing")
    );
    std::fs::remove_file(month.path("reference/policy.csv")).unwrap();
    let error = ingest(&month.dir).unwrap_err();
    assert!(matches!(error, InputError::MissingFile { .. }));
    assert!(error.to_string().contains("reference/policy"));
}

#[test]
fn duplicate_keys_keep_the_first_line() {
    let month = TempMonth::sample();
    let rel = format!("{NANCHANG}/feedetail.csv");
    let text = month.text(&rel);
    let first_line = text.lines().nth(1).unwrap().to_owned();
    month.write(&rel, format!("{text}{first_line}\n"));
    let hospitals = month.text("reference/hospitals.csv");
    let first_hospital = hospitals
        .lines()
        .nth(1)
        .unwrap()
        .replace("南昌大学第一附属医院", "重复");
    month.write(
        "reference/hospitals.csv",
        format!("{hospitals}{first_hospital}\n"),
    );
    let month = month.ingest();
    assert_eq!(month.rejects.len(), 2, "{:#?}", month.rejects);
    for reject in &month.rejects {
        assert!(
            matches!(reject.reason, Reason::DuplicateKey { first_line: 2, .. }),
            "{reject:?}"
        );
    }
    assert_eq!(
        string_at(
            &month.hospitals,
            "fixmedins_name",
            "fixmedins_code",
            "H36010000001"
        )
        .as_deref(),
        Some("南昌大学第一附属医院")
    );
    assert_counts_add_up(&month);
}

#[test]
fn a_fee_line_without_an_accepted_settlement_is_a_reject() {
    let month = TempMonth::sample();
    // Reject the settlement; its fee lines then have no settlement to attach to.
    month.set_field(&format!("{NANCHANG}/setlinfo.csv"), 0, "setl_time", "bad");
    let month = month.ingest();
    let fee_rejects: Vec<_> = month
        .rejects
        .iter()
        .filter(|r| r.file.ends_with("feedetail.csv"))
        .collect();
    assert_eq!(fee_rejects.len(), 2);
    assert!(
        fee_rejects
            .iter()
            .all(|r| matches!(r.reason, Reason::NoSettlement { .. }))
    );
    assert_eq!(month.rejected_fee_lines.len(), 2);
    assert_counts_add_up(&month);
}

#[test]
fn reference_values_are_checked_too() {
    let month = TempMonth::sample();
    month.set_field("reference/catalogue.csv", 0, "selfpay_prop", "1.5");
    month.set_field("reference/policy.csv", 0, "dedc_std", "");
    month.set_field("reference/hospitals.csv", 0, "fix_blng_admdvs", "990100");
    let month = month.ingest();
    let reasons: Vec<_> = month
        .rejects
        .iter()
        .map(|r| (r.file.as_str(), r.column, &r.reason))
        .collect();
    assert!(matches!(
        reasons[0],
        (
            "reference/catalogue.csv",
            Some("selfpay_prop"),
            Reason::BadNumber {
                error: NumberError::AboveOne,
                ..
            }
        )
    ));
    assert!(matches!(
        reasons[1],
        (
            "reference/hospitals.csv",
            Some("fix_blng_admdvs"),
            Reason::UnknownArea { .. }
        )
    ));
    assert!(matches!(
        reasons[2],
        ("reference/policy.csv", Some("dedc_std"), Reason::Empty)
    ));
}

#[test]
fn a_hospital_directory_named_unlike_its_rows_is_reported_and_kept() {
    let month = TempMonth::sample();
    std::fs::rename(month.path(NANCHANG), month.path("exports/nanchang")).unwrap();
    let month = month.ingest();
    assert_eq!(month.dir_mismatches.len(), 1);
    let mismatch = &month.dir_mismatches[0];
    assert_eq!(
        (
            mismatch.hospital_dir.as_str(),
            mismatch.fixmedins_code.as_str(),
            mismatch.rows
        ),
        ("nanchang", "H36010000001", 7)
    );
    assert_eq!(month.setlinfo.height(), 32);
}

pub(crate) fn assert_same_frames(a: &Month, b: &Month) {
    use yidi::ingest::Table;
    for table in Table::ALL {
        match (a.table(table), b.table(table)) {
            (Some(x), Some(y)) => assert!(x.equals_missing(y), "{table:?}:\n{x}\n{y}"),
            (None, None) => {}
            _ => panic!("{table:?} present on one side only"),
        }
    }
}

/// The month copied with its hospital directories created in the given order.
pub fn month_with_hospital_order(order: &[usize]) -> TempMonth {
    let month = TempMonth::sample();
    let exports = month.path("exports");
    let staged = month.tmp.path().join("staged");
    std::fs::rename(&exports, &staged).unwrap();
    std::fs::create_dir(&exports).unwrap();
    let mut dirs: Vec<_> = std::fs::read_dir(&staged)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for &i in order {
        let dir = &dirs[i % dirs.len()];
        let target = exports.join(dir.file_name().unwrap());
        if !target.exists() {
            std::fs::rename(dir, target).unwrap();
        }
    }
    for dir in dirs.iter().filter(|d| d.exists()) {
        std::fs::rename(dir, exports.join(dir.file_name().unwrap())).unwrap();
    }
    month.set_field(&format!("{NANCHANG}/feedetail.csv"), 1, "cnt", "1.23456");
    month.set_field(
        &format!("{GUANGZHOU_BOM}/setlinfo.csv"),
        1,
        "enddate",
        "2026-10-32",
    );
    month
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn hospital_folders_in_any_order_give_identical_results(
        order in proptest::collection::vec(0usize..4, 4),
        threads in 1usize..4,
    ) {
        let reference = month_with_hospital_order(&[0, 1, 2, 3]);
        let shuffled = month_with_hospital_order(&order);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let a = reference.ingest();
        let b = pool.install(|| shuffled.ingest());
        assert_same_frames(&a, &b);
        prop_assert_eq!(&a.rejects, &b.rejects);
        prop_assert_eq!(&a.files, &b.files);
        prop_assert_eq!(&a.rejected_fee_lines, &b.rejected_fee_lines);
    }
}

/// Values that break a field in every way a hospital export does.
const NASTY: &[&str] = &[
    "",
    "x",
    "1.234",
    "-",
    "2026-02-30",
    "9999999999999999999",
    "1,5",
    "\u{FFFD}",
    "二〇二六",
    "=1+1",
    " 1",
    "0.00001",
    "310",
    "01",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn rows_read_equal_accepted_plus_rejected_under_random_corruption(
        edits in proptest::collection::vec((0usize..4, 0usize..3, 0usize..40, 0usize..NASTY.len()), 1..8),
    ) {
        let month = TempMonth::sample();
        let files = [
            format!("{NANCHANG}/setlinfo.csv"),
            format!("{NANCHANG}/feedetail.csv"),
            format!("{GUANGZHOU_BOM}/feedetail.csv"),
            "filings.csv".to_owned(),
        ];
        let rows_before: Vec<usize> = files.iter().map(|f| month.text(f).lines().count() - 1).collect();
        for (file, row, column, value) in edits {
            let rel = &files[file];
            let text = month.text(rel);
            let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
            let rows = text.lines().count() - 1;
            month.set_field(rel, row % rows, header[column % header.len()], NASTY[value]);
        }
        let read = month.ingest();
        assert_counts_add_up(&read);
        for (rel, before) in files.iter().zip(rows_before) {
            let file = read.files.iter().find(|f| &f.path == rel).unwrap();
            prop_assert_eq!(file.read as usize, before, "{}", rel);
        }
        let total: u64 = read.files.iter().map(|f| f.read).sum();
        prop_assert_eq!(total, read.files.iter().map(|f| f.accepted + f.rejected).sum::<u64>());
    }
}

/// A hospital system on Windows writes CRLF line breaks (and, here, a blank line): a bad
/// row is reported on the physical line it is on, whether the file is split plainly or by
/// the CSV reader (a quoted field sends it there).
#[test]
fn a_reject_names_its_physical_line_in_a_crlf_file_with_blank_lines() {
    let rel = format!("{NANCHANG}/setlinfo.csv");
    for quoted in [false, true] {
        let month = TempMonth::sample();
        let text = month.text(&rel);
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        assert!(lines.len() >= 3, "the sample export has two rows at least");
        // Line 3 (the second row) gets a bad date; a blank line goes before it.
        let header: Vec<&str> = lines[0].split(',').collect();
        let k = header.iter().position(|c| *c == "begndate").unwrap();
        let mut row: Vec<String> = lines[2].split(',').map(str::to_owned).collect();
        row[k] = "2026-02-30".into();
        if quoted {
            let name = header.iter().position(|c| *c == "psn_name").unwrap();
            row[name] = format!("\"{}\"", row[name]);
        }
        lines[2] = row.join(",");
        lines.insert(2, String::new());
        month.write(&rel, lines.join("\r\n") + "\r\n");
        let month = month.ingest();
        // (Its fee lines are rejects too: their settlement is not accepted.)
        let rejects: Vec<_> = month.rejects.iter().filter(|r| r.file == rel).collect();
        assert_eq!(rejects.len(), 1, "{rejects:#?}");
        assert_eq!(
            (rejects[0].line, rejects[0].column),
            (4, Some("begndate")),
            "quoted: {quoted}"
        );
        assert_counts_add_up(&month);
    }
}
