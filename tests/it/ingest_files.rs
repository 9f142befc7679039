//! The files themselves: each encoding detected and decoded per file, and Parquet
//! exports — as text or typed — giving the frames the CSV files give.

use polars::prelude::*;
use yidi::ingest::{Encoding, Month, Reason};

use crate::ingest::{
    GUANGZHOU_BOM, HENGYANG_GBK, NANCHANG, assert_same_frames, encoding_of, only_reject, string_at,
};
use crate::util::{TempMonth, assert_counts_add_up, csv_records, files_under};

#[test]
fn each_encoding_is_detected_per_file_and_decoded() {
    let month = TempMonth::sample().ingest();
    assert_eq!(
        encoding_of(&month, &format!("{NANCHANG}/setlinfo.csv")),
        Encoding::Utf8
    );
    assert_eq!(
        encoding_of(&month, &format!("{GUANGZHOU_BOM}/setlinfo.csv")),
        Encoding::Utf8Bom
    );
    assert_eq!(
        encoding_of(&month, &format!("{HENGYANG_GBK}/setlinfo.csv")),
        Encoding::Gb18030
    );
    assert_eq!(
        string_at(&month.setlinfo, "psn_name", "setl_id", "S4304202610001").as_deref(),
        Some("周八")
    );
    assert_eq!(
        string_at(&month.setlinfo, "psn_name", "setl_id", "S4401202610001").as_deref(),
        Some("张三丰")
    );
}

#[test]
fn a_gbk_reference_file_without_bom_reads_as_gbk() {
    let month = TempMonth::sample();
    let text = month.text("reference/hospitals.csv");
    month.write(
        "reference/hospitals.csv",
        encoding_rs::GBK.encode(&text).0.as_ref(),
    );
    let month = month.ingest();
    assert_eq!(
        encoding_of(&month, "reference/hospitals.csv"),
        Encoding::Gb18030
    );
    assert_eq!(
        string_at(
            &month.hospitals,
            "fixmedins_name",
            "fixmedins_code",
            "H43040000001"
        )
        .as_deref(),
        Some("南华大学附属第一医院")
    );
}

#[test]
fn a_utf8_file_with_one_corrupted_row_stays_utf8_with_one_reject() {
    let month = TempMonth::sample();
    let rel = format!("{NANCHANG}/setlinfo.csv");
    let mut bytes = month.read_bytes(&rel);
    // Break the first byte of 孙七 (row 2, line 3) into an invalid UTF-8 sequence.
    let at = bytes
        .windows("孙七".len())
        .position(|w| w == "孙七".as_bytes())
        .unwrap();
    bytes[at] = 0xFF;
    month.write(&rel, &bytes);
    let month = month.ingest();
    assert_eq!(encoding_of(&month, &rel), Encoding::Utf8);
    let own: Vec<_> = month.rejects.iter().filter(|r| r.file == rel).collect();
    assert_eq!(own.len(), 1, "{own:#?}");
    let reject = own[0];
    assert_eq!((reject.line, reject.column), (3, None));
    assert!(matches!(
        reject.reason,
        Reason::Undecodable {
            encoding: Encoding::Utf8
        }
    ));
    assert_eq!(
        string_at(&month.setlinfo, "psn_name", "setl_id", "S3601202610001").as_deref(),
        Some("王五"),
        "the other rows are not mojibake"
    );
    assert_counts_add_up(&month);
}

#[test]
fn a_gbk_file_with_an_invalid_sequence_rejects_that_row() {
    let month = TempMonth::sample();
    let rel = format!("{HENGYANG_GBK}/setlinfo.csv");
    let mut bytes = month.read_bytes(&rel);
    let good_row: Vec<u8> = bytes.split(|&b| b == b'\n').nth(1).unwrap().to_vec();
    // A second settlement whose name holds a lead byte with no valid trail byte.
    let name = encoding_rs::GBK.encode("周八").0.into_owned();
    let at = good_row
        .windows(name.len())
        .position(|w| w == name.as_slice())
        .unwrap();
    let mut bad_row_bytes = good_row.clone();
    bad_row_bytes.splice(at..at + name.len(), b"\x81\x20".iter().copied());
    let id_at = bad_row_bytes
        .windows(14)
        .position(|w| w == b"S4304202610001")
        .unwrap();
    bad_row_bytes[id_at + 13] = b'2';
    bytes.extend_from_slice(&bad_row_bytes);
    bytes.push(b'\n');
    month.write(&rel, &bytes);
    let month = month.ingest();
    assert_eq!(encoding_of(&month, &rel), Encoding::Gb18030);
    let reject = only_reject(&month);
    assert_eq!((reject.line, reject.column), (4, None));
    assert!(matches!(
        reject.reason,
        Reason::Undecodable {
            encoding: Encoding::Gb18030
        }
    ));
    assert_eq!(
        string_at(&month.setlinfo, "psn_name", "setl_id", "S4304202610001").as_deref(),
        Some("周八")
    );
}

/// Rewrites every CSV input of a month as a Parquet file of text columns.
fn to_text_parquet(month: &TempMonth) {
    for path in files_under(&month.dir, "csv") {
        let rel = path
            .strip_prefix(&month.dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = month.text(&rel);
        let (header, rows) = csv_records(&text);
        let columns: Vec<Column> = header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let values: StringChunked = rows
                    .iter()
                    .map(|r| Some(&r[i]).filter(|v| !v.is_empty()))
                    .collect();
                values.with_name(name.as_str().into()).into_column()
            })
            .collect();
        let mut frame = DataFrame::new(rows.len(), columns).unwrap();
        let target = path.with_extension("parquet");
        ParquetWriter::new(std::fs::File::create(target).unwrap())
            .finish(&mut frame)
            .unwrap();
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn csv_and_parquet_inputs_give_identical_frames() {
    let from_csv = TempMonth::sample();
    let corrupt = format!("{NANCHANG}/setlinfo.csv");
    from_csv.set_field(&corrupt, 1, "medfee_sumamt", "1.005");
    let parquet = TempMonth::sample();
    parquet.set_field(&corrupt, 1, "medfee_sumamt", "1.005");
    to_text_parquet(&parquet);
    let (a, b) = (from_csv.ingest(), parquet.ingest());
    assert_same_frames(&a, &b);
    assert!(b.files.iter().all(|f| f.encoding == Encoding::Parquet));
    let lines = |m: &Month| {
        m.rejects
            .iter()
            .map(|r| (r.line, r.column, r.reason.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&a), lines(&b));
    assert!(
        b.rejects
            .iter()
            .any(|r| r.file == format!("{NANCHANG}/setlinfo.parquet"))
    );
}

#[test]
fn typed_parquet_inputs_give_identical_frames() {
    let csv = TempMonth::sample();
    let month = csv.ingest();
    let typed = TempMonth::sample();
    for (dir, table) in [
        (NANCHANG, yidi::ingest::Table::Setlinfo),
        (NANCHANG, yidi::ingest::Table::Feedetail),
    ] {
        let frame = month.table(table).unwrap();
        let hospital = dir.rsplit('/').next().unwrap();
        let mask = frame
            .column("hospital_dir")
            .unwrap()
            .str()
            .unwrap()
            .equal(hospital);
        let rows = frame.filter(&mask).unwrap().drop("hospital_dir").unwrap();
        // Money as Decimal(18, 2), dates as Date, times as Datetime: what an analyst's tool writes.
        let mut decimal = with_decimals(&rows, &yidi::ingest::schema::input_scale(table));
        let rel = format!("{dir}/{}", table.name());
        std::fs::remove_file(typed.path(&format!("{rel}.csv"))).unwrap();
        ParquetWriter::new(std::fs::File::create(typed.path(&format!("{rel}.parquet"))).unwrap())
            .finish(&mut decimal)
            .unwrap();
    }
    let from_typed = typed.ingest();
    assert!(from_typed.rejects.is_empty(), "{:#?}", from_typed.rejects);
    assert_same_frames(&month, &from_typed);
}

#[test]
fn a_hospital_set_aside_with_parquet_files_counts_their_rows_or_says_why_not() {
    // Parquet exports: a readable settlements file counts the rows its metadata gives; the
    // fee-line file that cannot be read counts none and names the problem.
    let month = TempMonth::sample();
    to_text_parquet(&month);
    let rel = format!("{NANCHANG}/feedetail.parquet");
    month.write(&rel, b"PAR1 not really parquet PAR1");
    let read = month.ingest();
    assert_eq!(read.set_aside.len(), 1);
    assert_eq!(read.set_aside[0].hospital_dir, "H36010000001");
    assert!(
        read.set_aside[0].reason.contains(&rel),
        "{}",
        read.set_aside[0].reason
    );
    let file = |path: String| read.files.iter().find(|f| f.path == path).unwrap().clone();
    let broken = file(rel.clone());
    assert_eq!((broken.read, broken.rejected), (0, 0));
    assert!(broken.set_aside.is_some());
    let settlements = file(format!("{NANCHANG}/setlinfo.parquet"));
    assert!(settlements.read > 0);
    assert_eq!(settlements.rejected, settlements.read);
    let lines: Vec<u64> = read
        .rejects
        .iter()
        .filter(|r| r.file == settlements.path)
        .map(|r| r.line)
        .collect();
    assert_eq!(lines, (2..settlements.read + 2).collect::<Vec<_>>());
    crate::util::assert_counts_add_up(&read);
}

/// The frame with its fixed-point columns as polars Decimals.
fn with_decimals(frame: &DataFrame, scale_of: &dyn Fn(&str) -> Option<u32>) -> DataFrame {
    let columns = frame
        .columns()
        .iter()
        .map(|c| match (c.dtype(), scale_of(c.name())) {
            (DataType::Int64, Some(scale)) => c
                .cast(&DataType::Int128)
                .unwrap()
                .i128()
                .unwrap()
                .clone()
                .into_decimal(18, scale as usize)
                .unwrap()
                .into_series()
                .with_name(c.name().clone())
                .into_column(),
            _ => c.clone(),
        })
        .collect();
    DataFrame::new(frame.height(), columns).unwrap()
}
